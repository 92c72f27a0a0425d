"""Registry integrity: every rule has exactly one check module named after it, and every check a rule."""

from __future__ import annotations

import pkgutil

from initlint import checks
from initlint.checks import CHECKS
from initlint.rulebook import rules


def test_codes_and_names_are_distinct() -> None:
    names = [r.name for r in rules().values()]
    assert len(set(names)) == len(names)
    assert all(code.startswith("INIT") and len(code) == 7 for code in rules())


def test_every_rule_has_one_check_and_every_check_a_rule() -> None:
    assert sorted(CHECKS) == sorted(rules())


def test_check_modules_are_named_after_their_rule() -> None:
    modules = sorted(m.name for m in pkgutil.iter_modules(checks.__path__) if m.name.startswith("init"))
    expected = sorted(f"{r.code.lower()}_{r.name.replace('-', '_')}" for r in rules().values())
    assert modules == expected
