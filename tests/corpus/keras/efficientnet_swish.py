# EfficientNet-style blocks (keras.applications): the kernel initializers as module-level dict configs
# (`CONV_KERNEL_INITIALIZER`, `DENSE_KERNEL_INITIALIZER`), VarianceScaling(2.0, "fan_out", "truncated_normal")
# before swish, DepthwiseConv2D, and the dense head at VarianceScaling(1/3, "fan_out", "uniform")
# (an under-scaled head: never flagged, SPEC 8.28). The block's projection conv has no activation (its
# output reaches the next conv): He there is INIT001, advice under BatchNormalization.
# Also a swish MLP on the default glorot_uniform: 256 -> 256 is 2x below He (INIT005 advice).
import keras
from keras import layers

CONV_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"},
}

DENSE_KERNEL_INITIALIZER = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"},
}


def mb_conv_block(inputs, filters_in, filters_out, expand_ratio=6, kernel_size=3, strides=1):
    filters = filters_in * expand_ratio
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding="same", use_bias=False, depthwise_initializer=CONV_KERNEL_INITIALIZER
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER)(x)  # expect: INIT001 advice  (He into the linear projection; BN between; one site)
    x = layers.BatchNormalization()(x)
    if strides == 1 and filters_in == filters_out:
        x = layers.add([x, inputs])
    return x


def tiny_efficientnet(num_classes=1000):
    inputs = keras.Input(shape=(224, 224, 3))
    x = layers.Conv2D(32, 3, strides=2, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = mb_conv_block(x, 32, 16, expand_ratio=1)
    x = mb_conv_block(x, 16, 24, strides=2)
    x = layers.Conv2D(1280, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("swish")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=DENSE_KERNEL_INITIALIZER)(x)
    return keras.Model(inputs, outputs)


def swish_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(256,)),
            layers.Dense(256, activation="swish"),  # expect: INIT005 advice
            layers.Dense(256, activation="swish"),  # expect: INIT005 advice
            layers.Dense(1),
        ]
    )
