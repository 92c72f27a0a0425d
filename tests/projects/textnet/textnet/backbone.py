"""The backbone builds the blocks with GELU and N(0, 0.02) (the initializer from a helper of another file)."""

import keras

from textnet.layers import ConvBlock, FeedForward, Gate, RMSNorm, SelfAttention
from textnet.utils import gelu_approximate, textnet_kernel_initializer


class Backbone(keras.Model):
    def __init__(self, vocabulary_size=1000, hidden_dim=64, num_layers=2, **kwargs):
        token_ids = keras.Input(shape=(None,), dtype="int32")
        x = keras.layers.Embedding(vocabulary_size, hidden_dim)(token_ids)
        x = ConvBlock(hidden_dim, activation="tanh")(x)
        for _ in range(num_layers):
            x = SelfAttention(
                num_heads=4, head_dim=hidden_dim // 4, kernel_initializer=textnet_kernel_initializer()
            )(x)
            x = FeedForward(
                hidden_dim,
                4 * hidden_dim,
                activation=gelu_approximate,
                kernel_initializer=textnet_kernel_initializer(),
            )(x)
        x = RMSNorm()(x)
        x = Gate(hidden_dim, kernel_initializer="glorot_uniform")(x)
        super().__init__(inputs=token_ids, outputs=x, **kwargs)
