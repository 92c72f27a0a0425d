"""The rule engine: records in, findings out.

Per record: run every selected check, apply the normalization rule (SPEC 8.1),
keep one layer finding by precedence (SPEC 8.4); then merge findings that
share a construction site (SPEC 8.16, 8.27) and state the compounded factor
over chains of layers with the same problem in one scope.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache

from .checks import CHECKS
from .checks.common import consumer, describe
from .records import Activation, Finding, InitSpec, LayerRecord, Origin, Verdict
from .rulebook import precedence, rule
from .settings import SEVERITY_RANK, Settings

PRECEDENCE = precedence()
NORMALIZED_NOTE = (
    "A normalization layer sits between the layer and its activation, so the weight scale no "
    "longer sets the forward signal: advice only."
)


def judge(record: LayerRecord, settings: Settings) -> list[Verdict]:
    """The verdicts on one record after normalization and precedence."""
    verdicts = []
    for code, check in CHECKS.items():
        if not settings.selected(code):
            continue
        verdict = check(record)
        if verdict is None:
            continue
        if record.normalized and rule(code).when_normalized == "silent":
            continue
        if record.normalized and rule(code).when_normalized == "advice":
            verdict = replace(verdict, severity="advice", message=f"{verdict.message}\n{NORMALIZED_NOTE}")
        verdicts.append(verdict)
    layer = [v for v in verdicts if v.code in PRECEDENCE]
    others = [v for v in verdicts if v.code not in PRECEDENCE]
    if layer:
        others.insert(0, min(layer, key=lambda v: PRECEDENCE.index(v.code)))
    return others


# --------------------------------------------------------------------------- verdict agreement of measured tensors

_PROBES: dict[str, tuple[str, ...]] = {
    "relu": ("ReLU",), "smooth": ("GELU",), "tanh": ("Tanh",), "sigmoid": ("Sigmoid",),
    "linear": ("identity",), "selu": ("SELU",),
}


@lru_cache(maxsize=4096)
def _verdicts(spec: InitSpec, fan_in: int | None, fan_out: int | None, family: str, slope: float) -> frozenset[tuple[bool, str]]:
    """The (reaches_weight, "CODE severity") verdicts the rules give this spec before one family."""
    out: set[tuple[bool, str]] = set()
    for reaches in (True, False):
        act = Activation(_PROBES[family][0], family, slope if family == "relu" else 0.0, reaches_weight=reaches)  # type: ignore[arg-type]
        record = LayerRecord("probe", "linear", "onnx", Origin("probe"), fan_in, fan_out, init=spec, activation=act)
        out |= {(reaches, f"{v.code} {v.severity}") for v in judge(record, Settings())}
    return frozenset(out)


def same_verdicts(
    specs: Sequence[InitSpec], fan_in: int | None, fan_out: int | None, family: str | None, slope: float
) -> bool:
    """Whether every spec draws exactly the same verdicts from the rules (for one family, or all).

    How :func:`initlint.measure.infer` decides whether an ambiguous match of a measured tensor may stand.
    """
    families = [family] if family else list(_PROBES)
    first, *rest = [replace(s, note="", confidence=None, measured_std=None) for s in specs]
    return all(
        _verdicts(other, fan_in, fan_out, f, slope) == _verdicts(first, fan_in, fan_out, f, slope)
        for f in families for other in rest
    )


def same_judgement(records: Sequence[LayerRecord], settings: Settings) -> bool:
    """Whether the rules say exactly the same of every record (codes, severities and messages).

    How a source frontend decides whether a layer whose output reaches several consumers may be
    judged as one: whichever consumer is taken, the finding (or its absence) is the same.
    """
    said = [[(v.code, v.severity, v.message) for v in judge(plausible(r), settings)] for r in records]
    return all(s == said[0] for s in said[1:])


def to_finding(record: LayerRecord, verdict: Verdict) -> Finding:
    spec = record.init
    return Finding(
        code=verdict.code,
        name=rule(verdict.code).name,
        severity=verdict.severity,
        path=record.origin.path,
        line=record.origin.line,
        column=record.origin.column,
        layer=record.name,
        framework=record.framework,
        init=describe(spec) if spec else "",
        activation=consumer(record) if record.activation else "",
        message=verdict.message,
        hint=verdict.hint,
        fix=verdict.fix,
        related_line=spec.line if spec else None,
        record=record,
    )


# Numbers no real layer has (a typo, generated noise, a corrupted graph): judging them would
# overflow the formulas or state nonsense, so such a record is unresolved instead.
MAX_FAN = 2**40
MAX_MAGNITUDE = 1e12


def _implausible(value: float | None, limit: float = MAX_MAGNITUDE) -> bool:
    return value is not None and not (isinstance(value, (int, float)) and abs(value) <= limit)  # NaN fails too


def plausible(record: LayerRecord) -> LayerRecord:
    """``record`` with out-of-range fans made unknown, and unresolved if its initializer or slope is out of range.

    Fans that are multiples of an unfixed size (``fan_unit``) stand only for a fan-scaled initializer: its
    variance and every ``ok`` formula scale alike with the size, so their ratios are exact (SPEC 8.3).
    """
    fans = {k: v for k, v in (("fan_in", record.fan_in), ("fan_out", record.fan_out)) if v is not None}
    bad_fans = {k: None for k, v in fans.items() if _implausible(v, MAX_FAN) or v < 0}
    if bad_fans:
        record = replace(record, **bad_fans)
    spec, act = record.init, record.activation
    if record.fan_unit and (spec is None or spec.scale is None or spec.mode is None or spec.std is not None
                            or record.fan_in is None or record.fan_out is None):
        record = replace(record, fan_in=None, fan_out=None, fan_unit="")  # only a fan-scaled variance's ratios hold
    numbers = () if spec is None else (spec.scale, spec.std, spec.mean, spec.value, spec.measured_std)
    if any(_implausible(v) for v in numbers):
        return replace(record, init=None, unresolved=record.unresolved or "initializer arguments out of range")
    if act is not None and _implausible(act.slope, 1e6):
        return replace(record, activation=None, unresolved=record.unresolved or "activation slope out of range")
    return record


def findings(records: Iterable[LayerRecord], settings: Settings) -> list[Finding]:
    """Judge records and return sorted, site-merged findings with chain factors."""
    records = list(records)
    judged: list[tuple[Finding, Verdict]] = []
    for record in map(plausible, records):
        for verdict in judge(record, settings):
            judged.append((to_finding(record, verdict), verdict))
    merged = _merge_sites(judged)
    merged = _chain(merged, records)
    return sorted((f for f, _ in merged), key=Finding.sort_key)


def _site(f: Finding) -> tuple[str, int | None, int | None, str]:
    # Graph / live findings have no line: every layer is its own site.
    return (f.path, f.line, f.column, "" if f.line is not None else f.layer)


def _merge_sites(judged: list[tuple[Finding, Verdict]]) -> list[tuple[Finding, Verdict]]:
    """One finding per construction site: the most severe, with a count per verdict (SPEC 8.27)."""
    layer_codes = set(PRECEDENCE)
    groups: dict[tuple[str, int | None, int | None, str], list[tuple[Finding, Verdict]]] = defaultdict(list)
    out = []
    for item in judged:
        if item[0].code in layer_codes:
            groups[_site(item[0])].append(item)
        else:
            out.append(item)
    for items in groups.values():
        best = min(items, key=lambda it: (-SEVERITY_RANK[it[0].severity], PRECEDENCE.index(it[0].code)))
        count = sum(it[0].record.count if it[0].record else 1 for it in items)
        finding, verdict = best
        layers_here = {it[0].layer for it in items}
        if len(items) > 1 or count > 1:
            tally = defaultdict(int)
            for it in items:
                tally[f"{it[0].code} {it[0].severity}"] += it[0].record.count if it[0].record else 1
            summary = ", ".join(f"{n} {k}" for k, n in sorted(tally.items()))
            note = f"This site builds {count} layers ({summary})."
            finding = replace(finding, message=f"{finding.message}\n{note}")
            if len(layers_here) > 1:
                finding = replace(finding, layer=", ".join(sorted(layers_here)))
        out.append((finding, verdict))
    return out


def _chained(finding: Finding, verdict: Verdict) -> bool:
    record = finding.record
    return bool(
        rule(verdict.code).chained and verdict.factor and verdict.factor != 1 and record
        and record.activation and record.activation.family != "linear" and not record.normalized
    )


def _key(origin: Origin) -> tuple[str, int | None, int | None]:
    return (origin.path, origin.line, origin.column)


def _chain(items: list[tuple[Finding, Verdict]], records: Sequence[LayerRecord] = ()) -> list[tuple[Finding, Verdict]]:
    """Append the compounded factor to findings along one sequential path of same-direction errors (SPEC 8.34).

    Records whose frontend traced the data flow chain through ``upstream`` links: a layer, the previous
    weight layer whose activation feeds it, and so on, never across a branch point (a layer feeding
    several weight layers: parallel branches or alternative heads). Other records (frontends that do not
    trace the flow) chain within their ``scope``.
    """
    out = list(items)
    groups: list[tuple[list[int], str]] = []
    # untraced records: one chain per scope and direction
    scoped: dict[tuple[str, str, bool], list[int]] = defaultdict(list)
    for i, (finding, verdict) in enumerate(items):
        record = finding.record
        if _chained(finding, verdict) and record and not record.traced and record.scope:
            scoped[(finding.path, record.scope, (verdict.factor or 1) > 1)].append(i)
    groups += [(members, f"in {scope}") for (_, scope, _), members in scoped.items()]
    groups += _paths(items, records)
    for members, where in groups:
        weights = [_weight(items[i][0]) for i in members]
        layers = sum(weights)
        if layers < 2:
            continue
        # In logs: a product over many layers under- or overflows a float.
        log_total = math.fsum(math.log(items[i][1].factor or 1.0) * w for i, w in zip(members, weights))
        way = "grows" if log_total > 0 else "shrinks"
        std = math.exp(min(abs(log_total) / 2, 700.0))  # std changes by the square root of the variance factor
        note = f"Over the {layers} such layers {where} the signal {way} ~{std:.2g}x in std."
        for i in members:
            finding, verdict = out[i]
            out[i] = (replace(finding, message=f"{finding.message}\n{note}"), verdict)
    return out


def _weight(finding: Finding) -> int:
    """How many layers of the chain a finding stands for: its site's count when they follow one another."""
    record = finding.record
    if record is None:
        return 1
    return record.count if (record.repeats or not record.traced) else 1


def _paths(items: list[tuple[Finding, Verdict]], records: Sequence[LayerRecord]) -> list[tuple[list[int], str]]:
    """Maximal runs of chained findings linked by ``upstream`` with no branch point between them."""
    successors: dict[tuple[str, int | None, int | None], int] = defaultdict(int)
    for record in records:
        if record.traced and record.upstream is not None:
            successors[_key(record.upstream)] += 1
    at: dict[tuple[str, int | None, int | None], int] = {}
    for i, (finding, verdict) in enumerate(items):
        record = finding.record
        if _chained(finding, verdict) and record and record.traced:
            at[_key(record.origin)] = i
    after: dict[int, int] = {}
    before: dict[int, int] = {}
    for key, i in at.items():
        record = items[i][0].record
        assert record is not None
        if record.upstream is None:
            continue
        up = _key(record.upstream)
        j = at.get(up)
        if j is None or j == i or successors[up] != 1:
            continue
        if ((items[j][1].factor or 1) > 1) != ((items[i][1].factor or 1) > 1):
            continue  # the signal turns: a chain states one direction
        after[j], before[i] = i, j
    out = []
    for i in at.values():
        if i in before:
            continue
        run = [i]
        while run[-1] in after and len(run) <= len(at):
            run.append(after[run[-1]])
        first, last = items[run[0]][0].layer, items[run[-1]][0].layer
        where = f"from {first} to {last}" if len(run) > 1 else f"of {first}"
        out.append((run, where))
    return out
