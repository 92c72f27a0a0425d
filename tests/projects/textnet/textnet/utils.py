"""Helpers the blocks and models share (another file: the analysis reads them from here)."""

import keras


def clone_initializer(initializer):
    """A fresh copy with a new seed: the same initializer as far as its draw goes."""
    if not isinstance(initializer, keras.initializers.Initializer):
        return initializer
    return initializer.__class__.from_config(initializer.get_config())


def gelu_approximate(x):
    return keras.activations.gelu(x, approximate=True)


def textnet_kernel_initializer(stddev=0.02):
    return keras.initializers.TruncatedNormal(stddev=stddev)
