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
their consumer (within SPEC 8.3's 1.5x of the draw above before relu/smooth, of Glorot or LeCun
before the others: :func:`fits`), zero or constant weights (deliberate: Fixup, ReZero,
zero heads; unless INIT003 reports them dead before a ReLU),
identity inits, output heads scaled below Glorot on purpose (SPEC 8.28), tensors that
look trained, and layers whose consumer is unresolved.

A weight applied several times in sequence (a module called in a loop) compounds the realized
gain of its one draw, which the variance fixes only in expectation: a 128-wide He matrix applied
20 times ends anywhere between 0.06x and 8x of where it started. Before a relu-family consumer the
advisor measures the realized gains on the traced batch and rescales such a draw so that the
forward std and the gradient norm change by the same factor over its calls (:func:`balance`).

Known limit: Glorot (sigma_w^2 = 1) puts a tanh stack at the order/chaos edge, where the
forward variance decays polynomially (about 1/(2 depth); Schoenholz et al. 2017): a
50-layer tanh MLP ends 8-12x below its first layer. PyTorch's tanh gain 5/3 keeps the
forward signal but makes gradients grow ~1.09x per layer (chaotic phase), so it is not used.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from . import formulas
from .records import Activation, InitSpec, LayerRecord, SignalPoint
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
    """The measured variance is within SPEC 8.3's 1.5x of what the advisor would draw.

    Before relu/smooth that is He over fan_in, the reading that keeps both the forward per-element
    std and the per-sample gradient norm (docs/live-signal.md); SPEC 8.2's fan_out reading stays a
    verdict's leniency (He(fan_out) on a 3->64 7x7 stem leaves its output 4.6x below). Before the
    other families: one of their ``ok`` formulas (Glorot or LeCun; LeCun before SELU).
    """
    spec, act = record.init, record.activation
    if spec is None or act is None or spec.measured_std is None or not record.fan_in or not record.fan_out:
        return False
    measured = spec.measured_std**2 + spec.mean**2
    if act.family in ("relu", "smooth"):
        forward = formulas.forward_requirement(act.family, record.fan_in, act.slope)
        required = [forward] if forward else []
    else:
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
        return "already fits its consumer (within 1.5x of the recommended variance)"
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


PROBE = 2.0  # the factor a reused weight is scaled by to see how its calls compound


def calls(curve: Sequence[SignalPoint], name: str) -> tuple[SignalPoint, SignalPoint] | None:
    """The first and last call of a module on the recorded pass, when it is called more than once."""
    points = [p for p in curve if p.layer == name or p.layer.startswith(f"{name} (call ")]
    return (points[0], points[-1]) if len(points) > 1 else None


def log_change(first: float | None, last: float | None) -> float | None:
    """ln(last / first), None unless both are finite and positive."""
    if first is None or last is None or not (0 < first < math.inf and 0 < last < math.inf):
        return None
    return math.log(last / first)


def balance(weight: torch.Tensor, name: str, measure: Callable[[], Sequence[SignalPoint]],
            curve: Sequence[SignalPoint]) -> float:
    """Rescale a reused weight so its forward std and gradient norm change alike over its calls; the factor.

    With zero biases and a positively homogeneous consumer, scaling the weight by c multiplies the
    forward ratio f between its first and last call by c^e and the gradient ratio g by c^-e; e is
    measured by one probe pass at c = PROBE (e = k - 1 for k chained calls, 0 for calls in parallel,
    which are left alone). c = exp((g - f) / 2e) makes both ratios exp((f + g) / 2): the one factor
    the matrix's direction fixes, shared evenly. Without a usable gradient the forward ratio goes to 1.
    """
    span = calls(curve, name)
    f = log_change(span[0].forward_std, span[1].forward_std) if span else None
    if span is None or f is None:
        return 1.0
    g = log_change(span[0].grad_norm, span[1].grad_norm)
    with torch.no_grad():
        weight.mul_(PROBE)
    probed = calls(measure(), name)
    f_probe = log_change(probed[0].forward_std, probed[1].forward_std) if probed else None
    exponent = (f_probe - f) / math.log(PROBE) if f_probe is not None else 0.0
    if exponent < 0.5:  # not compounding (parallel calls, or a normalization between them)
        scale = 1.0
    else:
        scale = math.exp(((g if g is not None else -f) - f) / (2 * exponent))
    with torch.no_grad():
        weight.mul_(scale / PROBE)
    return scale


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
        changes.append(Change(record.name, consumer, before, draw.call, std_before, None))
    drawn = {c.layer for c in changes if c.changed}
    reused = [r for r in result.records if r.name in drawn and r.activation and r.activation.family == "relu"
              and result.signal and calls(result.signal.curve, r.name)]
    if reused:
        def measure() -> Sequence[SignalPoint]:
            again = check_model(model, input_shape, seed=seed, settings=settings, example_inputs=example_inputs,
                                input_dtype=input_dtype).signal
            return again.curve if again else ()

        curve = measure()
        for record in reused:
            weight = params.get(record.name) if record.kind == "parameter" else getattr(modules.get(record.name), "weight")
            if balance(weight, record.name, measure, curve) != 1.0:
                curve = measure()
    return [_with_std_after(c, modules, params) for c in changes]


def _with_std_after(change: Change, modules: dict[str, nn.Module], params: dict[str, nn.Parameter]) -> Change:
    if not change.changed:
        return change
    weight = params.get(change.layer)
    if weight is None:
        weight = getattr(modules.get(change.layer), "weight")
    return replace(change, std_after=float(weight.detach().double().std()))
