# Keras models whose activation or initializer comes from run-time configuration: the analysis
# cannot resolve them and must stay silent (SPEC 3, "Precision first"), counting the layers as unresolved.
# Also an initializer imported from another module.
import json

import keras
from keras import layers

from .initializers import scaled_init

with open("config.json") as f:
    CONFIG = json.load(f)


def build_mlp(config):
    inputs = keras.Input(shape=(config["input_dim"],))
    x = inputs
    for units in config["hidden_units"]:
        x = layers.Dense(units, activation=config["activation"])(x)  # expect-unresolved
    outputs = layers.Dense(config["num_classes"], activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build_cnn(activation, kernel_initializer):
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            layers.Conv2D(32, 3, activation=activation, kernel_initializer=kernel_initializer),  # expect-unresolved
            layers.Conv2D(32, 3, activation=activation),  # expect-unresolved
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ]
    )


helper_model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu", kernel_initializer=scaled_init(2.0)),  # expect-unresolved
        layers.Dense(1),
    ]
)

model = build_mlp(CONFIG)
cnn = build_cnn(CONFIG["activation"], CONFIG["init"])
