"""``--format json``: the SPEC 6 schema, sorted and deterministic.

Strict JSON (RFC 8259): a non-finite number (NaN, an infinite std or ratio) is written as
``null``, like a value that was not measured; the text table shows it as ``nan``/``inf``.
``message`` is the full text: the headline, the derivation and the hint, one per line.
Notebook findings add ``cell`` (``line`` is then the line in that cell). Suppression codes
that suppress nothing are listed under ``unused_suppressions`` when there are any.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from ..records import Finding, Report, is_layer
from . import layer_table

FIELDS = ("code", "name", "severity", "path", "line", "column", "layer", "framework", "init", "activation", "message", "fix")


def finding_dict(finding: Finding) -> dict[str, Any]:
    out = {key: getattr(finding, key) for key in FIELDS}
    if finding.cell is not None:
        out["cell"] = finding.cell
    return out


def unused(report: Report) -> list[dict[str, Any]]:
    return [
        {"path": r.path, "line": line or None, "cell": cell or None, "code": code, "file_level": not line}
        for r in report.results for line, code, cell in r.unused_suppressions
    ]


def document(report: Report, show_unresolved: bool = False, show_suppressed: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1,
        "findings": [finding_dict(f) for f in report.findings],
        "summary": asdict(report.summary()),
        "errors": report.errors,
    }
    if show_unresolved:
        doc["unresolved"] = [
            {"path": rec.origin.path, "line": rec.origin.line, "layer": rec.name, "count": rec.count,
             "reason": rec.unresolved}
            for r in report.results
            for rec in r.records
            if is_layer(rec) and rec.unresolved
        ]
    layers = [{"path": r.path, **item} for r in report.results for item in layer_table.rows(r)]
    if layers:
        doc["layers"] = layers  # graph audits: the per-layer table
    runs = [{"path": r.path, **info} for r in report.results if (info := layer_table.propagation(r))]
    if runs:
        doc["propagation"] = runs  # graph audits with --propagate
    if unused_items := unused(report):
        doc["unused_suppressions"] = unused_items
    if show_suppressed:
        doc["suppressed"] = [finding_dict(f) for r in report.results for f in r.suppressed]
    return finite(doc)


def finite(value: Any) -> Any:
    """A copy of a JSON-ready value with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    return value


def render(report: Report, show_unresolved: bool = False, colour: bool = False, show_suppressed: bool = False) -> str:
    return json.dumps(document(report, show_unresolved, show_suppressed), indent=2, sort_keys=False,
                      allow_nan=False) + "\n"
