"""Variance math: fans, gains, what each initializer gives, what each activation needs.

Pure Python, no numpy. Formulas follow ``torch/nn/init.py`` and Keras'
``VarianceScaling``; references: Glorot & Bengio 2010, He et al. 2015,
LeCun et al. 1998, Klambauer et al. 2017.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .records import Family, InitSpec, Mode, SignalPoint

# Keras truncates its "normal" draws at +-2 std and rescales the std by this
# constant (scipy.stats.truncnorm.std(-2, 2)) so that the final variance is exact.
TRUNCNORM_STD_2 = 0.87962566103423978


def receptive_field(kernel: Sequence[int]) -> int:
    """Product of the kernel dims (1 for a dense layer)."""
    return math.prod(kernel) if kernel else 1


def torch_fans(shape: Sequence[int]) -> tuple[int, int]:
    """PyTorch's ``_calculate_fan_in_and_fan_out``: fan_in = shape[1]*rf, fan_out = shape[0]*rf.

    Linear weight (out, in); Conv (out, in/groups, k...); ConvTranspose is stored
    (in, out/groups, k...), so its fan_in is (out/groups)*rf, as PyTorch's defaults use it.
    """
    if len(shape) < 2:
        raise ValueError("fans need a tensor of at least 2 dims")
    rf = receptive_field(shape[2:])
    return shape[1] * rf, shape[0] * rf


def keras_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Keras' ``compute_fans``: rank 2 (in, out); rank >= 3 (k..., in, out) with rf = prod(k)."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    rf = receptive_field(shape[:-2])
    return shape[-2] * rf, shape[-1] * rf


def fan(mode: Mode, fan_in: float, fan_out: float) -> float:
    """The fan a variance-scaling initializer divides by."""
    return {
        "fan_in": fan_in,
        "fan_out": fan_out,
        "fan_avg": (fan_in + fan_out) / 2,
        "fan_max": max(fan_in, fan_out),
    }[mode]


TORCH_DEFAULT_SCALE = 1 / 3  # PyTorch's Linear/Conv default U(+-1/sqrt(fan_in)): variance 1/(3 fan_in)
RRELU_BOUNDS = (1 / 8, 1 / 3)  # torch.nn.RReLU's default (lower, upper)


def rrelu_slope(lower: float = RRELU_BOUNDS[0], upper: float = RRELU_BOUNDS[1]) -> float:
    """RReLU's initial slope: the mean of its bounds (SPEC 8.26; 11/48 by default)."""
    return (lower + upper) / 2


def scaled_std(scale: float, mode: Mode, fan_in: float, fan_out: float) -> float:
    """The std of a variance-scaling draw: sqrt(scale / fan(mode)) (He: scale 2, Glorot: 1 with fan_avg)."""
    return math.sqrt(scale / fan(mode, fan_in, fan_out))


def loosest_requirement(*fans: float) -> float:
    """The largest variance any family's ``ok`` formula asks for: He on the smaller known fan, 2 / min(fans)."""
    return 2.0 / min(fans)


def leaky_gain2(slope: float) -> float:
    """Squared He gain for a leaky rectifier: 2 / (1 + a**2) (He et al. 2015)."""
    return 2.0 / (1.0 + slope * slope)


# torch.nn.init.calculate_gain, squared, with the family whose activation it is meant for.
_GAIN2: dict[str, tuple[float, Family | None]] = {
    "linear": (1.0, "linear"),
    "identity": (1.0, "linear"),
    "conv1d": (1.0, "linear"),
    "conv2d": (1.0, "linear"),
    "conv3d": (1.0, "linear"),
    "conv_transpose1d": (1.0, "linear"),
    "conv_transpose2d": (1.0, "linear"),
    "conv_transpose3d": (1.0, "linear"),
    "sigmoid": (1.0, "sigmoid"),
    "tanh": ((5 / 3) ** 2, "tanh"),
    "relu": (2.0, "relu"),
    "selu": ((3 / 4) ** 2, "selu"),
}


def torch_gain2(nonlinearity: str, param: float | None = None) -> tuple[float, Family | None] | None:
    """Squared ``torch.nn.init.calculate_gain(nonlinearity, param)`` and its family.

    leaky_relu: 2 / (1 + slope**2), slope 0.01 when param is None. None for unsupported names.
    """
    if nonlinearity == "leaky_relu":
        return leaky_gain2(0.01 if param is None else param), "relu"
    return _GAIN2.get(nonlinearity)


def variance(spec: InitSpec, fan_in: float | None, fan_out: float | None) -> float | None:
    """Variance of the entries an initializer draws, or None when it depends on unknown fans.

    Fan-scaled: scale / fan(mode). Fixed std: std**2. Constant/zero: 0.
    """
    if spec.scheme in ("constant", "zero"):
        return 0.0
    if spec.scheme == "fixed-std":
        return None if spec.std is None else spec.std**2
    if spec.scale is None or spec.mode is None:
        return None
    needed = {"fan_in": (fan_in,), "fan_out": (fan_out,)}.get(spec.mode, (fan_in, fan_out))
    if any(f is None or f <= 0 for f in needed):
        return None
    return spec.scale / fan(spec.mode, fan_in or 0, fan_out or 0)


def second_moment(spec: InitSpec, fan_in: float | None, fan_out: float | None) -> float | None:
    """E[w**2] = variance + mean**2: what the forward signal actually sees."""
    var = variance(spec, fan_in, fan_out)
    if var is None:
        return None
    if spec.scheme in ("constant",):
        return (spec.value or 0.0) ** 2
    return var + spec.mean**2


def ok_formulas(family: Family, slope: float = 0.0) -> list[tuple[str, float, Mode]]:
    """The plain ``ok`` schemes of a family as (name, scale, mode): variance = scale / fan(mode).

    relu:   He 2/((1+a**2) fan_in) or 2/((1+a**2) fan_out)
    smooth: He 2/fan_in or 2/fan_out
    tanh, sigmoid, linear: Glorot 2/(fan_in+fan_out) or LeCun 1/fan_in
    selu:   LeCun 1/fan_in
    """
    if family in ("relu", "smooth"):
        g2 = leaky_gain2(slope) if family == "relu" else 2.0
        he = "He" if not slope else f"He(a={slope:g})"
        return [(he, g2, "fan_in"), (he, g2, "fan_out")]
    if family == "selu":
        return [("LeCun", 1.0, "fan_in")]
    return [("Glorot", 1.0, "fan_avg"), ("LeCun", 1.0, "fan_in")]


def requirements(
    family: Family, fan_in: float | None, fan_out: float | None, slope: float = 0.0
) -> list[tuple[str, float]]:
    """The variances the family's ``ok`` schemes give for these fans (those that are computable)."""
    out = []
    for name, scale, mode in ok_formulas(family, slope):
        var = variance(InitSpec("variance-scaling", scale=scale, mode=mode), fan_in, fan_out)
        if var is not None:
            out.append((name, var))
    return out


def nearest(actual: float, required: list[tuple[str, float]]) -> tuple[str, float, float] | None:
    """The requirement closest to ``actual`` in log ratio: (name, variance, actual/variance)."""
    if not required or actual <= 0:
        return None
    name, var = min(required, key=lambda r: abs(math.log(actual / r[1])))
    return name, var, actual / var


def nearest_mode(
    actual: float, family: Family, fan_in: float | None, fan_out: float | None, slope: float = 0.0
) -> Mode | None:
    """The fan mode of the ``ok`` formula :func:`nearest` picks for ``actual`` (which reading of SPEC 8.2 judged it)."""
    found: list[tuple[float, Mode]] = []
    for _, scale, mode in ok_formulas(family, slope):
        var = variance(InitSpec("variance-scaling", scale=scale, mode=mode), fan_in, fan_out)
        if var is not None and var > 0 and actual > 0:
            found.append((abs(math.log(actual / var)), mode))
    return min(found, key=lambda f: f[0])[1] if found else None


def forward_requirement(family: Family, fan_in: float | None, slope: float = 0.0) -> tuple[str, float] | None:
    """The ``ok`` formula over fan_in, the forward direction (SPEC 8.35): He before relu/smooth, else LeCun."""
    if fan_in is None or fan_in <= 0:
        return None
    for name, scale, mode in ok_formulas(family, slope):
        if mode == "fan_in":
            return name, scale / fan_in
    return None


def judged_requirement(
    spec: InitSpec, family: Family, fan_in: float | None, fan_out: float | None, slope: float = 0.0
) -> tuple[float, str, float, float] | None:
    """(second moment, nearest ``ok`` formula's name, its variance, ratio) of ``spec`` before ``family``.

    Needs every fan the family's formulas use (SPEC 8.2: where He allows fan_in or fan_out,
    the one closest to the declared variance is taken, so He(fan_out) alone is no fair judge
    while fan_in is unknown; nor is LeCun alone before tanh, sigmoid and linear consumers,
    where Glorot needs both fans): the answer is then None.
    """
    actual = second_moment(spec, fan_in, fan_out)
    required = requirements(family, fan_in, fan_out, slope)
    if actual is None or actual <= 0 or len(required) < len(ok_formulas(family, slope)):
        return None
    name, var, ratio = nearest(actual, required) or ("", 0.0, 0.0)
    return actual, name, var, ratio


def fold(ratio: float) -> float:
    """A ratio as a factor >= 1 (2.0 and 0.5 are both 2x off)."""
    return ratio if ratio >= 1 else 1 / ratio


# Ratios of variances computed in floating point carry rounding: (1/(3*11)) / (2/(8*11)) is 1.4999999999999998,
# not 1.5. Thresholds are compared with this relative slack, so a ratio that is exactly 1.5 on paper is not
# "within 1.5x" (SPEC 8.3) whatever the fans are.
RATIO_TOLERANCE = 1e-9


def within(factor: float, limit: float) -> bool:
    """``factor < limit`` beyond float rounding (a factor equal to ``limit`` on paper is not within)."""
    return factor < limit * (1 - RATIO_TOLERANCE)


def exceeds(factor: float, limit: float) -> bool:
    """``factor > limit`` beyond float rounding (a factor equal to ``limit`` on paper does not exceed it)."""
    return factor > limit * (1 + RATIO_TOLERANCE)


def formula_text(scale: float, mode: Mode) -> str:
    """Human form of scale/fan, e.g. ``2/fan_in``, ``1/(3*fan_in)``, ``2/(fan_in+fan_out)``."""
    if mode == "fan_avg":
        return f"{_num(2 * scale)}/(fan_in+fan_out)"
    if 1e-12 < scale < 1 and abs(1 / scale - round(1 / scale)) < 1e-6:  # 1/denormal is inf
        return f"1/({round(1 / scale)}*{mode})"
    return f"{_num(scale)}/{mode}"


def _num(x: float) -> str:
    return f"{x:.4g}"


def std_text(var: float) -> str:
    """A variance as a std for messages: ``std 0.0442``."""
    return f"{math.sqrt(var):.3g}"


def scheme_name(scale: float, mode: Mode) -> str:
    """Name a variance-scaling initializer: He (2/fan_in or 2/fan_out), LeCun (1/fan_in), Glorot (2/(fan_in+fan_out))."""
    if math.isclose(scale, 2.0, rel_tol=1e-6) and mode in ("fan_in", "fan_out"):
        return "he"
    if math.isclose(scale, 1.0, rel_tol=1e-6) and mode == "fan_in":
        return "lecun"
    if math.isclose(scale, 1.0, rel_tol=1e-6) and mode == "fan_avg":
        return "glorot"
    if math.isclose(scale, 1 / 3, rel_tol=1e-6) and mode == "fan_in":
        return "torch-default"
    return "variance-scaling"


def truncation_factor(k: float) -> float:
    """Variance of N(0,1) truncated symmetrically at +-k: c(k) = 1 - 2k phi(k) / (2 Phi(k) - 1)."""
    if k <= 0:
        return 0.0
    phi = math.exp(-k * k / 2) / math.sqrt(2 * math.pi)
    mass = math.erf(k / math.sqrt(2))  # 2 Phi(k) - 1
    return max(0.0, 1 - 2 * k * phi / mass)  # c(k) ~ k**2/3 near 0, where rounding could go below 0


# --------------------------------------------------------------------------- signal propagation


def _extent(point: SignalPoint) -> int | None:
    """Positions per sample of a point's output (H·W for a (C, H, W) map, T for (T, C) tokens); 1 for a vector."""
    if point.shape is None:
        return None
    return math.prod(point.shape[1:]) if len(point.shape) >= 2 else 1


def signal_body(curve: Sequence[SignalPoint]) -> list[SignalPoint]:
    """The measured path INIT008 compares the endpoints of (SPEC 8.18, 8.36).

    Every weight-layer call but output heads and residual-branch ends; and when the first call
    outputs feature maps (or token sequences), the calls on globally pooled vectors (a classifier's
    hidden layers, squeeze-and-excitation gates) are past the path: global pooling averages the
    signal over positions, which is no propagation problem of the initialization.
    """
    body = [point for point in curve if not point.head and not point.residual_end]
    if body and (_extent(body[0]) or 1) > 1:
        spread = [p for p in body if (_extent(p) or 2) > 1]
        if len(spread) >= 2:
            return spread
    return body


def gradient_comparable(body: Sequence[SignalPoint]) -> bool:
    """Whether INIT008 compares the gradients of the path's endpoints: only when neither is normalized.

    A normalization right after a layer divides the gradient reaching the layer's output by that
    output's batch std, whatever the init (and batch-normalized stacks grow their gradients toward the
    input at any init: Yang et al. 2019), so such a gradient says nothing about the initialization.
    """
    return not body or not (body[0].normalized or body[-1].normalized)
