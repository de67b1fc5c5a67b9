//! DenseNet121 (Huang et al., 2016) as `keras.applications.DenseNet121`
//! builds it with its ImageNet head: a 7x7 stem, then dense blocks (loops of `dense_layer`) of 6, 12,
//! 24 and 16 layers (growth rate 32) joined by transitions that halve the
//! channels and the resolution.

use crate::network;

network! {
    /// Keras's `conv_block`: a 1x1 bottleneck to `4 * growth` channels and a
    /// 3x3 convolution to `growth` new channels, appended to the input.
    fn dense_layer(x, growth) {
        let h = BatchNormalization(epsilon = 1.001e-5)(x);
        let h = relu(h);
        let h = Conv2D(4 * growth, 1, use_bias = false)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = Conv2D(growth, 3, padding = same, use_bias = false)(h);
        concat([x, h])
    }

    /// Keras's `transition_block` with reduction 0.5: `channels` is half
    /// the input's channels.
    fn transition(x, channels) {
        let h = BatchNormalization(epsilon = 1.001e-5)(x);
        let h = relu(h);
        let h = Conv2D(channels, 1, use_bias = false)(h);
        AveragePooling2D(2, strides = 2)(h)
    }

    /// `keras.applications.DenseNet121(include_top=True)`: 224x224x3 images
    /// to 1000 ImageNet class probabilities; 8,062,504 parameters, of which
    /// 83,648 are batch-norm moving statistics.
    pub struct DenseNet121 {
        input image: [224, 224, 3];
        let h = ZeroPadding2D(3)(image);
        let h = Conv2D(64, 7, strides = 2, use_bias = false)(h);
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = ZeroPadding2D(1)(h);
        let h = MaxPooling2D(3, strides = 2)(h);
        // Channels: 64 + 6 * 32 = 256, halved to 128; 128 + 12 * 32 = 512,
        // halved to 256; 256 + 24 * 32 = 1024, halved to 512;
        // 512 + 16 * 32 = 1024.
        for _ in 0..6 {
            h = dense_layer(h, 32);
        }
        let h = transition(h, 128);
        for _ in 0..12 {
            h = dense_layer(h, 32);
        }
        let h = transition(h, 256);
        for _ in 0..24 {
            h = dense_layer(h, 32);
        }
        let h = transition(h, 512);
        for _ in 0..16 {
            h = dense_layer(h, 32);
        }
        let h = BatchNormalization(epsilon = 1.001e-5)(h);
        let h = relu(h);
        let h = GlobalAveragePooling2D()(h);
        output predictions = Dense(1000, activation = softmax)(h);
    }
}
