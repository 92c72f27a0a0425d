"""INIT003 constant-init: non-zero constant weights, or zero weights that leave the layer dead.

Zero is dead only before ReLU/ReLU6 (gradient exactly 0 at 0) or before another
zero-initialized layer (SPEC 8.6); the end of a residual branch and output heads
are deliberate (Fixup, ReZero, zero-conv) and never flagged.
"""

from __future__ import annotations

from ..records import LayerRecord, Verdict
from ..rulebook import normalise
from .common import EXEMPT_KINDS, at_line, describe, fix_sentence, short, verdict

CODE = "INIT003"
_DEAD_AT_ZERO = frozenset({"relu", "relu6"})


def check(record: LayerRecord) -> Verdict | None:
    spec = record.init
    if spec is None or record.kind in EXEMPT_KINDS:
        return None
    fix = fix_sentence(record)
    if spec.scheme == "constant" and spec.value:
        headline = f"{record.name}: {short(spec)} sets every weight to {spec.value:g}: the units never differentiate"
        detail = (
            (f"{describe(spec)}{at_line(spec)} sets every weight to {spec.value:g}: all units compute "
            f"the same function and receive the same gradient, so they never differentiate."),
        )
        return verdict(CODE, "error", headline, detail=detail, hint=fix)
    if spec.scheme not in ("zero",) and not (spec.scheme == "constant" and spec.value == 0):
        return None
    if record.residual_end:
        return None
    act = record.activation
    if act is not None and normalise(act.name) in _DEAD_AT_ZERO:
        why = f"{act.name} has gradient 0 at 0, so the layer is dead: no gradient ever reaches it"
        headline = f"{record.name}: {short(spec)} zeroes the weights before {act.name}: no gradient reaches them"
    elif record.feeds_zero_layer:
        why = "its output feeds another zero-initialized layer, so neither receives a gradient"
        headline = f"{record.name}: {short(spec)} zeroes the weights and feeds another zero layer: no gradient"
    else:
        return None
    return verdict(CODE, "error", headline, detail=(f"{describe(spec)}{at_line(spec)} zeroes the weights; {why}.",),
                   hint=fix)
