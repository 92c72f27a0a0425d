"""The per-layer table of a graph audit (SPEC 5): one row per weight layer of an ONNX file.

Columns: layer, op, shape, fan_in, fan_out, measured std, inferred scheme (confidence),
consumer, required std, ratio (measured / required std), verdict (the finding's code and
severity, ``ok``, or ``unresolved``). No numpy: rows are built from the records' ``extra``.
"""

from __future__ import annotations

from typing import Any

from ..records import FileResult, LayerRecord, is_layer

HEADERS = ("layer", "op", "shape", "fan_in", "fan_out", "std", "scheme (conf.)", "consumer", "required", "ratio", "verdict")


def is_graph(result: FileResult) -> bool:
    return any(r.framework == "onnx" and is_layer(r) for r in result.records)


def verdict(record: LayerRecord, result: FileResult) -> str:
    codes = [f"{f.code} {f.severity}" for f in result.findings if record.name in f.layer.split(", ")]
    if codes:
        return ", ".join(codes)
    return "unresolved" if record.unresolved else "ok"


def _num(value: Any, fmt: str = ".3g") -> str:
    return "-" if value is None else format(float(value), fmt)


def row(record: LayerRecord, result: FileResult) -> dict[str, Any]:
    """One layer as a JSON-ready dict (the table's columns plus the unresolved reason)."""
    extra = record.extra
    return {
        "layer": record.name,
        "op": extra.get("op"),
        "weight": extra.get("weight"),
        "shape": list(record.shape) if record.shape else None,
        "fan_in": record.fan_in,
        "fan_out": record.fan_out,
        "measured_std": extra.get("measured_std"),
        "scheme": extra.get("scheme"),
        "confidence": extra.get("confidence"),
        "scheme_note": extra.get("scheme_note", ""),
        "consumer": extra.get("consumer"),
        "normalized": record.normalized,
        "required_std": extra.get("required_std"),
        "ratio": extra.get("ratio"),
        "verdict": verdict(record, result),
        "unresolved": record.unresolved or None,
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
        if record.kind == "network" and record.framework == "onnx":
            if "skipped" in record.extra:
                return {"skipped": record.extra["skipped"]}
            return {"input_shape": record.extra.get("input_shape"), "curve": record.extra.get("curve")}
    return None


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
    return "\n".join(lines + _propagation_lines(result))
