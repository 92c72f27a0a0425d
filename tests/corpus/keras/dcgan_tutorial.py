# The TensorFlow DCGAN tutorial (tf.keras 2 style: `from tensorflow.keras import layers`), plus an MLP GAN
# generator without BatchNormalization.
# Exercises: BatchNormalization between every generator layer and its LeakyReLU (silent, SPEC 8.1), a tanh
# output head, the LeakyReLU layer's default slope 0.3 (tf.keras `alpha`): the discriminator convs on
# glorot_uniform are within 1.07x / 1.38x of He(a=0.3) fan_out (silent, 8.3, 8.10 -- with slope 0 the
# second would sit exactly at 1.5x); in the MLP generator only the square 512 -> 512 layer before
# LeakyReLU(0.2) is beyond 1.5x (1.92x: INIT005).
import tensorflow as tf
from tensorflow.keras import layers


def make_generator_model():
    model = tf.keras.Sequential()
    model.add(layers.Dense(7 * 7 * 256, use_bias=False, input_shape=(100,)))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Reshape((7, 7, 256)))

    model.add(layers.Conv2DTranspose(128, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(64, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU())

    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"))
    return model


def make_discriminator_model():
    model = tf.keras.Sequential()
    model.add(layers.Conv2D(64, (5, 5), strides=(2, 2), padding="same", input_shape=[28, 28, 1]))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Conv2D(128, (5, 5), strides=(2, 2), padding="same"))
    model.add(layers.LeakyReLU())
    model.add(layers.Dropout(0.3))

    model.add(layers.Flatten())
    model.add(layers.Dense(1))
    return model


def make_mlp_generator(latent_dim=100):
    return tf.keras.Sequential(
        [
            layers.Dense(256, input_shape=(latent_dim,)),
            layers.LeakyReLU(alpha=0.2),
            layers.Dense(512),
            layers.LeakyReLU(alpha=0.2),
            layers.Dense(512),  # expect: INIT005 advice  (Glorot 1/512 vs He(a=0.2) 1.92/512)
            layers.LeakyReLU(alpha=0.2),
            layers.Dense(784, activation="tanh"),
        ]
    )
