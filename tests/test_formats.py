"""``--format sarif`` (validated against the SARIF 2.1.0 schema) and ``--format github``, plus the rule docs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from initlint.cli import main
from initlint.engine import findings
from initlint.fixes import annotate
from initlint.records import Activation, FileResult, Finding, InitSpec, LayerRecord, Origin, Report
from initlint.reporters import REPORTERS, github, sarif
from initlint.rulebook import rules
from initlint.settings import Settings

from .conftest import ROOT

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())

NET = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)
        nn.init.xavier_uniform_(self.fc1.weight)
        self.fc2 = nn.Linear(512, 512)
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.head(x)
"""
RELU = Activation("ReLU", "relu")


def report_for(path: Path, graph: Path | None = None) -> Report:
    """A report on ``NET`` written at ``path``: INIT001 at line 8 (init call line 9), INIT005 at line 10."""
    name = str(path)
    xavier = InitSpec("glorot", "declared", 1.0, "fan_avg", "uniform", call="nn.init.xavier_uniform_", line=9, column=9)
    default = InitSpec("torch-default", "default", 1 / 3, "fan_in", "uniform", call="PyTorch default")
    records = (
        LayerRecord("Net.fc1", "linear", "torch", Origin(name, 8, 20), 512, 512, xavier, RELU, scope="Net"),
        LayerRecord("Net.fc2", "linear", "torch", Origin(name, 10, 20), 512, 512, default, RELU, scope="Net"),
    )
    results = [FileResult(name, records, tuple(findings(records, Settings())))]
    if graph is not None:
        measured = InitSpec("glorot", "measured", 1.0, "fan_avg", "uniform", measured_std=0.044)
        node = LayerRecord("/fc1/Gemm", "linear", "onnx", Origin(str(graph)), 512, 512, measured, RELU)
        results.append(FileResult(str(graph), (node,), tuple(findings([node], Settings()))))
    return Report(tuple(results))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text(NET)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_sarif_validates_and_carries_rules_locations_fixes(project: Path) -> None:
    report = report_for(Path("models/net.py"), graph=project / "model.onnx")
    doc = sarif.document(annotate(report, edits=True))
    jsonschema.validate(doc, SCHEMA)
    run = doc["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "initlint" and driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == list(rules())
    rule = driver["rules"][0]
    assert rule["name"] == "init-activation-mismatch"
    example = rule["help"]["markdown"].split("## Example\n\n", 1)[1]
    assert example.startswith("```python\nimport ") and "\n```" in example  # code, not Markdown headings
    assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and "What it does" in rule["help"]["text"]
    assert rule["helpUri"].endswith("docs/rules/INIT001.md")
    by_rule = {r["ruleId"]: r for r in run["results"] if r["properties"]["layer"].startswith("Net.")}
    mismatch = by_rule["INIT001"]
    assert mismatch["level"] == "warning"
    assert mismatch["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "models/net.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 8, "startColumn": 20},
    }
    assert mismatch["relatedLocations"][0]["physicalLocation"]["region"] == {"startLine": 9}
    assert by_rule["INIT005"]["level"] == "note"
    # graph findings: no region, the node named as a logical location
    graph = [r for r in run["results"] if r["properties"]["layer"] == "/fc1/Gemm"][0]
    assert "region" not in graph["locations"][0]["physicalLocation"]
    assert graph["locations"][0]["logicalLocations"] == [{"name": "/fc1/Gemm", "kind": "object"}]
    # fixes: the replacement applied to the file gives the recommended init call
    fix = mismatch["fixes"][0]
    change = fix["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "models/net.py"
    text = NET
    for rep in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["charOffset"]):
        start, length = rep["deletedRegion"]["charOffset"], rep["deletedRegion"]["charLength"]
        text = text[:start] + rep.get("insertedContent", {}).get("text", "") + text[start + length:]
    assert 'nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")' in text
    assert "xavier_uniform_" not in text
    assert "fixes" in by_rule["INIT005"]


def test_sarif_uri_outside_cwd_is_absolute(project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "net.py"
    elsewhere.write_text(NET)
    doc = sarif.document(report_for(elsewhere))
    jsonschema.validate(doc, SCHEMA)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": elsewhere.resolve().as_uri()}


def test_sarif_suppressed_and_errors_validate(project: Path) -> None:
    report = report_for(Path("models/net.py"))
    result = report.results[0]
    report = Report((FileResult(result.path, result.records, result.findings[1:], error="models/bad.py:3:1: syntax error",
                                suppressed=result.findings[:1]),))
    doc = sarif.document(report, show_suppressed=True)
    jsonschema.validate(doc, SCHEMA)
    results = doc["runs"][0]["results"]
    assert [r.get("suppressions") for r in results] == [None, [{"kind": "inSource"}]]
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_github_annotations_line_by_line(project: Path) -> None:
    report = report_for(Path("models/net.py"), graph=Path("model.onnx"))
    lines = REPORTERS["github"](report, False, False).splitlines()
    assert len(lines) == 3
    first, second, third = lines
    assert first.startswith("::warning file=models/net.py,line=8,col=20,title=INIT001 init-activation-mismatch::")
    assert second.startswith("::notice file=models/net.py,line=10,col=20,title=INIT005 default-init-mismatch::")
    assert third.startswith("::warning file=model.onnx,title=INIT001 init-activation-mismatch::/fc1/Gemm: ")
    for line in lines:
        assert "\n" not in line and "\r" not in line


def test_github_escaping() -> None:
    assert github.escape_data("50% of\nlines\r") == "50%25 of%0Alines%0D"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    finding = Finding("INIT003", "constant-init", "error", "dir,x/a:b.py", 3, 1, "m", "torch", "", "", "bad:\n100%")
    assert github.annotation(finding) == (
        "::error file=dir%2Cx/a%3Ab.py,line=3,col=1,title=INIT003 constant-init::bad:%0A100%25"
    )
    assert github.annotation(finding, suppressed=True).startswith("::notice ")


def test_rule_docs_are_up_to_date() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gen_rule_docs
    finally:
        sys.path.pop(0)
    assert gen_rule_docs.stale() == [], "run: python scripts/gen_rule_docs.py"
    for code in rules():
        assert (ROOT / "docs" / "rules" / f"{code}.md").is_file()


def test_cli_formats_end_to_end(project: Path) -> None:
    """Through the CLI on a real lint (needs the PyTorch frontend): SARIF validates, github has one line per finding."""
    out = CliRunner().invoke(main, ["--no-cache", "--format", "sarif", "models"])
    doc = json.loads(out.output)
    jsonschema.validate(doc, SCHEMA)
    results = doc["runs"][0]["results"]
    assert {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results} == {
        ("INIT001", 8),
        ("INIT005", 10),
    }
    assert all(r["fixes"] for r in results)
    gh = CliRunner().invoke(main, ["--no-cache", "--format", "github", "models"])
    assert gh.exit_code == 1
    assert [line.split(" ", 1)[0] for line in gh.output.splitlines()] == ["::warning", "::notice"]
    js = json.loads(CliRunner().invoke(main, ["--no-cache", "--format", "json", "models"]).output)
    fixes = {f["code"]: f["fix"] for f in js["findings"]}
    assert fixes["INIT001"].startswith("replace `nn.init.xavier_uniform_(self.fc1.weight)` with `nn.init.kaiming_normal_(")
    assert fixes["INIT005"].startswith('insert `nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")` after line 10')


def test_subprocess_sarif(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "initlint", "--no-cache", "--format", "sarif", "models"],
        capture_output=True, text=True, env=env, cwd=project, timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    jsonschema.validate(json.loads(proc.stdout), SCHEMA)
