# The keras.io "text classification from scratch" model (tf.keras 2 style imports): Embedding, Conv1D
# with relu on glorot_uniform, global max pooling, a relu Dense and a sigmoid head.
# Exercises Conv1D fans (fan_in = 128 channels * 7): every relu layer here is square (128 -> 128), 2x below He,
# INIT005 advice whether or not the analysis knows the embedding width; Embedding is exempt.
from tensorflow import keras
from tensorflow.keras import layers

max_features = 20000
embedding_dim = 128

inputs = keras.Input(shape=(None,), dtype="int64")
x = layers.Embedding(max_features, embedding_dim)(inputs)
x = layers.Dropout(0.5)(x)
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)  # expect: INIT005 advice
x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)  # expect: INIT005 advice
x = layers.GlobalMaxPooling1D()(x)
x = layers.Dense(128, activation="relu")(x)  # expect: INIT005 advice
x = layers.Dropout(0.5)(x)
predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

model = keras.Model(inputs, predictions)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
