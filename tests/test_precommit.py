"""The real pre-commit package runs the hook of this checkout in a temporary git repository."""

from __future__ import annotations

import os
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
