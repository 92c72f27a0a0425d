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

Writing (:func:`write`) never loses a byte: the new text goes to a temporary file in
the same folder, which replaces the file by an atomic rename (keeping its permission
bits) only if the file still holds the bytes the fixes were planned from. A file whose
bytes do not survive a decode/encode round trip (``# coding: unicode_escape``), or whose
fix would change a line libcst does not reproduce, is left alone, with the reason.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import os
import re
import stat
import tempfile
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from .. import notebooks
from ..engine import PRECEDENCE
from ..limits import read_source
from ..lint import lint_source, parsed, parsed_as
from ..records import FileResult, Finding, Report, TextEdit
from ..settings import Settings
from . import keras, torch
from .common import Context, Planned
from .edits import Edit, Tree, edited, spliced

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
    encoding: str = "utf-8"  # how the file's text is written back (its PEP 263 cookie or BOM)
    digest: str | None = None  # a hash of the file's bytes the fixes were planned from

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
        made = _edited(text, tree, [e for fix in fixes for e in fix.edits])
        if made is None:
            why = ("the fix would change a line libcst does not reproduce (a form feed in the indentation, "
                   "a bare CR ending the file); fix it by hand")
            return FileFixes(result.path, text, text, (), tuple((f, why) for f in result.findings))
        new_text = made[0]
        survivors = _survivors(made, result.path, fixes, settings) if verify else []
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


def _edited(text: str, tree: Tree, edits: Sequence[Edit]) -> tuple[str, cst.Module] | None:
    """``text`` with ``edits`` made, every line they do not touch byte for byte as it was, and the module
    edited alike (libcst's tree of that text, but for what libcst does not keep).

    Only the edited top-level statements are regenerated and put back in place when that can be
    done; else the whole module is rendered and merged line by line into ``text`` (libcst does not
    reproduce every file: it drops form feeds before indentation, a last line's bare CR, some
    whitespace-only and comment lines at the end). None when an edit touches such a line.
    """
    if "\x0c" not in text:
        made = spliced(tree, edits, text)
        if made is not None:
            return made
    module = edited(tree.module, edits, tree)
    new_text = _keeping_untouched_lines(text, tree.rendered(), module.code)
    return None if new_text is None else (new_text, module)


def _keeping_untouched_lines(text: str, rendered: str, new_text: str) -> str | None:
    """The changes from ``rendered`` to ``new_text`` made to ``text``, every other line of ``text`` kept.

    ``rendered`` is libcst's code of the unedited module: ``text`` but for what libcst does not keep.
    A line of ``text`` stands for a rendered line equal to it but for form feeds in front and the end
    of the last line; a changed line gets them back. None when a change meets a line libcst did not
    reproduce, or form feeds cannot be given back (the change is not line for line).
    """
    if rendered == text:
        return new_text
    old_lines, base_lines, new_lines = _physical_lines(text), _physical_lines(rendered), _physical_lines(new_text)
    same = _same_lines(old_lines, base_lines)
    out: list[str] = []
    copied = 0  # old lines [0, copied) are in ``out``
    matcher = difflib.SequenceMatcher(a=base_lines, b=new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        span = _old_span(same, i1, i2, len(base_lines))
        if span is None or span[0] < copied:
            return None
        out += old_lines[copied:span[0]]
        copied = span[1]
        kept = [same[i][1:] for i in range(i1, i2)]  # (lead, tail) of each replaced line
        news = new_lines[j1:j2]
        if len(kept) == len(news):
            out += [lead + _ended(new, tail) for (lead, tail), new in zip(kept, news)]
        elif any(lead for lead, _ in kept):
            return None
        else:
            out += news[:-1] + [_ended(news[-1], kept[-1][1])] if news and kept else news
    return "".join(out + old_lines[copied:])


def _same_lines(old: list[str], base: list[str]) -> dict[int, tuple[int, str, str]]:
    """For each line of ``base`` found in ``old``: (its index there, the form feeds in front, the line end after)."""
    def bare(line: str) -> str:
        return line.lstrip("\x0c").rstrip("\r\n")

    matcher = difflib.SequenceMatcher(a=[bare(line) for line in old], b=[bare(line) for line in base], autojunk=False)
    out: dict[int, tuple[int, str, str]] = {}
    for i, j, size in matcher.get_matching_blocks():
        for k in range(size):
            o, b = old[i + k], base[j + k]
            at = o.find(b)
            lead, tail = o[: max(at, 0)], o[at + len(b):]
            if at >= 0 and not lead.strip("\x0c") and (not tail or tail in ("\n", "\r", "\r\n") and b == bare(b)):
                out[j + k] = (i + k, lead, tail)
    return out


def _old_span(same: dict[int, tuple[int, str, str]], i1: int, i2: int, n: int) -> tuple[int, int] | None:
    """The lines of the file that rendered lines [i1, i2) are (for an insertion, i1 == i2: where it goes)."""
    if i1 == i2:
        if i1 == 0:
            return 0, 0
        if i1 - 1 in same:
            return same[i1 - 1][0] + 1, same[i1 - 1][0] + 1
        return (same[i1][0], same[i1][0]) if i1 < n and i1 in same else None
    where = [same[i][0] if i in same else -1 for i in range(i1, i2)]
    if where[0] < 0 or where != list(range(where[0], where[0] + i2 - i1)):
        return None
    return where[0], where[-1] + 1


def _ended(line: str, end: str) -> str:
    """``line`` with the line end ``end`` unless it has one."""
    return line if line.endswith(("\r", "\n")) else line + end


def _physical_lines(text: str) -> list[str]:
    """The lines of ``text`` with their endings, split only where Python ends a line."""
    return _PHYSICAL_LINE.findall(text)


_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _survivors(made: tuple[str, cst.Module], path: str, fixes: Sequence[Fix], settings: Settings) -> list[Fix]:
    """Fixes whose layer still has a layer finding after the edit (the text linted on its edited tree:
    only the statements the fixes changed were made anew)."""
    if not fixes:
        return []
    with parsed_as(*made):
        after = lint_source(made[0], path, settings)
    if after.error and not after.records:
        return list(fixes)
    flagged = {f.layer for f in after.findings if f.code in PRECEDENCE}
    return [fix for fix in fixes if fix.finding.layer in flagged]


def _read(path: str, settings: Settings, data: bytes | None = None) -> tuple[str, str, str] | str | None:
    """(text, encoding, digest) of a ``.py`` file (``data``: its bytes, when already read); why it cannot
    be rewritten; None when it cannot be read."""
    if data is None:
        read = read_source(path, settings.max_file_size)
        if isinstance(read, str):
            return None
        data = read
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
        same = text.encode(encoding) == data
    except (UnicodeError, SyntaxError, LookupError):
        return None
    if not same:
        return f"its bytes do not survive decoding and encoding again as {encoding}; fix it by hand"
    return text, encoding, _digest(data)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def plan_result(result: FileResult, settings: Settings | None = None, relint: bool = False,
                data: bytes | None = None) -> FileFixes | None:
    """:func:`plan_source` for a linted ``.py`` file read from disk, or its bytes ``data`` (None for graphs or
    unreadable files).

    ``relint``: lint the text read again and plan from that (the file may have changed since
    ``result`` was made; ``--fix`` must plan from the bytes it will replace). Notebooks are planned
    on their joined code cells.
    """
    if result.path.endswith(".ipynb") and result.findings:
        return _plan_notebook(result, settings)
    if not result.path.endswith(".py") or not result.findings:
        return None
    settings = settings or Settings()
    read = _read(result.path, settings, data)
    if read is None:
        return None
    if isinstance(read, str):
        return FileFixes(result.path, "", "", (), tuple((f, read) for f in result.findings))
    text, encoding, digest = read
    if relint:
        result = lint_source(text, result.path, settings)
        if not result.findings:
            return None
    return replace(plan_source(text, result, settings), encoding=encoding, digest=digest)


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


def annotate_result(result: FileResult, settings: Settings | None = None, edits: bool = False,
                    data: bytes | None = None) -> FileResult:
    """Set each finding's ``fix`` to the description of its edit (None when there is none).

    With ``edits``, also each fix's :class:`TextEdit` s, applied alone to the original text
    (what SARIF's ``fixes`` carry). ``data``: the file's bytes, when already read (right after
    its lint, whose parse is then reused).
    """
    planned = plan_result(result, settings, data=data)
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
    alone = _edited(planned.text, planned.tree, fix.edits)
    return [] if alone is None else text_replacements(planned.text, alone[0])


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


class _Changed(Exception):
    """The file no longer holds the bytes the fixes were planned from."""


def write(planned: FileFixes) -> str | None:
    """Write the fixed text in the file's own encoding (cookie, BOM) and newlines; None, else why not.

    Through a temporary file in the same folder and an atomic rename, keeping the file's
    permission bits, and only if the file still holds the bytes the fixes were planned
    from (``digest``): on any failure the file is unchanged. A symbolic link keeps pointing
    at its (rewritten) target; a read-only file or one with several hard links is not written.
    """
    path = os.path.realpath(planned.path)
    try:
        data = planned.new_text.encode(planned.encoding)
    except (UnicodeError, LookupError) as err:
        return f"cannot encode the fixed text as {planned.encoding}: {err}"
    tmp = None
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file; not rewritten"
        if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
            return "the file is read-only; not rewritten"
        if info.st_nlink > 1:
            return f"the file has {info.st_nlink} hard links, which a rewrite would separate; not rewritten"
        _unchanged(path, planned.digest)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(info.st_mode))
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, info.st_uid, info.st_gid)
            except OSError:
                pass  # not allowed to give it away: it stays ours, with the same permission bits
        _unchanged(path, planned.digest)  # just before the rename: an edit made meanwhile is never lost
        os.replace(tmp, path)
        tmp = None
    except _Changed:
        return "the file changed since it was read; not rewritten (run --fix again)"
    except OSError as err:
        return f"cannot write: {err.strerror or err}; the file is unchanged"
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return None


def _unchanged(path: str, digest: str | None) -> None:
    if digest is None:
        return
    data = read_source(path, 0)
    if isinstance(data, str) or _digest(data) != digest:
        raise _Changed


__all__ = ["Fix", "FileFixes", "plan_source", "plan_result", "annotate", "annotate_result", "replacements", "write"]
