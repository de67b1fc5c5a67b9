#!/usr/bin/env python3
"""Runs every `<name>.onnx` in a folder with ONNX Runtime on the inputs stored
beside it (`<name>.io.safetensors`, written by nn's `onnx_export` example)
and prints how far its outputs are from nn's.

    pip install onnxruntime safetensors numpy
    cargo run --release --example onnx_export
    python tools/onnx/compare_with_onnxruntime.py target/examples/onnx
"""

import glob
import os
import sys

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file


def main(folder):
    worst = 0.0
    for path in sorted(glob.glob(os.path.join(folder, "*.onnx"))):
        io = load_file(path[: -len(".onnx")] + ".io.safetensors")
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {i.name: io["input." + i.name] for i in session.get_inputs()}
        names = [o.name for o in session.get_outputs()]
        for name, theirs in zip(names, session.run(names, feeds)):
            ours = io["output." + name]
            diff = float(np.max(np.abs(theirs - ours)))
            relative = diff / float(np.max(np.abs(ours)))
            worst = max(worst, relative)
            print(
                f"{os.path.basename(path)} output `{name}` {list(ours.shape)}: "
                f"max abs difference {diff:.3e}, relative to the largest output {relative:.3e}"
            )
    print(f"onnxruntime {ort.__version__}: worst relative difference {worst:.3e}")
    return 0 if worst <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/examples/onnx"))
