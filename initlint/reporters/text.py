"""``--format text``: ``path:line:col: CODE [severity] message`` and the summary line."""

from __future__ import annotations

import click

from ..records import Finding, Report, Summary, is_layer
from . import layer_table

_COLOURS = {"error": "red", "warning": "yellow", "advice": "cyan"}


def location(finding: Finding) -> str:
    if finding.line is None:
        return f"{finding.path}: {finding.layer}"
    return f"{finding.path}:{finding.line}:{finding.column or 1}"


def line(finding: Finding, colour: bool = False) -> str:
    tag = f"{finding.code} [{finding.severity}]"
    if colour:
        tag = click.style(finding.code, bold=True) + " " + click.style(
            f"[{finding.severity}]", fg=_COLOURS[finding.severity]
        )
    return f"{location(finding)}: {tag} {finding.message}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "advice" else f"{n} {word}s"


def summary_line(s: Summary) -> str:
    return (
        f"{_plural(s.files, 'file')}, {_plural(s.layers, 'layer')} ({s.resolved} resolved, "
        f"{s.unresolved} unresolved): {_plural(s.errors, 'error')}, {_plural(s.warnings, 'warning')}, "
        f"{_plural(s.advice, 'advice')}"
    )


def unresolved_lines(report: Report) -> list[str]:
    out = []
    for result in report.results:
        for rec in result.records:
            if is_layer(rec) and rec.unresolved:
                where = f"{rec.origin.path}:{rec.origin.line}:{rec.origin.column or 1}" if rec.origin.line else rec.origin.path
                many = f" ({rec.count} layers built here)" if rec.count > 1 else ""  # the summary counts each
                out.append(f"{where}: unresolved {rec.name}{many}: {rec.unresolved}")
    return out


def render(report: Report, show_unresolved: bool = False, colour: bool = False, show_suppressed: bool = False) -> str:
    lines = [line(f, colour) for f in report.findings]
    if show_unresolved:
        lines += unresolved_lines(report)
    if show_suppressed:
        lines += [f"{location(f)}: suppressed {f.code} [{f.severity}] {f.message}" for r in report.results for f in r.suppressed]
    lines += [table for r in report.results if (table := layer_table.onnx_table(r))]
    lines.append(summary_line(report.summary()))
    return "\n".join(lines) + "\n"
