"""The result cache: hits, invalidation by content, settings and version, corrupt and planted entries."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import initlint
from initlint.api import lint_paths
from initlint.cache import CACHE_DIR_NAME, ENV_VAR, Cache
from initlint.cli import main
from initlint.settings import Settings

KERAS_BAD = """import keras
from keras import layers

model = keras.Sequential([
    keras.Input((256,)),
    layers.Dense(512, activation="relu", kernel_initializer="ones"),
    layers.Dense(10, activation="softmax"),
])
"""
KERAS_FIXED = KERAS_BAD.replace('kernel_initializer="ones"', 'kernel_initializer="he_normal"')


def codes(report: object) -> list[tuple[str, int | None, str]]:
    return [(f.path, f.line, f.code) for f in report.findings]  # type: ignore[attr-defined]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(KERAS_BAD)
    (tmp_path / "plain.py").write_text("print('no framework here')\n")
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    return tmp_path


def entries(cache: Cache) -> list[Path]:
    return sorted(p for p in cache.directory.rglob("*") if p.is_file())


def test_second_run_is_served_from_the_cache(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    first = Cache(tmp_path / "c", settings)
    cold = lint_paths([str(project)], settings, cache=first)
    assert codes(cold) == [(str(project / "bad.py"), 6, "INIT003")]
    assert (first.hits, first.misses) == (0, 3)
    assert len(entries(first)) == 3  # syntax errors are a property of the content: cached too

    second = Cache(tmp_path / "c", settings)
    warm = lint_paths([str(project)], settings, cache=second)
    assert (second.hits, second.misses) == (3, 0)
    assert warm == cold
    assert warm.errors == cold.errors and len(warm.errors) == 1


def test_content_change_is_a_miss(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    lint_paths([str(project)], settings, cache=Cache(tmp_path / "c", settings))
    (project / "bad.py").write_text(KERAS_FIXED)
    cache = Cache(tmp_path / "c", settings)
    report = lint_paths([str(project)], settings, cache=cache)
    assert codes(report) == []
    assert (cache.hits, cache.misses) == (2, 1)


def test_settings_change_is_a_miss(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    lint_paths([str(project)], settings, cache=Cache(tmp_path / "c", settings))
    ignoring = replace(settings, ignore=("INIT003",))
    cache = Cache(tmp_path / "c", ignoring)
    report = lint_paths([str(project)], ignoring, cache=cache)
    assert codes(report) == []
    assert cache.hits == 0
    # Back to the first settings: their entries are still there.
    again = Cache(tmp_path / "c", settings)
    assert codes(lint_paths([str(project)], settings, cache=again)) == [(str(project / "bad.py"), 6, "INIT003")]
    assert again.misses == 0


def test_version_change_is_a_miss(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings()
    lint_paths([str(project)], settings, cache=Cache(tmp_path / "c", settings))
    monkeypatch.setattr(initlint, "__version__", "99.0.0")
    cache = Cache(tmp_path / "c", settings)
    assert cache.directory.name == "99.0.0"
    lint_paths([str(project)], settings, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)


def test_same_content_at_another_path_is_a_miss(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    cache = Cache(tmp_path / "c", settings)
    data = (project / "bad.py").read_bytes()
    assert cache.key(str(project / "bad.py"), data) != cache.key(str(project / "copy.py"), data)


def test_corrupt_entry_is_ignored_and_replaced(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    cold = lint_paths([str(project)], settings, cache=Cache(tmp_path / "c", settings))
    cache = Cache(tmp_path / "c", settings)
    for i, entry in enumerate(entries(cache)):
        entry.write_bytes(b"" if i == 0 else b"\x80\x05garbage" * 3)
    report = lint_paths([str(project)], settings, cache=cache)
    assert report == cold
    assert (cache.hits, cache.misses) == (0, 3)
    rewritten = Cache(tmp_path / "c", settings)
    lint_paths([str(project)], settings, cache=rewritten)
    assert rewritten.hits == 3


class _Planted:
    """What a hostile checkout could leave in a cache folder: a pickle that runs a command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_planted_pickle_is_never_executed(project: Path, tmp_path: Path) -> None:
    settings = Settings()
    cache = Cache(tmp_path / "c", settings)
    target = project / "bad.py"
    key = cache.key(str(target), target.read_bytes())
    entry = cache.directory / key[:2] / key[2:]
    entry.parent.mkdir(parents=True)
    marker = tmp_path / "pwned"
    entry.write_bytes(pickle.dumps(_Planted(marker)))
    report = lint_paths([str(project)], settings, cache=cache)
    assert not marker.exists()
    assert codes(report) == [(str(target), 6, "INIT003")]


def test_cli_writes_cache_in_working_directory_and_no_cache_bypasses_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    bypass = CliRunner().invoke(main, [str(project / "bad.py"), "--no-cache"])
    assert bypass.exit_code == 1 and "INIT003" in bypass.output
    assert not (work / CACHE_DIR_NAME).exists()
    first = CliRunner().invoke(main, [str(project / "bad.py"), "--format", "json"])
    assert (work / CACHE_DIR_NAME / "CACHEDIR.TAG").is_file()
    assert (work / CACHE_DIR_NAME / ".gitignore").read_text() == "*\n"
    second = CliRunner().invoke(main, [str(project / "bad.py"), "--format", "json"])
    assert first.exit_code == second.exit_code == 1
    assert first.output == second.output
    assert [f["code"] for f in json.loads(second.output)["findings"]] == ["INIT003"]


def test_concurrent_runs_share_a_cache_safely(project: Path, tmp_path: Path) -> None:
    for i in range(30):  # enough entries for the two writers to overlap
        (project / f"m{i:02d}.py").write_text(KERAS_BAD)
    env = {**os.environ, ENV_VAR: str(tmp_path / "shared")}
    cmd = [sys.executable, "-m", "initlint", str(project), "--format", "json", "--jobs", "1"]
    runs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [2, 2]  # broken.py
    assert outputs[0][0] == outputs[1][0]
    assert len(json.loads(outputs[0][0])["findings"]) == 31
    leftovers = [p for p in (tmp_path / "shared").rglob(".tmp-*")]
    assert leftovers == []
    warm = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert warm.stdout == outputs[0][0]
