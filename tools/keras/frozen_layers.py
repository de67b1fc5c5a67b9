"""Keras 3 figures for `tests/frozen_layers.rs` (`trainable=False`).

Prints the parameter counts the test asserts and checks the behaviour the
runtime follows: a frozen BatchNormalization runs in inference mode even
when called with training=True and its moving statistics stay; a layer
without weights accepts trainable=False; `layer.trainable` can be changed
after the model is built.

    KERAS_BACKEND=jax /work/wt/onnx-venv/bin/python tools/keras/frozen_layers.py
"""

import numpy as np
import keras
from keras import layers


def counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return model.count_params(), trainable, frozen


x = keras.Input((784,))
print("FrozenDense total/trainable/non-trainable:",
      counts(keras.Model(x, layers.Dense(10, trainable=False)(x))))

image = keras.Input((8, 8, 3))
c = layers.Conv2D(4, 3, trainable=False)(image)
c = layers.BatchNormalization(trainable=False)(c)
f = layers.Flatten(trainable=False)(c)
features = keras.Model(image, layers.Dense(10)(f))
print("FrozenFeatures total/trainable/non-trainable:", counts(features))

bn = layers.BatchNormalization(trainable=False)
batch = np.random.RandomState(0).randn(4, 3).astype("float32") * 3 + 2
in_training = np.asarray(bn(batch, training=True))
in_inference = np.asarray(bn(batch, training=False))
print("frozen BatchNormalization, training=True equals inference:",
      bool(np.allclose(in_training, in_inference)),
      "moving_mean after:", np.asarray(bn.moving_mean))

print("Activation(trainable=False) accepted:",
      layers.Activation("relu", trainable=False).trainable is False)

features.layers[-1].trainable = False
print("after features.layers[-1].trainable = False:", counts(features))
