"""What the Keras source frontend knows about Keras names: layers, activations, initializers.

Pure data (plus two tiny lookups). Names are Keras 3 / tf.keras 2 class and
function names; a qualified callee counts when its root is ``keras``,
``tensorflow`` or ``tf_keras`` (``keras.src.layers.Dense``, ``tensorflow.keras.layers.core.Dense``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from ..python.positions import code_lines

KERAS_ROOTS = frozenset({"keras", "tensorflow", "tf_keras"})

Role = Literal["weight", "opaque", "act", "norm", "pass", "dropout", "add", "input", "sequential", "unit", "unknown"]


@dataclass(frozen=True)
class WeightLayer:
    """A weight-bearing Keras layer: its record kind, geometry and constructor argument order.

    ``params`` is the positional order of the constructor arguments the frontend reads.
    ``geometry`` picks the fan formula (Keras ``compute_fans`` on the kernel layout, INIT_REFERENCE 3.2).
    """

    kind: str  # record kind
    geometry: Literal["dense", "conv", "transpose", "depthwise", "separable", "embedding", "einsum"]
    rank: int  # spatial dims of the kernel (0 for dense)
    params: tuple[str, ...]
    kernel_arg: str  # the keyword holding the judged kernel's initializer


_CONV = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups", "activation")
_TRANSPOSE = (
    "filters", "kernel_size", "strides", "padding", "output_padding", "data_format", "dilation_rate", "activation",
)
_DEPTHWISE = ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate", "activation")
_SEPARABLE = (
    "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier", "activation",
)


def _conv(rank: int) -> WeightLayer:
    return WeightLayer("conv", "conv", rank, _CONV, "kernel_initializer")


def _transpose(rank: int) -> WeightLayer:
    return WeightLayer("conv_transpose", "transpose", rank, _TRANSPOSE, "kernel_initializer")


# SeparableConv: only the pointwise kernel is judged. Its depthwise kernel feeds the
# pointwise 1x1 conv directly (a linear map, no activation between), so its scale only
# rescales what the pointwise kernel sees; the layer's activation consumes the pointwise output.
WEIGHT_LAYERS: dict[str, WeightLayer] = {
    "Dense": WeightLayer("linear", "dense", 0, ("units", "activation"), "kernel_initializer"),
    "EinsumDense": WeightLayer("linear", "einsum", 0, ("equation", "output_shape", "activation"), "kernel_initializer"),
    "Conv1D": _conv(1), "Conv2D": _conv(2), "Conv3D": _conv(3),
    "Convolution1D": _conv(1), "Convolution2D": _conv(2), "Convolution3D": _conv(3),
    "Conv1DTranspose": _transpose(1), "Conv2DTranspose": _transpose(2), "Conv3DTranspose": _transpose(3),
    "Convolution1DTranspose": _transpose(1), "Convolution2DTranspose": _transpose(2),
    "Convolution3DTranspose": _transpose(3),
    "DepthwiseConv1D": WeightLayer("conv", "depthwise", 1, _DEPTHWISE, "depthwise_initializer"),
    "DepthwiseConv2D": WeightLayer("conv", "depthwise", 2, _DEPTHWISE, "depthwise_initializer"),
    "SeparableConv1D": WeightLayer("conv", "separable", 1, _SEPARABLE, "pointwise_initializer"),
    "SeparableConv2D": WeightLayer("conv", "separable", 2, _SEPARABLE, "pointwise_initializer"),
    "SeparableConvolution1D": WeightLayer("conv", "separable", 1, _SEPARABLE, "pointwise_initializer"),
    "SeparableConvolution2D": WeightLayer("conv", "separable", 2, _SEPARABLE, "pointwise_initializer"),
    "Embedding": WeightLayer("embedding", "embedding", 0, ("input_dim", "output_dim"), "embeddings_initializer"),
}

# Weight-bearing layers the frontend does not judge: a tensor they consume meets a linear map first
# (attention projections, recurrent input kernels), so the layer before them is a linear projection.
OPAQUE_WEIGHT_LAYERS = frozenset({
    "MultiHeadAttention", "GroupedQueryAttention", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
    "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "LocallyConnected1D", "LocallyConnected2D",
})

# Layers that pass the signal on unchanged as far as the consuming activation is concerned
# (SPEC 8.12: pooling, dropout, flatten/reshape, padding are transparent).
PASS_LAYERS = frozenset({
    "GaussianDropout", "GaussianNoise", "ActivityRegularization", "Identity", "Masking",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "Flatten", "Reshape", "Permute", "Cropping1D", "Cropping2D", "Cropping3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "Concatenate", "Average", "Maximum",
    # preprocessing and augmentation keep the shape (and come before the first weight layer)
    "Rescaling", "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "RandomBrightness",
})
GLOBAL_POOLING_PREFIX = "Global"

NORM_LAYERS = frozenset({
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "RMSNormalization", "SyncBatchNormalization",
})

# Dropout layers: records for INIT009 (kind dropout / alpha_dropout), transparent otherwise.
DROPOUT_LAYERS: dict[str, str] = {
    "Dropout": "dropout", "SpatialDropout1D": "dropout", "SpatialDropout2D": "dropout",
    "SpatialDropout3D": "dropout", "AlphaDropout": "alpha_dropout",
}



@lru_cache(maxsize=4)  # asked by the lint, the frontend's dispatch and the frontend itself of the same text
def may_record(text: str) -> bool:
    """Whether a source may hold a Keras record: it names Keras, and its code (not its strings and comments)
    names a layer class that makes one. No parse: a file that fails this is not read by the frontend."""
    if not ("keras" in text or "tensorflow" in text) or not any(name in text for name in _RECORDED):
        return False
    code = "\n".join(code_lines(text))
    return any(name in code for name in _RECORDED)


_RECORDED = (*WEIGHT_LAYERS, *DROPOUT_LAYERS)

ADD_LAYERS = frozenset({"Add"})
MODEL_CALLS = frozenset({"Model", "Functional"})

# The role of every layer class that needs no more than its name to be understood.
LAYER_ROLES: dict[str, Role] = {
    **dict.fromkeys(PASS_LAYERS, "pass"),
    **dict.fromkeys(NORM_LAYERS, "norm"),
    **dict.fromkeys(OPAQUE_WEIGHT_LAYERS, "opaque"),
    **dict.fromkeys(DROPOUT_LAYERS, "dropout"),
    **dict.fromkeys(ADD_LAYERS, "add"),
}

# Lower-case merge functions of keras.layers (layers.add([a, b]), layers.concatenate([...])).
MERGE_FUNCTIONS: dict[str, str] = {"add": "add", "concatenate": "pass", "average": "pass", "maximum": "pass"}

# Tensor functions that do not change which activation consumes the signal (layout, precision, copies).
PASS_FUNCTIONS = frozenset({
    "reshape", "squeeze", "expand_dims", "concat", "concatenate", "identity", "dropout", "transpose", "cast",
    "split", "slice", "slice_update", "repeat", "tile", "broadcast_to", "moveaxis", "swapaxes", "flip", "roll",
    "pad", "convert_to_tensor", "copy", "stack", "unstack", "take", "take_along_axis", "gather", "stop_gradient",
    "ensure_shape", "squeeze_excess", "flatten", "ravel", "permute_dimensions", "dynamic_slice", "strided_slice",
})

# Functions that read only a tensor's shape or type: not a consumer.
QUERY_FUNCTIONS = frozenset({
    "shape", "size", "ndim", "rank", "int_shape", "dtype", "standardize_dtype", "result_type", "is_tensor",
    "is_keras_tensor", "get_shape", "shape_list", "is_float_dtype", "is_int_dtype", "get_keras_mask",
    "set_keras_mask",
})

# Python builtins that read a tensor without computing with it.
BUILTIN_QUERIES = frozenset({"len", "getattr", "hasattr", "isinstance", "type", "id", "print", "repr", "str", "int", "float",
                             "bool"})  # a Python scalar of a size (``self.dim = int(dim)``), no tensor

# Products of tensors (attention scores, attention-weighted values, ``x @ kernel``): every operand is
# consumed linearly (SPEC 4: attention consumers are ``linear``); einsum of one operand is a permutation.
PRODUCT_FUNCTIONS = frozenset({"matmul", "einsum", "dot", "tensordot", "batch_dot", "vdot", "inner"})
ATTENTION_FUNCTIONS = frozenset({"dot_product_attention", "scaled_dot_product_attention", "flash_attention"})
# Other callables that run attention over the tensors they get (``ctx.paged_attention_func(q, k, v, ...)``).
ATTENTION_NAME = re.compile(r"(^|_)(attention|attn)(_func|_fn|_forward|_interface)?$")

# Element-wise functions of two tensors: sums are residual merges; products of two branches are gates.
SUM_FUNCTIONS = frozenset({"add", "subtract"})
SCALE_FUNCTIONS = frozenset({"multiply", "divide", "true_divide", "negative"})

# Activation layer classes -> (activation name, keyword holding the slope, slope's positional index, default slope).
ACTIVATION_LAYERS: dict[str, tuple[str, str | None, int | None, float]] = {
    "ReLU": ("ReLU", "negative_slope", 1, 0.0),
    "LeakyReLU": ("LeakyReLU", "negative_slope", 0, 0.3),
    "ELU": ("ELU", None, None, 0.0),
    "PReLU": ("PReLU", None, None, 0.0),  # Keras PReLU starts at slope 0 (SPEC 8.26)
    "Softmax": ("Softmax", None, None, 0.0),
    "ThresholdedReLU": ("ThresholdedReLU", None, None, 0.0),
}

# keras.activations names (case-sensitive, INIT_REFERENCE 4.2) -> canonical name for the family table.
ACTIVATION_NAMES: dict[str, str] = {
    "relu": "relu", "relu6": "relu6", "elu": "elu", "selu": "selu", "celu": "celu",
    "leaky_relu": "leaky_relu", "gelu": "gelu", "silu": "silu", "swish": "silu", "mish": "mish",
    "hard_silu": "hard_silu", "hard_swish": "hard_silu", "tanh": "tanh", "hard_tanh": "hard_tanh",
    "softsign": "softsign", "sigmoid": "sigmoid", "hard_sigmoid": "hard_sigmoid", "log_sigmoid": "log_sigmoid",
    "softmax": "softmax", "log_softmax": "log_softmax", "linear": "linear",
    # recognised but with no family: the layer stays unresolved
    "softplus": "softplus", "exponential": "exponential", "glu": "glu", "sparsemax": "sparsemax",
    "squareplus": "squareplus", "sparse_plus": "sparse_plus", "sparse_sigmoid": "sparse_sigmoid",
    "tanh_shrink": "tanh_shrink", "soft_shrink": "soft_shrink", "hard_shrink": "hard_shrink",
    "threshold": "threshold",
}

# Default negative slope of leaky functions: keras.activations/ops.leaky_relu and tf.nn.leaky_relu use 0.2.
FUNCTION_SLOPE_DEFAULTS: dict[str, float] = {"leaky_relu": 0.2}

# Namespaces whose functions are activations: keras.activations.relu, keras.ops.relu, tf.nn.relu,
# tf.math.tanh, tf.keras.backend.relu, tf.tanh / tf.sigmoid.
ACTIVATION_NAMESPACES = frozenset({"activations", "ops", "nn", "math", "backend"})
TOP_LEVEL_ACTIVATIONS = frozenset({"tanh", "sigmoid", "nn"})


def qualified_class(qualified: str | None, star: bool, bare: str | None) -> str | None:
    """The Keras class or function name a callee refers to, or None if it is not Keras.

    ``qualified`` is the import-resolved dotted name; ``bare`` the callee's own name,
    used only when the file does ``from keras.layers import *``.
    """
    if qualified is not None:
        parts = qualified.split(".")
        return parts[-1] if parts[0] in KERAS_ROOTS and len(parts) > 1 else None
    return bare if star else None


def namespace(qualified: str | None) -> str:
    """The component before the last: ``activations`` for ``keras.activations.relu``."""
    if not qualified:
        return ""
    parts = qualified.split(".")
    return parts[-2] if len(parts) >= 2 else ""


def known_keras(name: str) -> bool:
    """Whether a Keras class or function name is one the frontend models (so a project that is Keras
    itself still means ``keras.layers.Dense`` by ``Dense``, while its other definitions are its own)."""
    return (name in WEIGHT_LAYERS or name in LAYER_ROLES or name in ACTIVATION_LAYERS or name in ACTIVATION_NAMES
            or name in PASS_FUNCTIONS or name in QUERY_FUNCTIONS or name in PRODUCT_FUNCTIONS
            or name in ATTENTION_FUNCTIONS or name in SUM_FUNCTIONS or name in SCALE_FUNCTIONS
            or name in MERGE_FUNCTIONS or name in MODEL_CALLS
            or name in ("Input", "InputLayer", "Sequential", "Activation", "TimeDistributed", "Layer", "get"))

