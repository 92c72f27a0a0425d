"""Keras models built by factories (checked with KERAS_BACKEND=torch)."""

import keras
from keras import layers

def build(depth=20, width=128, activation="relu", init="glorot_uniform"):
    model = keras.Sequential([keras.Input((width,))], name="deep")
    for _ in range(depth):
        model.add(layers.Dense(width, activation=activation, kernel_initializer=init))
    model.add(layers.Dense(10, activation="softmax"))
    return model

def functional():
    x = keras.Input((32,))
    h = layers.Dense(64)(x)
    h = layers.BatchNormalization()(h)
    h = layers.LeakyReLU()(h)
    h = layers.Dropout(0.3)(h)
    o = layers.Dense(3)(h)
    return keras.Model(x, o, name="func")


def convnet():
    x = keras.Input((16, 16, 3))
    h = layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal")(x)
    h = layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer="he_normal")(h)
    h = layers.GlobalAveragePooling2D()(h)
    h = layers.Dense(32, activation="relu", kernel_initializer="he_normal")(h)
    return keras.Model(x, layers.Dense(4)(h), name="convnet")


def default_dense(depth=4, width=64):
    """Dense layers on Keras' default kernel initializer (glorot_uniform) before relu."""
    model = keras.Sequential([keras.Input((width,))])
    for _ in range(depth):
        model.add(layers.Dense(width, activation="relu"))
    model.add(layers.Dense(10))
    return model
