# A functional-API CNN done right: He initializers before relu, written as strings, as an
# initializer instance and as a module-level constant; a LeakyReLU layer after a he_normal Dense.
# The first conv stays on glorot_uniform, which for 1 -> 32 channels (fans 9 / 288) is within 1.03x of
# He fan_out (SPEC 8.3): silent. Expected: no findings. The backend is set to torch before importing
# keras, so the file mentions torch without containing any torch model.
import os

os.environ["KERAS_BACKEND"] = "torch"

import keras
from keras import initializers, layers

HE = initializers.HeNormal(seed=0)
KERNEL_INIT = "he_uniform"

inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu")(inputs)
x = layers.Conv2D(32, 3, activation="relu", kernel_initializer="he_normal")(x)
x = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(64, (3, 3), padding="same", kernel_initializer=HE)(x)
x = layers.Activation("relu")(x)
x = layers.Conv2D(64, (3, 3), padding="same", activation="relu", kernel_initializer=KERNEL_INIT)(x)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(128, kernel_initializer=initializers.he_normal())(x)
x = layers.LeakyReLU(negative_slope=0.1)(x)
outputs = layers.Dense(10, activation="softmax")(x)

model = keras.Model(inputs, outputs, name="he_cnn")
