"""The README agrees with the rulebook and with CI."""

from __future__ import annotations

import re

from initlint.rulebook import rules

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_rule_table_matches_rulebook() -> None:
    rows = re.findall(r"^\| (INIT\d{3}) \| ([a-z-]+) \| (\w+) \|", README, flags=re.M)
    assert [(code, name, severity) for code, name, severity in rows] == [
        (r.code, r.name, r.severity) for r in rules().values()
    ]


def test_ci_runs_the_readme_test_command() -> None:
    command = "pip install -r requirements-dev.txt -e . && python -m pytest"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()


def test_every_rule_is_documented() -> None:
    for r in rules().values():
        assert r.summary and r.docs["what"] and r.docs["why"] and r.docs["use_instead"], r.code
