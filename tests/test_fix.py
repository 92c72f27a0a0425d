"""``--fix`` / ``--diff``: golden ``.in.py`` / ``.out.py`` pairs, and fixer invariants over every fixture file.

Regenerate the ``.out.py`` files after an intended change with
``INITLINT_UPDATE_FIXTURES=1 python -m pytest tests/test_fix.py`` and review the diff.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint import lint_source
from initlint.cli import main
from initlint.engine import PRECEDENCE
from initlint.fixes import plan_source

from .conftest import FIXTURES, ROOT

FIXES = FIXTURES / "fixes"
CASES = sorted(FIXES.glob("*.in.py"))
UPDATE = os.environ.get("INITLINT_UPDATE_FIXTURES") == "1"
# Every linted fixture of the other suites: fixing them must keep the invariants below.
ALL_FIXTURES = sorted(p for p in FIXTURES.rglob("*.py") if "fixes" not in p.parts) + CASES


def fix_text(text: str, name: str) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(fixed text, descriptions, [(finding, reason)] without a fix) for a source text linted as ``name``."""
    result = lint_source(text, name)
    planned = plan_source(text, result)
    return (
        planned.new_text,
        [fix.description for fix in planned.fixes],
        [(f"{f.line}:{f.code}", why) for f, why in planned.unfixed],
    )


@pytest.mark.parametrize("case", CASES, ids=[p.name.removesuffix(".in.py") for p in CASES])
def test_golden(case: Path) -> None:
    expected_path = case.with_name(case.name.replace(".in.py", ".out.py"))
    fixed, descriptions, _ = fix_text(case.read_text(), case.name)
    if UPDATE:
        expected_path.write_text(fixed)
    assert expected_path.is_file(), f"missing {expected_path.name}: run with INITLINT_UPDATE_FIXTURES=1"
    assert fixed == expected_path.read_text()
    if "nofix" not in case.name:
        assert descriptions, "a fix case must fix something"


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=[str(p.relative_to(FIXTURES)) for p in ALL_FIXTURES])
def test_invariants(path: Path) -> None:
    """Fixed files parse, re-lint without the fixed layers' findings, and a second fix changes nothing."""
    text = path.read_text()
    before = lint_source(text, path.name)
    planned = plan_source(text, before)
    ast.parse(planned.new_text)
    after = lint_source(planned.new_text, path.name)
    assert after.error is None, after.error
    fixed_layers = {fix.finding.layer for fix in planned.fixes}
    still = [(f.layer, f.code) for f in after.findings if f.layer in fixed_layers and f.code in PRECEDENCE]
    assert still == []
    # nothing new appears on layers that had no finding
    flagged_before = {f.layer for f in before.findings}
    new = [(f.layer, f.code) for f in after.findings if f.layer not in flagged_before]
    assert new == []
    again = plan_source(planned.new_text, after)
    assert again.new_text == planned.new_text, again.diff()
    for fix in planned.fixes:  # JSON's fix description exists exactly for the fixed findings
        assert fix.description


def test_unfixed_findings_say_why() -> None:
    case = FIXES / "keras_kwargs_and_loop.in.py"
    fixed, _, unfixed = fix_text(case.read_text(), case.name)
    # `**COMMON` may set the initializer: the layer is unresolved, so there is nothing to fix or report.
    assert not any(item[0].startswith("11:") for item in unfixed)
    assert fixed.splitlines()[10] == case.read_text().splitlines()[10]
    assert all(f.line != 11 for f in lint_source(case.read_text(), case.name).findings)


def test_cli_diff_and_fix(tmp_path: Path) -> None:
    case = FIXES / "keras_sequential.in.py"
    target = tmp_path / "model.py"
    shutil.copy(case, target)
    original = target.read_text()
    diff = CliRunner().invoke(main, ["--no-cache", "--diff", str(target)])
    assert diff.exit_code == 1
    assert diff.output.startswith(f"--- {target}\n+++ {target}\n")
    assert '+        layers.Dense(512, activation="relu", kernel_initializer="he_normal"),' in diff.output
    assert target.read_text() == original  # --diff changes nothing
    fixed = CliRunner().invoke(main, ["--no-cache", "--fix", str(target)])
    assert "fixed 5 findings in 1 file" in fixed.output
    assert fixed.exit_code == 0, fixed.output
    assert target.read_text() == case.with_name("keras_sequential.out.py").read_text()
    clean = CliRunner().invoke(main, ["--no-cache", "--diff", str(target)])
    assert clean.exit_code == 0 and clean.output == ""


def test_subprocess_fix(tmp_path: Path) -> None:
    target = tmp_path / "functional.py"
    shutil.copy(FIXES / "keras_functional.in.py", target)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "initlint", "--no-cache", "--fix", str(target)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixed 3 findings in 1 file" in proc.stderr
    assert target.read_text() == (FIXES / "keras_functional.out.py").read_text()


def test_precommit_hooks_declare_lint_and_fix(tmp_path: Path) -> None:
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["initlint-fix"]["entry"] == "initlint --fix"
    assert hooks["initlint-fix"]["language"] == "python" and hooks["initlint-fix"]["types_or"] == ["python", "jupyter"]
    assert all(hook["require_serial"] for hook in hooks.values())  # one process, one summary per run
    # the entry, as pre-commit runs it: the command with the staged file names appended
    target = tmp_path / "net.py"
    shutil.copy(FIXES / "torch_module_default.in.py", target)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "initlint", *hooks["initlint-fix"]["entry"].split()[1:], "--no-cache", str(target)]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert target.read_text() == (FIXES / "torch_module_default.out.py").read_text()


def test_cli_diff_names_findings_without_a_fix(tmp_path: Path) -> None:
    target = tmp_path / "tower.py"
    shutil.copy(FIXES / "torch_nofix.in.py", target)
    result = CliRunner().invoke(main, ["--no-cache", "--diff", str(target)])
    assert result.exit_code == 0 and result.stdout == ""  # nothing to change
    lines = result.stderr.splitlines()
    assert f"{target}:11:38: INIT005 has no automatic fix: this site builds 4 layers; fix them by hand" in lines
    assert f"{target}:12:21: INIT005 has no automatic fix: a lazy layer has no weight until its first forward" in lines
    assert any(line.startswith(f"{target}:31:19: INIT001 has no automatic fix: the init call at line 35") for line in lines)


def test_fix_keeps_encoding_and_newlines(tmp_path: Path) -> None:
    text = (FIXES / "torch_module_default.in.py").read_text()
    source = "# -*- coding: latin-1 -*-\n# Caf\u00e9 model\n" + text
    target = tmp_path / "latin.py"
    target.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    result = CliRunner().invoke(main, ["--no-cache", "--fix", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert b"Caf\xe9" in data and b"\n" not in data.replace(b"\r\n", b"")
    fixed = data.decode("latin-1").replace("\r\n", "\n")
    assert 'nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")' in fixed


def test_a_planner_bug_leaves_the_file_alone_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import initlint.fixes as fixes

    case = FIXES / "torch_module_default.in.py"
    text = case.read_text()
    result = lint_source(text, str(case))

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(fixes, "_plan", broken)
    planned = fixes.plan_source(text, result)
    assert not planned.changed and planned.new_text == text
    assert planned.unfixed and all("internal error" in why and "please report" in why for _, why in planned.unfixed)
