# Keras 3 Sequential classifiers on the default kernel initializer (glorot_uniform).
# Exercises INIT005 before relu with fans from keras.Input(shape=...) and the previous layer's units
# (SPEC 8.14): 784 -> 512 is 1.65x below He fan_in (advice), 512 -> 512 is 2x (advice), while the funnel
# 784 -> 256 -> 64 is within 1.33x / 1.25x of He fan_in (silent, 8.3); softmax heads are silent.
import keras
from keras import layers

num_classes = 10

model = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(512, activation="relu"),  # expect: INIT005 advice
        layers.Dropout(0.2),
        layers.Dense(512, activation="relu"),  # expect: INIT005 advice
        layers.Dropout(0.2),
        layers.Dense(num_classes, activation="softmax"),
    ]
)

funnel = keras.Sequential(
    [
        keras.Input(shape=(784,)),
        layers.Dense(256, activation="relu"),  # Glorot 2/1040 vs He 2/784: 1.33x -> silent
        layers.Dense(64, activation="relu"),  # Glorot 2/320 vs He 2/256: 1.25x -> silent
        layers.Dense(num_classes, activation="softmax"),
    ],
    name="funnel",
)

model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
funnel.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
