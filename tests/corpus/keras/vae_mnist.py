# The keras.io convolutional VAE on MNIST (Keras 3, functional encoder/decoder, a custom Sampling layer).
# Exercises: fans through strided convs (1 -> 32: within 1.03x of He fan_out, silent; 32 -> 32: 2x, INIT005),
# z_mean / z_log_var projections (linear, silent), a 2 -> 3136 Dense before relu that is Glorot ~= He fan_out
# (silent), Conv2DTranspose after a Reshape (64 -> 64 is 2x below He: INIT005 whether or not the fans are
# known), 64 -> 16 transposed (fans 144 / 576, 1.25x: silent), and a sigmoid output head.
import keras
from keras import layers, ops

latent_dim = 2


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(x)  # expect: INIT005 advice
x = layers.Flatten()(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(3136, activation="relu")(latent_inputs)  # 7 * 7 * 64 units from 2 inputs: Glorot ~= He fan_out
x = layers.Reshape((7, 7, 64))(x)
x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)  # expect: INIT005 advice
x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")
