# Keras activations applied as separate layers after a linear Dense (functional API, SPEC 4):
# Activation("relu"), ReLU(), ELU(), PReLU() (initial slope 0: plain He, 8.26), Activation("sigmoid"),
# Softmax(), and BatchNormalization between (silent). All 128 -> 128 on glorot_uniform, 2x below He.
import keras
from keras import layers

inputs = keras.Input(shape=(128,))
x = layers.Dense(128)(inputs)  # expect: INIT005 advice
x = layers.Activation("relu")(x)
x = layers.Dense(128)(x)  # expect: INIT005 advice
x = layers.ReLU()(x)
x = layers.Dense(128)(x)  # expect: INIT005 advice
x = layers.ELU()(x)
x = layers.Dense(128)(x)  # expect: INIT005 advice
x = layers.PReLU()(x)
x = layers.Dense(128, activation="tanh")(x)
x = layers.Dense(128)(x)
x = layers.Activation("sigmoid")(x)
x = layers.Dense(128)(x)
x = layers.BatchNormalization()(x)
x = layers.Activation("relu")(x)
logits = layers.Dense(10)(x)
outputs = layers.Softmax()(logits)
model = keras.Model(inputs=inputs, outputs=outputs)
