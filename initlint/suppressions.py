"""Suppression comments: ``# initlint: ignore[INIT001]``, ``# noqa: INIT001`` and ``# initlint: ignore-file[INIT001]``.

A line comment suppresses the listed codes for findings whose layer line or init
call line (``Finding.related_line``) it covers. It covers its own line; on a line
of a multi-line statement where no finding starts (an argument line, the closing
parenthesis), it covers every finding of that statement. ``# initlint: ignore-file[...]``
anywhere in a file suppresses the listed codes in the whole file. Codes are required
(SPEC 8.22): a bare ``# initlint: ignore`` is an error, and ``# noqa`` without codes
does not suppress initlint. Other tools' codes in a ``noqa`` list are ignored.
A listed code that suppresses nothing is reported as unused (like ruff's unused-noqa),
unless the code is not selected for the file (then nothing can be said of it).
Comments are read with ``tokenize`` (so a ``#`` inside a string is not a comment),
and only in files that have findings or mention ``initlint``.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from .records import FileResult, Finding
from .rulebook import rules

# `initlint: ignore` / `ignore-file` with an optional bracket; `noqa` with an optional code list.
_INITLINT = re.compile(
    r"initlint\s*:\s*(?P<kind>ignore-file|ignore)(?![\w-])(?P<bracket>\s*\[(?P<codes>[^\]]*)\])?", re.IGNORECASE
)
_NOQA = re.compile(r"\bnoqa\b(?:\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"^INIT\d{3}$")
_NOQA_WORD = re.compile("noqa", re.IGNORECASE)
FILE = 0  # the line key of file-level suppressions


@dataclass(frozen=True)
class Directives:
    """The suppressions of one file: line -> codes (line 0: the whole file), the malformed comments
    (one message each), and each line's logical statement (first, last line) for multi-line statements."""

    codes: dict[int, frozenset[str]]
    errors: tuple[str, ...]
    statements: dict[int, tuple[int, int]] = field(default_factory=dict)

    def statement(self, line: int) -> tuple[int, int]:
        return self.statements.get(line, (line, line))


def comments(text: str) -> Iterator[tuple[int, str]]:
    """(line, comment text) for every comment of a Python source."""
    for line, comment, _ in _tokens(text):
        yield line, comment


def _tokens(text: str) -> Iterator[tuple[int, str, tuple[int, int]]]:
    """(line, comment, (first, last) line of its logical statement) for every comment."""
    pending: list[tuple[int, str]] = []
    start: int | None = None

    def flush(end: int) -> Iterator[tuple[int, str, tuple[int, int]]]:
        for line, comment in pending:
            yield line, comment, (line if start is None else start, max(end, line))
        pending.clear()

    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                pending.append((tok.start[0], tok.string))
            elif tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) or (tok.type == tokenize.NL and start is None):
                yield from flush(tok.start[0])  # the end of a statement, or a line with no code
                start = None
            elif tok.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING) and start is None:
                start = tok.start[0]
    except (tokenize.TokenError, SyntaxError):
        start = None
        yield from flush(0)


def parse_comment(comment: str) -> tuple[frozenset[str], str | None]:
    """The initlint codes one comment suppresses on its line, and an error message if it is malformed."""
    codes, _, error = parse_directive(comment)
    return codes, error


def parse_directive(comment: str) -> tuple[frozenset[str], frozenset[str], str | None]:
    """(codes for the line, codes for the whole file, error) of one comment."""
    line_codes: set[str] = set()
    file_codes: set[str] = set()
    for match in _INITLINT.finditer(comment):
        kind = match["kind"].lower()
        if match["bracket"] is None:
            return frozenset(), frozenset(), (
                f"bare '# initlint: {kind}' needs codes, e.g. '# initlint: {kind}[INIT001]'"
            )
        listed = [c.strip().upper() for c in re.split(r"[\s,]+", match["codes"]) if c.strip()]
        if not listed:
            return frozenset(), frozenset(), f"'# initlint: {kind}[]' lists no codes"
        unknown = [c for c in listed if not _CODE.match(c) or c not in rules()]
        if unknown:
            return frozenset(), frozenset(), f"'# initlint: {kind}' names unknown rule code(s) {', '.join(unknown)}"
        (file_codes if kind == "ignore-file" else line_codes).update(listed)
    for match in _NOQA.finditer(comment):
        if match["codes"]:
            line_codes.update(c.upper() for c in re.split(r"[\s,]+", match["codes"]) if c.upper().startswith("INIT"))
    return frozenset(line_codes), frozenset(file_codes), None


def scan(text: str, path: str) -> Directives:
    """Every suppression comment of a file."""
    codes: dict[int, frozenset[str]] = {}
    errors: list[str] = []
    statements: dict[int, tuple[int, int]] = {}
    for line, comment, span in _tokens(text):
        found, whole_file, error = parse_directive(comment)
        if error:
            errors.append(f"{path}:{line}: {error}")
            continue
        if found:
            codes[line] = codes.get(line, frozenset()) | found
            if span[0] != span[1]:
                statements[line] = span
        if whole_file:
            codes[FILE] = codes.get(FILE, frozenset()) | whole_file
    return Directives(codes, tuple(errors), statements)


def _lines(finding: Finding) -> set[int]:
    return {line for line in (finding.line, finding.related_line) if line is not None}


def covering(finding: Finding, directives: Directives, starts: set[int]) -> list[tuple[int, str]]:
    """The (comment line, code) suppressions that cover ``finding`` (line 0: file-level).

    ``starts``: the lines where some finding of the file starts (a comment on such a line covers that
    line only; elsewhere in a multi-line statement it covers the whole statement).
    """
    out = []
    lines = _lines(finding)
    for line, codes in directives.codes.items():
        if finding.code not in codes:
            continue
        if line == FILE:
            out.append((FILE, finding.code))
            continue
        first, last = directives.statement(line)
        if line in lines or (line not in starts and any(first <= n <= last for n in lines)):
            out.append((line, finding.code))
    return out


def suppressed_by(finding: Finding, directives: Directives) -> bool:
    return bool(covering(finding, directives, {finding.line} if finding.line is not None else set()))


def _worth_scanning(result: FileResult, text: str) -> bool:
    # Cheap substring tests: most files have neither findings nor a suppression comment.
    # A file mentioning initlint is always read, so a bare ignore is reported even without findings.
    # A noqa naming an INIT code is read even without findings, so an unused one is reported.
    return "initlint" in text or (
        (bool(result.findings) or "INIT" in text) and _NOQA_WORD.search(text) is not None
    )


def apply(result: FileResult, text: str, judged: Callable[[str], bool] | None = None) -> FileResult:
    """Move suppressed findings to ``FileResult.suppressed``; a malformed comment sets ``error``.

    Listed codes that suppress nothing go to ``FileResult.unused_suppressions`` as (line, code, 0),
    line 0 for a file-level comment; ``judged(code)`` says whether the code was checked in this
    file at all (selected and not switched off by per-file-ignores): only those can be unused.
    """
    if not _worth_scanning(result, text):
        return result
    directives = scan(text, result.path)
    if not directives.codes and not directives.errors:
        return result
    starts = {f.line for f in result.findings if f.line is not None}
    kept: list[Finding] = []
    dropped: list[Finding] = []
    used: set[tuple[int, str]] = set()
    for finding in result.findings:
        found = covering(finding, directives, starts)
        used.update(found)
        (dropped if found else kept).append(finding)
    unused = tuple(
        (line, code, 0)
        for line, codes in sorted(directives.codes.items())
        for code in sorted(codes)
        if (line, code) not in used and (judged is None or judged(code))
    )
    error = "; ".join(directives.errors) if directives.errors else result.error
    return replace(
        result,
        findings=tuple(kept),
        suppressed=result.suppressed + tuple(dropped),
        error=error,
        unused_suppressions=unused,
    )
