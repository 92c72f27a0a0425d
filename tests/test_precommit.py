"""The real pre-commit package runs the hook of this checkout in a temporary git repository."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

BAD = '''import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 512)
        self.out = nn.Linear(512, 10)
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.xavier_uniform_(self.fc2.weight)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x)
'''
GOOD = BAD.replace("nn.init.xavier_uniform_(self.fc1.weight)", 'nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")')
GOOD = GOOD.replace("nn.init.xavier_uniform_(self.fc2.weight)", 'nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")')


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, text=True, capture_output=True, check=check)


def snapshot_of_checkout(dest: Path) -> str:
    """This checkout's files as they are now, committed in a fresh hook repository; returns the revision."""
    listed = git(ROOT, "ls-files", "--cached", "--others", "--exclude-standard").stdout.split()
    for name in listed:
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "snapshot")
    return git(dest, "rev-parse", "HEAD").stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_precommit_hook_blocks_bad_model_and_passes_fixed(tmp_path: Path) -> None:
    hook_repo = tmp_path / "hook"
    hook_repo.mkdir()
    rev = snapshot_of_checkout(hook_repo)
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: initlint\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    pre_commit = [sys.executable, "-m", "pre_commit"]
    subprocess.run([*pre_commit, "install"], cwd=project, env=env, check=True, capture_output=True)

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        git(project, "add", "-A")
        return subprocess.run(
            ["git", "commit", "-m", message], cwd=project, text=True, capture_output=True,
            env={**env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                 "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                 "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")},
        )

    (project / "README.md").write_text("no python here\n")
    first = commit("docs only")
    assert first.returncode == 0, first.stdout + first.stderr

    (project / "model.py").write_text(BAD)
    bad = commit("bad model")
    assert bad.returncode != 0
    assert "INIT001" in bad.stdout + bad.stderr

    (project / "model.py").write_text(GOOD)
    good = commit("fixed model")
    assert good.returncode == 0, good.stdout + good.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("hook", ["initlint", "initlint-fix"])
def test_a_file_named_like_an_option_is_linted_as_a_file(tmp_path: Path, hook: str) -> None:
    """A committed ``--select=NOTHING.py`` must not turn into ``--select NOTHING`` (which would pass everything)."""
    hook_repo = tmp_path / "hook"
    hook_repo.mkdir()
    rev = snapshot_of_checkout(hook_repo)
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {hook_repo}\n  rev: {rev}\n  hooks:\n  - id: {hook}\n"
    )
    tricky = project / "--select=NOTHING.py"
    tricky.write_text(BAD)
    (project / "-h.py").write_text(GOOD)  # would print the help and pass
    git(project, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=project, env=env,
                         text=True, capture_output=True)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Failed" in out and "Passed" not in out
    if hook == "initlint":
        assert "--select=NOTHING.py:8:20: INIT001" in out, out
        assert tricky.read_text() == BAD
    else:  # the fix hook rewrote the file it was given as a file
        assert "files were modified by this hook" in out, out
        assert "kaiming" in tricky.read_text()
    assert (project / "-h.py").read_text() == GOOD


def _notebook(source: str) -> str:
    """A real nbformat-4 notebook: a markdown cell, the imports (after a magic), the model in its own cell."""
    imports, _, model = source.partition("\n\n\n")
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# A model\n"]},
        {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
         "source": ["%matplotlib inline\n", *imports.splitlines(keepends=True)]},
        {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
         "source": model.splitlines(keepends=True)},
    ]
    doc = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1) + "\n"


def readme_precommit_snippets() -> list[str]:
    section = (ROOT / "README.md").read_text().split("\n## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("which", ["local", "clone"])
def test_readme_precommit_snippet_works_as_written(tmp_path: Path, which: str) -> None:
    """The README's snippets, unchanged but for the clone's path and commit, on .py files and a notebook."""
    local, clone = readme_precommit_snippets()
    config = local
    if which == "clone":
        hook_repo = tmp_path / "initlint"
        hook_repo.mkdir()
        rev = snapshot_of_checkout(hook_repo)
        config = clone.replace("/path/to/initlint", str(hook_repo)).replace("<commit>", rev)
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    (project / ".pre-commit-config.yaml").write_text(config)
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT),
           "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    if which == "clone":
        env.pop("PYTHONPATH")  # the hook's own environment, installed by pre-commit from the clone
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=project, env=env, check=True,
                   capture_output=True)

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        git(project, "add", "-A")
        return subprocess.run(["git", "commit", "-m", message], cwd=project, text=True, capture_output=True, env=env)

    (project / "model.py").write_text(BAD)
    (project / "other.py").write_text(BAD.replace("class MLP", "class Other"))
    (project / "explore.ipynb").write_text(_notebook(BAD))
    bad = commit("bad models")
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "model.py:8:20: INIT001" in output and "other.py:8:20: INIT001" in output
    assert "explore.ipynb:cell 3:4:20: INIT001" in output  # the model's cell, line 4 of it
    assert len(re.findall(r"^\d+ files?, \d+ layers", output, flags=re.M)) == 1  # require_serial: one summary
    assert "3 files," in output

    (project / "model.py").write_text(GOOD)
    (project / "other.py").write_text(GOOD.replace("class MLP", "class Other"))
    (project / "explore.ipynb").write_text(_notebook(GOOD))
    good = commit("fixed models")
    assert good.returncode == 0, good.stdout + good.stderr
