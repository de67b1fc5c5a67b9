#!/usr/bin/env python3
"""Makes the Keras fixtures behind nn's `tests/keras_import_convs.rs`: two
small functional models using the convolution family (dilated and grouped
Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose with and without
`output_padding`; causal, dilated and grouped Conv1D with 1-D pooling), given
seeded random weights and run on seeded inputs. Written to
tests/fixtures/keras/:

    <model>.keras.safetensors   the weights, converted by keras_weights_to_safetensors.py
    <model>_io.safetensors      the inputs and Keras's outputs

Run from the repository root:
    KERAS_BACKEND=jax python tools/keras/make_conv_family_fixture.py
"""

import os
import sys
import tempfile

import keras
import numpy as np
from keras import layers
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(__file__))
from keras_weights_to_safetensors import convert  # noqa: E402

OUT = os.path.join("tests", "fixtures", "keras")


def images():
    image = keras.Input((8, 8, 4), name="image")
    h = layers.Conv2D(8, 3, padding="same", dilation_rate=2, activation="relu")(image)
    h = layers.Conv2D(8, 3, padding="same", groups=4)(h)
    h = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu")(h)
    h = layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2, activation="tanh")(h)
    h = layers.Conv2DTranspose(4, 3, strides=2, padding="same")(h)
    out = layers.Conv2DTranspose(2, 2, strides=2, output_padding=1)(h)
    return keras.Model(image, out, name="conv_family_2d"), "image", (8, 8, 4)


def sequences():
    seq = keras.Input((16, 3), name="seq")
    h = layers.Conv1D(6, 3, padding="causal", dilation_rate=2, activation="relu")(seq)
    h = layers.MaxPooling1D(2)(h)
    h = layers.Conv1D(8, 3, strides=2, padding="same", groups=2)(h)
    h = layers.AveragePooling1D(2, strides=1, padding="same")(h)
    h = layers.GlobalAveragePooling1D()(h)
    out = layers.Dense(3, activation="softmax")(h)
    return keras.Model(seq, out, name="conv_family_1d"), "seq", (16, 3)


def main():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(13)
    os.makedirs(OUT, exist_ok=True)
    for build in (images, sequences):
        model, input_name, shape = build()
        for layer in model.layers:
            layer.set_weights([rng.normal(0.0, 0.5, tuple(w.shape)).astype(np.float32) for w in layer.weights])
        inputs = rng.normal(0.0, 1.0, (3, *shape)).astype(np.float32)
        outputs = np.asarray(model.predict(inputs, verbose=0), dtype=np.float32)
        with tempfile.TemporaryDirectory() as scratch:
            h5 = os.path.join(scratch, "model.weights.h5")
            model.save_weights(h5)
            convert(h5, os.path.join(OUT, f"{model.name}.keras.safetensors"))
        save_file(
            {input_name: inputs, "out": outputs},
            os.path.join(OUT, f"{model.name}_io.safetensors"),
            metadata={"keras": keras.__version__, "backend": keras.backend.backend()},
        )
        model.summary()
        print(model.name, "layers in Keras's order:", [layer.name for layer in model.layers], outputs.shape)


if __name__ == "__main__":
    main()
