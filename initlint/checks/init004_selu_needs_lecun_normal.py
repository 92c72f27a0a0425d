"""INIT004 selu-needs-lecun-normal: before SELU, weights need variance 1/fan_in from a normal draw.

Variance first (within 1.5x of LeCun's 1/fan_in, else error), then the
distribution: uniform or orthogonal draws of the right variance are advice,
normal and truncated normal are ok (SPEC 8.7, 8.29). kaiming_*(nonlinearity="selu")
has gain 3/4, variance 0.5625/fan_in: error.
"""

from __future__ import annotations

from ..formulas import within
from ..records import LayerRecord, Verdict
from ..rulebook import rule
from .common import at_line, compare, describe, fix_sentence, pairable, scale_ratio, short, times, verdict

CODE = "INIT004"
_NORMAL = frozenset({"normal", "truncated_normal"})


def check(record: LayerRecord) -> Verdict | None:
    if not pairable(record):
        return None
    spec, act = record.init, record.activation
    assert spec is not None and act is not None
    if act.family != "selu" or spec.scheme in ("constant", "zero"):
        return None
    fix = fix_sentence(record)
    where = f"{describe(spec)}{at_line(spec)} before SELU"
    head = f"{record.name}: {short(spec)} before SELU"
    if spec.gain_nonlinearity == "selu":
        return verdict(
            CODE,
            "error",
            f"{head}: selu gain 3/4 gives variance 0.5625/fan_in, not LeCun's 1/fan_in",
            factor=0.5625,
            detail=(
                (f"{where}: PyTorch's selu gain is 3/4, giving variance 0.5625/fan_in, not the 1/fan_in "
                f"self-normalizing networks need (PyTorch's docs say to use nonlinearity=\"linear\")."),
            ),
            hint=fix,
        )
    cmp = compare(record)
    if cmp is not None:
        ratio: float | None = cmp.ratio
        numbers = f": {cmp.text()}"
    else:
        same = scale_ratio(spec, act)
        ratio = same[1] if same else None
        numbers = f": variance {ratio:.3g}x LeCun's 1/fan_in" if ratio is not None else ""
    if ratio is None and spec.scale is not None:
        # Fans unknown: judge as for a near-square layer, where every fan equals fan_in (SPEC 8.29).
        ratio = spec.scale
        numbers = f": variance {spec.scale:.3g}/fan against LeCun's 1/fan_in (for a square layer)"
    if ratio == 0:
        return None  # gain 0 (all-zero weights): no variance to compare
    if ratio is not None:
        factor = ratio if ratio >= 1 else 1 / ratio
        if not within(factor, rule(CODE).threshold("agree")):
            size = f": variance {times(factor)} too {'high' if ratio > 1 else 'low'}"
            return verdict(
                CODE, "error", f"{head} breaks self-normalization{size}", factor=ratio,
                detail=(f"{where} breaks self-normalization{numbers}.",), hint=fix,
            )
    elif spec.distribution in _NORMAL or spec.distribution is None:
        return None  # variance unknown and nothing visibly wrong: stay silent
    if spec.distribution in _NORMAL:
        return None
    return verdict(
        CODE,
        "advice",
        f"{head}: right variance, but a {spec.distribution} distribution; SELU assumes normal weights",
        detail=(
            (f"{where} has the right variance but a {spec.distribution} distribution; "
            f"self-normalizing networks assume normal weights (LeCun normal)."),
        ),
        hint=fix,
    )
