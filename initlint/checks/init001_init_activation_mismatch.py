"""INIT001 init-activation-mismatch: the initializer does not pair with the consuming activation.

Grading (SPEC 1): He before relu/smooth ok, before tanh/sigmoid/linear advice;
Glorot/LeCun/orthogonal(1) before relu warning, before smooth advice; a gain
computed for this very activation is ok; any other gain is judged by variance
(within 1.5x nothing, 1.5x-2x advice, beyond warning). With both fans known,
a variance within 1.5x of an ok formula is never flagged (SPEC 8.3); below
the requirement before a linear head never (SPEC 8.28).
"""

from __future__ import annotations

import math

from ..formulas import exceeds, within
from ..records import LayerRecord, Severity, Verdict
from ..rulebook import family_info, rule
from .common import (
    at_line,
    compare,
    consumer,
    derivation,
    describe,
    fix_sentence,
    needs,
    off_by,
    pairable,
    scale_ratio,
    short,
    verdict,
)

CODE = "INIT001"

# (scheme, family) -> verdict by declaration; missing families are "ok".
_TABLE: dict[str, dict[str, Severity]] = {
    "he": {"tanh": "advice", "sigmoid": "advice", "linear": "advice"},
    "glorot": {"relu": "warning", "smooth": "advice"},
    "lecun": {"relu": "warning", "smooth": "advice"},
    "orthogonal-1": {"relu": "warning", "smooth": "advice"},
    "orthogonal-2": {"tanh": "advice", "sigmoid": "advice", "linear": "advice"},
}


def _named(scheme: str, scale: float | None, gain: float | None = None) -> str | None:
    """The row of the declaration table; an orthogonal's gain² is its scale unless measured (``value``)."""
    g2 = gain**2 if gain is not None else scale
    if scheme == "orthogonal" and g2 is not None:
        for key, s in (("orthogonal-1", 1.0), ("orthogonal-2", 2.0)):
            if math.isclose(g2, s, rel_tol=1e-3):
                return key
        return None
    return scheme if scheme in _TABLE else None


def check(record: LayerRecord) -> Verdict | None:
    if not pairable(record):
        return None
    spec, act = record.init, record.activation
    assert spec is not None and act is not None
    if spec.source == "default" or spec.scheme in ("torch-default", "fixed-std", "constant", "zero"):
        return None  # INIT005 / INIT002 / INIT006 / INIT003 judge these (SPEC 8.8, 8.20)
    if act.family == "selu":
        return None  # INIT004
    thresholds = rule(CODE).thresholds
    cmp = compare(record)
    if cmp is not None and within(cmp.factor, thresholds["agree"]):
        return None
    if act.family == "linear" and cmp is not None and cmp.ratio < 1:
        return None  # small heads are deliberate (SPEC 8.28)
    if spec.gain_for == act.family:
        return None
    named = _named(spec.scheme, spec.scale, spec.value if spec.scheme == "orthogonal" else None)
    if named is not None:
        severity: Severity | None = _TABLE[named].get(act.family)
    else:
        ratio = cmp.ratio if cmp else None
        if ratio is None:
            same = scale_ratio(spec, act)
            if same is None:
                return None
            ratio = same[1]
        if act.family == "linear" and ratio < 1:
            return None
        factor = ratio if ratio >= 1 else 1 / ratio
        if within(factor, thresholds["agree"]):
            return None
        severity = "warning" if exceeds(factor, thresholds["warn"]) else "advice"
    if severity is None:
        return None
    info = family_info(act.family)["recommended"]
    headline = f"{record.name}: {short(spec)} before {consumer(record)}, which needs {info}"
    if cmp is not None:
        headline += f": {off_by(cmp)}"
    detail = [f"{describe(spec)}{at_line(spec)} does not pair with {consumer(record)} (needs {needs(act.family, act.slope)})."]
    if cmp is not None:
        detail.append(f"{derivation(cmp)}.")
    return verdict(CODE, severity, headline, factor=cmp.signal_ratio if cmp else None, detail=tuple(detail),
                   hint=fix_sentence(record))
