//! VGG16 (Simonyan and Zisserman, 2014) as `keras.applications.VGG16` builds
//! it with its ImageNet head: thirteen 3x3 convolutions in five blocks, each
//! block closed by a 2x2 max pooling, then two 4096-unit dense layers and a
//! 1000-way softmax.

use crate::network;

network! {
    /// `keras.applications.VGG16(include_top=True)`: 224x224x3 images to
    /// 1000 ImageNet class probabilities; 138,357,544 parameters, all
    /// trainable.
    pub struct VGG16 {
        input image: [224, 224, 3];
        // Block 1
        let h = Conv2D(64, 3, padding = same, activation = relu)(image);
        let h = Conv2D(64, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2, strides = 2)(h);
        // Block 2
        let h = Conv2D(128, 3, padding = same, activation = relu)(h);
        let h = Conv2D(128, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2, strides = 2)(h);
        // Block 3
        let h = Conv2D(256, 3, padding = same, activation = relu)(h);
        let h = Conv2D(256, 3, padding = same, activation = relu)(h);
        let h = Conv2D(256, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2, strides = 2)(h);
        // Block 4
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2, strides = 2)(h);
        // Block 5
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = Conv2D(512, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2, strides = 2)(h);
        // Classification head
        let h = Flatten()(h);
        let h = Dense(4096, activation = relu)(h);
        let h = Dense(4096, activation = relu)(h);
        output predictions = Dense(1000, activation = softmax)(h);
    }
}
