"""A small Keras image classifier and a tabular self-normalizing network, with a few initialization mistakes.

    initlint examples/keras_model.py

Most layers are right (He with ReLU, LeCun normal with SELU, Glorot on the heads);
four are not, and initlint says why, with the numbers.
"""

import keras
from keras import layers


def conv_bn_relu(x, filters, kernel_size=3):
    x = layers.Conv2D(filters, kernel_size, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def image_classifier(num_classes=10):
    inputs = keras.Input(shape=(32, 32, 3))
    x = conv_bn_relu(inputs, 32)
    x = conv_bn_relu(x, 64)
    x = layers.MaxPooling2D()(x)
    # Glorot written out before ReLU, no normalization: the signal halves in variance per layer.
    x = layers.Conv2D(128, 3, padding="same", activation="relu", kernel_initializer="glorot_uniform")(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu", kernel_initializer="he_uniform")(x)
    x = layers.GlobalAveragePooling2D()(x)
    # A hidden layer left on Keras' default glorot_uniform before ReLU.
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="cifar_cnn")


def tabular_snn(features=64):
    return keras.Sequential(
        [
            keras.Input(shape=(features,)),
            layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
            layers.AlphaDropout(0.1),
            # He before SELU breaks self-normalization.
            layers.Dense(256, activation="selu", kernel_initializer="he_normal"),
            # Plain Dropout in a SELU network.
            layers.Dropout(0.1),
            layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
            layers.Dense(1),
        ],
        name="tabular_snn",
    )
