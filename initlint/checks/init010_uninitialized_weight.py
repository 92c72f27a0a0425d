"""INIT010 uninitialized-weight: a parameter made from uninitialized memory and never filled."""

from __future__ import annotations

from ..records import LayerRecord, Verdict
from .common import describe, fix_sentence

CODE = "INIT010"


def check(record: LayerRecord) -> Verdict | None:
    spec = record.init
    if spec is None or spec.scheme != "uninitialized":
        return None
    fix = fix_sentence(record) if record.activation and record.is_weight else " Fill it with an init call."
    message = (
        f"{describe(spec)} allocates {record.name} from uninitialized memory and nothing in the module "
        f"fills it: it starts as whatever bytes were there (possibly NaN or huge).{fix}"
    )
    return Verdict(CODE, "error", message)
