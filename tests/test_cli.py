"""The command line through click's CliRunner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from initlint.cli import main

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


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_rules_and_explain() -> None:
    code, out = run("rules")
    assert code == 0 and out.count("INIT0") == 10
    code, out = run("explain", "init004")
    assert code == 0 and "## What it does" in out and "LeCun" in out
    code, out = run("explain", "INIT999")
    assert code == 2 and "unknown rule code" in out


def test_bad_inputs_exit_2_and_others_still_linted(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(BAD)
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    (tmp_path / "latin.py").write_bytes(b"import torch\nx = '\xe9'\n")
    result = CliRunner().invoke(main, [str(tmp_path), "--format", "json"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert [f["code"] for f in doc["findings"]] == ["INIT003"]
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2
    assert any("broken.py:2:" in e and "syntax error" in e for e in errors)
    assert any("latin.py" in e and "UTF-8" in e for e in errors)


def test_exit_codes_follow_fail_on(tmp_path: Path) -> None:
    model = tmp_path / "m.py"
    model.write_text(BAD)
    assert run(str(model))[0] == 1
    assert run(str(model), "--ignore", "INIT003")[0] == 0
    assert run(str(model), "--select", "INIT001")[0] == 0
    (tmp_path / "plain.py").write_text("print('no framework here')\n")
    code, out = run(str(tmp_path / "plain.py"))
    assert code == 0 and out.startswith("1 file, 0 layers")


def test_json_schema(tmp_path: Path) -> None:
    model = tmp_path / "m.py"
    model.write_text(BAD)
    code, out = run(str(model), "--format", "json")
    doc = json.loads(out)
    assert doc["version"] == 1
    (finding,) = doc["findings"]
    assert set(finding) == {"code", "name", "severity", "path", "line", "column", "layer", "framework", "init",
                            "activation", "message", "fix"}
    assert finding["line"] == 7 and finding["code"] == "INIT003" and finding["framework"] == "torch"
    assert set(doc["summary"]) == {"files", "layers", "resolved", "unresolved", "errors", "warnings", "advice"}
    assert doc["summary"]["layers"] == doc["summary"]["resolved"] + doc["summary"]["unresolved"]
    assert run(str(model), "--format", "json")[1] == out  # deterministic


def test_real_process_does_not_import_heavy_frameworks(tmp_path: Path) -> None:
    model = tmp_path / "m.py"
    model.write_text(BAD)
    code = (
        "import sys\n"
        "from initlint.cli import main\n"
        "try:\n"
        f"    main([{str(model)!r}])\n"
        "except SystemExit as exit:\n"
        "    heavy = [m for m in ('torch', 'onnx', 'keras', 'tensorflow', 'numpy') if m in sys.modules]\n"
        "    print('HEAVY', heavy, 'EXIT', exit.code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], text=True, capture_output=True, check=True).stdout
    assert "HEAVY [] EXIT 1" in out
    assert "INIT003" in out
