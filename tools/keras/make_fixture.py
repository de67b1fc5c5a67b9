#!/usr/bin/env python3
"""Makes the Keras fixture behind nn's `tests/keras_import.rs`.

A small functional network (convolutions with `same` padding and strides,
batch normalization, a residual branch whose shortcut is built before the
main path, dense layers) is given seeded random weights, including non-trivial
batch-norm moving statistics, and run on seeded inputs in inference mode.
Written to tests/fixtures/keras/:

    branchy.weights.h5           the weights as Keras 3 saves them
    branchy.keras.safetensors    the same, converted by keras_weights_to_safetensors.py
    branchy_io.safetensors       `image` inputs and Keras's `probs` outputs

Run from the repository root (any Keras 3 backend):
    KERAS_BACKEND=jax python tools/keras/make_fixture.py
"""

import os
import sys

import keras
import numpy as np
from keras import layers
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(__file__))
from keras_weights_to_safetensors import convert  # noqa: E402

OUT = os.path.join("tests", "fixtures", "keras")


def build():
    image = keras.Input((8, 8, 3), name="image")
    h = layers.Conv2D(6, 3, padding="same", activation="relu")(image)
    h = layers.BatchNormalization()(h)
    # The shortcut is constructed first but is shallower than the main path:
    # Keras files it after the main path's convolutions.
    shortcut = layers.Conv2D(8, 1, strides=2)(h)
    a = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(h)
    a = layers.Conv2D(8, 3, padding="same", use_bias=False)(a)
    a = layers.BatchNormalization(epsilon=1e-2)(a)
    h = layers.Activation("relu")(layers.Add()([a, shortcut]))
    h = layers.MaxPooling2D(2)(h)
    h = layers.Dense(10, activation="tanh")(layers.Flatten()(h))
    probs = layers.Dense(4, activation="softmax")(h)
    return keras.Model(image, probs, name="branchy")


def main():
    keras.utils.set_random_seed(7)
    model = build()
    # Compiled and trained one step, as a user's model is: the weights file
    # then also holds the optimizer's state, which the converter leaves out.
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.zeros((4, 8, 8, 3), np.float32), np.eye(4, dtype=np.float32), verbose=0)
    rng = np.random.default_rng(11)
    for layer in model.layers:
        values = []
        for w in layer.weights:
            shape = tuple(w.shape)
            if "variance" in w.path:
                values.append(rng.uniform(0.5, 1.5, shape))
            else:
                values.append(rng.normal(0.0, 0.5, shape))
        layer.set_weights([v.astype(np.float32) for v in values])
    inputs = rng.normal(0.0, 1.0, (5, 8, 8, 3)).astype(np.float32)
    outputs = np.asarray(model.predict(inputs, verbose=0), dtype=np.float32)

    os.makedirs(OUT, exist_ok=True)
    h5 = os.path.join(OUT, "branchy.weights.h5")
    model.save_weights(h5)
    convert(h5, os.path.join(OUT, "branchy.keras.safetensors"))
    save_file(
        {"image": inputs, "probs": outputs},
        os.path.join(OUT, "branchy_io.safetensors"),
        metadata={"keras": keras.__version__, "backend": keras.backend.backend()},
    )
    print("layers in Keras's order:", [layer.name for layer in model.layers])
    print(f"keras {keras.__version__} ({keras.backend.backend()}), outputs {outputs.shape}")


if __name__ == "__main__":
    main()
