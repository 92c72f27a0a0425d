# Model-building functions whose sizes are literal parameter defaults (SPEC 8.14, 8.31: they count for the
# fans, also inside keras.Input(shape=...)), with the activation passed positionally.
# 64 -> 256 on glorot_uniform is within 1.25x of He fan_out (silent) while 256 -> 256 is 2x (INIT005);
# the 3 -> 96 stem conv (fans 27 / 864) is within 1.03x of He fan_out (silent), 96 -> 96 is 2x (INIT005).
import keras
from keras import layers


def build_classifier(input_dim=64, hidden=256, num_classes=10):
    inputs = keras.Input(shape=(input_dim,))
    x = layers.Dense(hidden, "relu")(inputs)
    x = layers.Dense(hidden, "relu")(x)  # expect: INIT005 advice
    outputs = layers.Dense(num_classes, "softmax")(x)
    return keras.Model(inputs, outputs)


def build_conv_stem(input_shape=(32, 32, 3), width=96, num_classes=10):
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(width, 3, activation="relu", padding="same")(inputs)
    x = layers.Conv2D(width, 3, activation="relu", padding="same")(x)  # expect: INIT005 advice
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


classifier = build_classifier()
stem = build_conv_stem()
