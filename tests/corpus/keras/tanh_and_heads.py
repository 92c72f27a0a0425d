# Keras initializers before tanh and before output heads (SPEC 1, 8.3, 8.28).
# Exercises: he_normal before tanh (INIT001 advice, 2x over Glorot on 128 -> 128), RandomNormal(stddev=0.02)
# before tanh on 512 -> 512 (4.9x below Glorot: INIT006 advice), he_normal on a 512 -> 10 softmax head (within
# 1.02x of Glorot: silent) and on a square 64 -> 64 softmax head (2x over: INIT001 advice), the default
# glorot_uniform before tanh (ok), orthogonal before tanh (ok), and a tiny RandomNormal(stddev=1e-3) head (never flagged).
import keras
from keras import initializers, layers

tanh_net = keras.Sequential(
    [
        keras.Input(shape=(128,)),
        layers.Dense(128, activation="tanh", kernel_initializer="he_normal"),  # expect: INIT001 advice
        layers.Dense(128, activation="tanh"),
        layers.Dense(512, activation="tanh", kernel_initializer="orthogonal"),
        layers.Dense(512, activation="tanh", kernel_initializer=initializers.RandomNormal(stddev=0.02)),  # expect: INIT006 advice
        layers.Dense(10, activation="softmax", kernel_initializer="he_normal"),
    ]
)

policy = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="softmax", kernel_initializer="he_normal"),  # expect: INIT001 advice
    ]
)

value = keras.Sequential(
    [
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="tanh"),
        layers.Dense(1, kernel_initializer=initializers.RandomNormal(stddev=1e-3)),
    ]
)
