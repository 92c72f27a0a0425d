"""Shared pieces of the checks: comparing a record's variance with its activation's needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import formulas
from ..records import Activation, Family, InitSpec, LayerRecord, Severity, Verdict
from ..rulebook import family_info

EXEMPT_KINDS = frozenset({"embedding", "dropout", "alpha_dropout", "network"})
NOT_JUDGED = frozenset({"trained", "inconclusive", "uninitialized", "identity"})


def times(factor: float) -> str:
    """A factor for messages: ``2x``, ``6.5x``, ``130x``, ``1.7e+06x``."""
    if factor >= 1e5:
        return f"{factor:.2g}x"
    return f"{factor:.0f}x" if factor >= 100 else f"{factor:.2g}x"


@dataclass(frozen=True)
class Comparison:
    """A variance set against the nearest ``ok`` requirement of the consuming family.

    The verdict uses the nearest formula (SPEC 8.2's lenient reading, possibly over fan_out);
    what the message says of the forward signal uses the fan_in formula (SPEC 8.35): ``forward``
    is the ratio to it, ``forward_name`` / ``forward_required`` name it, when that differs.
    """

    actual: float  # second moment of the weights
    required: float
    required_name: str
    ratio: float  # actual / required
    mode: str | None = None  # the fan reading of the nearest formula
    forward: float | None = None  # actual / the fan_in formula's variance (None: same as ``ratio``)
    forward_name: str = ""
    forward_required: float | None = None
    unit: str = ""  # the fans are multiples of this unfixed size: variances are per unit of it
    fans: tuple[int, int] | None = None  # those multiples, for the message

    @property
    def factor(self) -> float:
        return formulas.fold(self.ratio)

    @property
    def signal_ratio(self) -> float:
        """The per-layer variance factor of the forward signal (for messages and chains)."""
        return self.ratio if self.forward is None else self.forward

    def _name(self) -> str:
        if self.forward is not None and self.mode in ("fan_in", "fan_out"):
            return f"{self.required_name}({self.mode})"
        return self.required_name

    def _var(self, var: float) -> str:
        """``0.00391 (std 0.0625)``; per unit of an unfixed size d: ``0.4/d (std 0.632/sqrt(d))``."""
        if not self.unit:
            return f"{var:.3g} (std {formulas.std_text(var)})"
        return f"{var:.3g}/{self.unit} (std {formulas.std_text(var)}/sqrt({self.unit}))"

    def text(self) -> str:
        """``variance 0.00195 (std 0.0442) is 2.0x below He's 0.00391 (std 0.0625)``; with fans that are multiples
        of a size the code does not fix, ``with fan_in = 1*d, fan_out = 4*d, variance 0.4/d ...``."""
        required = f"{self._name()}'s {self._var(self.required)}"
        actual = f"variance {self._var(self.actual)}"
        if self.unit and self.fans is not None:
            actual = f"With fan_in = {self.fans[0]}*{self.unit}, fan_out = {self.fans[1]}*{self.unit}, {actual}"
        if self.forward is not None and formulas.within(self.factor, 1.5):
            return f"{actual} matches {required}"
        way = "above" if self.ratio > 1 else "below"
        return f"{actual} is {times(self.factor)} {way} {required}"

    def effect(self) -> str:
        ratio = self.signal_ratio
        factor = formulas.fold(ratio)
        way = "grows" if ratio > 1 else "shrinks"
        if self.forward is None:
            return f"the signal {way} ~{times(math.sqrt(factor))} in std ({times(factor)} in variance) per layer"
        assert self.forward_required is not None
        return (
            f"the forward signal {way} ~{times(math.sqrt(factor))} in std ({times(factor)} in variance) per layer "
            f"({self.forward_name}(fan_in) gives {self._var(self.forward_required).split(' (')[0]})"
        )


def verdict(code: str, severity: Severity, headline: str, *, detail: tuple[str, ...] = (), hint: str = "",
            factor: float | None = None) -> Verdict:
    """A verdict whose message is the headline (one glance: layer, init vs activation, factor), then the
    derivation, one sentence a line, then the hint (what to write instead, and where)."""
    return Verdict(code, severity, "\n".join([headline, *detail, *([hint] if hint else [])]), factor=factor, hint=hint)


def pairable(record: LayerRecord) -> bool:
    """Whether the pairing and scale rules (INIT001, 002, 004, 005, 006) may judge this record."""
    return (
        record.init is not None
        and record.activation is not None
        and record.is_weight
        and record.kind not in EXEMPT_KINDS
        and record.init.scheme not in NOT_JUDGED
    )


def compare(record: LayerRecord, spec: InitSpec | None = None) -> Comparison | None:
    """The record's second moment against the nearest ``ok`` formula of its family (see
    :func:`initlint.formulas.judged_requirement`)."""
    spec = spec or record.init
    act = record.activation
    if spec is None or act is None:
        return None
    found = formulas.judged_requirement(spec, act.family, record.fan_in, record.fan_out, act.slope)
    if found is None:
        return None
    actual, name, var, ratio = found
    mode = formulas.nearest_mode(actual, act.family, record.fan_in, record.fan_out, act.slope)
    fwd = formulas.forward_requirement(act.family, record.fan_in, act.slope)
    unit = record.fan_unit
    fans = (record.fan_in, record.fan_out) if unit and record.fan_in and record.fan_out else None
    if fwd is None or mode == "fan_in" or math.isclose(actual / fwd[1], ratio, rel_tol=1e-6):
        return Comparison(actual=actual, required=var, required_name=name, ratio=ratio, mode=mode, unit=unit, fans=fans)
    return Comparison(actual=actual, required=var, required_name=name, ratio=ratio, mode=mode,
                      forward=actual / fwd[1], forward_name=fwd[0], forward_required=fwd[1], unit=unit, fans=fans)


def scale_ratio(spec: InitSpec, act: Activation) -> tuple[str, float] | None:
    """Compare a fan-scaled spec with the family's ok formulas of the same mode when fans are unknown.

    2/fan_in against He's 2/fan_in is exactly 1 whatever fan_in is.
    """
    if spec.scale is None or spec.mode is None or spec.scale <= 0:  # gain 0: nothing to compare on a log scale
        return None
    same = [
        (name, spec.scale / scale)
        for name, scale, mode in formulas.ok_formulas(act.family, act.slope)
        if mode == spec.mode
    ]
    if not same:
        return None
    return min(same, key=lambda r: abs(math.log(r[1])))


def weight_expr(record: LayerRecord) -> str:
    return record.weight_expr or f"{record.name}.weight"


def recommended(record: LayerRecord) -> str:
    """The line to write instead, in the record's framework ("" when no valid code can be named)."""
    act = record.activation
    if act is None:
        return ""
    info = family_info(act.family)
    if record.framework == "keras":
        return f"{record.kernel_arg or 'kernel_initializer'}={info['keras_fix']}"
    if record.framework == "torch" and record.origin.line is not None and not record.weight_expr:
        return ""  # source layer with no name to initialize it by (a Sequential returned directly)
    if act.family == "relu" and act.slope:
        return info["torch_fix_leaky"].format(weight=weight_expr(record), slope=f"{act.slope:g}")
    return info["torch_fix"].format(weight=weight_expr(record))


def describe(spec: InitSpec) -> str:
    """An initializer for messages: ``nn.init.xavier_uniform_ (2/(fan_in+fan_out))``."""
    name = spec.call or spec.scheme
    if spec.source == "measured":
        name = f"measured {spec.scheme}"
        if spec.measured_std is not None:
            name += f" (std {spec.measured_std:.3g})"
        return name
    if spec.scale is not None and spec.mode is not None:
        return f"{name} (variance {formulas.formula_text(spec.scale, spec.mode)})"
    if spec.scheme == "fixed-std" and spec.std is not None:
        return f"{name} (std {spec.std:.3g})"
    return name


def consumer(record: LayerRecord) -> str:
    act = record.activation
    return act.name if act else "?"


def at_line(spec: InitSpec) -> str:
    return f" (init at line {spec.line})" if spec.line else ""


def fix_sentence(record: LayerRecord) -> str:
    """The hint line: ``Use instead, <where>: <code>`` ("" when there is no single line of valid code)."""
    rec = recommended(record)
    if not rec:
        return ""
    where = f", {record.init_site}" if record.init_site else ""
    return f"Use instead{where}: {rec}"


def short(spec: InitSpec) -> str:
    """An initializer in a headline: the call as written, or the measured scheme and std."""
    if spec.source == "measured":
        return describe(spec)
    return spec.call or spec.scheme


def off_by(cmp: Comparison) -> str:
    """``variance 1.7x too low`` / ``too high``."""
    return f"variance {times(cmp.factor)} too {'high' if cmp.ratio > 1 else 'low'}"


def derivation(cmp: Comparison) -> str:
    """The numbers behind a headline's factor."""
    return f"{cmp.text()}, so {cmp.effect()}"


def needs(family: Family, slope: float = 0.0) -> str:
    """``He (Kaiming), variance 2/fan``; with a leaky slope a: ``variance 2/((1+a^2)*fan)``."""
    info = family_info(family)
    if family == "relu" and slope:
        return f"{info['recommended']} with a={slope:g}, variance 2/((1+{slope:g}^2)*fan)"
    return f"{info['recommended']}, variance {info['variance']}"
