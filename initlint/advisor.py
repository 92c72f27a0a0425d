"""The advisor: re-initialize a live torch model for the activations that consume its layers.

For each weight layer whose consumer the tracer resolves (the same fx / recorded
pass as ``initlint check``):

=====================  ===========================================================  ==========================
consumer family        initializer                                                  variance
=====================  ===========================================================  ==========================
relu (slope a)         He normal, ``kaiming_normal_(w, a, nonlinearity=...)``        2 / ((1 + a²) fan_in)
smooth                 He normal, ``kaiming_normal_(w, nonlinearity="relu")``        2 / fan_in
tanh, sigmoid, linear  Glorot uniform, ``xavier_uniform_(w)``                        2 / (fan_in + fan_out)
selu                   LeCun normal, ``kaiming_normal_(w, nonlinearity="linear")``   1 / fan_in
=====================  ===========================================================  ==========================

Biases are set to zero. Left alone: embeddings, tensors tied to them or shared by several
modules (SPEC 8.38) and normalization parameters, layers whose measured variance already fits
their consumer (within 1.5x, SPEC 8.3), zero or constant weights (deliberate: Fixup, ReZero,
zero heads; unless INIT003 reports them dead before a ReLU),
identity inits, output heads scaled below Glorot on purpose (SPEC 8.28), tensors that
look trained, and layers whose consumer is unresolved.

Known limit: Glorot (sigma_w^2 = 1) puts a tanh stack at the order/chaos edge, where the
forward variance decays polynomially (about 1/(2 depth); Schoenholz et al. 2017): a
50-layer tanh MLP ends 8-12x below its first layer. PyTorch's tanh gain 5/3 keeps the
forward signal but makes gradients grow ~1.09x per layer (chaotic phase), so it is not used.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import formulas
from .records import Activation, InitSpec, LayerRecord
from .rulebook import rule
from .settings import Settings

KEEP = {
    "zero": "zero weights are deliberate (Fixup / ReZero / zero heads)",
    "constant": "constant weights are deliberate here or reported as INIT003",
    "identity": "identity init is deliberate",
    "trained": "the tensor fits no initializer (trained?)",
}


@dataclass(frozen=True)
class Change:
    """One weight the advisor re-initialized (or, with ``changed`` False, left alone and why)."""

    layer: str
    consumer: str
    before: str  # measured scheme and std
    init: str  # the torch call it is equivalent to
    std_before: float | None
    std_after: float | None
    changed: bool = True
    reason: str = ""

    def __str__(self) -> str:
        if not self.changed:
            return f"{self.layer}: kept ({self.reason})"
        return f"{self.layer}: {self.before} -> {self.init} for {self.consumer} (std {_n(self.std_before)} -> {_n(self.std_after)})"


def _n(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


@dataclass(frozen=True)
class Plan:
    """A distribution to draw: ``normal`` with ``std`` or ``uniform`` on ±``bound``."""

    call: str
    distribution: str
    spread: float  # std for normal, bound for uniform


def plan(act: Activation, fan_in: int, fan_out: int, weight: str) -> Plan:
    """The recommended draw for a consumer family (the table in the module docstring)."""
    family = act.family
    if family in ("relu", "smooth"):
        slope = act.slope if family == "relu" else 0.0
        std = formulas.scaled_std(formulas.leaky_gain2(slope), "fan_in", fan_in, fan_out)
        call = (f'nn.init.kaiming_normal_({weight}, a={slope:g}, nonlinearity="leaky_relu")' if slope
                else f'nn.init.kaiming_normal_({weight}, nonlinearity="relu")')
        return Plan(call, "normal", std)
    if family == "selu":
        return Plan(f'nn.init.kaiming_normal_({weight}, nonlinearity="linear")', "normal",
                    formulas.scaled_std(1.0, "fan_in", fan_in, fan_out))
    glorot = formulas.scaled_std(1.0, "fan_avg", fan_in, fan_out)
    return Plan(f"nn.init.xavier_uniform_({weight})", "uniform", math.sqrt(3) * glorot)  # U(+-b) has std b/sqrt(3)


def looks_default(std: float, max_abs: float, fan_in: int) -> bool:
    """Consistent with PyTorch's U(+-1/sqrt(fan_in)): inside the bound, std near 1/sqrt(3 fan_in)."""
    expected = formulas.scaled_std(formulas.TORCH_DEFAULT_SCALE, "fan_in", fan_in, fan_in)
    bound = math.sqrt(3) * expected
    return max_abs <= bound * (1 + 1e-6) and 0.5 < std / expected < 2


def fits(record: LayerRecord) -> bool:
    """The measured variance is within SPEC 8.3's 1.5x of one of the consumer family's ``ok`` formulas."""
    spec, act = record.init, record.activation
    if spec is None or act is None or spec.measured_std is None or not record.fan_in or not record.fan_out:
        return False
    measured = spec.measured_std**2 + spec.mean**2
    required = formulas.requirements(act.family, record.fan_in, record.fan_out, act.slope)
    nearest = formulas.nearest(measured, required) if required and measured > 0 else None
    return nearest is not None and formulas.fold(measured / nearest[1]) < rule("INIT001").threshold("agree")


def decide(record: LayerRecord, max_abs: float | None = None, dead: bool = False) -> str:
    """Why a layer is kept as it is, or "" when it should be re-initialized.

    ``dead``: INIT003 reports the layer's zero/constant weights (they kill its ReLU), so they are not deliberate.
    """
    spec: InitSpec | None = record.init
    act = record.activation
    if record.kind == "embedding":
        return "tied to an Embedding's table (SPEC 8.38)"
    if record.unresolved or act is None:
        return f"consumer unresolved: {record.unresolved or 'unknown'}"
    if not record.fan_in or not record.fan_out:
        return "fans unknown"
    if spec is not None and spec.scheme in KEEP and not (dead and spec.scheme in ("zero", "constant")):
        return KEEP[spec.scheme]
    if spec is not None and spec.scheme not in ("zero", "constant") and fits(record):
        return "already fits its consumer (within 1.5x of an ok formula)"
    if act.family == "linear" and spec is not None and spec.measured_std is not None:
        default = spec.scheme == "torch-default" or (
            spec.scheme == "inconclusive" and max_abs is not None
            and looks_default(spec.measured_std, max_abs, record.fan_in))
        if default:
            return ""
        glorot = formulas.scaled_std(1.0, "fan_avg", record.fan_in, record.fan_out)
        if spec.measured_std < glorot / math.sqrt(rule("INIT001").threshold("agree")):
            return f"a head scaled below Glorot on purpose (std {spec.measured_std:.3g} < {glorot:.3g})"
    return ""


def _parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    return dict(model.named_parameters())


def apply_recommended_init(
    model: nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    settings: Settings | None = None,
    include_kept: bool = False,
    example_inputs: Any = None,
    input_dtype: str | None = None,
) -> list[Change]:
    """Re-initialize ``model``'s weights in place for their traced consumers; return what changed.

    Draws use the global torch RNG (seed it for reproducible weights); ``seed`` only
    fixes the tracing batch; ``example_inputs`` / ``input_dtype`` as for :func:`initlint.check_model`.
    With ``include_kept`` the layers left alone are listed too. Embeddings, tensors tied to them and
    tensors shared by several modules are never touched (SPEC 8.38); layers whose measured variance
    already fits their consumer are kept.
    """
    from .api import check_model
    from .frontends.live.targets import LiveError, is_keras_model

    if is_keras_model(model):
        raise LiveError("apply_recommended_init re-initializes torch models; for Keras set kernel_initializer")
    from .frontends.live.torch_models import embedding_tensors, shared_tensors

    result = check_model(model, input_shape, seed=seed, settings=settings, example_inputs=example_inputs,
                         input_dtype=input_dtype)
    params = _parameters(model)
    modules = dict(model.named_modules())
    untouchable = embedding_tensors(model) | shared_tensors(model)
    dead = {name for f in result.findings if f.code == "INIT003" for name in f.layer.split(", ")}
    changes = []
    for record in result.records:
        if record.kind == "network":
            continue
        spec = record.init
        before = f"{spec.scheme}" if spec else "?"
        weight = params.get(record.name) if record.kind == "parameter" else getattr(modules.get(record.name), "weight", None)
        if weight is None:
            continue
        if id(weight) in untouchable:
            reason = "an Embedding's table or a tensor shared with another module (SPEC 8.38)"
        else:
            reason = decide(record, float(weight.detach().abs().max()) if weight.numel() else None,
                            dead=record.name in dead)
        act = record.activation
        consumer = act.name if act else "?"
        std_before = float(weight.detach().double().std()) if weight.numel() > 1 else None
        if reason:
            if include_kept:
                changes.append(Change(record.name, consumer, before, "", std_before, std_before, False, reason))
            continue
        assert act is not None and record.fan_in and record.fan_out
        draw = plan(act, record.fan_in, record.fan_out, record.weight_expr)
        with torch.no_grad():
            if draw.distribution == "normal":
                nn.init.normal_(weight, 0.0, draw.spread)
            else:
                nn.init.uniform_(weight, -draw.spread, draw.spread)
            bias = getattr(modules.get(record.name), "bias", None) if record.kind != "parameter" else None
            if isinstance(bias, torch.Tensor):
                nn.init.zeros_(bias)
        std_after = float(weight.detach().double().std())
        changes.append(Change(record.name, consumer, before, draw.call, std_before, std_after))
    return changes
