"""INIT006 fixed-std-scale: a fixed std more than 4x off the consumer's need for these fans.

The requirement is the nearest ok formula of the family (SPEC 8.17). Too large
but under INIT002's 10x, or too small; never below the requirement before a
linear head (SPEC 8.28), never before SELU (INIT004, SPEC 8.29), silent with
unknown fans and under normalization.
"""

from __future__ import annotations

from ..formulas import exceeds, within
from ..records import LayerRecord, Verdict
from ..rulebook import rule
from .common import at_line, compare, consumer, derivation, describe, fix_sentence, off_by, pairable, short, verdict

CODE = "INIT006"


def check(record: LayerRecord) -> Verdict | None:
    if not pairable(record):
        return None
    spec, act = record.init, record.activation
    assert spec is not None and act is not None
    if spec.scheme != "fixed-std" or act.family == "selu":
        return None
    cmp = compare(record)
    if cmp is None or not exceeds(cmp.factor, rule(CODE).threshold("factor")):
        return None
    if act.family == "linear" and cmp.ratio < 1:
        return None
    if not within(cmp.ratio, rule("INIT002").threshold("factor")):
        return None
    headline = (
        f"{record.name}: {short(spec)} ignores the width: before {consumer(record)} at fans "
        f"{record.fan_in}->{record.fan_out}, {off_by(cmp)}"
    )
    detail = (
        (f"{describe(spec)}{at_line(spec)} ignores the width: for {consumer(record)} with fans "
        f"{record.fan_in}->{record.fan_out} its {derivation(cmp)}."),
    )
    return verdict(CODE, "advice", headline, factor=cmp.signal_ratio, detail=detail, hint=fix_sentence(record))
