# tf.keras 2.x style: `import tensorflow as tf`, `tf.keras.models.Sequential`, `input_shape=` on the first
# layer, activations given as `tf.nn.relu` / `tf.nn.softmax`, model.add(...) calls.
# Exercises INIT005 (glorot_uniform default before relu): 784 -> 1024 is 1.77x below He fan_out,
# 1024 -> 1024 is 2x; a layer with kernel_initializer="he_uniform" is silent.
import tensorflow as tf

model = tf.keras.models.Sequential()
model.add(tf.keras.layers.Dense(1024, activation=tf.nn.relu, input_shape=(784,)))  # expect: INIT005 advice
model.add(tf.keras.layers.Dropout(0.3))
model.add(tf.keras.layers.Dense(1024, activation=tf.nn.relu))  # expect: INIT005 advice
model.add(tf.keras.layers.Dropout(0.3))
model.add(tf.keras.layers.Dense(1024, activation="relu", kernel_initializer="he_uniform"))
model.add(tf.keras.layers.Dense(10, activation=tf.nn.softmax))

model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
