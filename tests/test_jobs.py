"""``--jobs``: a process pool gives byte-identical output to one process, and starts only when it pays."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint import runner
from initlint.api import lint_paths
from initlint.cli import main
from initlint.settings import Settings

from .test_cache import KERAS_BAD

CORPUS = Path(__file__).resolve().parent / "corpus" / "torch"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real model sources and unreadable inputs, padded past a pool's worth with files that name no framework."""
    root = tmp_path_factory.mktemp("tree")
    (root / "models").mkdir()
    for model in sorted(CORPUS.glob("*.py"))[:8]:
        shutil.copy(model, root / "models" / model.name)
    padding = "# a module that names no deep-learning framework\n" * 2000
    for i in range(1 + runner.MIN_PARALLEL_BYTES // len(padding)):
        (root / f"plain_{i}.py").write_text(padding)
    for i in range(5):
        (root / f"keras_{i}.py").write_text(KERAS_BAD)
    (root / "broken.py").write_text("import torch\ndef f(:\n")
    (root / "latin.py").write_bytes(b"import torch\nx = '\xe9'\n")
    (root / "plain.py").write_text("print('no framework')\n")
    return root


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the process pools started (the real ones still run)."""
    started: list[int] = []
    real = runner._context

    def counting() -> multiprocessing.context.BaseContext:
        started.append(1)
        return real()

    monkeypatch.setattr(runner, "_context", counting)
    return started


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "initlint", *args, "--no-cache"], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_jobs_2_prints_exactly_what_jobs_1_prints(tree: Path, fmt: str) -> None:
    one = cli(str(tree), "--format", fmt, "--jobs", "1")
    two = cli(str(tree), "--format", fmt, "--jobs", "2")
    assert one.returncode == two.returncode == 2  # broken.py and latin.py
    assert one.stdout == two.stdout
    assert one.stderr == two.stderr
    assert len(one.stderr.strip().splitlines()) == 2
    if fmt == "json":
        doc = json.loads(one.stdout)
        assert doc["summary"]["files"] == len(list(tree.rglob("*.py")))
        assert sum(f["path"].endswith(".py") for f in doc["findings"]) >= 5  # the Keras INIT003s at least


def test_pool_runs_for_a_large_tree_and_agrees_in_process(tree: Path, pools: list[int]) -> None:
    one = lint_paths([str(tree)], Settings(), jobs=1)
    assert pools == []
    two = lint_paths([str(tree)], Settings(), jobs=2)
    assert pools == [1]
    assert two == one
    assert [r.path for r in two.results] == sorted(r.path for r in two.results)


def test_no_pool_for_a_single_small_file(tree: Path, pools: list[int]) -> None:
    result = CliRunner().invoke(main, [str(tree / "keras_0.py"), "--jobs", "2", "--no-cache"])
    assert result.exit_code == 1 and "INIT003" in result.output
    assert pools == []


def test_jobs_must_be_positive(tree: Path) -> None:
    result = CliRunner().invoke(main, [str(tree / "keras_0.py"), "--jobs", "0"])
    assert result.exit_code == 2 and "--jobs" in result.output
