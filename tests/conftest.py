"""Shared test helpers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# A fixture line ending in `# expect: INIT001 warning` (several: `# expect: INIT001 warning, INIT009 advice`)
# must produce exactly those findings at that line; `# expect-unresolved` marks a layer that must be unresolved.
EXPECT = re.compile(r"#\s*expect:\s*(?P<items>INIT\d{3}\s+(?:error|warning|advice)(?:\s*,\s*INIT\d{3}\s+(?:error|warning|advice))*)")


def expected_findings(text: str) -> set[tuple[int, str, str]]:
    """(line, code, severity) for every `# expect:` marker of a fixture file."""
    out = set()
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for item in match["items"].split(","):
                code, severity = item.split()
                out.add((number, code, severity))
    return out


def expected_unresolved(text: str) -> set[int]:
    return {n for n, line in enumerate(text.splitlines(), start=1) if "# expect-unresolved" in line}


@pytest.fixture
def root() -> Path:
    return ROOT
