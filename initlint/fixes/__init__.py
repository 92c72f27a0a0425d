"""``--fix`` / ``--diff``: rewrite source so fixable findings go away, keeping formatting and comments.

Fixes change training numerics by design: they swap one initializer for
another. Each fix is planned from the finding's record (the layer's
construction line, the init call's line) on a fresh libcst parse of the file,
all fixes of a file are applied in one pass, and the result is linted again:
a fix whose finding (or any other finding on the same layer) survives is
dropped, so what is applied always re-lints clean for the fixed layers and a
second run changes nothing. Unresolved layers, sites that build several
layers and init calls shared by layers that need different initializers get
no fix; the reason is reported.
"""

from __future__ import annotations

import difflib
import os
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from .. import notebooks
from ..engine import PRECEDENCE
from ..lint import decode, lint_source, parsed
from ..records import FileResult, Finding, Report, TextEdit
from ..settings import Settings
from . import keras, torch
from .common import Context, Planned
from .edits import Edit, Tree, apply

PLANNERS: dict[str, Callable[[Finding, Context], Planned | str]] = {
    "torch": torch.plan,
    "keras": keras.plan,
}
_ROUNDS = 3


@dataclass(frozen=True)
class Fix:
    """The edit that repairs one finding."""

    finding: Finding
    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class FileFixes:
    """The fixes of one file: what was applied, what has no fix (and why), and the new text."""

    path: str
    text: str
    new_text: str
    fixes: tuple[Fix, ...]
    unfixed: tuple[tuple[Finding, str], ...]
    tree: Tree | None = None

    @property
    def changed(self) -> bool:
        return self.new_text != self.text

    def diff(self) -> str:
        """A unified diff ``git apply`` accepts: ``a/`` and ``b/`` paths relative to the current directory."""
        name = diff_path(self.path)
        return "".join(
            difflib.unified_diff(
                self.text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                fromfile=name if os.path.isabs(name) else f"a/{name}",
                tofile=name if os.path.isabs(name) else f"b/{name}",
            )
        )


def diff_path(path: str) -> str:
    """``./src/m.py`` -> ``src/m.py``; a file under the current directory by its relative path, else absolute."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    try:
        inside = os.path.commonpath([cwd, absolute]) == cwd
    except ValueError:  # another drive
        inside = False
    return os.path.relpath(absolute, cwd).replace(os.sep, "/") if inside else absolute


def key(finding: Finding) -> tuple[str, str, int | None, int | None]:
    return (finding.code, finding.layer, finding.line, finding.column)


def plan_source(text: str, result: FileResult, settings: Settings | None = None, verify: bool = True) -> FileFixes:
    """Plan, apply and (``verify``) re-lint the fixes of one file's findings."""
    settings = settings or Settings()
    if not result.findings or result.error:
        return FileFixes(result.path, text, text, (), tuple((f, "no fix") for f in result.findings))
    try:
        return _plan(text, result, settings, verify)
    except RecursionError:  # libcst's visitors recurse once per nesting level
        return FileFixes(result.path, text, text, (), tuple((f, "the file nests too deeply to rewrite") for f in result.findings))
    except Exception as err:  # a planner bug must never take the whole run down: no edit for this file
        why = f"internal error in {result.path} while planning fixes: {type(err).__name__}: {err} (please report)"
        return FileFixes(result.path, text, text, (), tuple((f, why) for f in result.findings))


def _plan(text: str, result: FileResult, settings: Settings, verify: bool) -> FileFixes:
    try:
        known = parsed(text)
        tree = Tree(text, known) if known is not None else Tree.parse(text)
    except cst.ParserSyntaxError:
        return FileFixes(result.path, text, text, (), tuple((f, "the file does not parse") for f in result.findings))
    ctx = Context(tree, result.records, result.findings)
    fixes: list[Fix] = []
    unfixed: list[tuple[Finding, str]] = []
    for finding in result.findings:
        planner = PLANNERS.get(finding.framework)
        outcome = planner(finding, ctx) if planner else "no automatic fix for this input"
        if isinstance(outcome, str):
            unfixed.append((finding, outcome))
        else:
            fixes.append(Fix(finding, outcome.description, outcome.edits))
    new_text = text
    for _ in range(_ROUNDS):
        new_text = apply(tree.module, [e for fix in fixes for e in fix.edits], tree.top_of, text)
        survivors = _survivors(new_text, result.path, fixes, settings) if verify else []
        if not survivors:
            break
        unfixed += [(fix.finding, "the fix did not clear the finding (the init is overridden later?)")
                    for fix in fixes if fix in survivors]
        fixes = [fix for fix in fixes if fix not in survivors]
    else:  # pragma: no cover - every round drops at least one fix
        new_text, fixes = text, []
    order = {key(f): i for i, f in enumerate(result.findings)}
    unfixed.sort(key=lambda item: order[key(item[0])])
    return FileFixes(result.path, text, new_text, tuple(fixes), tuple(unfixed), tree)


def _survivors(new_text: str, path: str, fixes: Sequence[Fix], settings: Settings) -> list[Fix]:
    """Fixes whose layer still has a layer finding after the edit."""
    if not fixes:
        return []

    after = lint_source(new_text, path, settings)
    if after.error and not after.records:
        return list(fixes)
    flagged = {f.layer for f in after.findings if f.code in PRECEDENCE}
    return [fix for fix in fixes if fix.finding.layer in flagged]


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return decode(fh.read())
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
        return None


def plan_result(result: FileResult, settings: Settings | None = None) -> FileFixes | None:
    """:func:`plan_source` for a linted ``.py`` or ``.ipynb`` file read from disk (None for graphs or unreadable files)."""
    if result.path.endswith(".ipynb") and result.findings:
        return _plan_notebook(result, settings)
    if not result.path.endswith(".py") or not result.findings:
        return None
    text = _read(result.path)
    if text is None:
        return None
    return plan_source(text, result, settings)


def _plan_notebook(result: FileResult, settings: Settings | None) -> FileFixes | None:
    """A notebook's fixes: planned on its joined code cells; ``text`` / ``new_text`` are the notebook's JSON,
    so :func:`write` and :meth:`FileFixes.diff` work on the file as for ``.py`` files."""
    try:
        with open(result.path, "rb") as fh:
            data = fh.read()
        notebook = notebooks.parse(data, result.path)
        original = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError, notebooks.NotebookError):
        return None
    planned = plan_source(notebook.text, result, settings)
    local = notebooks.Notebook(notebook.data, notebook.text, notebook.starts, notebook.indent)

    def here(text: str) -> str:
        return notebooks.rewrite_lines(text, local)

    new_text = notebooks.updated(notebook, planned.new_text) if planned.changed else original
    return FileFixes(
        result.path, original, new_text,
        tuple(replace(fix, description=here(fix.description)) for fix in planned.fixes),
        tuple((finding, here(why)) for finding, why in planned.unfixed),
    )


def annotate_result(result: FileResult, settings: Settings | None = None, edits: bool = False) -> FileResult:
    """Set each finding's ``fix`` to the description of its edit (None when there is none).

    With ``edits``, also each fix's :class:`TextEdit` s, applied alone to the original text
    (what SARIF's ``fixes`` carry).
    """
    planned = plan_result(result, settings)
    if planned is None:
        return result
    fixes = {key(fix.finding): fix for fix in planned.fixes}

    def annotated(finding: Finding) -> Finding:
        fix = fixes.get(key(finding))
        if fix is None:
            return replace(finding, fix=None)
        ranges = tuple(TextEdit(*r) for r in replacements(planned, fix)) if edits and planned.tree else ()
        return replace(finding, fix=fix.description, edits=ranges)

    return replace(result, findings=tuple(annotated(f) for f in result.findings))


def annotate(report: Report, settings: Settings | None = None, edits: bool = False) -> Report:
    """The report with every fixable finding's ``fix`` description set (SPEC 8.21), and with ``edits`` its edits."""
    return Report(tuple(annotate_result(r, settings, edits) for r in report.results))


def replacements(planned: FileFixes, fix: Fix) -> list[tuple[int, int, str]]:
    """One fix as (start, end, inserted text) character ranges of the original file."""
    assert planned.tree is not None
    alone = apply(planned.tree.module, fix.edits, planned.tree.top_of, planned.text)
    return text_replacements(planned.text, alone)


def text_replacements(old: str, new: str) -> list[tuple[int, int, str]]:
    """The line-level differences between two texts as character ranges of ``old``."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    out = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            out.append((starts[i1], starts[i2], "".join(new_lines[j1:j2])))
    return out


def write(planned: FileFixes) -> None:
    """Write the fixed text back in the file's own encoding (PEP 263 cookie, BOM) and newline style."""
    with open(planned.path, "rb") as fh:
        encoding, _ = tokenize.detect_encoding(fh.readline)
    with open(planned.path, "w", encoding=encoding, newline="") as fh:
        fh.write(planned.new_text)


__all__ = ["Fix", "FileFixes", "plan_source", "plan_result", "annotate", "annotate_result", "replacements", "write"]
