"""The built wheel carries the rules data: install it in a fresh venv and lint from another directory."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from .conftest import ROOT


def test_wheel_installs_and_lints(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = dist.glob("initlint-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    model = elsewhere / "model.py"
    model.write_text(
        "import torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(256, 256)\n"
        "        self.head = nn.Linear(256, 10)\n"
        "        nn.init.ones_(self.fc.weight)\n\n"
        "    def forward(self, x):\n"
        "        return self.head(self.fc(x).relu())\n"
    )
    initlint = env_dir / "bin" / "initlint"
    rules = subprocess.run([str(initlint), "rules"], cwd=elsewhere, text=True, capture_output=True)
    assert rules.returncode == 0 and "INIT010" in rules.stdout
    run = subprocess.run([str(initlint), "model.py"], cwd=elsewhere, text=True, capture_output=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "INIT003" in run.stdout
    installed = subprocess.run(
        [str(python), "-c", "import initlint.rulebook as r; print(r.rules_dir())"], cwd=elsewhere,
        text=True, capture_output=True, check=True,
    ).stdout
    assert "site-packages" in installed
