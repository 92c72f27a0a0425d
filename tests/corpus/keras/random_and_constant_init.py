# Fixed-scale and constant kernel initializers in Keras 3.
# Exercises: RandomNormal(stddev=1.0) and RandomUniform(-1, 1) (INIT002 error), RandomNormal(stddev=0.01)
# on a 512 -> 512 relu layer (39x below He: INIT006 advice), the "random_normal" default stddev 0.05
# (1.56x below He: silent), Constant(0.5) / "ones" (INIT003 error), "zeros" before relu (dead: INIT003 error)
# and a zero-initialized softmax head (deliberate: silent).
import keras
from keras import initializers, layers

inputs = keras.Input(shape=(784,))
x = layers.Dense(512, activation="relu", kernel_initializer=initializers.RandomNormal(stddev=1.0))(inputs)  # expect: INIT002 error
x = layers.Dense(512, activation="relu", kernel_initializer=initializers.RandomNormal(mean=0.0, stddev=0.01))(x)  # expect: INIT006 advice
x = layers.Dense(512, activation="relu", kernel_initializer="random_normal")(x)
x = layers.Dense(256, activation="tanh", kernel_initializer=initializers.RandomUniform(minval=-1.0, maxval=1.0))(x)  # expect: INIT002 error
outputs = layers.Dense(10, activation="softmax")(x)
random_model = keras.Model(inputs, outputs)

constant_model = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu", kernel_initializer=initializers.Constant(0.5)),  # expect: INIT003 error
        layers.Dense(64, activation="relu", kernel_initializer="ones"),  # expect: INIT003 error
        layers.Dense(64, activation="relu", kernel_initializer="zeros"),  # expect: INIT003 error
        layers.Dense(10, activation="softmax", kernel_initializer="zeros", bias_initializer="zeros"),
    ]
)
