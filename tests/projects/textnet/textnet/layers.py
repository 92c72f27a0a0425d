"""Building blocks: their initializers and activations are constructor parameters, decided by who builds them."""

import keras
from keras import ops

from .utils import clone_initializer


class FeedForward(keras.layers.Layer):
    """Alone: Glorot before ReLU (INIT001 warning). Every builder in the project passes GELU and N(0, 0.02)."""

    def __init__(self, hidden_dim, intermediate_dim, activation="relu", kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape):
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.intermediate = keras.layers.Dense(  # alone: INIT001 warning
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
        )
        self.output_dense = keras.layers.Dense(
            self.hidden_dim, kernel_initializer=clone_initializer(self.kernel_initializer)
        )

    def call(self, x):
        residual = x
        x = self.norm(x)
        x = self.intermediate(x)
        x = self.output_dense(x)
        return x + residual


class SelfAttention(keras.layers.Layer):
    """Projections consumed by attention (linear): reshapes, transposes and shape queries pass through."""

    def __init__(self, num_heads, head_dim, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.head_dim = head_dim
        self._kernel_initializer = keras.initializers.get(clone_initializer(kernel_initializer))

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        self.projections = []
        for name in ("query", "key", "value"):
            self.projections.append(
                keras.layers.Dense(
                    self.num_heads * self.head_dim,
                    kernel_initializer=clone_initializer(self._kernel_initializer),
                    name=name,
                )
            )
        self.out = keras.layers.Dense(hidden_dim, kernel_initializer=self._conv_like_initializer())  # expect: INIT001 advice

    def _conv_like_initializer(self, scale=2.0, mode="fan_in"):
        return keras.initializers.VarianceScaling(scale=scale, mode=mode, distribution="truncated_normal")

    def _split_heads(self, x):
        batch, length = ops.shape(x)[0], ops.shape(x)[1]
        x = ops.reshape(x, (batch, length, self.num_heads, self.head_dim))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, x):
        q, k, v = [self._split_heads(layer(x)) for layer in self.projections]
        attended = ops.dot_product_attention(q, k, v)
        attended = ops.reshape(ops.transpose(attended, (0, 2, 1, 3)), ops.shape(x))
        return self.out(attended)  # the caller's next layer consumes it


class RMSNorm(keras.layers.Layer):
    """A normalization written out: what comes after it sees a normalized signal."""

    def call(self, x):
        variance = ops.mean(ops.square(x), axis=-1, keepdims=True)
        return x * ops.rsqrt(variance + 1e-6)


class ConvBlock(keras.layers.Layer):
    """Its builders disagree on the activation (tanh in the backbone, the default relu in the task)."""

    def __init__(self, filters=64, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv1D(filters, 3, padding="same", kernel_initializer="he_normal")  # expect-unresolved
        self.act = keras.layers.Activation(activation)

    def call(self, x):
        return self.act(self.conv(x))


class Gate(keras.layers.Layer):
    """Every builder passes Glorot explicitly before ReLU: the project says INIT001 (alone the default is He)."""

    def __init__(self, units, kernel_initializer="he_normal", **kwargs):
        super().__init__(**kwargs)
        self.kernel_initializer = kernel_initializer
        self.dense = keras.layers.Dense(units, kernel_initializer=self.kernel_initializer)  # expect: INIT001 warning

    def call(self, x):
        return ops.relu(self.dense(x))
