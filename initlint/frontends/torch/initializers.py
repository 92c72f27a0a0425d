"""``torch.nn.init`` calls and in-place tensor fills as :class:`InitSpec` (INIT_REFERENCE §1).

Pure mapping from an init function's name and its evaluated arguments to the
initializer it draws; the source interpreter evaluates the arguments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ... import formulas
from ...records import Family, InitSpec

DEFAULT_CALL = "PyTorch default U(±1/√fan_in)"


def default_spec(note: str = "", scale: float | None = 1 / 3) -> InitSpec:
    """PyTorch's Linear/Conv default: kaiming_uniform_(w, a=√5) = U(±1/√fan_in), variance 1/(3·fan_in)."""
    return InitSpec(
        "torch-default", source="default", scale=scale, mode="fan_in", distribution="uniform",
        call=DEFAULT_CALL, note=note,
    )


@dataclass(frozen=True)
class Gain:
    """A number computed by ``calculate_gain(nonlinearity, param)``: remembers what it was for."""

    value: float
    family: Family | None
    nonlinearity: str


# init function -> its parameters after the tensor, with torch's defaults.
SIGNATURES: dict[str, tuple[tuple[str, object], ...]] = {
    "kaiming_normal_": (("a", 0.0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu")),
    "kaiming_uniform_": (("a", 0.0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu")),
    "xavier_normal_": (("gain", 1.0),),
    "xavier_uniform_": (("gain", 1.0),),
    "normal_": (("mean", 0.0), ("std", 1.0)),
    "uniform_": (("a", 0.0), ("b", 1.0)),
    "trunc_normal_": (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)),
    "trunc_normal_tf_": (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0)),
    "constant_": (("val", None),),
    "fill_": (("val", None),),
    "ones_": (),
    "zeros_": (),
    "zero_": (),
    "orthogonal_": (("gain", 1.0),),
    "eye_": (),
    "dirac_": (("groups", 1),),
    "lecun_normal_": (),
}
# Tensor.uniform_(from, to): the same draw as nn.init.uniform_(a, b).
METHOD_SIGNATURES: dict[str, tuple[tuple[str, object], ...]] = {
    "normal_": (("mean", 0.0), ("std", 1.0)),
    "uniform_": (("a", 0.0), ("b", 1.0)),
    "fill_": (("val", None),),
    "zero_": (),
}
ALIASES = {name.rstrip("_"): name for name in SIGNATURES if name.endswith("_")}


def canonical(name: str) -> str | None:
    """``xavier_uniform`` (deprecated alias) -> ``xavier_uniform_``; None if not an init function."""
    if name in SIGNATURES:
        return name
    return ALIASES.get(name)


def bind(
    params: tuple[tuple[str, object], ...], positional: list[object], keywords: dict[str, object]
) -> dict[str, object] | str:
    """Arguments by name with defaults, or a reason string when they cannot be bound."""
    out = dict(params)
    names = [p for p, _ in params]
    if len(positional) > len(names):
        return "unexpected arguments"
    for name, value in zip(names, positional):
        out[name] = value
    for key, value in keywords.items():
        if key == "generator":
            continue
        key = {"from": "a", "to": "b", "value": "val", "tensor": ""}.get(key, key)
        if key not in out:
            return f"unknown argument {key}"
        out[key] = value
    return out


def _num(value: object) -> float | None:
    if isinstance(value, Gain):
        return value.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an int literal beyond any float: no real argument
        return None


def _kaiming(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    slope, mode, nonlin = _num(a["a"]), a["mode"], a["nonlinearity"]
    if slope is None or not isinstance(mode, str) or not isinstance(nonlin, str):
        return f"{call}: arguments not literal"
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        return f"{call}: mode {mode!r}"
    gain = formulas.torch_gain2(nonlin, slope if nonlin == "leaky_relu" else None)
    if gain is None:
        return f"{call}: unsupported nonlinearity {nonlin!r}"
    scale, family = gain
    if nonlin == "leaky_relu" and slope:
        family = None  # computed for LeakyReLU(a): judged by its variance, which knows the slope
    scheme = formulas.scheme_name(scale, mode)  # type: ignore[arg-type]
    return InitSpec(
        scheme,  # type: ignore[arg-type]
        scale=scale, mode=mode,  # type: ignore[arg-type]
        distribution="normal" if fn == "kaiming_normal_" else "uniform",
        gain_for=None if scheme == "torch-default" else family, gain_nonlinearity=nonlin, call=call,
    )


def _xavier(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    gain = _num(a["gain"])
    if gain is None:
        return f"{call}: gain not literal"
    scale = gain * gain
    g = a["gain"]
    return InitSpec(
        formulas.scheme_name(scale, "fan_avg"),  # type: ignore[arg-type]
        scale=scale, mode="fan_avg", distribution="normal" if fn == "xavier_normal_" else "uniform",
        gain_for=g.family if isinstance(g, Gain) else None,
        gain_nonlinearity=g.nonlinearity if isinstance(g, Gain) else None, call=call,
    )


def _orthogonal(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    gain = _num(a["gain"])
    if gain is None:
        return f"{call}: gain not literal"
    g = a["gain"]
    return InitSpec(
        "orthogonal", scale=gain * gain, mode="fan_max", distribution="orthogonal",
        gain_for=g.family if isinstance(g, Gain) else None,
        gain_nonlinearity=g.nonlinearity if isinstance(g, Gain) else None, call=call,
    )


def _normal(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    mean, std = _num(a["mean"]), _num(a["std"])
    if mean is None or std is None:
        return f"{call}: std not literal"
    return InitSpec("fixed-std", std=std, mean=mean, distribution="normal", call=call)


def _uniform(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    lo, hi = _num(a["a"]), _num(a["b"])
    if lo is None or hi is None:
        return f"{call}: bounds not literal"
    return InitSpec("fixed-std", std=(hi - lo) / math.sqrt(12), mean=(lo + hi) / 2, distribution="uniform", call=call)


# Beyond this many std the truncation removes no measurable variance.
_UNTRUNCATED_K = 6.0


def _trunc_normal(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    """trunc_normal_: N(mean, std²) kept in absolute [a, b]; variance std²·c(k), k = distance to the bound / std.

    timm's trunc_normal_tf_ takes a, b in std units (bounds a·std, b·std).
    """
    mean, std, lo, hi = (_num(a[k]) for k in ("mean", "std", "a", "b"))
    if None in (mean, std, lo, hi) or not std or std <= 0:
        return f"{call}: arguments not literal"
    assert mean is not None and std is not None and lo is not None and hi is not None
    k = min(hi, -lo) if fn == "trunc_normal_tf_" else min(hi - mean, mean - lo) / std
    if k <= 0:
        return f"{call}: bounds exclude the mean"
    if k >= _UNTRUNCATED_K:
        return InitSpec("fixed-std", std=std, mean=mean, distribution="normal", call=call)
    factor = math.sqrt(formulas.truncation_factor(k))
    return InitSpec("fixed-std", std=std * factor, mean=mean, distribution="truncated_normal", call=call)


def _constant(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    value = {"ones_": 1.0, "zeros_": 0.0, "zero_": 0.0}.get(fn, _num(a.get("val")))
    if value is None:
        return f"{call}: value not literal"
    if value == 0:
        return InitSpec("zero", value=0.0, distribution="constant", call=call)
    return InitSpec("constant", value=value, distribution="constant", call=call)


def _identity(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    return InitSpec("identity", call=call)


def _lecun_normal(fn: str, call: str, a: dict[str, object]) -> InitSpec | str:
    return InitSpec("lecun", scale=1.0, mode="fan_in", distribution="truncated_normal", call=call)


_BUILDERS = {
    "kaiming_normal_": _kaiming,
    "kaiming_uniform_": _kaiming,
    "xavier_normal_": _xavier,
    "xavier_uniform_": _xavier,
    "orthogonal_": _orthogonal,
    "normal_": _normal,
    "uniform_": _uniform,
    "trunc_normal_": _trunc_normal,
    "trunc_normal_tf_": _trunc_normal,
    "constant_": _constant,
    "fill_": _constant,
    "ones_": _constant,
    "zeros_": _constant,
    "zero_": _constant,
    "eye_": _identity,
    "dirac_": _identity,
    "lecun_normal_": _lecun_normal,
}


def spec_for(
    fn: str, call: str, positional: list[object], keywords: dict[str, object], method: bool = False
) -> InitSpec | str:
    """The InitSpec an init function (or in-place tensor method) gives, or why it cannot be read."""
    params = (METHOD_SIGNATURES if method else SIGNATURES).get(fn)
    if params is None:
        return f"{call} is not modelled"
    bound = bind(params, positional, keywords)
    if isinstance(bound, str):
        return f"{call}: {bound}"
    return _BUILDERS[fn](fn, call, bound)


def scaled(spec: InitSpec, factor: float) -> InitSpec:
    """The spec after ``w.mul_(factor)``: variance × factor²."""
    from dataclasses import replace

    if spec.scheme in ("zero",):
        return spec
    if spec.scheme == "constant" and spec.value is not None:
        return replace(spec, value=spec.value * factor)
    if spec.scheme == "fixed-std" and spec.std is not None:
        return replace(spec, std=spec.std * abs(factor), mean=spec.mean * factor)
    if spec.scale is not None and spec.mode is not None:
        scale = spec.scale * factor * factor
        scheme = "orthogonal" if spec.scheme == "orthogonal" else formulas.scheme_name(scale, spec.mode)
        return replace(
            spec, scheme=scheme, scale=scale, source="declared", gain_for=None,  # type: ignore[arg-type]
            call=f"{spec.call} scaled by {factor:g}" if spec.call else f"scaled by {factor:g}",
        )
    return spec
