"""Jupyter notebooks (``.ipynb``): the code cells as one Python module, and back.

The code cells are joined in order into one module, each preceded by a marker
comment, so a model defined in one cell and initialized in another is judged as
one file. IPython magics and shell escapes (``%matplotlib inline``, ``!pip ...``,
a ``%%bash`` cell) become comments, so they neither fail the parse nor count.
Findings are located as ``notebook.ipynb:cell N:line:col`` where ``N`` counts
every cell of the notebook from 1 (markdown cells too: cell N is ``cells[N-1]``
in the file) and ``line`` is the line inside that cell. Suppression comments work
in cells as in ``.py`` files. ``--fix`` edits the joined module and writes each
changed cell back, keeping the rest of the notebook (outputs, metadata) as it was.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .records import FileResult, Finding

CELL_MARKER = "# @initlint-cell "
MAGIC_MARKER = "# @initlint-magic "
# Cell magics whose body is Python; any other (%%bash, %%html, %%writefile ...) makes the cell not Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "px"})
_MAGIC = re.compile(r"^\s*(%|!|\?)")
_LINE_REF = re.compile(r"\b(lines?) (\d+)\b")


class NotebookError(ValueError):
    """A file that is not a readable notebook (one line, for the run's error list)."""


@dataclass(frozen=True)
class Notebook:
    """A parsed notebook: its JSON, the joined module, and where each code cell starts in it."""

    data: dict
    text: str
    starts: tuple[tuple[int, int], ...]  # (first module line of the cell's source, cell number from 1)
    indent: int = 1

    def where(self, line: int) -> tuple[int, int]:
        """(cell number, line in that cell) of a line of the joined module."""
        cell, first = 0, 1
        for start, number in self.starts:
            if start > line:
                break
            cell, first = number, start
        return cell, line - first + 1


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _python_lines(source: str) -> list[str]:
    lines = source.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%") and first[2:].split()[:1] and first[2:].split()[0] not in _PYTHON_CELL_MAGICS:
        return [MAGIC_MARKER + line for line in lines]  # not a Python cell
    return [MAGIC_MARKER + line if _MAGIC.match(line) else line for line in lines]


def parse(data: bytes, path: str) -> Notebook:
    """The joined module of a notebook's code cells; NotebookError with the reason when it is not one."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NotebookError(f"{path}: not a valid notebook (JSON): {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError(f"{path}: not a valid notebook: no list of cells (nbformat 4 expected)")
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    line = 1
    for number, cell in enumerate(doc["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        lines = _python_lines(_source(cell))
        parts.append(f"{CELL_MARKER}{number}")
        starts.append((line + 1, number))
        parts.extend(lines)
        line += 1 + len(lines)
    match = re.match(rb"\{\s*\n( +)\"", data)
    indent = len(match.group(1)) if match else 1
    return Notebook(doc, "\n".join(parts) + "\n", tuple(starts), indent)


def rewrite_lines(text: str, notebook: Notebook) -> str:
    """``line 14`` in a message -> ``cell 3, line 2``."""
    def sub(match: re.Match[str]) -> str:
        cell, line = notebook.where(int(match.group(2)))
        return f"cell {cell}, line {line}" if cell else match.group(0)

    return _LINE_REF.sub(sub, text)


def locate(result: FileResult, notebook: Notebook) -> FileResult:
    """A result linted on the joined module, with findings located in cells (records keep module lines)."""

    def moved(finding: Finding) -> Finding:
        if finding.line is None:
            return finding
        cell, line = notebook.where(finding.line)
        related = notebook.where(finding.related_line) if finding.related_line is not None else None
        return replace(
            finding, line=line, cell=cell, message=rewrite_lines(finding.message, notebook),
            related_line=related[1] if related and related[0] == cell else None,
            hint=rewrite_lines(finding.hint, notebook), fix=rewrite_lines(finding.fix, notebook) if finding.fix else None,
        )

    def unused(line: int, code: str) -> tuple[int, str, int]:
        if not line:
            return (0, code, 0)
        cell, in_cell = notebook.where(line)
        return (in_cell, code, cell)

    error = _rewrite_errors(result.error, result.path, notebook) if result.error else None
    return replace(
        result, findings=tuple(moved(f) for f in result.findings), suppressed=tuple(moved(f) for f in result.suppressed),
        unused_suppressions=tuple(unused(line, code) for line, code, _ in result.unused_suppressions), cells=notebook.starts, error=error,
    )


def _rewrite_errors(error: str, path: str, notebook: Notebook) -> str:
    """``nb.ipynb:12: ...`` / ``nb.ipynb:12:5: syntax error`` -> ``nb.ipynb:cell 3:2...``."""
    def sub(match: re.Match[str]) -> str:
        cell, line = notebook.where(int(match.group(1)))
        return f"{path}:cell {cell}:{line}" if cell else match.group(0)

    return re.sub(re.escape(path) + r":(\d+)", sub, error)


def module_line(cells: Sequence[tuple[int, int]], cell: int, line: int) -> int:
    """The joined module's line of ``line`` in cell number ``cell``."""
    for start, number in cells:
        if number == cell:
            return start + line - 1
    return line


# -- writing fixed cells back -------------------------------------------------


def cells_of(text: str) -> dict[int, str]:
    """Cell number -> source, split from a joined module (magics restored, no trailing newline added)."""
    out: dict[int, list[str]] = {}
    current: list[str] | None = None
    head: list[str] = []
    for line in text.split("\n"):
        if line.startswith(CELL_MARKER) and line[len(CELL_MARKER):].strip().isdigit():
            current = out.setdefault(int(line[len(CELL_MARKER):]), [])
            if head:  # lines a fix put above the first cell (an import): they go into the first cell
                current.extend(head)
                head = []
            continue
        line = line[len(MAGIC_MARKER):] if line.startswith(MAGIC_MARKER) else line
        (current if current is not None else head).append(line)
    return {number: "\n".join(lines) for number, lines in out.items()}


def changed_cells(notebook: Notebook, new_text: str) -> dict[int, str]:
    """The cells whose source a fix changed: number -> new source (with the cell's own trailing newline)."""
    before, after = cells_of(notebook.text), cells_of(new_text)
    out = {}
    for number, source in after.items():
        if source == before.get(number):
            continue
        old = _source(notebook.data["cells"][number - 1])
        out[number] = source.rstrip("\n") + ("\n" if old.endswith("\n") else "")
    return out


def updated(notebook: Notebook, new_text: str) -> str:
    """The notebook's JSON text with the fixed cells' sources replaced (nbformat's layout)."""
    doc = notebook.data
    for number, source in changed_cells(notebook, new_text).items():
        lines = source.splitlines(keepends=True)
        doc["cells"][number - 1]["source"] = lines
    return json.dumps(doc, indent=notebook.indent, ensure_ascii=False) + "\n"


def write(path: str, content: str) -> None:
    """Replace the notebook atomically (a temporary file in the same folder renamed over it)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".initlint-", suffix=".ipynb", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
