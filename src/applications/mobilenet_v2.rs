//! MobileNetV2 (Sandler et al., 2018) as `keras.applications.MobileNetV2`
//! builds it with `alpha = 1.0` and its ImageNet head: a 3x3 stem, then 17
//! inverted residual blocks (1x1 expansion to 6x the channels, 3x3
//! depthwise convolution, linear 1x1 projection; a residual add where the
//! block keeps its shape), a 1x1 convolution to 1280 channels, and the
//! classifier. Every activation is `ReLU(max_value = 6)`, every batch norm
//! Keras's `epsilon = 1e-3, momentum = 0.999`.
//!
//! Keras's `_inverted_res_block` chooses its parts with `if`s on the block
//! number, stride and channels; `network!` has no `if`, so each variant is
//! its own function below and the body lists which block is which.

use crate::network;

network! {
    /// The 1x1 expansion of every block but the first: six times the
    /// input's channels.
    fn expand(x) {
        let h = Conv2D(6 * channels(x), 1, padding = same, use_bias = false)(x);
        let h = BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h);
        ReLU(max_value = 6)(h)
    }

    /// The 3x3 depthwise convolution at stride 1 and the linear projection
    /// to `filters` channels.
    fn depthwise_project(x, filters) {
        let h = DepthwiseConv2D(3, padding = same, use_bias = false)(x);
        let h = BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h);
        let h = ReLU(max_value = 6)(h);
        let h = Conv2D(filters, 1, padding = same, use_bias = false)(h);
        BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h)
    }

    /// A stride-1 block whose channels change: no residual add.
    fn inverted_block(x, filters) {
        depthwise_project(expand(x), filters)
    }

    /// A stride-1 block that keeps its channels: the input is added back.
    fn residual_block(x, filters) {
        add(x, inverted_block(x, filters))
    }

    /// A stride-2 block. Keras pads the (even-sized) expanded image by one
    /// row and column at the bottom and right (`correct_pad`) and runs the
    /// depthwise convolution `valid`.
    fn downsampling_block(x, filters) {
        let h = expand(x);
        let h = ZeroPadding2D(((0, 1), (0, 1)))(h);
        let h = DepthwiseConv2D(3, strides = 2, use_bias = false)(h);
        let h = BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h);
        let h = ReLU(max_value = 6)(h);
        let h = Conv2D(filters, 1, padding = same, use_bias = false)(h);
        BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h)
    }

    /// `keras.applications.MobileNetV2(include_top=True)` (alpha 1.0):
    /// 224x224x3 images to 1000 ImageNet class probabilities; 3,538,984
    /// parameters, of which 34,112 are batch-norm moving statistics.
    pub struct MobileNetV2 {
        input image: [224, 224, 3];
        let h = Conv2D(32, 3, strides = 2, padding = same, use_bias = false)(image);
        let h = BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h);
        let h = ReLU(max_value = 6)(h);
        // Block 0: no expansion.
        let h = depthwise_project(h, 16);
        // Blocks 1-2: 24 channels at 56x56.
        let h = downsampling_block(h, 24);
        let h = residual_block(h, 24);
        // Blocks 3-5: 32 channels at 28x28.
        let h = downsampling_block(h, 32);
        for _ in 0..2 {
            h = residual_block(h, 32);
        }
        // Blocks 6-9: 64 channels at 14x14.
        let h = downsampling_block(h, 64);
        for _ in 0..3 {
            h = residual_block(h, 64);
        }
        // Blocks 10-12: 96 channels at 14x14.
        let h = inverted_block(h, 96);
        for _ in 0..2 {
            h = residual_block(h, 96);
        }
        // Blocks 13-15: 160 channels at 7x7.
        let h = downsampling_block(h, 160);
        for _ in 0..2 {
            h = residual_block(h, 160);
        }
        // Block 16: 320 channels.
        let h = inverted_block(h, 320);
        let h = Conv2D(1280, 1, use_bias = false)(h);
        let h = BatchNormalization(epsilon = 1e-3, momentum = 0.999)(h);
        let h = ReLU(max_value = 6)(h);
        let h = GlobalAveragePooling2D()(h);
        output predictions = Dense(1000, activation = softmax)(h);
    }
}
