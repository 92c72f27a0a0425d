"""``--format text``: ``path:line:col: CODE [severity] headline``, the hint, and the summary line.

Each finding is one headline (what is wrong, by how much) and, indented under it,
what to write instead and where. ``--verbose`` adds the derivation (variances, why,
the site and chain notes) on indented lines; an explanation already printed for an
earlier finding is not repeated. A graph's per-layer table is printed for graphs with
findings or was propagated (every graph with ``--verbose``). Notebook findings are located as
``path:cell N:line:col``. Listed suppression codes that suppress nothing are reported
as ``unused suppression`` lines (they fail the run only with ``--fail-on-unused-suppression``).
"""

from __future__ import annotations

from collections import Counter

import click

from ..records import FileResult, Finding, Report, Summary, is_layer
from ..rulebook import rules
from . import layer_table

_COLOURS = {"error": "red", "warning": "yellow", "advice": "cyan"}
INDENT = "    "


def location(finding: Finding) -> str:
    if finding.line is None:
        return f"{finding.path}: {finding.layer}"
    cell = f"cell {finding.cell}:" if finding.cell is not None else ""
    return f"{finding.path}:{cell}{finding.line}:{finding.column or 1}"


def headline(finding: Finding) -> str:
    """The first line of the message; a graph finding's location already names the layer."""
    text = finding.headline
    if finding.line is None and text.startswith(f"{finding.layer}: "):
        text = text[len(finding.layer) + 2:]
    return text


def line(finding: Finding, colour: bool = False) -> str:
    tag = f"{finding.code} [{finding.severity}]"
    if colour:
        tag = click.style(finding.code, bold=True) + " " + click.style(
            f"[{finding.severity}]", fg=_COLOURS[finding.severity]
        )
    return f"{location(finding)}: {tag} {headline(finding)}"


def block(finding: Finding, colour: bool = False, verbose: bool = False, seen: set[str] | None = None) -> list[str]:
    """The finding's lines: headline, (verbose) the derivation, and the hint."""
    out = [line(finding, colour)]
    if verbose:
        for detail in finding.detail:
            if seen is not None and detail in seen:
                continue
            if seen is not None:
                seen.add(detail)
            out.append(INDENT + detail)
    if finding.hint:
        hint = click.style(finding.hint, fg="green") if colour else finding.hint
        out.append(INDENT + hint)
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "advice" else f"{n} {word}s"


def summary_line(s: Summary, unused: int = 0) -> str:
    text = (
        f"{_plural(s.files, 'file')}, {_plural(s.layers, 'layer')} ({s.resolved} resolved, "
        f"{s.unresolved} unresolved): {_plural(s.errors, 'error')}, {_plural(s.warnings, 'warning')}, "
        f"{_plural(s.advice, 'advice')}"
    )
    return text + (f"; {_plural(unused, 'unused suppression')}" if unused else "")


def unresolved_lines(report: Report) -> list[str]:
    out = []
    for result in report.results:
        for rec in result.records:
            if is_layer(rec) and rec.unresolved:
                where = f"{rec.origin.path}:{_module_line(result, rec.origin.line)}:{rec.origin.column or 1}" \
                    if rec.origin.line else rec.origin.path
                many = f" ({rec.count} layers built here)" if rec.count > 1 else ""  # the summary counts each
                out.append(f"{where}: unresolved {rec.name}{many}: {rec.unresolved}")
    return out


def _module_line(result: FileResult, line: int | None) -> str:
    """A record's line as the user finds it (records of a notebook keep the joined module's lines)."""
    if not result.cells or line is None:
        return str(line)
    cell, first = 0, 1
    for start, number in result.cells:
        if start > line:
            break
        cell, first = number, start
    return f"cell {cell}:{line - first + 1}"


def unused_lines(report: Report) -> list[str]:
    out = []
    for result in report.results:
        for line_no, code, cell in result.unused_suppressions:
            if line_no == 0:
                out.append(f"{result.path}: unused suppression: ignore-file[{code}] (no {code} finding in the file)")
            else:
                where = f"cell {cell}:{line_no}" if cell else str(line_no)
                out.append(f"{result.path}:{where}: unused suppression: {code} (no {code} finding here)")
    return out


def unused_count(report: Report) -> int:
    return sum(len(r.unused_suppressions) for r in report.results)


def render(report: Report, show_unresolved: bool = False, colour: bool = False, show_suppressed: bool = False,
           verbose: bool = False, quiet: bool = False) -> str:
    seen: set[str] = set()
    lines = [text for f in report.findings for text in block(f, colour, verbose, seen)]
    lines += unused_lines(report)
    if show_unresolved:
        lines += unresolved_lines(report)
    if show_suppressed:
        lines += [f"{location(f)}: suppressed {f.code} [{f.severity}] {headline(f)}" for r in report.results for f in r.suppressed]
    if not quiet:
        lines += [table for r in report.results if _tabled(r, verbose) and (table := layer_table.onnx_table(r))]
        lines.append(summary_line(report.summary(), unused_count(report)))
    return "".join(text + "\n" for text in lines)


def _tabled(result: FileResult, verbose: bool) -> bool:
    """A graph's layer table is printed when it has findings, when asked to propagate, or with --verbose."""
    return bool(result.findings) or verbose or layer_table.propagation(result) is not None


def statistics(report: Report) -> list[tuple[int, str, str]]:
    """(count, code, name) per reported code, most frequent first."""
    counts = Counter(f.code for f in report.findings)
    return [(n, code, rules()[code].name) for code, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def render_statistics(report: Report) -> str:
    """``--statistics``: one line per code, as ruff prints them."""
    return "".join(f"{n:>5}\t{code}\t{name}\n" for n, code, name in statistics(report))
