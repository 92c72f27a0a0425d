# Keras autoencoders on the default glorot_uniform (functional API).
# Exercises the 1.5x rule (SPEC 8.3) with fans from keras.Input and the previous layer: in a funnel
# (784 -> 256 -> 64 -> 16 -> 64 -> 256) Glorot is within 1.33x / 1.25x of He, so nothing is reported; only
# the square 256 -> 256 relu layer (2x) is INIT005. The linear latent layer and sigmoid outputs are silent.
# Conv2DTranspose fans follow Keras' (k, k, filters, in) layout: fan_in = filters*k*k.
import keras
from keras import layers

inputs = keras.Input(shape=(784,))
h = layers.Dense(256, activation="relu")(inputs)
h = layers.Dense(64, activation="relu")(h)
latent = layers.Dense(16, name="latent")(h)
h = layers.Dense(64, activation="relu")(latent)
h = layers.Dense(256, activation="relu")(h)
h = layers.Dense(256, activation="relu")(h)  # expect: INIT005 advice  (square 256 -> 256: Glorot is 2x below He)
outputs = layers.Dense(784, activation="sigmoid")(h)
dense_autoencoder = keras.Model(inputs, outputs, name="dense_autoencoder")

image = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, strides=2, activation="relu", padding="same")(image)
x = layers.Conv2D(8, 3, strides=2, activation="relu", padding="same")(x)
x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)  # expect: INIT005 advice  (fans 72 / 72)
x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same")(x)  # fans 288 / 72: Glorot 1.25x below He fan_in -> silent
decoded = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
conv_autoencoder = keras.Model(image, decoded, name="conv_autoencoder")
conv_autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
