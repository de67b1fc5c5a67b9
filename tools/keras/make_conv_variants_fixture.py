#!/usr/bin/env python3
"""Makes the Keras reference numbers behind nn-runtime's
`tests/conv_variants.rs::keras_*` tests.

For each case below, one Keras layer is built on a small batch, given seeded
random weights, and run; the input, the weights (in Keras's own layouts) and
Keras's output are written to nn-runtime/tests/fixtures/conv_variants.safetensors
as `<case>/x`, `<case>/<weight name>` and `<case>/y`. The Rust test lists the
same cases with the same arguments.

Run from the repository root:
    KERAS_BACKEND=jax python tools/keras/make_conv_variants_fixture.py
"""

import os

import keras
import numpy as np
from keras import layers
from safetensors.numpy import save_file

OUT = os.path.join("nn-runtime", "tests", "fixtures", "conv_variants.safetensors")

# name: (input shape without batch, layer)
CASES = {
    "conv2d_dilated_same": ((7, 6, 3), lambda: layers.Conv2D(4, 3, padding="same", dilation_rate=2)),
    "conv2d_groups_strided": ((6, 7, 4), lambda: layers.Conv2D(6, 3, strides=2, padding="same", groups=2)),
    "depthwise_strided_dilated": (
        (9, 8, 3),
        lambda: layers.DepthwiseConv2D(3, strides=2, padding="same", dilation_rate=2, depth_multiplier=2),
    ),
    "separable_valid": ((7, 7, 3), lambda: layers.SeparableConv2D(4, 3, strides=2, depth_multiplier=2)),
    "transpose_same": ((4, 5, 3), lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same")),
    "transpose_valid_even": ((3, 4, 2), lambda: layers.Conv2DTranspose(3, 4, strides=2, padding="valid")),
    "transpose_output_padding": (
        (3, 4, 2),
        lambda: layers.Conv2DTranspose(2, 5, strides=3, padding="same", output_padding=(2, 1)),
    ),
    "conv1d_causal_dilated": ((10, 3), lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    "conv1d_same_strided": ((9, 2), lambda: layers.Conv1D(3, 4, strides=2, padding="same")),
}


def main():
    rng = np.random.default_rng(2026)
    tensors = {}
    for name, (shape, make) in CASES.items():
        layer = make()
        x = rng.uniform(-1, 1, (2, *shape)).astype("float32")
        layer.build((2, *shape))
        weights = [rng.uniform(-1, 1, w.shape).astype("float32") for w in layer.weights]
        layer.set_weights(weights)
        y = keras.ops.convert_to_numpy(layer(x))
        tensors[f"{name}/x"] = x
        for variable, value in zip(layer.weights, weights):
            tensors[f"{name}/{variable.name}"] = value
        tensors[f"{name}/y"] = y.astype("float32")
        print(name, x.shape, [(v.name, v.shape) for v in layer.weights], "->", y.shape)
    save_file(tensors, OUT)


if __name__ == "__main__":
    main()
