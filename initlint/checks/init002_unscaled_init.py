"""INIT002 unscaled-init: a large variance that does not shrink with the fan-in.

With fans known: second moment >= 10x the nearest ok formula of the consumer
(of any family when the consumer is unknown: He on the smaller fan). With fans
unknown: std >= 0.5 (N(0,1), U(0,1), U(-1,1), RandomNormal(stddev=1.0)).
"""

from __future__ import annotations

import math

from .. import formulas
from ..records import LayerRecord, Verdict
from ..rulebook import rule
from .common import EXEMPT_KINDS, at_line, compare, consumer, derivation, describe, fix_sentence, off_by, short, verdict

CODE = "INIT002"


def check(record: LayerRecord) -> Verdict | None:
    spec = record.init
    if spec is None or spec.scheme != "fixed-std" or not record.is_weight or record.kind in EXEMPT_KINDS:
        return None
    thresholds = rule(CODE).thresholds
    m2 = formulas.second_moment(spec, record.fan_in, record.fan_out)
    if m2 is None:
        return None
    fix = fix_sentence(record) if record.activation else ""
    cmp = compare(record) if record.activation else None
    if cmp is not None:
        if formulas.within(cmp.ratio, thresholds["factor"]):
            return None
        headline = f"{record.name}: {short(spec)} is unscaled for {consumer(record)}: {off_by(cmp)}"
        detail = (f"{describe(spec)}{at_line(spec)} is unscaled for {consumer(record)}: {derivation(cmp)}.",)
        return verdict(CODE, "error", headline, factor=cmp.signal_ratio, detail=detail, hint=fix)
    if record.fan_in and record.fan_out and record.activation is None:
        loosest = formulas.loosest_requirement(record.fan_in, record.fan_out)
        if formulas.within(m2 / loosest, thresholds["factor"]):
            return None
        headline = f"{record.name}: {short(spec)} is unscaled: variance {m2 / loosest:.3g}x what any activation needs"
        detail = (
            (f"{describe(spec)}{at_line(spec)} is unscaled: variance {m2:.3g} is "
            f"{m2 / loosest:.3g}x the largest any activation needs for fans "
            f"{record.fan_in}->{record.fan_out} ({loosest:.3g})."),
        )
        return verdict(CODE, "error", headline, detail=detail, hint="Scale it by 1/sqrt(fan_in).")
    if math.sqrt(m2) < thresholds["unknown_fan_std"]:
        return None
    headline = f"{record.name}: {short(spec)} draws std {math.sqrt(m2):.3g} that does not shrink with the fan-in"
    detail = (
        (f"{describe(spec)}{at_line(spec)} draws weights with std {math.sqrt(m2):.3g} that does not "
        f"shrink with the fan-in: a layer of width n multiplies the signal's variance by ~n*{m2:.3g}."),
    )
    return verdict(CODE, "error", headline, detail=detail,
                   hint=fix or "Scale by 1/sqrt(fan_in) or use a fan-scaled initializer.")
