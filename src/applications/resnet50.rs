//! ResNet50 (He et al., 2015, "v1") as `keras.applications.ResNet50` builds
//! it with its ImageNet head: a 7x7 stem, then 3, 4, 6 and 3 bottleneck
//! blocks of 64, 128, 256 and 512 filters.

use crate::network;

network! {
    /// Keras's `block1`: a 1x1 / 3x3 / 1x1 bottleneck whose output has
    /// `4 * filters` channels, added to a projection of the input (a 1x1
    /// convolution, carrying the stride).
    fn projection_block(x, filters, stride) {
        let shortcut = Conv2D(4 * filters, 1, strides = stride)(x);
        let shortcut = BatchNormalization(epsilon = 1.001e-5)(shortcut);
        let h = Conv2D(filters, 1, strides = stride)(x);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = Conv2D(filters, 3, padding = same)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = Conv2D(4 * filters, 1)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        relu(add(shortcut, h))
    }

    /// Keras's `block1` with `conv_shortcut=False`: the same bottleneck added
    /// to its unchanged input.
    fn identity_block(x, filters) {
        let h = Conv2D(filters, 1)(x);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = Conv2D(filters, 3, padding = same)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = Conv2D(4 * filters, 1)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        relu(add(x, h))
    }

    /// `keras.applications.ResNet50(include_top=True)`: 224x224x3 images to
    /// 1000 ImageNet class probabilities; 25,636,712 parameters, of which
    /// 53,120 are batch-norm moving statistics.
    pub struct ResNet50 {
        input image: [224, 224, 3];
        let h = ZeroPadding2D(3)(image);
        let h = Conv2D(64, 7, strides = 2)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = ZeroPadding2D(1)(h);
        let h = MaxPooling2D(3, strides = 2)(h);
        // Keras's `stack1`s: a projection block, then identity blocks (loop
        // bounds are literals: `network!` unrolls loops at compile time).
        let h = projection_block(h, 64, 1);
        for _ in 0..2 {
            h = identity_block(h, 64);
        }
        let h = projection_block(h, 128, 2);
        for _ in 0..3 {
            h = identity_block(h, 128);
        }
        let h = projection_block(h, 256, 2);
        for _ in 0..5 {
            h = identity_block(h, 256);
        }
        let h = projection_block(h, 512, 2);
        for _ in 0..2 {
            h = identity_block(h, 512);
        }
        let h = GlobalAveragePooling2D()(h);
        output predictions = Dense(1000, activation = softmax)(h);
    }
}
