# Keras subclassed models: layers created in __init__, data flow in call (SPEC 4).
# Without an input shape the fans are unknown, so the default glorot_uniform before relu is judged
# by declaration (INIT005 advice); a separate activation layer applied in call counts as the consumer;
# he_normal is silent; the logits layer is an output head (silent).
import keras
from keras import layers


class MLPClassifier(keras.Model):
    def __init__(self, hidden=512, num_classes=10, **kwargs):
        super().__init__(**kwargs)
        self.dense1 = layers.Dense(hidden, activation="relu")  # expect: INIT005 advice
        self.dense2 = layers.Dense(hidden)  # expect: INIT005 advice  (consumer is self.act, a ReLU layer)
        self.act = layers.ReLU()
        self.dense3 = layers.Dense(hidden, activation=keras.activations.relu, kernel_initializer="he_normal")
        self.dropout = layers.Dropout(0.3)
        self.logits = layers.Dense(num_classes)

    def call(self, inputs, training=False):
        x = self.dense1(inputs)
        x = self.act(self.dense2(x))
        x = self.dense3(x)
        x = self.dropout(x, training=training)
        return self.logits(x)


class GeluBlock(layers.Layer):
    def __init__(self, units=256, **kwargs):
        super().__init__(**kwargs)
        self.fc = layers.Dense(units, kernel_initializer="he_uniform")
        self.norm = layers.LayerNormalization()

    def call(self, x):
        return keras.activations.gelu(self.norm(self.fc(x)))


class Encoder(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block1 = GeluBlock()
        self.block2 = GeluBlock()
        self.proj = layers.Dense(64)

    def call(self, x):
        return self.proj(self.block2(self.block1(x)))
