"""The per-layer table of a graph audit (SPEC 5): one row per weight layer of an ONNX file.

Columns: layer, op, shape, fan_in, fan_out, measured std, inferred scheme (confidence),
consumer, required std, ratio (measured / required std), verdict (the finding's code and
severity, ``ok``, or ``unresolved``). No numpy: rows are built from the records' fields.
"""

from __future__ import annotations

from typing import Any

from .. import formulas
from ..records import FileResult, LayerRecord, SignalPoint, is_layer

HEADERS = ("layer", "op", "shape", "fan_in", "fan_out", "std", "scheme (conf.)", "consumer", "required", "ratio", "verdict")


def is_graph(result: FileResult) -> bool:
    return any(r.framework == "onnx" and is_layer(r) for r in result.records)


def verdict(record: LayerRecord, result: FileResult) -> str:
    codes = [f"{f.code} {f.severity}" for f in result.findings if record.name in f.layer.split(", ")]
    if codes:
        return ", ".join(codes)
    if record.unresolved:
        return "unresolved"
    return "trained (skipped)" if record.init is not None and record.init.scheme == "trained" else "ok"


def _num(value: Any, fmt: str = ".3g") -> str:
    return "-" if value is None else format(float(value), fmt)


def required(record: LayerRecord) -> tuple[float, float] | None:
    """(required std, measured / required std) against the consumer family's nearest ``ok`` formula.

    A recognised scheme is compared by its formula's second moment; a trained or
    inconclusive tensor by its measured std.
    """
    spec, act = record.init, record.activation
    if spec is None or act is None:
        return None
    if spec.scheme not in ("trained", "inconclusive"):
        found = formulas.judged_requirement(spec, act.family, record.fan_in, record.fan_out, act.slope)
        if found is not None:
            return found[2] ** 0.5, found[3] ** 0.5
    if spec.measured_std:
        need = formulas.requirements(act.family, record.fan_in, record.fan_out, act.slope)
        near = formulas.nearest(spec.measured_std**2, need)
        if near is not None:
            return near[1] ** 0.5, near[2] ** 0.5
    return None


def row(record: LayerRecord, result: FileResult) -> dict[str, Any]:
    """One layer as a JSON-ready dict (the table's columns plus the unresolved reason)."""
    spec, node = record.init, record.node
    need = required(record)
    return {
        "layer": record.name,
        "op": node.op if node else None,
        "weight": node.weight if node else None,
        "shape": list(record.shape) if record.shape else None,
        "fan_in": record.fan_in,
        "fan_out": record.fan_out,
        "measured_std": spec.measured_std if spec else None,
        "scheme": spec.scheme if spec else None,
        "confidence": spec.confidence if spec else None,
        "scheme_note": spec.note if spec else "",
        "consumer": record.activation.name if record.activation else "?" if spec else None,  # None: not measured
        "normalized": record.normalized,
        "required_std": need[0] if need else None,
        "ratio": need[1] if need else None,
        "verdict": verdict(record, result),
        "unresolved": record.unresolved or None,
        "note": node.note or None if node else None,
    }


def rows(result: FileResult) -> list[dict[str, Any]]:
    return [row(r, result) for r in result.records if r.framework == "onnx" and is_layer(r)]


def _cells(item: dict[str, Any]) -> list[str]:
    scheme = item["scheme"] or "-"
    if item["confidence"] is not None and scheme not in ("inconclusive", "trained"):
        scheme += f" ({item['confidence']:.2f})"
    consumer = (item["consumer"] or "?") + (" +norm" if item["normalized"] else "")
    return [
        item["layer"], item["op"] or "", "x".join(map(str, item["shape"] or [])) or "-",
        str(item["fan_in"] or "-"), str(item["fan_out"] or "-"),
        _num(item["measured_std"]), scheme, consumer, _num(item["required_std"]),
        _num(item["ratio"], ".2f"), item["verdict"],
    ]


def propagation(result: FileResult) -> dict[str, Any] | None:
    """The ``--propagate`` outcome of a graph audit: the forward curve, or why it was skipped."""
    for record in result.records:
        if record.kind == "network" and record.framework == "onnx" and record.signal is not None:
            signal = record.signal
            if signal.skipped:
                return {"skipped": signal.skipped}
            shape = list(signal.input_shape) if signal.input_shape is not None else None
            return {"input_shape": shape, "curve": [_point(p) for p in signal.curve]}
    return None


def _point(point: SignalPoint) -> dict[str, Any]:
    """A graph's curve point: forward only (onnxruntime has no backward pass)."""
    return {"layer": point.layer, "forward_std": point.forward_std, "grad_std": point.grad_std,
            "dead_fraction": point.dead_fraction, "head": point.head}


def _propagation_lines(result: FileResult) -> list[str]:
    info = propagation(result)
    if info is None:
        return []
    if "skipped" in info:
        return [f"  signal propagation (INIT008) skipped: {info['skipped']}"]
    shape = "x".join(map(str, info["input_shape"] or []))
    points = [f"{p['layer']} {_num(p['forward_std'])}" for p in info["curve"] or []]
    return [f"  forward std per weight layer on one N(0,1) batch {shape}: " + ", ".join(points)]


def onnx_table(result: FileResult) -> str:
    """The aligned text table for one audited graph, headed by its path ('' for non-graph results)."""
    items = rows(result)
    if not items:
        return ""
    table = [list(HEADERS)] + [_cells(i) for i in items]
    widths = [max(len(r[c]) for r in table) for c in range(len(HEADERS))]
    lines = [f"{result.path}: {len(items)} weight layers"]
    for r in table:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    notes = [f"  note {r.name}: {r.node.note} (export with do_constant_folding=False for an init audit)"
             for r in result.records if r.framework == "onnx" and is_layer(r) and r.node is not None and r.node.note]
    return "\n".join(lines + notes + _propagation_lines(result))
