"""The benchmark script's smoke mode runs end to end and writes well-formed JSON (no timings are judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

MODEL = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 64)
        self.head = nn.Linear(64, 10)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.head(self.fc(x).relu())
"""


def test_quick_run_writes_wellformed_json(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"model_{i}.py").write_text(MODEL)
    (corpus / "plain.py").write_text("print('no framework')\n")
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--corpus", str(corpus),
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["machine"]["cores"] >= 1
    static = doc["static"]
    assert static["files"] == 4 and static["framework_files"] == 3
    assert static["findings"] >= 3  # one INIT001 per model file
    for name in ("ast_parse", "libcst_parse", "initlint"):
        assert static[name]["cpu_s"] >= 0 and static[name]["reps"] == 1
    assert set(static["cli"]) == {"jobs1", "jobs2", "cache_cold", "cache_warm"}
    assert static["exit_codes"] == [1]
    assert {"import_libcst", "python_m_initlint"} <= set(doc["precommit"])
    sizes = doc["scaling"]["sizes"]
    assert len(sizes) == 2 and sizes[1]["lines"] > 1.8 * sizes[0]["lines"]
    assert sizes[1]["layers"] > sizes[0]["layers"] > 0
    for section in ("onnx", "live"):
        assert section in doc  # measured, or skipped with the reason
    names = [t["target"] for t in doc["targets"]]
    assert len(names) == len(set(names)) >= 5
    assert all(t["met"] in (True, False, None) for t in doc["targets"])
    assert "wrote" in run.stdout and "static single process" in run.stdout
