"""INIT008 unstable-signal: on one random batch the signal or its gradient vanishes, explodes or dies.

Input: one record of kind ``"network"`` (any framework) whose ``signal`` holds the
weight layers' :class:`~initlint.records.SignalPoint` s in execution order and the
factor (default 10) the std may change by from the first non-head layer to the last
non-head layer (SPEC 8.18).

Fires once per network: when forward or gradient std changes by more than the
threshold between those two layers (ratio = last / first, folded to >= 1), when a
value is not finite, or when a layer is dead (> 90 % zeros). Heads and residual-branch
ends are left out of the ratio: the signal that propagates is the one on the main path.
With ``shape`` given, the ratio is compounded over consecutive layers of equal output
shape only: pooling and reshaping change per-element stds without being a propagation
problem (SPEC 8.18).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..formulas import compounded, signal_body
from ..records import LayerRecord, SignalPoint, Verdict
from ..rulebook import rule
from .common import verdict

CODE = "INIT008"

# (curve key, what it is, the words for last/first < 1 and > 1): the forward signal flows
# first -> last, the gradient last -> first, so a gradient growing toward the head vanishes toward the input.
_SIGNALS = (
    ("forward_std", "forward std", ("vanishes", "explodes")),
    ("grad_std", "gradient std", ("explodes toward the input", "vanishes toward the input")),
)


def _value(point: SignalPoint, key: str) -> float | None:
    value = getattr(point, key)
    return None if value is None else float(value)


def ratio_problem(points: Sequence[SignalPoint], key: str, label: str, words: tuple[str, str],
                  threshold: float) -> str | None:
    """``forward std vanishes 1.2e+09x from fc0 (0.58) to fc48 (4.8e-10)`` when last/first is beyond the threshold.

    A forward std of exactly 0 is a constant output (a problem); a gradient of exactly 0
    is left out, since a zero-initialized layer downstream blocks it at init by design
    (INIT003 judges zero weights that really kill a layer).
    """
    measured = [(p, v) for p in points if (v := _value(p, key)) is not None]
    broken = [p for p, v in measured if not math.isfinite(v)]
    if broken:
        return f"{label} is not finite (overflow) from {broken[0].layer} on"
    if key == "forward_std":
        constant = [p for p, v in measured if v == 0]
        if constant:
            return f"the output of {constant[0].layer} is constant (std 0)"
    measured = [(p, v) for p, v in measured if v > 0]
    if len(measured) < 2:
        return None
    (first, a), (last, b) = measured[0], measured[-1]
    ratio, skipped = compounded(measured)
    factor = ratio if ratio >= 1 else 1 / ratio
    if factor <= threshold:
        return None
    word = words[1] if ratio > 1 else words[0]
    steps = len(measured) - 1
    per_layer = factor ** (1 / steps)
    note = (f" (the {skipped} step(s) where the output shape changes, e.g. at pooling, are not counted)"
            if skipped else "")
    return (
        f"{label} {word}: {factor:.2g}x from {first.layer} ({a:.3g}) to {last.layer} ({b:.3g}) "
        f"over {steps + 1} weight layers, ~{per_layer:.3g}x per layer{note}"
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
        f"{p.layer} {_num(_value(p, 'forward_std'))}/{_num(_value(p, 'grad_std'))}" for p in picked
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
    headline = f"unstable signal on one N(0,1) batch (threshold {threshold:g}x): {problems[0]}"
    if len(problems) > 1:
        headline += f" (+{len(problems) - 1} more)"
    detail = (
        f"unstable signal on one N(0,1) batch (threshold {threshold:g}x): " + "; ".join(problems) + ".",
        f"Curve (forward / gradient std): {sketch(points or curve)}.",
    )
    hint = ("Initialize each layer for the activation that consumes it "
            "(initlint.apply_recommended_init(model) does this).")
    return verdict(CODE, "warning", headline, detail=detail, hint=hint)
