# Explicit Keras kernel initializers judged by their numbers (SPEC 1, 8.3), every layer 512 -> 512.
# Exercises: "glorot_uniform" written out before relu (INIT001 warning: an explicit choice, not the default);
# VarianceScaling(scale=0.1) (a gain the table does not name, 20x below He: warning) and scale=1.2
# (1.67x: advice); VarianceScaling(2.0, "fan_avg", "uniform") on a square layer (= He: silent);
# the "leaky_relu" activation string (keras.activations.leaky_relu, slope 0.2) on the default (INIT005);
# lecun_normal before gelu (advice) and lecun_uniform before elu (warning).
import keras
from keras import initializers, layers

inputs = keras.Input(shape=(512,))
x = layers.Dense(512, activation="relu", kernel_initializer="glorot_uniform")(inputs)  # expect: INIT001 warning
x = layers.Dense(512, activation="relu", kernel_initializer=initializers.VarianceScaling(scale=0.1))(x)  # expect: INIT001 warning
x = layers.Dense(  # expect: INIT001 advice  (scale 1.2: 1.67x below He; a multi-line call is located at its first line)
    512,
    activation="relu",
    kernel_initializer=initializers.VarianceScaling(scale=1.2, mode="fan_in", distribution="truncated_normal"),
)(x)
x = layers.Dense(512, activation="relu", kernel_initializer=initializers.VarianceScaling(2.0, "fan_avg", "uniform"))(x)
x = layers.Dense(512, activation="leaky_relu")(x)  # expect: INIT005 advice  (Glorot 1/512 vs He(a=0.2) 1.92/512)
x = layers.Dense(512, activation="gelu", kernel_initializer="lecun_normal")(x)  # expect: INIT001 advice
x = layers.Dense(512, activation="elu", kernel_initializer="lecun_uniform")(x)  # expect: INIT001 warning
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
