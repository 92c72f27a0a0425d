"""The benchmark script's smoke mode runs end to end and writes consistent JSON (no timing is judged against a bound)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_quick_run_writes_wellformed_json(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"model_{i}.py").write_text(MODEL)
    (corpus / "plain.py").write_text("print('no framework')\n")
    texts = [p.read_text() for p in corpus.iterdir()]
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--corpus", str(corpus),
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["reps"] == 1 and doc["machine"]["cores"] >= 1

    static = doc["static"]
    assert static["files"] == 4 and static["framework_files"] == 3
    assert static["lines"] == sum(t.count("\n") + 1 for t in texts)
    assert static["bytes"] == sum(len(t.encode()) for t in texts)
    assert static["findings"] == 3 and static["layers"] == 6 and static["errors"] == 0  # one INIT001 per model
    for name in ("ast_parse", "libcst_parse", "initlint"):
        row = static[name]
        assert row["reps"] == 1
        assert row["median_cpu_s"] == row["cpu_s"] and row["median_wall_s"] == row["wall_s"]  # one sample
    for name in ("libcst_parse", "initlint"):  # parsing and linting files is work: it takes CPU time
        assert static[name]["cpu_s"] > 0 and static[name]["wall_s"] > 0
    assert set(static["cli"]) == {"jobs1", "jobs2", "cache_cold", "cache_warm"}
    for row in static["cli"].values():  # a whole interpreter start-up each
        assert row["cpu_s"] > 0 and row["wall_s"] > 0 and row["peak_rss_mib"] > 0 and row["reps"] == 1
    assert static["exit_codes"] == [1]
    assert static["cache_entries"]["after_cold"] > 0  # the cold run fills the cache ...
    assert static["cache_entries"]["written_by_warm_runs"] == 0  # ... and the warm run only reads it

    project = doc["project"]  # SPEC 8.32: whole-project runs beside a bare parse, one changed file with a warm cache
    assert project["files"] == 4 and project["libcst_parse"]["cpu_s"] > 0
    for name in ("whole_text", "whole_json", "cache_fill"):
        assert project[name]["cpu_s"] > 0 and project[name]["reps"] >= 1
    for name in ("one_file_project_warm", "one_file_project_cold", "one_file_alone_warm"):
        assert project[name]["median_cpu_s"] > 0 and project[name]["exit_code"] == 1  # the model files have findings
    assert project["whole_outputs_equal_across_reps"] is True
    assert project["whole_json_over_parse_cpu"] == pytest.approx(
        project["whole_json"]["cpu_s"] / project["libcst_parse"]["cpu_s"], abs=1e-3)
    assert project["changed_file"].endswith(".py")

    precommit = doc["precommit"]
    assert {"import_libcst", "python_m_initlint"} <= set(precommit)
    assert precommit["import_libcst"]["exit_code"] == 0
    for name, row in precommit.items():
        if isinstance(row, dict):
            assert row["median_cpu_s"] > 0 and row["min_wall_s"] <= row["median_wall_s"]
            if name != "import_libcst":
                assert row["exit_code"] == 1, name  # the small model has findings

    sizes = doc["scaling"]["sizes"]
    assert len(sizes) == 2 and sizes[1]["lines"] > 1.8 * sizes[0]["lines"]
    assert sizes[1]["layers"] > sizes[0]["layers"] > 0
    assert all(s["error"] is None and s["findings"] > 0 and s["initlint"]["cpu_s"] > 0 for s in sizes)
    assert doc["scaling"]["time_ratio"] == pytest.approx(
        sizes[1]["initlint"]["cpu_s"] / sizes[0]["initlint"]["cpu_s"], abs=1e-3)

    onnx = doc["onnx"]
    if _has("onnx"):
        for row in onnx["layers"]:  # He-scaled Gemm+Relu stacks: every layer measured, nothing to report
            assert row["initlint"]["layers"] == row["layers"] == row["onnx.load"]["initializers"]
            assert row["initlint"]["error"] is None and row["initlint"]["findings"] == []
    else:
        assert "skipped" in onnx
    live = doc["live"]
    if _has("torch"):  # Linear(32, 64) on the default before ReLU, then a head
        assert (live["params"], live["layers"], live["findings"]) == (2762, 2, 1)
        assert live["check_model_cpu_s"] > 0 and live["forward_backward_cpu_s"] > 0
    else:
        assert "skipped" in live

    rows = {t["target"]: t for t in doc["targets"]}
    assert len(rows) == len(doc["targets"]) >= 5
    assert {"static single process / bare libcst parse (CPU)", "warm cache / cold (wall)",
            "pre-commit one file (python -m) / import libcst", "2x file -> time ratio"} <= set(rows)
    for t in rows.values():  # measured in this run: a value, and met says whether it is within the bound
        assert t["value"] is not None and isinstance(t["met"], bool), t
        higher_is_better = "speed-up" in t["target"]
        if abs(t["value"] - t["bound"]) > 1e-3:  # the value is rounded, met is not
            assert t["met"] == (t["value"] >= t["bound"] if higher_is_better else t["value"] <= t["bound"]), t
    ratio = static["initlint"]["cpu_s"] / static["libcst_parse"]["cpu_s"]
    assert rows["static single process / bare libcst parse (CPU)"]["value"] == pytest.approx(ratio, abs=1e-3)
    assert rows["2x file -> time ratio"]["value"] == pytest.approx(doc["scaling"]["time_ratio"], abs=1e-3)
    assert rows["whole-project run, text / bare libcst parse (CPU)"]["value"] == pytest.approx(
        project["whole_text"]["cpu_s"] / project["libcst_parse"]["cpu_s"], abs=1e-3)
    assert "wrote" in run.stdout and "static single process" in run.stdout
