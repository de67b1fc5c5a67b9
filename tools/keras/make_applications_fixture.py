#!/usr/bin/env python3
"""Dumps keras.applications summaries for nn's `tests/applications.rs`.

For each of VGG16, ResNet50, InceptionV3, MobileNetV2 and DenseNet121 (ImageNet
heads, `include_top=True`, `weights=None`), writes one line per layer of
`model.layers`, in Keras's order, as

    <class>\t<output shape without the batch axis>\t<param count>\t<inbound layers>

where the shape and the inbound layers are comma-separated and an inbound
layer is its index in `model.layers` (in argument order: a concatenation's
first input first),

and a first line `# total trainable non_trainable` with the model's counts.
Only classes, shapes and counts are kept: Keras's automatic layer names differ
from nn's (`conv1_conv` against `conv2d_1`), and the test compares the rest.

Run from the repository root (any Keras 3 backend):
    KERAS_BACKEND=jax python tools/keras/make_applications_fixture.py
"""

import os

import keras
import numpy as np

OUT = os.path.join("tests", "fixtures", "keras_applications")

APPLICATIONS = {
    "vgg16": keras.applications.VGG16,
    "resnet50": keras.applications.ResNet50,
    "inception_v3": keras.applications.InceptionV3,
    "mobilenet_v2": keras.applications.MobileNetV2,
    "densenet121": keras.applications.DenseNet121,
}


def count(weights):
    return int(sum(np.prod(w.shape) for w in weights))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, constructor in APPLICATIONS.items():
        model = constructor(weights=None)
        lines = [
            "# {} {} {}".format(
                count(model.weights),
                count(model.trainable_weights),
                count(model.non_trainable_weights),
            )
        ]
        index = {id(layer): i for i, layer in enumerate(model.layers)}
        for layer in model.layers:
            shape = layer.output.shape[1:]
            # Every application layer is applied once: one inbound node.
            (node,) = layer._inbound_nodes
            inbound = [index[id(t._keras_history.operation)] for t in node.input_tensors]
            lines.append(
                "{}\t{}\t{}\t{}".format(
                    type(layer).__name__,
                    ",".join(str(d) for d in shape),
                    layer.count_params(),
                    ",".join(str(i) for i in inbound),
                )
            )
        path = os.path.join(OUT, name + ".tsv")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{path}: {len(model.layers)} layers, {lines[0][2:]}")


if __name__ == "__main__":
    main()
