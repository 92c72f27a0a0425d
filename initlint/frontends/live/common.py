"""What the torch and Keras live frontends share: their measurement and the per-layer table rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import formulas
from ...records import LayerRecord, Signal

DEFAULT_BATCH = 128


@dataclass(frozen=True)
class Measurement:
    """A live model measured: one record per weight layer plus the ``network`` record, unjudged."""

    path: str  # where findings are located (the file defining the model)
    model: str  # the model's class or Keras name
    input_shape: tuple[int, ...]
    tracer: str  # which tracer found the consumers: "fx", "recorded" or "keras graph"
    records: tuple[LayerRecord, ...]
    signal: Signal


def finite(value: float | None) -> float | None:
    """A JSON-safe number: None for missing or non-finite values."""
    return value if value is not None and math.isfinite(value) else None


def is_head(record: LayerRecord) -> bool:
    """An output head: its output (or its activation's) reaches the model output, not another weight layer."""
    return record.activation is not None and not record.activation.reaches_weight


def required_std(record: LayerRecord) -> float | None:
    """The std of the consumer family's ``ok`` formula nearest to the measured tensor."""
    act, spec = record.activation, record.init
    if act is None or spec is None:
        return None
    required = formulas.requirements(act.family, record.fan_in, record.fan_out, act.slope)
    measured = spec.measured_std
    if not required:
        return None
    if measured is None or measured <= 0:
        return required[0][1] ** 0.5
    nearest = formulas.nearest(measured**2, required)
    return nearest[1] ** 0.5 if nearest else None


def layer_row(record: LayerRecord, found: Sequence[Any]) -> dict[str, Any]:
    """One row of the live table (also the ``layers`` entries of the JSON output)."""
    spec, act, point = record.init, record.activation, record.point
    need = required_std(record)
    measured = spec.measured_std if spec else None
    codes = sorted({f.code for f in found if record.name in f.layer.split(", ")})
    verdict = ", ".join(codes) if codes else ("unresolved" if record.unresolved else "ok")
    return {
        "layer": record.name,
        "type": record.kind,
        "shape": list(record.shape or ()),
        "fan_in": record.fan_in,
        "fan_out": record.fan_out,
        "measured_std": finite(measured),
        "scheme": spec.scheme if spec else None,
        "consumer": act.name if act else None,
        "family": act.family if act else None,
        "normalized": record.normalized,
        "required_std": finite(need),
        "ratio": finite(measured / need) if measured is not None and need else None,
        "forward_std": finite(point.forward_std) if point else None,
        "grad_std": finite(point.grad_std) if point else None,
        "grad_norm": finite(point.grad_norm) if point else None,
        "dead_fraction": point.dead_fraction if point else None,
        "verdict": verdict,
        "unresolved": record.unresolved or None,
    }


def layer_rows(records: Sequence[LayerRecord], found: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """The live table: one row per weight layer."""
    return tuple(layer_row(r, found) for r in records if r.kind != "network")
