# Self-normalizing networks in Keras (SPEC 4, 8.7, 8.11).
# Exercises: selu + lecun_normal + AlphaDropout (silent); selu on the default glorot_uniform:
# 100 -> 256 is 1.78x below LeCun (INIT004 error), the square 256 -> 256 has LeCun's variance but a uniform
# draw (INIT004 advice); he_normal before selu is 2x over LeCun (INIT004 error); plain Dropout in a SELU
# network (INIT009 advice at the Dropout line); lecun_uniform before selu (INIT004 advice).
import keras
from keras import layers

good = keras.Sequential(
    [
        keras.Input(shape=(100,)),
        layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
        layers.AlphaDropout(0.05),
        layers.Dense(256, activation="selu", kernel_initializer="lecun_normal"),
        layers.AlphaDropout(0.05),
        layers.Dense(10, activation="softmax"),
    ]
)

swapped_in = keras.Sequential(
    [
        keras.Input(shape=(100,)),
        layers.Dense(256, activation="selu"),  # expect: INIT004 error  (glorot 2/356 is 1.78x below LeCun 1/100)
        layers.Dense(256, activation="selu"),  # expect: INIT004 advice  (square: LeCun's variance, uniform draw)
        layers.Dropout(0.2),  # expect: INIT009 advice
        layers.Dense(256, activation="selu", kernel_initializer="he_normal"),  # expect: INIT004 error
        layers.Dense(256, activation="selu", kernel_initializer="lecun_uniform"),  # expect: INIT004 advice
        layers.Dense(1, activation="sigmoid"),
    ]
)
