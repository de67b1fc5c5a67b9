#!/usr/bin/env python3
"""Keras-saved weights and outputs of keras.applications networks, to check
that nn's `nn::applications` networks load them and compute the same.

For each name given (resnet50, densenet121, vgg16, inception_v3,
mobilenet_v2), builds `keras.applications.X(weights=None)` with seeded
weights, replaces every batch normalization's gamma, beta and moving
statistics by random values (so a swapped layout changes the output), runs
two seeded images and writes to DIR:

    <name>.safetensors      the weights, converted by keras_weights_to_safetensors.py
    <name>_io.safetensors   `x` (the images) and `y` (Keras's probabilities)

The files are 30-550 MB, so they are not committed. Then:

    cargo run --release --features applications --example applications -- --keras DIR --nets resnet50

Run from the repository root (any Keras 3 backend):
    KERAS_BACKEND=jax python tools/keras/make_application_outputs.py DIR resnet50 densenet121
"""

import os
import sys

import keras
import numpy as np
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(__file__))
from keras_weights_to_safetensors import convert  # noqa: E402

APPLICATIONS = {
    "vgg16": (keras.applications.VGG16, 224),
    "resnet50": (keras.applications.ResNet50, 224),
    "inception_v3": (keras.applications.InceptionV3, 299),
    "mobilenet_v2": (keras.applications.MobileNetV2, 224),
    "densenet121": (keras.applications.DenseNet121, 224),
}


def main():
    out, names = sys.argv[1], sys.argv[2:]
    os.makedirs(out, exist_ok=True)
    for name in names:
        constructor, size = APPLICATIONS[name]
        keras.utils.set_random_seed(7)
        rng = np.random.default_rng(11)
        model = constructor(weights=None)
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                values = []
                for w in layer.weights:
                    shape = tuple(w.shape)
                    if "variance" in w.path:
                        values.append(rng.uniform(0.5, 1.5, shape))
                    else:
                        values.append(rng.normal(0.0, 0.2, shape))
                layer.set_weights([v.astype(np.float32) for v in values])
        x = rng.uniform(0.0, 1.0, (2, size, size, 3)).astype(np.float32)
        y = np.asarray(model.predict(x, verbose=0), np.float32)
        h5 = os.path.join(out, name + ".weights.h5")
        model.save_weights(h5)
        convert(h5, os.path.join(out, name + ".safetensors"))
        os.remove(h5)
        save_file({"x": x, "y": y}, os.path.join(out, name + "_io.safetensors"))
        print(f"{name}: outputs {y.shape}, largest/smallest probability {y.max() / y.min():.2f}")


if __name__ == "__main__":
    main()
