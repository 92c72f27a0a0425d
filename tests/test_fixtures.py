"""Every fixture file under tests/fixtures/ lints to exactly the findings its `# expect:` markers name."""

from __future__ import annotations

from pathlib import Path

import pytest

from initlint import lint_file
from initlint.records import is_layer

from .conftest import FIXTURES, expected_findings, expected_unresolved

CASES = sorted(p for p in FIXTURES.rglob("*.py") if "fixes" not in p.parts)


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(FIXTURES)) for p in CASES])
def test_fixture(path: Path) -> None:
    text = path.read_text()
    result = lint_file(path)
    assert result.error is None, result.error
    got = {(f.line, f.code, f.severity) for f in result.findings}
    messages = "\n".join(f"{f.line}: {f.code} {f.severity} {f.message}" for f in result.findings)
    assert got == expected_findings(text), messages
    unresolved = expected_unresolved(text)
    if unresolved:
        lines = {r.origin.line for r in result.records if is_layer(r) and r.unresolved}
        assert unresolved <= lines, [(r.origin.line, r.name, r.unresolved) for r in result.records]
