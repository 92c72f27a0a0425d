"""The GitHub Action (action.yml): a composite action whose lint step runs here as GitHub would run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

yaml = pytest.importorskip("yaml")

BAD = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(256, 256)
        self.head = nn.Linear(256, 10)
        nn.init.ones_(self.fc.weight)

    def forward(self, x):
        return self.head(self.fc(x).relu())
"""


def action() -> dict:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_is_composite_and_uploads_sarif() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    steps = doc["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert "pip install" in steps[1]["run"]
    assert "--format sarif" in steps[2]["run"] and "--output-file" in steps[2]["run"]
    upload = steps[3]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert all("shell" in s for s in steps if "run" in s)  # composite run steps must name their shell


def test_readme_recipe_uses_the_actions_inputs() -> None:
    readme = (ROOT / "README.md").read_text()
    recipe = readme.split("## CI: GitHub code scanning", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(recipe)
    assert workflow["permissions"]["security-events"] == "write"
    step = next(s for s in workflow["jobs"]["initlint"]["steps"] if "with" in s and "paths" in s["with"])
    assert set(step["with"]) <= set(action()["inputs"])


def _run_lint_step(tmp_path: Path, fail: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """The action's lint step, with its inputs as GitHub passes them (environment variables)."""
    script = action()["runs"]["steps"][2]["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "initlint"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m initlint "$@"\n')
    shim.chmod(0o755)
    output = tmp_path / "github_output"
    output.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "INITLINT_PATHS": "src", "INITLINT_ARGS": "--no-cache --fail-on warning", "SARIF_FILE": "initlint.sarif",
           "FAIL": fail, "GITHUB_OUTPUT": str(output)}
    proc = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc, output.read_text()


def test_lint_step_writes_sarif_and_fails_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "net.py").write_text(BAD)
    proc, outputs = _run_lint_step(tmp_path, "false")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^exit-code=1$", outputs, flags=re.M)
    sarif = json.loads((tmp_path / "initlint.sarif").read_text())
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "INIT003"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/net.py"
    proc, _ = _run_lint_step(tmp_path, "true")
    assert proc.returncode == 1
    (tmp_path / "src" / "broken.py").write_text("import torch\ndef f(:\n")
    proc, outputs = _run_lint_step(tmp_path, "false")
    assert proc.returncode == 2 and "exit-code=2" in outputs  # an unreadable input fails the step anyway
