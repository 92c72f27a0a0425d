"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

``::error file=net.py,line=12,col=9,title=INIT001 init-activation-mismatch::message``;
warnings become ``::warning``, advice ``::notice``. Values are escaped as the
workflow-command rules require: ``%``, CR and LF in the message; additionally
``:`` and ``,`` in properties. Paths are relative to the current directory when under it.
"""

from __future__ import annotations

import os

from ..records import Finding, Report

COMMANDS = {"error": "error", "warning": "warning", "advice": "notice"}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def repo_path(path: str) -> str:
    """The path as annotations want it: relative to the current directory (the checkout) when under it."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    try:
        inside = os.path.commonpath([cwd, absolute]) == cwd
    except ValueError:  # another drive
        inside = False
    return os.path.relpath(absolute, cwd).replace(os.sep, "/") if inside else path


def annotation(finding: Finding, suppressed: bool = False) -> str:
    props = [f"file={escape_property(repo_path(finding.path))}"]
    if finding.cell is not None:  # a notebook: the line is inside a cell, not of the file
        props.append(f"title={escape_property(f'{finding.code} {finding.name} (cell {finding.cell}, line {finding.line})')}")
        return f"::{'notice' if suppressed else COMMANDS[finding.severity]} {','.join(props)}::{escape_data(finding.message)}"
    if finding.line is not None:
        props.append(f"line={finding.line}")
        if finding.column:
            props.append(f"col={finding.column}")
    title = f"{finding.code} {finding.name}" + (" (suppressed)" if suppressed else "")
    props.append(f"title={escape_property(title)}")
    message = finding.message if finding.line is not None else f"{finding.layer}: {finding.message}"
    command = "notice" if suppressed else COMMANDS[finding.severity]
    return f"::{command} {','.join(props)}::{escape_data(message)}"


def render(report: Report, show_unresolved: bool = False, colour: bool = False, show_suppressed: bool = False) -> str:
    lines = [annotation(f) for f in report.findings]
    if show_suppressed:
        lines += [annotation(f, suppressed=True) for r in report.results for f in r.suppressed]
    return "".join(line + "\n" for line in lines)
