"""`initlint examples/` (the README's first command) finds real problems in each bundled example."""

from __future__ import annotations

from click.testing import CliRunner

from initlint import lint_paths
from initlint.cli import main

from .conftest import ROOT

EXAMPLES = ROOT / "examples"


def test_each_example_has_findings_and_no_errors() -> None:
    report = lint_paths([str(EXAMPLES)])
    assert report.errors == []
    by_file = {r.path.rsplit("/", 1)[-1]: r for r in report.results}
    for name in ("torch_model.py", "keras_model.py", "model.onnx"):
        assert name in by_file, sorted(by_file)
        assert by_file[name].findings, f"{name} has no findings"


def test_torch_example_findings() -> None:
    report = lint_paths([str(EXAMPLES / "torch_model.py")])
    got = {(f.layer.split(".")[-1], f.code, f.severity) for f in report.findings}
    assert ("fc1", "INIT001", "warning") in got  # xavier before ReLU on a square layer
    assert ("fc2", "INIT005", "advice") in got  # PyTorch default before ReLU
    assert ("gate", "INIT002", "error") in got  # normal_(0, 1)
    assert ("up", "INIT010", "error") in got  # torch.empty never filled
    codes = {code for _, code, _ in got}
    assert {"INIT004", "INIT009"} <= codes  # nonlinearity="selu"; Dropout in a SELU net
    assert not any(layer == "head" for layer, _, _ in got)  # output head on defaults is fine
    assert not any(layer == "conv" for layer, _, _ in got)  # He fan_out + BN + ReLU is right


def test_cli_on_examples_exits_1() -> None:
    result = CliRunner().invoke(main, [str(EXAMPLES)])
    assert result.exit_code == 1, result.output
    assert "files" in result.output.splitlines()[-1]
