"""What the PyTorch source frontend knows about ``torch.nn`` names (pure data and tiny lookups)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class WeightLayer:
    """A weight-bearing ``torch.nn`` class: record kind, spatial rank and constructor argument order."""

    kind: str  # linear, conv, conv_transpose, bilinear, embedding
    rank: int  # spatial dims of the kernel (0 for dense)
    params: tuple[str, ...]
    lazy: bool = False


_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
_TCONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups")
_LAZY_CONV = ("out_channels", "kernel_size", "stride", "padding", "dilation", "groups")
_LAZY_TCONV = ("out_channels", "kernel_size", "stride", "padding", "output_padding", "groups")

WEIGHT_LAYERS: dict[str, WeightLayer] = {
    "Linear": WeightLayer("linear", 0, ("in_features", "out_features")),
    "LazyLinear": WeightLayer("linear", 0, ("out_features",), lazy=True),
    "Bilinear": WeightLayer("bilinear", 0, ("in1_features", "in2_features", "out_features")),
    "Embedding": WeightLayer("embedding", 0, ("num_embeddings", "embedding_dim")),
    "EmbeddingBag": WeightLayer("embedding", 0, ("num_embeddings", "embedding_dim")),
    **{f"Conv{n}d": WeightLayer("conv", n, _CONV) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": WeightLayer("conv_transpose", n, _TCONV) for n in (1, 2, 3)},
    **{f"LazyConv{n}d": WeightLayer("conv", n, _LAZY_CONV, lazy=True) for n in (1, 2, 3)},
    **{f"LazyConvTranspose{n}d": WeightLayer("conv_transpose", n, _LAZY_TCONV, lazy=True) for n in (1, 2, 3)},
}

NORMS = frozenset(
    {f"BatchNorm{n}d" for n in (1, 2, 3)} | {f"LazyBatchNorm{n}d" for n in (1, 2, 3)}
    | {f"InstanceNorm{n}d" for n in (1, 2, 3)} | {f"LazyInstanceNorm{n}d" for n in (1, 2, 3)}
    | {"SyncBatchNorm", "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"}
)
_POOLS = {f"{p}{n}d" for p in ("MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool", "FractionalMaxPool")
          for n in (1, 2, 3)}
_PADS = {f"{p}{n}d" for p in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad")
         for n in (1, 2, 3)}
PASSES = frozenset(
    _POOLS | _PADS
    | {"Identity", "Flatten", "Unflatten", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
       "PixelShuffle", "PixelUnshuffle", "ChannelShuffle"}
)
DROPOUTS: dict[str, str] = {
    "Dropout": "dropout", "Dropout1d": "dropout", "Dropout2d": "dropout", "Dropout3d": "dropout",
    "AlphaDropout": "alpha_dropout", "FeatureAlphaDropout": "alpha_dropout",
}
# Same-named modules of other libraries that are transparent too (stochastic depth).
FOREIGN_PASSES = frozenset({"DropPath", "StochasticDepth"})

# torch.nn classes and the classes they derive from, for isinstance dispatch.
BASES: dict[str, frozenset[str]] = {
    "LazyLinear": frozenset({"Linear"}),
    **{f"Conv{n}d": frozenset({"_ConvNd"}) for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": frozenset({"_ConvNd", "_ConvTransposeNd", "_ConvTransposeMixin"}) for n in (1, 2, 3)},
    **{f"LazyConv{n}d": frozenset({"_ConvNd", f"Conv{n}d"}) for n in (1, 2, 3)},
    **{f"LazyConvTranspose{n}d": frozenset({"_ConvNd", f"ConvTranspose{n}d"}) for n in (1, 2, 3)},
}
ANY_MODULE = frozenset({"Module"})


def torch_nn_class(qualified: str) -> str | None:
    """``torch.nn.Linear`` / ``torch.nn.modules.linear.Linear`` -> ``Linear``."""
    if not qualified.startswith("torch.nn."):
        return None
    last = qualified.rsplit(".", 1)[-1]
    rest = qualified[len("torch.nn."):]
    if rest == last or rest.startswith("modules."):
        return last
    return None


def is_instance(cls: str, target: str) -> bool:
    """``isinstance(m, nn.<target>)`` for a module of torch class ``cls``."""
    return cls == target or target in BASES.get(cls, frozenset()) or target in ANY_MODULE


# Functionals and tensor methods between a layer and its activation.
Role = Literal["pass", "norm", "dropout", "alpha_dropout", "union"]
FUNCTIONALS: dict[str, Role] = {
    **{name: "pass" for name in (
        "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
        "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
        "adaptive_max_pool2d", "adaptive_max_pool3d", "interpolate", "upsample", "pad", "flatten",
        "pixel_shuffle", "pixel_unshuffle", "reshape", "squeeze", "unsqueeze", "permute", "transpose",
        "contiguous", "view", "view_as", "mean", "sum", "amax", "max_pool", "clone", "float", "half",
        "to", "type_as", "chunk", "split", "unbind", "narrow", "roll", "flip", "expand", "expand_as",
        "repeat", "movedim", "swapaxes", "unflatten", "detach", "double", "bfloat16", "squeeze_",
        "unsqueeze_", "t", "select", "index_select", "gather", "masked_fill", "pool",
        "repeat_interleave", "tile", "broadcast_to", "tensor_split", "split_with_sizes", "swapdims", "moveaxis",
        "ravel", "reshape_as", "unfold", "cpu", "cuda", "type",
    )},
    **{name: "norm" for name in (
        "layer_norm", "batch_norm", "group_norm", "instance_norm", "normalize", "rms_norm",
        "local_response_norm",
    )},
    "dropout": "dropout", "dropout1d": "dropout", "dropout2d": "dropout", "dropout3d": "dropout",
    "alpha_dropout": "alpha_dropout", "feature_alpha_dropout": "alpha_dropout",
    "cat": "union", "concat": "union", "concatenate": "union", "stack": "union", "hstack": "union",
    "vstack": "union",
}
MATMULS = frozenset({"matmul", "mm", "bmm", "einsum", "linear"})

# Functional activations (torch.nn.functional.X, torch.X, Tensor.X) -> activation name.
FUNCTIONAL_ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "elu": "ELU", "selu": "SELU",
    "celu": "CELU", "gelu": "GELU", "silu": "SiLU", "mish": "Mish", "hardswish": "Hardswish",
    "tanh": "Tanh", "sigmoid": "Sigmoid", "softmax": "Softmax", "log_softmax": "LogSoftmax",
    "hardtanh": "Hardtanh", "hardsigmoid": "Hardsigmoid", "logsigmoid": "LogSigmoid",
    "rrelu": "RReLU", "softsign": "Softsign", "expit": "Sigmoid", "swish": "SiLU",
}

# Builtins and harmless calls that never touch a weight's initialization.
HARMLESS = frozenset({
    "print", "len", "isinstance", "getattr", "hasattr", "setattr", "super", "range", "list", "tuple",
    "int", "float", "str", "max", "min", "sum", "zip", "enumerate", "dict", "set", "sorted", "round",
    "abs", "any", "all", "bool", "type", "iter", "next", "repr", "format", "id", "vars", "callable",
})


def receptive_field(kernel: object, rank: int) -> int | None:
    """prod(kernel): an int is repeated ``rank`` times, a tuple is taken as written."""
    if isinstance(kernel, bool):
        return None
    if isinstance(kernel, int) or isinstance(kernel, float) and kernel.is_integer():  # inf/nan are not integers
        return int(kernel) ** rank
    if isinstance(kernel, tuple) and all(
        isinstance(k, int) and not isinstance(k, bool) or isinstance(k, float) and k.is_integer() for k in kernel
    ):
        return int(math.prod(int(k) for k in kernel))
    return None
