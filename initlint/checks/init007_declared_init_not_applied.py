"""INIT007 declared-init-not-applied: the source declares an initializer the live tensor contradicts.

Input: a weight record whose ``init`` is the measured spec (source ``"measured"``)
and whose ``declared`` is the :class:`InitSpec` the static analysis
resolved for the same layer (source ``"declared"``). Fires when the measured
scheme is conclusive and contradicts the declaration (SPEC 8.19):

* both variances computable (``formulas.second_moment`` with the record's fans):
  they differ by the rule's ``agree`` threshold (1.5x, SPEC 8.3) or more;
* declared constant/zero but measured random, or declared random but measured constant.

Measured ``trained``/``inconclusive`` tensors and declared defaults, uninitialized
memory and identity inits are never judged (other rules own them).
"""

from __future__ import annotations

from ..formulas import fold, second_moment
from ..records import InitSpec, LayerRecord, Verdict
from ..rulebook import rule
from .common import describe, short, verdict

CODE = "INIT007"

_UNJUDGED_MEASURED = frozenset({"trained", "inconclusive", "uninitialized"})
_UNJUDGED_DECLARED = frozenset({"trained", "inconclusive", "uninitialized", "identity"})
_FLAT = frozenset({"constant", "zero"})


def _measured_moment(spec: InitSpec, fan_in: int | None, fan_out: int | None) -> float | None:
    """E[w**2] of the measured tensor: from its sample std when the statistics kept it."""
    if spec.measured_std is not None:
        return spec.measured_std**2 + spec.mean**2
    return second_moment(spec, fan_in, fan_out)


def contradiction(declared: InitSpec, measured: InitSpec, fan_in: int | None, fan_out: int | None) -> str | None:
    """Why the measured tensor cannot come from the declared initializer, or None when it can."""
    if (declared.scheme in _FLAT) != (measured.scheme in _FLAT):
        return f"declared {declared.scheme} but the tensor is {'constant' if measured.scheme in _FLAT else 'random'}"
    want = second_moment(declared, fan_in, fan_out)
    got = _measured_moment(measured, fan_in, fan_out)
    if want is None or got is None:
        return None
    if want == 0 or got == 0:
        return None if want == got else f"mean square {got:.3g} where the declaration gives {want:.3g}"
    if fold(got / want) < rule(CODE).threshold("agree"):
        return None
    way = "above" if got > want else "below"
    return f"its mean square {got:.3g} is {fold(got / want):.2g}x {way} the declared {want:.3g}"


def check(record: LayerRecord) -> Verdict | None:
    declared = record.declared
    measured = record.init
    if declared is None or measured is None or measured.source != "measured":
        return None
    if declared.source != "declared" or declared.scheme in _UNJUDGED_DECLARED:
        return None
    if measured.scheme in _UNJUDGED_MEASURED:
        return None
    why = contradiction(declared, measured, record.fan_in, record.fan_out)
    if why is None:
        return None
    where = f" (line {declared.line})" if declared.line else ""
    headline = f"{record.name}: the source declares {short(declared)}{where}, the live tensor is {short(measured)}"
    detail = (
        f"the source declares {describe(declared)}{where} but the live tensor is {describe(measured)}: {why}.",
        ("The init code never ran for this layer or was overwritten later "
        "(an init function that is never applied, an isinstance dispatch that skips this layer type, "
        "a later reset_parameters())."),
    )
    return verdict(CODE, "error", headline, detail=detail)
