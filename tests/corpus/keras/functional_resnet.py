# A functional-API ResNet for CIFAR-10 (keras.io style): Conv2D -> BatchNormalization -> Activation("relu"),
# residual blocks built by a helper function, layers.add for the skip connection, GAP + Dense head.
# Exercises BatchNormalization between layer and activation (SPEC 8.1): the default glorot_uniform is
# silent there (INIT005 does not fire), he_normal is silent, and an explicitly written glorot_uniform before
# relu (an INIT001 warning without normalization) is reported as advice.
import keras
from keras import layers


def conv_bn_relu(x, filters, kernel_size=3, strides=1):
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def residual_block(x, filters, strides=1):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(y)
    y = layers.BatchNormalization()(y)
    if strides != 1:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False, kernel_initializer="he_normal")(x)
        shortcut = layers.BatchNormalization()(shortcut)
    y = layers.add([y, shortcut])
    return layers.Activation("relu")(y)


def build_model(num_classes=10):
    inputs = keras.Input(shape=(32, 32, 3))
    x = conv_bn_relu(inputs, 64)
    x = layers.Conv2D(64, 3, padding="same", use_bias=False, kernel_initializer="glorot_uniform")(x)  # expect: INIT001 advice  (Glorot before relu, BatchNormalization between)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    for filters, strides in [(64, 1), (128, 2), (256, 2)]:
        x = residual_block(x, filters, strides)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet_cifar")


model = build_model()
