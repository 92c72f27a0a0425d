"""Suppression comments: ``# initlint: ignore[INIT001]`` and ``# noqa: INIT001``.

A comment suppresses the listed codes for findings whose layer line or init
call line (``Finding.related_line``) is the comment's line. Codes are required
(SPEC 8.22): a bare ``# initlint: ignore`` is an error, and ``# noqa`` without
codes does not suppress initlint. Other tools' codes in a ``noqa`` list are ignored.
Comments are read with ``tokenize`` (so a ``#`` inside a string is not a comment),
and only in files that have findings or mention ``initlint``.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, replace

from .records import FileResult, Finding
from .rulebook import rules

# `initlint: ignore` with an optional bracket; `noqa` with an optional code list.
_INITLINT = re.compile(r"initlint\s*:\s*ignore\b(?P<bracket>\s*\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
_NOQA = re.compile(r"\bnoqa\b(?:\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_CODE = re.compile(r"^INIT\d{3}$")
_NOQA_WORD = re.compile("noqa", re.IGNORECASE)


@dataclass(frozen=True)
class Directives:
    """The suppressions of one file: line -> codes, and the malformed comments (one message each)."""

    codes: dict[int, frozenset[str]]
    errors: tuple[str, ...]


def comments(text: str) -> Iterator[tuple[int, str]]:
    """(line, comment text) for every comment of a Python source."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.string
    except (tokenize.TokenError, SyntaxError):
        return


def parse_comment(comment: str) -> tuple[frozenset[str], str | None]:
    """The initlint codes one comment suppresses, and an error message if it is malformed."""
    codes: set[str] = set()
    for match in _INITLINT.finditer(comment):
        if match["bracket"] is None:
            return frozenset(), "bare '# initlint: ignore' needs codes, e.g. '# initlint: ignore[INIT001]'"
        listed = [c.strip().upper() for c in re.split(r"[\s,]+", match["codes"]) if c.strip()]
        if not listed:
            return frozenset(), "'# initlint: ignore[]' lists no codes"
        unknown = [c for c in listed if not _CODE.match(c) or c not in rules()]
        if unknown:
            return frozenset(), f"'# initlint: ignore' names unknown rule code(s) {', '.join(unknown)}"
        codes.update(listed)
    for match in _NOQA.finditer(comment):
        if match["codes"]:
            codes.update(c.upper() for c in re.split(r"[\s,]+", match["codes"]) if c.upper().startswith("INIT"))
    return frozenset(codes), None


def scan(text: str, path: str) -> Directives:
    """Every suppression comment of a file."""
    codes: dict[int, frozenset[str]] = {}
    errors: list[str] = []
    for line, comment in comments(text):
        found, error = parse_comment(comment)
        if error:
            errors.append(f"{path}:{line}: {error}")
        elif found:
            codes[line] = codes.get(line, frozenset()) | found
    return Directives(codes, tuple(errors))


def suppressed_by(finding: Finding, directives: Directives) -> bool:
    lines = {finding.line, finding.related_line} - {None}
    return any(finding.code in directives.codes.get(line, ()) for line in lines if line is not None)


def _worth_scanning(result: FileResult, text: str) -> bool:
    # Cheap substring tests: most files have neither findings nor a suppression comment.
    # A file mentioning initlint is always read, so a bare ignore is reported even without findings.
    return "initlint" in text or (bool(result.findings) and _NOQA_WORD.search(text) is not None)


def apply(result: FileResult, text: str) -> FileResult:
    """Move suppressed findings to ``FileResult.suppressed``; a malformed comment sets ``error``."""
    if not _worth_scanning(result, text):
        return result
    directives = scan(text, result.path)
    if not directives.codes and not directives.errors:
        return result
    kept: list[Finding] = []
    dropped: list[Finding] = []
    for finding in result.findings:
        (dropped if suppressed_by(finding, directives) else kept).append(finding)
    error = "; ".join(directives.errors) if directives.errors else result.error
    return replace(
        result,
        findings=tuple(kept),
        suppressed=result.suppressed + tuple(dropped),
        error=error,
    )
