"""Keras initializers as written in source -> ``InitSpec``.

Understands string aliases (``"he_normal"``), classes and functions
(``initializers.HeNormal()``, ``keras.initializers.he_normal(seed=1)``,
``tf.keras.initializers.GlorotUniform()``), TF's ``*_initializer`` functions,
``VarianceScaling(scale, mode, distribution)`` numerically, and dict configs
(``{"class_name": "VarianceScaling", "config": {...}}``). Formulas follow
``keras/src/initializers`` (INIT_REFERENCE 3.1):

- VarianceScaling: variance = scale / n, n = fan_in, fan_out or (fan_in+fan_out)/2;
  ``truncated_normal`` (and ``normal``) draw with std sqrt(scale/n)/0.8796 cut at +-2 std,
  so the final variance is exact; ``untruncated_normal`` N(0, scale/n); ``uniform`` U(+-sqrt(3 scale/n)).
- RandomNormal(mean=0, stddev=0.05); RandomUniform(minval=-0.05, maxval=0.05): std (max-min)/sqrt(12);
  TruncatedNormal(mean=0, stddev=0.05): stddev is the pre-truncation std, final std = stddev*0.8796.
- Orthogonal(gain=1): mean square gain**2 / max(rows, cols).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...formulas import TRUNCNORM_STD_2, scheme_name
from ...records import Distribution, InitSpec, Mode

Unresolved = str  # the reason an initializer could not be understood
Args = Mapping[str, object]
MISSING = object()


@dataclass(frozen=True)
class _Init:
    """One Keras initializer: its positional parameter order, defaults and how to build the spec."""

    params: tuple[str, ...]
    defaults: dict[str, object]
    build: Callable[[Args], InitSpec | Unresolved]


def _scaled(scheme: str, scale: float, mode: Mode, distribution: Distribution) -> _Init:
    return _Init(("seed",), {}, lambda a: InitSpec(scheme, scale=scale, mode=mode, distribution=distribution))  # type: ignore[arg-type]


def _num(args: Args, key: str) -> float | Unresolved:
    value = args[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{key} is not a literal number"
    return float(value)


def _variance_scaling(args: Args) -> InitSpec | Unresolved:
    scale = _num(args, "scale")
    mode, dist = args["mode"], args["distribution"]
    if isinstance(scale, str):
        return scale
    if mode not in ("fan_in", "fan_out", "fan_avg") or not isinstance(dist, str):
        return "VarianceScaling mode/distribution not literal"
    distribution = {"normal": "truncated_normal", "truncated_normal": "truncated_normal",
                    "untruncated_normal": "normal", "uniform": "uniform"}.get(dist.lower())
    if distribution is None or scale <= 0:
        return f"VarianceScaling distribution {dist!r} / scale {scale:g} is invalid in Keras"
    scheme = scheme_name(scale, mode)  # type: ignore[arg-type]
    if scheme == "torch-default":
        scheme = "variance-scaling"  # 1/(3 fan_in) written in Keras is a choice, not PyTorch's default
    return InitSpec(scheme, scale=scale, mode=mode, distribution=distribution)  # type: ignore[arg-type]


def _random_normal(args: Args) -> InitSpec | Unresolved:
    mean, std = _num(args, "mean"), _num(args, "stddev")
    if isinstance(mean, str) or isinstance(std, str):
        return mean if isinstance(mean, str) else str(std)
    return InitSpec("fixed-std", std=std, mean=mean, distribution="normal")


def _truncated_normal(args: Args) -> InitSpec | Unresolved:
    mean, std = _num(args, "mean"), _num(args, "stddev")
    if isinstance(mean, str) or isinstance(std, str):
        return mean if isinstance(mean, str) else str(std)
    return InitSpec("fixed-std", std=std * TRUNCNORM_STD_2, mean=mean, distribution="truncated_normal")


def _random_uniform(args: Args) -> InitSpec | Unresolved:
    low, high = _num(args, "minval"), _num(args, "maxval")
    if isinstance(low, str) or isinstance(high, str):
        return low if isinstance(low, str) else str(high)
    return InitSpec("fixed-std", std=abs(high - low) / math.sqrt(12), mean=(low + high) / 2, distribution="uniform")


def _constant(args: Args) -> InitSpec | Unresolved:
    value = _num(args, "value")
    if isinstance(value, str):
        return value
    return InitSpec("zero", value=0.0, distribution="constant") if value == 0 else InitSpec(
        "constant", value=value, distribution="constant"
    )


def _orthogonal(args: Args) -> InitSpec | Unresolved:
    gain = _num(args, "gain")
    if isinstance(gain, str):
        return gain
    return InitSpec("orthogonal", scale=gain * gain, mode="fan_max", distribution="orthogonal")


_VS = ("scale", "mode", "distribution", "seed")
_INITS: dict[str, _Init] = {
    "glorot_uniform": _scaled("glorot", 1.0, "fan_avg", "uniform"),
    "glorot_normal": _scaled("glorot", 1.0, "fan_avg", "truncated_normal"),
    "he_normal": _scaled("he", 2.0, "fan_in", "truncated_normal"),
    "he_uniform": _scaled("he", 2.0, "fan_in", "uniform"),
    "lecun_normal": _scaled("lecun", 1.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _scaled("lecun", 1.0, "fan_in", "uniform"),
    "variance_scaling": _Init(_VS, {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
                              _variance_scaling),
    "random_normal": _Init(("mean", "stddev"), {"mean": 0.0, "stddev": 0.05}, _random_normal),
    "truncated_normal": _Init(("mean", "stddev"), {"mean": 0.0, "stddev": 0.05}, _truncated_normal),
    "random_uniform": _Init(("minval", "maxval"), {"minval": -0.05, "maxval": 0.05}, _random_uniform),
    "zeros": _Init((), {}, lambda a: InitSpec("zero", value=0.0, distribution="constant")),
    "ones": _Init((), {}, lambda a: InitSpec("constant", value=1.0, distribution="constant")),
    "constant": _Init(("value",), {"value": 0.0}, _constant),
    "orthogonal": _Init(("gain",), {"gain": 1.0}, _orthogonal),
    "identity": _Init(("gain",), {"gain": 1.0}, lambda a: InitSpec("identity")),
}

# Every spelling keras.initializers.get accepts (case-sensitive), TF's *_initializer functions
# and the tf.keras 2 snake_case functions -> table key.
_ALIASES: dict[str, str] = {
    "GlorotUniform": "glorot_uniform", "GlorotNormal": "glorot_normal", "HeNormal": "he_normal",
    "HeUniform": "he_uniform", "LecunNormal": "lecun_normal", "LecunUniform": "lecun_uniform",
    "VarianceScaling": "variance_scaling", "RandomNormal": "random_normal", "normal": "random_normal",
    "TruncatedNormal": "truncated_normal", "RandomUniform": "random_uniform", "uniform": "random_uniform",
    "Zeros": "zeros", "zero": "zeros", "Ones": "ones", "one": "ones", "Constant": "constant",
    "Orthogonal": "orthogonal", "OrthogonalInitializer": "orthogonal", "Identity": "identity",
    "IdentityInitializer": "identity",
    # TF native spellings (tf.*_initializer, tf.compat.v1.*); their defaults differ, so stds must be written
    "glorot_uniform_initializer": "glorot_uniform", "glorot_normal_initializer": "glorot_normal",
    "variance_scaling_initializer": "variance_scaling", "zeros_initializer": "zeros",
    "ones_initializer": "ones", "constant_initializer": "constant", "orthogonal_initializer": "orthogonal",
    "random_normal_initializer": "random_normal", "truncated_normal_initializer": "truncated_normal",
    "random_uniform_initializer": "random_uniform",
}
_ALIASES.update({key: key for key in _INITS})
# TF's own functions have other defaults (stddev 1.0 in TF1): judged only with the numbers written out.
_NEEDS_EXPLICIT = {
    "random_normal_initializer": ("stddev",),
    "truncated_normal_initializer": ("stddev",),
    "random_uniform_initializer": ("minval", "maxval"),
}


def lookup(name: str) -> str | None:
    """The table key for an initializer class, function or string alias, else None."""
    return _ALIASES.get(name)


def from_name(name: str, args: Args, written: str) -> InitSpec | Unresolved:
    """Build the spec for initializer ``name`` called with literal ``args`` (already evaluated).

    ``args`` maps parameter names (positional ones already named) to Python values; a value
    that is not a literal is absent from ``args`` and the parameter name is in ``args['<nonliteral>']``.
    """
    key = lookup(name)
    if key is None:
        return f"{written}: not a Keras initializer"
    spec = _INITS[key]
    nonliteral = args.get("<nonliteral>", ())
    for required in _NEEDS_EXPLICIT.get(name, ()):
        if required not in args:
            return f"{written}: {required} must be written out (TF's default differs from Keras')"
    merged = dict(spec.defaults)
    for param in spec.params:
        if param in nonliteral and param != "seed":
            return f"{written}: {param} is not a literal"
        if param in args:
            merged[param] = args[param]
    built = spec.build(merged)
    if isinstance(built, str):
        return f"{written}: {built}"
    return InitSpec(**{**built.__dict__, "call": written})


def default_spec(kernel_arg: str) -> InitSpec:
    """Keras' default for a kernel: glorot_uniform (embeddings: uniform U(+-0.05))."""
    if kernel_arg == "embeddings_initializer":
        return InitSpec("fixed-std", source="default", std=0.05 / math.sqrt(3), distribution="uniform",
                        call="Keras default uniform")
    return InitSpec("glorot", source="default", scale=1.0, mode="fan_avg", distribution="uniform",
                    call="Keras default glorot_uniform")


def params(name: str) -> tuple[str, ...]:
    """The positional parameter order of initializer ``name`` (to name positional arguments)."""
    key = lookup(name)
    return _INITS[key].params if key else ()
