"""INIT010 uninitialized-weight: a parameter made from uninitialized memory and never filled."""

from __future__ import annotations

from ..records import LayerRecord, Verdict
from .common import describe, fix_sentence, verdict

CODE = "INIT010"


def check(record: LayerRecord) -> Verdict | None:
    spec = record.init
    if spec is None or spec.scheme != "uninitialized":
        return None
    fix = fix_sentence(record) if record.activation and record.is_weight else ""
    headline = f"{record.name}: {describe(spec)} allocates it from uninitialized memory and nothing fills it"
    detail = (
        (f"{describe(spec)} allocates {record.name} from uninitialized memory and nothing in the module "
        f"fills it: it starts as whatever bytes were there (possibly NaN or huge)."),
    )
    return verdict(CODE, "error", headline, detail=detail, hint=fix or "Fill it with an init call.")
