# Keras activation strings beyond relu (SPEC 1, 4), each on a 128 -> 128 Dense.
# relu family: "relu6" on glorot_uniform (2x below He: INIT005), "celu" with he_uniform (ok); smooth: "hard_silu"
# and "mish" on the default (INIT005); tanh family: "softsign" with he_normal (INIT001 advice), "hard_tanh"
# on the default (ok); sigmoid family: "hard_sigmoid" on the default (ok); "softplus" and "exponential" are
# in no family (unresolved, silent); a "log_softmax" head.
import keras
from keras import layers

inputs = keras.Input(shape=(128,))
x = layers.Dense(128, activation="relu6")(inputs)  # expect: INIT005 advice
x = layers.Dense(128, activation="celu", kernel_initializer="he_uniform")(x)
x = layers.Dense(128, activation="hard_silu")(x)  # expect: INIT005 advice
x = layers.Dense(128, activation="mish")(x)  # expect: INIT005 advice
x = layers.Dense(128, activation="softsign", kernel_initializer="he_normal")(x)  # expect: INIT001 advice
x = layers.Dense(128, activation="hard_tanh")(x)
x = layers.Dense(128, activation="hard_sigmoid")(x)
x = layers.Dense(128, activation="softplus")(x)  # expect-unresolved
x = layers.Dense(128, activation="exponential")(x)  # expect-unresolved
outputs = layers.Dense(10, activation="log_softmax")(x)
model = keras.Model(inputs, outputs)
