"""The benchmark's networks in Keras (functional API, NHWC) and PyTorch.

- resnet:    the lecture's residual net, 64x64x3 -> 6 classes, 77,382 params;
- inception: the lecture's inception net, 64x64x3 -> 6 classes, 790,246 params;
- resnet50:  ResNet-50 v1 at 224x224x3 -> 1000 classes, 25,636,712 params
             (Keras: keras.applications.ResNet50(weights=None); torch: the
             same layers, stride on the first 1x1 convolution as in Keras).

The same layers as examples/networks/lecture.rs and src/applications/resnet50.rs.
Adapted from the team's ../shared/bench/python models.

    python tools/bench/peer_models.py     # checks the parameter totals
"""
import sys

EXPECTED_PARAMS = {"resnet": 77_382, "inception": 790_246, "resnet50": 25_636_712}
INPUT_SIDE = {"resnet": 64, "inception": 64, "resnet50": 224}
CLASSES = {"resnet": 6, "inception": 6, "resnet50": 1000}


# ------------------------------------------------------------------- keras


def keras_model(net):
    import keras
    from keras import layers

    side = INPUT_SIDE[net]
    x_in = keras.Input((side, side, 3))
    if net == "resnet50":
        return keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=1000)

    def conv(n, k, act="relu"):
        return layers.Conv2D(n, k, padding="same", activation=act)

    if net == "resnet":

        def residual(x, n):
            z = conv(n, 3, None)(conv(n, 3)(x))
            return layers.Activation("relu")(layers.Add()([z, x]))

        x0 = conv(16, 3)(x_in)
        x1 = residual(x0, 16)
        x2 = layers.MaxPooling2D(2)(conv(32, 3)(x1))
        x2 = layers.MaxPooling2D(2)(residual(x2, 32))
        y = layers.Dense(6, activation="softmax")(layers.Flatten()(x2))
        return keras.Model(x_in, y)

    def inception(x, n):
        a = layers.Conv2D(n, 1, activation="relu")(x)
        b = conv(n, 3)(layers.Conv2D(n, 1, activation="relu")(x))
        c = conv(n, 5)(layers.Conv2D(n, 1, activation="relu")(x))
        d = conv(n, 1)(layers.MaxPooling2D(3, strides=1, padding="same")(x))
        return layers.Concatenate()([a, b, c, d])

    x1 = inception(x_in, 16)
    x3 = inception(layers.MaxPooling2D(3, strides=2)(x1), 32)
    y = layers.Dense(6, activation="softmax")(layers.Flatten()(x3))
    return keras.Model(x_in, y)


# ------------------------------------------------------------------- torch


def torch_model(net):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    def same(cin, cout, k):
        return nn.Conv2d(cin, cout, k, padding=k // 2)

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.c0 = same(3, 16, 3)
            self.c1, self.c2 = same(16, 16, 3), same(16, 16, 3)
            self.c3 = same(16, 32, 3)
            self.c4, self.c5 = same(32, 32, 3), same(32, 32, 3)
            self.dense = nn.Linear(16 * 16 * 32, 6)

        def logits(self, x):
            x0 = F.relu(self.c0(x))
            x1 = F.relu(self.c2(F.relu(self.c1(x0))) + x0)
            x2 = F.max_pool2d(F.relu(self.c3(x1)), 2)
            x2 = F.max_pool2d(F.relu(self.c5(F.relu(self.c4(x2))) + x2), 2)
            return self.dense(torch.flatten(x2, 1))

    class Inception(nn.Module):
        def __init__(self, cin, n):
            super().__init__()
            self.a, self.b1, self.c1, self.d = (nn.Conv2d(cin, n, 1) for _ in range(4))
            self.b2, self.c2 = same(n, n, 3), same(n, n, 5)

        def forward(self, x):
            a = F.relu(self.a(x))
            b = F.relu(self.b2(F.relu(self.b1(x))))
            c = F.relu(self.c2(F.relu(self.c1(x))))
            # Keras's MaxPooling2D(3, strides=1, padding="same"): padded cells never win.
            d = F.relu(self.d(F.max_pool2d(x, 3, stride=1, padding=1)))
            return torch.cat([a, b, c, d], dim=1)

    class InceptionNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.inc1, self.inc2 = Inception(3, 16), Inception(64, 32)
            self.dense = nn.Linear(31 * 31 * 128, 6)

        def logits(self, x):
            x3 = self.inc2(F.max_pool2d(self.inc1(x), 3, stride=2))
            return self.dense(torch.flatten(x3, 1))

    def bn(c):
        return nn.BatchNorm2d(c, eps=1.001e-5, momentum=0.01)

    class Bottleneck(nn.Module):
        """Keras's block1: 1x1 (carries the stride) / 3x3 / 1x1, plus a
        projection shortcut when `project`."""

        def __init__(self, cin, filters, stride, project):
            super().__init__()
            self.shortcut = (
                nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride=stride), bn(4 * filters)) if project else None
            )
            self.body = nn.Sequential(
                nn.Conv2d(cin, filters, 1, stride=stride), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, filters, 3, padding=1), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, 4 * filters, 1), bn(4 * filters),
            )

        def forward(self, x):
            s = x if self.shortcut is None else self.shortcut(x)
            return F.relu(s + self.body(x))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            # Keras: ZeroPadding2D(3) + valid 7x7/2; ZeroPadding2D(1) + MaxPooling 3/2
            # (after a relu, zero padding and -inf padding pool alike).
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3), bn(64), nn.ReLU(),
                                      nn.MaxPool2d(3, stride=2, padding=1))
            blocks, cin = [], 64
            for filters, count, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                for i in range(count):
                    blocks.append(Bottleneck(cin, filters, stride if i == 0 else 1, i == 0))
                    cin = 4 * filters
            self.blocks = nn.Sequential(*blocks)
            self.dense = nn.Linear(2048, 1000)

        def logits(self, x):
            return self.dense(self.blocks(self.stem(x)).mean(dim=(2, 3)))

    cls = {"resnet": Residual, "inception": InceptionNet, "resnet50": ResNet50}[net]

    class WithSoftmax(cls):
        def forward(self, x):
            return torch.softmax(self.logits(x), dim=1)

    return WithSoftmax()


def main():
    ok = True
    for net, expected in EXPECTED_PARAMS.items():
        t = sum(p.numel() for p in torch_model(net).parameters())
        # Keras also counts batch-norm moving statistics (torch keeps them as buffers).
        t += sum(b.numel() for n, b in torch_model(net).named_buffers() if "running" in n)
        k = keras_model(net).count_params()
        good = t == expected and k == expected
        ok &= good
        print(f"{net}: torch {t:,}, keras {k:,}, expected {expected:,} -> {'OK' if good else 'MISMATCH'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
