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
