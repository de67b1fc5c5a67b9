"""One peer measurement for `cargo run --release --example bench -- --python PY`.

    PY tools/bench/peers.py FRAMEWORK NET THREADS [--quick]

FRAMEWORK: keras (TF backend; tf.function forward and train step, no XLA),
torch (eager, channels_last), torch-compile (torch.compile, inductor,
channels_last; the model is compiled, the Adam step runs eagerly).
NET: resnet, inception (64x64x3, batch 32) or resnet50 (224x224x3, batch 8).

Measured in this order, in one process: infer (forward on a batch, images/s),
b1 (forward on one image, ms), then train (forward + categorical
cross-entropy + backward + Adam(1e-3) update, images/s); medians after
warm-up. Peak RSS is VmHWM of /proc/self/status (as nn's bench workers read
it), taken once after the inference figures (the inference peak) and once at
the end (the training peak). Prints one line `RESULT {json}`.

Adapted from the team's ../shared/bench/python/bench_peers.py.
"""
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def vm_hwm_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def median_seconds(fn, warm, iters):
    for _ in range(warm):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def iterations(net, quick):
    """(warm-up, timed) per measurement; the same counts as nn's workers."""
    if quick:
        return {"infer": (1, 10), "b1": (3, 15), "train": (1, 3)}
    if net == "resnet50":
        return {"infer": (2, 10), "b1": (6, 35), "train": (2, 7)}
    return {"infer": (3, 20), "b1": (9, 100), "train": (3, 20)}


def data(net, batch):
    import numpy as np

    from peer_models import CLASSES, INPUT_SIDE

    side, classes = INPUT_SIDE[net], CLASSES[net]
    rng = np.random.default_rng(0)
    x = rng.random((batch, side, side, 3), dtype=np.float32)
    y = np.eye(classes, dtype=np.float32)[rng.integers(0, classes, batch)]
    return x, y


def keras_worker(net, threads, batch, iters):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    from peer_models import keras_model

    keras.utils.set_random_seed(0)
    model = keras_model(net)
    opt = keras.optimizers.Adam(1e-3)
    opt.build(model.trainable_variables)
    loss_fn = keras.losses.CategoricalCrossentropy()

    @tf.function
    def forward(x):
        return model(x, training=False)

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    xb, yb = (tf.constant(a) for a in data(net, batch))
    x1 = tf.constant(data(net, 1)[0])
    return {
        "infer": lambda: forward(xb).numpy(),
        "b1": lambda: forward(x1).numpy(),
        "train": lambda: train_step(xb, yb).numpy(),
    }


def torch_worker(net, threads, batch, iters, compiled):
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    from peer_models import torch_model

    torch.manual_seed(0)
    model = torch_model(net).to(memory_format=torch.channels_last)
    xb, yb = data(net, batch)
    x1 = data(net, 1)[0]

    def nchw(a):
        t = torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))
        return t.contiguous(memory_format=torch.channels_last)

    tx, ty, tx1 = nchw(xb), torch.from_numpy(yb), nchw(x1)
    # Adam eps=1e-7 as Keras's default.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    logits, forward = model.logits, model
    if compiled:
        logits = torch.compile(model.logits, dynamic=False)
        forward = torch.compile(model, dynamic=False)

    def infer(a):
        model.eval()
        with torch.inference_mode():
            return forward(a)

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = -(ty * F.log_softmax(logits(tx), dim=1)).sum(dim=1).mean()
        loss.backward()
        opt.step()
        return loss.item()

    return {"infer": lambda: infer(tx), "b1": lambda: infer(tx1), "train": train_step}


def main():
    args = [a for a in sys.argv[1:] if a != "--quick"]
    quick = "--quick" in sys.argv
    if len(args) != 3:
        raise SystemExit(__doc__)
    framework, net, threads = args[0], args[1], int(args[2])
    sys.path.insert(0, HERE)
    batch = 8 if net == "resnet50" else 32
    iters = iterations(net, quick)
    if framework == "keras":
        steps = keras_worker(net, threads, batch, iters)
    elif framework in ("torch", "torch-compile"):
        steps = torch_worker(net, threads, batch, iters, framework == "torch-compile")
    else:
        raise SystemExit(f"unknown framework {framework!r}: keras, torch or torch-compile")
    infer = median_seconds(steps["infer"], *iters["infer"])
    b1 = median_seconds(steps["b1"], *iters["b1"])
    infer_rss = vm_hwm_mib()
    train = median_seconds(steps["train"], *iters["train"])
    result = {
        "framework": framework,
        "net": net,
        "threads": threads,
        "train_img_per_s": batch / train,
        "infer_img_per_s": batch / infer,
        "b1_ms": b1 * 1e3,
        "infer_rss_mib": infer_rss,
        "train_rss_mib": vm_hwm_mib(),
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
