"""A task on top of the backbone: its head's activation is a parameter too."""

import keras

from textnet.backbone import Backbone
from textnet.layers import ConvBlock, FeedForward, Gate
from textnet.utils import gelu_approximate, textnet_kernel_initializer


class Classifier(keras.Model):
    def __init__(self, num_classes=10, hidden_dim=64, activation="softmax", **kwargs):
        inputs = keras.Input(shape=(None,), dtype="int32")
        x = Backbone(hidden_dim=hidden_dim)(inputs)
        x = ConvBlock(hidden_dim)(x)
        x = FeedForward(
            hidden_dim, 2 * hidden_dim, activation=gelu_approximate, kernel_initializer=textnet_kernel_initializer()
        )(x)
        x = Gate(hidden_dim, kernel_initializer="glorot_uniform")(x)
        pooled = keras.layers.GlobalAveragePooling1D()(x)
        hidden = keras.layers.Dense(hidden_dim, activation="relu", kernel_initializer="he_normal")(pooled)
        unscaled = keras.layers.Dense(  # expect: INIT002 error
            hidden_dim, activation="tanh", kernel_initializer=keras.initializers.RandomNormal(stddev=1.0)
        )(hidden)
        outputs = keras.layers.Dense(num_classes, activation=activation)(unscaled)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
