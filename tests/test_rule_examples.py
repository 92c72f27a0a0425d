"""Every rule's documented example fires exactly that rule, and its `use_instead` is clean.

The `example` / `use_instead` texts in ``rules/rules.toml`` are what ``initlint explain``,
SARIF rule help and ``docs/rules/`` show, so they are tested like pylint's bad.py/good.py:
source rules through ``lint_source``, live-only rules (INIT007, INIT008) through
``initlint check file.py:Factory`` on the example written to a file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from initlint.api import lint_source
from initlint.rulebook import Rule, rules

LIVE_ONLY = frozenset({"INIT007", "INIT008"})
RULES = list(rules().values())
SOURCE_RULES = [r for r in RULES if r.code not in LIVE_ONLY]
LIVE_RULES = [r for r in RULES if r.code in LIVE_ONLY]


def test_every_rule_is_covered_here() -> None:
    assert {r.code for r in SOURCE_RULES} == {
        "INIT001", "INIT002", "INIT003", "INIT004", "INIT005", "INIT006", "INIT009", "INIT010"
    }
    assert {r.code for r in LIVE_RULES} == LIVE_ONLY


@pytest.mark.parametrize("r", RULES, ids=[r.code for r in RULES])
def test_examples_are_complete_modules(r: Rule) -> None:
    for key in ("example", "use_instead"):
        text = r.docs[key]
        assert "..." not in text, f"{r.code} {key} is a fragment"
        tree = ast.parse(text)  # real code, not prose
        assert any(isinstance(node, (ast.Import, ast.ImportFrom)) for node in tree.body), f"{r.code} {key}"
        assert _model_class(text), f"{r.code} {key} defines no model class"
        assert len(text.splitlines()) <= 25, f"{r.code} {key} is too long for documentation"


@pytest.mark.parametrize("r", SOURCE_RULES, ids=[r.code for r in SOURCE_RULES])
def test_example_fires_exactly_its_rule(r: Rule) -> None:
    result = lint_source(r.docs["example"], "example.py")
    assert result.error is None
    assert result.findings, f"{r.code}'s example produces no finding"
    assert {f.code for f in result.findings} == {r.code}, [(f.code, f.message) for f in result.findings]
    assert all(not rec.unresolved for rec in result.records)


@pytest.mark.parametrize("r", SOURCE_RULES, ids=[r.code for r in SOURCE_RULES])
def test_use_instead_is_clean(r: Rule) -> None:
    result = lint_source(r.docs["use_instead"], "good.py")
    assert result.error is None
    assert [(f.code, f.message) for f in result.findings] == []
    assert result.records and all(not rec.unresolved for rec in result.records)


def _model_class(text: str) -> str:
    """The target the example names (``# initlint check model.py:NAME``), else the last top-level class."""
    named = re.search(r"# initlint check \S+:(\w+)", text)
    if named:
        return named.group(1)
    classes = [node.name for node in ast.parse(text).body if isinstance(node, ast.ClassDef)]
    return classes[-1] if classes else ""


def _live_codes(text: str, path: Path) -> list[str]:
    from initlint.api import check_target

    path.write_text(text, encoding="utf-8")
    result, _ = check_target(f"{path}:{_model_class(text)}")
    assert result.error is None
    return [f.code for f in result.findings]


@pytest.mark.parametrize("r", LIVE_RULES, ids=[r.code for r in LIVE_RULES])
def test_live_example_fires_and_use_instead_does_not(r: Rule, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    assert r.code in _live_codes(r.docs["example"], tmp_path / "bad.py")
    good = _live_codes(r.docs["use_instead"], tmp_path / "good.py")
    assert r.code not in good
    assert good == []  # the fixed model is clean on every rule, not only this one
