//! InceptionV3 (Szegedy et al., 2015) as `keras.applications.InceptionV3`
//! builds it with its ImageNet head: a five-convolution stem, three 35x35
//! modules, a reduction, four 17x17 modules with factorised 7x7
//! convolutions, a reduction and two 8x8 modules with split 3x3 branches.
//! Every convolution is Keras's `conv2d_bn`: no bias, batch normalization
//! without scale (`scale=False`, the ReLU follows), ReLU.

use crate::network;

network! {
    /// Keras's `conv2d_bn` with `same` padding and stride 1.
    fn conv_bn(x, filters, rows, columns) {
        let h = Conv2D(filters, (rows, columns), padding = same, use_bias = false)(x);
        let h = BatchNormalization(scale = false)(h);
        relu(h)
    }

    /// Keras's `conv2d_bn` with `valid` padding and stride 1.
    fn conv_bn_valid(x, filters, rows, columns) {
        let h = Conv2D(filters, (rows, columns), use_bias = false)(x);
        let h = BatchNormalization(scale = false)(h);
        relu(h)
    }

    /// Keras's `conv2d_bn` with `valid` padding and stride 2.
    fn conv_bn_reduce(x, filters, rows, columns) {
        let h = Conv2D(filters, (rows, columns), strides = 2, use_bias = false)(x);
        let h = BatchNormalization(scale = false)(h);
        relu(h)
    }

    /// The 35x35 module (`mixed0` to `mixed2`).
    fn module_35(x, pool_filters) {
        let branch1x1 = conv_bn(x, 64, 1, 1);
        let branch5x5 = conv_bn(x, 48, 1, 1);
        let branch5x5 = conv_bn(branch5x5, 64, 5, 5);
        let branch3x3dbl = conv_bn(x, 64, 1, 1);
        let branch3x3dbl = conv_bn(branch3x3dbl, 96, 3, 3);
        let branch3x3dbl = conv_bn(branch3x3dbl, 96, 3, 3);
        let branch_pool = AveragePooling2D(3, strides = 1, padding = same)(x);
        let branch_pool = conv_bn(branch_pool, pool_filters, 1, 1);
        concat([branch1x1, branch5x5, branch3x3dbl, branch_pool])
    }

    /// The reduction to 17x17 (`mixed3`).
    fn reduce_to_17(x) {
        let branch3x3 = conv_bn_reduce(x, 384, 3, 3);
        let branch3x3dbl = conv_bn(x, 64, 1, 1);
        let branch3x3dbl = conv_bn(branch3x3dbl, 96, 3, 3);
        let branch3x3dbl = conv_bn_reduce(branch3x3dbl, 96, 3, 3);
        let branch_pool = MaxPooling2D(3, strides = 2)(x);
        concat([branch3x3, branch3x3dbl, branch_pool])
    }

    /// The 17x17 module (`mixed4` to `mixed7`): 7x7 convolutions factorised
    /// into 1x7 and 7x1, `width` channels inside the branches.
    fn module_17(x, width) {
        let branch1x1 = conv_bn(x, 192, 1, 1);
        let branch7x7 = conv_bn(x, width, 1, 1);
        let branch7x7 = conv_bn(branch7x7, width, 1, 7);
        let branch7x7 = conv_bn(branch7x7, 192, 7, 1);
        let branch7x7dbl = conv_bn(x, width, 1, 1);
        let branch7x7dbl = conv_bn(branch7x7dbl, width, 7, 1);
        let branch7x7dbl = conv_bn(branch7x7dbl, width, 1, 7);
        let branch7x7dbl = conv_bn(branch7x7dbl, width, 7, 1);
        let branch7x7dbl = conv_bn(branch7x7dbl, 192, 1, 7);
        let branch_pool = AveragePooling2D(3, strides = 1, padding = same)(x);
        let branch_pool = conv_bn(branch_pool, 192, 1, 1);
        concat([branch1x1, branch7x7, branch7x7dbl, branch_pool])
    }

    /// The reduction to 8x8 (`mixed8`).
    fn reduce_to_8(x) {
        let branch3x3 = conv_bn(x, 192, 1, 1);
        let branch3x3 = conv_bn_reduce(branch3x3, 320, 3, 3);
        let branch7x7x3 = conv_bn(x, 192, 1, 1);
        let branch7x7x3 = conv_bn(branch7x7x3, 192, 1, 7);
        let branch7x7x3 = conv_bn(branch7x7x3, 192, 7, 1);
        let branch7x7x3 = conv_bn_reduce(branch7x7x3, 192, 3, 3);
        let branch_pool = MaxPooling2D(3, strides = 2)(x);
        concat([branch3x3, branch7x7x3, branch_pool])
    }

    /// The 8x8 module (`mixed9`, `mixed10`): 3x3 convolutions split into
    /// 1x3 and 3x1 side by side.
    fn module_8(x) {
        let branch1x1 = conv_bn(x, 320, 1, 1);
        let branch3x3 = conv_bn(x, 384, 1, 1);
        let branch3x3_1 = conv_bn(branch3x3, 384, 1, 3);
        let branch3x3_2 = conv_bn(branch3x3, 384, 3, 1);
        let branch3x3 = concat([branch3x3_1, branch3x3_2]);
        let branch3x3dbl = conv_bn(x, 448, 1, 1);
        let branch3x3dbl = conv_bn(branch3x3dbl, 384, 3, 3);
        let branch3x3dbl_1 = conv_bn(branch3x3dbl, 384, 1, 3);
        let branch3x3dbl_2 = conv_bn(branch3x3dbl, 384, 3, 1);
        let branch3x3dbl = concat([branch3x3dbl_1, branch3x3dbl_2]);
        let branch_pool = AveragePooling2D(3, strides = 1, padding = same)(x);
        let branch_pool = conv_bn(branch_pool, 192, 1, 1);
        concat([branch1x1, branch3x3, branch3x3dbl, branch_pool])
    }

    /// `keras.applications.InceptionV3(include_top=True)`: 299x299x3 images
    /// to 1000 ImageNet class probabilities; 23,851,784 parameters, of which
    /// 34,432 are batch-norm moving statistics.
    pub struct InceptionV3 {
        input image: [299, 299, 3];
        let h = conv_bn_reduce(image, 32, 3, 3);
        let h = conv_bn_valid(h, 32, 3, 3);
        let h = conv_bn(h, 64, 3, 3);
        let h = MaxPooling2D(3, strides = 2)(h);
        let h = conv_bn_valid(h, 80, 1, 1);
        let h = conv_bn_valid(h, 192, 3, 3);
        let h = MaxPooling2D(3, strides = 2)(h);
        let h = module_35(h, 32);
        let h = module_35(h, 64);
        let h = module_35(h, 64);
        let h = reduce_to_17(h);
        let h = module_17(h, 128);
        let h = module_17(h, 160);
        let h = module_17(h, 160);
        let h = module_17(h, 192);
        let h = reduce_to_8(h);
        let h = module_8(h);
        let h = module_8(h);
        let h = GlobalAveragePooling2D()(h);
        output predictions = Dense(1000, activation = softmax)(h);
    }
}
