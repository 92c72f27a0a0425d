"""INIT005 default-init-mismatch: a hidden layer keeps a framework default that does not suit it.

PyTorch's Linear/Conv default is U(+-1/sqrt(fan_in)), variance 1/(3 fan_in)
(also when written out as kaiming_uniform_(w, a=math.sqrt(5)), SPEC 8.8);
Keras' default is glorot_uniform. Fires before relu/smooth consumers always and
before tanh/sigmoid only when the output visibly reaches another weight layer
(SPEC 8.5); never under normalization, never before SELU (INIT004).
"""

from __future__ import annotations

from ..formulas import fold, within
from ..records import LayerRecord, Verdict
from ..rulebook import family_info, rule
from .common import (
    at_line,
    compare,
    consumer,
    derivation,
    describe,
    fix_sentence,
    needs,
    pairable,
    scale_ratio,
    short,
    times,
    verdict,
)

CODE = "INIT005"
_HIDDEN = frozenset({"relu", "smooth", "tanh", "sigmoid"})


def check(record: LayerRecord) -> Verdict | None:
    if not pairable(record):
        return None
    spec, act = record.init, record.activation
    assert spec is not None and act is not None
    if spec.source != "default" and spec.scheme != "torch-default":
        return None
    if act.family not in _HIDDEN or (act.family in ("tanh", "sigmoid") and not act.reaches_weight):
        return None
    agree = rule(CODE).threshold("agree")
    cmp = compare(record)
    if cmp is not None:
        if within(cmp.factor, agree):
            return None
        numbers = f"{derivation(cmp)}."
        factor = cmp.signal_ratio
    else:
        same = scale_ratio(spec, act)
        if spec.scheme == "glorot":
            if act.family not in ("relu", "smooth"):
                return None
            numbers = _glorot_gap(record)
            factor = 0.5
        elif same is not None and not within(fold(same[1]), agree):
            numbers = f"Its variance is {1 / same[1]:.2g}x below {same[0]}'s." if same[1] < 1 else ""
            factor = same[1]
        else:
            return None
    # SPEC 8.19: say why the static analysis sees no init (measured specs' notes are statistics).
    static = record.declared if record.declared is not None and record.declared.source == "default" else spec
    why = (f"The layer is on the default because {static.note}.",) if static.note and static.source == "default" else ()
    headline = (
        f"{record.name}: {short(spec)} does not suit {consumer(record)}, which needs "
        f"{family_info(act.family)['recommended']}: variance {times(fold(factor))} too {'high' if factor > 1 else 'low'}"
    )
    detail = (
        f"{describe(spec)}{at_line(spec)} does not suit {consumer(record)}, which needs {needs(act.family, act.slope)}.",
        *([numbers] if numbers else []),
        *why,
    )
    return verdict(CODE, "advice", headline, factor=factor, detail=detail, hint=fix_sentence(record))


def _glorot_gap(record: LayerRecord) -> str:
    """Glorot against He without both fans: the gap (fan_in+fan_out)/fan is 2x for square layers, at most 2x
    read with the closer fan (SPEC 8.2); with one fan known, say which."""
    known = [f"{name} = {value}" for name, value in (("fan_in", record.fan_in), ("fan_out", record.fan_out)) if value]
    if not known:
        return "Glorot's 2/(fan_in+fan_out) is 2x below He's 2/fan for square layers (the fans are not known here)."
    return (f"Glorot's 2/(fan_in+fan_out) is (fan_in+fan_out)/fan below He's 2/fan, at most 2x with the closer fan; "
            f"only {known[0]} is known here.")

