"""``--format sarif``: SARIF 2.1.0 as GitHub code scanning reads it.

One run; ``tool.driver`` lists every rule (id, kebab-case name, short and full
description, help text, ``helpUri`` to ``docs/rules/CODE.md``). Each finding is
a result with its level (error / warning / note for advice), a physical
location (URI relative to the current directory when the file lies under it,
SPEC 8.24), the init call as a related location, and ``fixes`` when ``--fix``
can repair it. Graph and live-model findings have no line: they carry the
file and a logical location naming the node or module.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..records import Finding, Report
from ..rulebook import CODE_SECTIONS, DOC_SECTIONS, Rule, rules

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/initlint/"
# Where the repository's docs/rules/ folder is published; rule help links point into it.
DOCS_URI = "https://github.com/initlint/initlint/blob/main/docs/rules/"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "advice": "note"}


def _text(value: str) -> str:
    return " ".join(value.split())


def rule_descriptor(r: Rule) -> dict[str, Any]:
    help_parts = [f"{heading}:\n{r.docs[key]}" for key, heading in DOC_SECTIONS if r.docs.get(key)]
    help_md = "\n\n".join(f"## {heading}\n\n{_markdown(key, r.docs[key])}"
                          for key, heading in DOC_SECTIONS if r.docs.get(key))
    return {
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": _text(r.docs.get("what") or r.summary)},
        "help": {"text": "\n\n".join(help_parts) or r.summary, "markdown": help_md or r.summary},
        "helpUri": f"{DOCS_URI}{r.code}.md",
        "defaultConfiguration": {"level": LEVELS[r.severity]},
        "properties": {"tags": ["initialization", "deep-learning"]},
    }


def _markdown(key: str, text: str) -> str:
    """A documentation section as Markdown: the examples are Python code, fenced."""
    return f"```python\n{text}\n```" if key in CODE_SECTIONS else text


def artifact_location(path: str, cwd: str | None = None) -> dict[str, Any]:
    """Relative to the current directory when the file lies under it, else an absolute ``file:`` URI."""
    cwd = os.path.abspath(cwd or os.getcwd())
    absolute = os.path.abspath(path)
    try:
        inside = os.path.commonpath([cwd, absolute]) == cwd
    except ValueError:
        inside = False
    if inside:
        rel = os.path.relpath(absolute, cwd).replace(os.sep, "/")
        return {"uri": quote(rel), "uriBaseId": SRCROOT}
    return {"uri": Path(absolute).as_uri()}


def _physical(finding: Finding, line: int | None, column: int | None, cwd: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": artifact_location(finding.path, cwd)}
    if line is not None:
        region: dict[str, Any] = {"startLine": line}
        if column:
            region["startColumn"] = column
        location["region"] = region
    return location


def result(
    finding: Finding,
    index: dict[str, int],
    cwd: str | None = None,
    suppressed: bool = False,
) -> dict[str, Any]:
    notebook = finding.cell is not None  # lines inside a cell are not lines of the .ipynb file
    line = None if notebook else finding.line
    location: dict[str, Any] = {"physicalLocation": _physical(finding, line, finding.column, cwd)}
    if line is None and finding.layer:
        location["logicalLocations"] = [{"name": finding.layer, "kind": "object"}]
    if notebook:
        location["logicalLocations"] = [{"name": f"cell {finding.cell}, line {finding.line}", "kind": "object"}]
    out: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": LEVELS[finding.severity],
        "message": {"text": (f"cell {finding.cell}, line {finding.line}: " if notebook else "") + finding.message},
        "locations": [location],
        "properties": {"layer": finding.layer, "init": finding.init, "activation": finding.activation},
    }
    if not notebook and finding.related_line is not None and finding.related_line != finding.line:
        out["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": _physical(finding, finding.related_line, None, cwd),
                "message": {"text": "init call"},
            }
        ]
    if finding.fix and finding.edits and not notebook:
        out["fixes"] = _fixes(finding, cwd)
    if suppressed:
        out["suppressions"] = [{"kind": "inSource"}]
    return out


def _fixes(finding: Finding, cwd: str | None) -> list[dict[str, Any]]:
    """The edit as SARIF replacements (character offsets into the original file)."""
    change = {
        "artifactLocation": artifact_location(finding.path, cwd),
        "replacements": [
            {
                "deletedRegion": {"charOffset": start, "charLength": end - start},
                **({"insertedContent": {"text": text}} if text else {}),
            }
            for start, end, text in ((e.start, e.end, e.text) for e in finding.edits)
        ],
    }
    return [{"description": {"text": finding.fix}, "artifactChanges": [change]}]


def document(report: Report, show_suppressed: bool = False, cwd: str | None = None) -> dict[str, Any]:
    """The SARIF log; a finding's ``fixes`` come from its ``edits`` (see :func:`initlint.fixes.annotate`)."""
    catalogue = list(rules().values())
    index = {r.code: i for i, r in enumerate(catalogue)}
    results = [result(finding, index, cwd) for file_result in report.results for finding in file_result.findings]
    if show_suppressed:
        results += [result(f, index, cwd, suppressed=True) for r in report.results for f in r.suppressed]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "initlint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(r) for r in catalogue],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": Path(os.path.abspath(cwd or os.getcwd())).as_uri() + "/"}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    errors = report.errors
    if errors:
        run["invocations"] = [
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": e}} for e in errors],
            }
        ]
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(
    report: Report,
    show_unresolved: bool = False,
    colour: bool = False,
    show_suppressed: bool = False,
) -> str:
    return json.dumps(document(report, show_suppressed), indent=2) + "\n"
