"""INIT008 unstable-signal: on one random batch the signal or its gradient vanishes, explodes or dies.

Input: one record of kind ``"network"`` (any framework) whose ``signal`` holds one
:class:`~initlint.records.SignalPoint` per call of a weight layer in execution order, and the
factor (default 10) the signal may change by from the first weight layer to the last one
before the output head (SPEC 8.18, 8.36).

Fires once per network when, between those two endpoints (no compounding over selected steps,
nothing skipped), the forward per-element std or the gradient's per-sample norm changes by
more than the threshold, when a value is not finite, when a layer's output is constant, or
when a layer is dead (> 90 % zeros). The two quantities stay comparable when width or
resolution changes: a He(fan_in) layer keeps the forward per-element variance, and its
backward pass keeps the per-sample squared norm of the gradient (the gradient of n_out
outputs of variance v reaches n_in inputs with variance n_out v / n_in), whatever the widths,
strides or kernels (docs/live.md). Heads and residual-branch ends are left out: the signal
that propagates is the one on the main path. The gradients are compared only when neither endpoint
feeds a normalization (see :func:`comparable`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..formulas import gradient_comparable, signal_body
from ..records import LayerRecord, SignalPoint, Verdict
from ..rulebook import rule
from .common import verdict

CODE = "INIT008"

# (curve key, what it is, the words for last/first < 1 and > 1): the forward signal flows
# first -> last, the gradient last -> first, so a gradient growing toward the head vanishes toward the input.
_SIGNALS = (
    ("forward_std", "forward std", ("vanishes", "explodes")),
    ("grad_norm", "gradient norm", ("explodes toward the input", "vanishes toward the input")),
)


def _value(point: SignalPoint, key: str) -> float | None:
    value = getattr(point, key)
    if value is None and key == "grad_norm":
        value = point.grad_std  # a curve measured before per-sample norms existed
    return None if value is None else float(value)


def _where(point: SignalPoint, value: float) -> str:
    shape = f", {'x'.join(map(str, point.shape))}" if point.shape else ""
    return f"{point.layer} ({value:.3g}{shape})"


def comparable(points: Sequence[SignalPoint], key: str) -> bool:
    """Whether the endpoints' values may be compared (gradients: :func:`initlint.formulas.gradient_comparable`)."""
    return key != "grad_norm" or gradient_comparable(points)


def ratio_problem(points: Sequence[SignalPoint], key: str, label: str, words: tuple[str, str],
                  threshold: float) -> str | None:
    """``forward std vanishes 1.2e+09x from fc0 (0.58, 128) to fc48 (4.8e-10, 128) over 49 ...``.

    The endpoints are the first and the last point (the caller passes the main path without heads).
    A forward std of exactly 0 is a constant output. A gradient that is exactly 0 at the last point
    is blocked downstream (a zero-initialized head: by design), so it is not judged; exactly 0 at the
    first point only is a gradient that vanishes completely on the way.
    """
    measured = [(p, v) for p in points if (v := _value(p, key)) is not None]
    broken = [p for p, v in measured if not math.isfinite(v)]
    if broken:
        return f"{label} is not finite (overflow) from {broken[0].layer} on"
    if key == "forward_std":
        constant = [p for p, v in measured if v == 0]
        if constant:
            return f"the output of {constant[0].layer} is constant (std 0)"
    if len(measured) < 2 or not comparable(points, key):
        return None
    (first, a), (last, b) = measured[0], measured[-1]
    if b == 0:
        return None
    if a == 0:
        zero = next(p for p, v in reversed(measured) if v == 0)
        return f"{label} {words[1]}: exactly 0 at {zero.layer} and below, {_where(last, b)} at the top"
    ratio = b / a
    factor = ratio if ratio >= 1 else 1 / ratio
    if factor <= threshold:
        return None
    word = words[1] if ratio > 1 else words[0]
    steps = len(measured) - 1
    return (
        f"{label} {word}: {factor:.2g}x from {_where(first, a)} to {_where(last, b)} "
        f"over {steps + 1} weight-layer calls, ~{factor ** (1 / steps):.3g}x per call"
    )


def dead_layers(curve: Sequence[SignalPoint], dead: float) -> list[str]:
    """``layers.3 (97 % zeros)`` for every layer whose relu-family output is more than ``dead`` zeros."""
    out = []
    for point in curve:
        fraction = _value(point, "dead_fraction")
        if fraction is not None and fraction > dead:
            out.append(f"{point.layer} ({fraction:.0%} zeros)")
    return out


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2g}" if math.isfinite(value) else "overflow"


def sketch(points: Sequence[SignalPoint], samples: int = 5) -> str:
    """Up to ``samples`` evenly spaced points: ``fc0 0.62/1e-20, fc12 0.11/4e-15, ..., fc49 0.057/0.11``."""
    if len(points) <= samples:
        picked = list(points)
    else:
        step = (len(points) - 1) / (samples - 1)
        picked = [points[round(i * step)] for i in range(samples)]
    return ", ".join(
        f"{p.layer} {_num(_value(p, 'forward_std'))}/{_num(_value(p, 'grad_norm'))}" for p in picked
    )


def check(record: LayerRecord) -> Verdict | None:
    if record.kind != "network":
        return None
    if record.signal is None or not record.signal.curve:
        return None
    data = rule(CODE).thresholds
    curve, threshold = record.signal.curve, record.signal.threshold
    points = signal_body(curve)
    problems = [
        problem
        for key, label, words in _SIGNALS
        if (problem := ratio_problem(points, key, label, words, threshold)) is not None
    ]
    dead = dead_layers(curve, data["dead"])
    if dead:
        shown = ", ".join(dead[:3]) + (f" and {len(dead) - 3} more" if len(dead) > 3 else "")
        problems.append(f"dead after the activation: {shown}")
    if not problems:
        return None
    trained = record.init is not None and record.init.scheme == "trained"
    headline = f"unstable signal on one batch (threshold {threshold:g}x): {problems[0]}"
    if len(problems) > 1:
        headline += f" (+{len(problems) - 1} more)"
    detail = (
        f"unstable signal on one batch (threshold {threshold:g}x): " + "; ".join(problems) + ".",
        f"Curve (forward std / gradient norm per sample): {sketch(points or curve)}.",
    )
    hint = (f"The weights are trained ({record.init.note}): re-initializing them would discard the training."
            if trained and record.init is not None else
            "Initialize each layer for the activation that consumes it "
            "(initlint.apply_recommended_init(model) does this).")
    return verdict(CODE, "warning", headline, detail=detail, hint=hint)
