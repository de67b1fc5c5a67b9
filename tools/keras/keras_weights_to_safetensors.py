#!/usr/bin/env python3
"""Converts Keras 3 weights (`.weights.h5`, or the weights inside a `.keras`
file) into a safetensors file that nn's `load_keras_weights` reads.

The conversion changes only the container: every dataset of the model's
weights becomes one tensor whose key is its path in the file
(`layers/conv2d_1/vars/0`), with the same shape and values as float32. The
optimizer's state, which Keras saves beside the weights of a compiled model,
is left out (nn does not resume Keras's optimizer). Matching the paths to a
`network!`'s layers happens in nn, which knows the network's graph.

Usage:
    pip install h5py safetensors numpy
    python keras_weights_to_safetensors.py model.weights.h5 model.keras.safetensors
"""

import argparse
import io
import sys
import zipfile

import h5py
import numpy as np
from safetensors.numpy import save_file


def open_weights(path):
    """The HDF5 file of Keras weights at `path` (a `.keras` zip holds it as
    `model.weights.h5`)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
    return h5py.File(path, "r")


def convert(source, target):
    tensors = {}
    # Each layer group's `vars` records the Keras layer's own name; nn quotes
    # it in messages beside the path.
    metadata = {"format": "keras3-weights", "source": str(source)}

    skipped = []

    def visit(path, item):
        if path.startswith("optimizer/"):
            if isinstance(item, h5py.Dataset):
                skipped.append(path)
        elif isinstance(item, h5py.Dataset):
            tensors[path] = np.ascontiguousarray(item[()], dtype=np.float32)
        elif path.endswith("/vars") and "name" in item.attrs:
            metadata["name:" + path[: -len("/vars")]] = str(item.attrs["name"])

    with open_weights(source) as weights:
        weights.visititems(visit)
    if not tensors:
        sys.exit(f"{source}: no weight tensors found")
    save_file(tensors, target, metadata=metadata)
    if skipped:
        print(f"left out {len(skipped)} tensors of the optimizer's state")
    return tensors


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="Keras 3 .weights.h5 or .keras file")
    parser.add_argument("target", help="safetensors file to write")
    args = parser.parse_args()
    tensors = convert(args.source, args.target)
    print(f"wrote {len(tensors)} tensors to {args.target}")


if __name__ == "__main__":
    main()
