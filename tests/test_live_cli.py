"""``initlint check TARGET`` through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from initlint.cli import main  # noqa: E402

TARGETS = Path(__file__).resolve().parent / "live_targets"
MLP = f"{TARGETS / 'mlp.py'}:build"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_factory_with_kwargs_text_table() -> None:
    code, out, err = run(MLP, "--kwargs", '{"depth": 6, "width": 64}')
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0] == "MLP on input 128,64 (consumers by fx tracing)"
    assert lines[1].split()[:5] == ["layer", "type", "shape", "fan_in", "fan_out"]
    assert lines[2].split()[:7] == ["hidden.0", "linear", "64x64", "64", "64", lines[2].split()[5], "torch-default"]
    assert any(line.startswith("signal (hidden.0 -> hidden.5, 6 calls): forward std") for line in lines)
    assert f"{TARGETS / 'mlp.py'}: hidden.0: INIT005 [advice]" in out
    assert lines[-1] == "1 file, 7 layers (7 resolved, 0 unresolved): 0 errors, 1 warning, 6 advice"


def test_json_has_layers_signal_and_findings(tmp_path: Path) -> None:
    png = tmp_path / "signal.png"
    code, out, err = run(MLP, "--kwargs", '{"depth": 50, "init": "normal"}', "--format", "json", "--plot", str(png),
                         "--seed", "3")
    assert code == 1, err
    doc = json.loads(out)  # overflowing values are written as null, so this is strict JSON
    assert doc["version"] == 1 and doc["model"] == "MLP" and doc["input_shape"] == [128, 128]
    assert doc["summary"]["layers"] == 51 and doc["summary"]["errors"] == 50
    assert len(doc["layers"]) == 51 and len(doc["signal"]["curve"]) == 51
    row = doc["layers"][0]
    assert set(row) >= {"layer", "type", "shape", "fan_in", "fan_out", "measured_std", "scheme", "consumer",
                        "required_std", "ratio", "forward_std", "grad_std", "verdict"}
    assert row["scheme"] == "fixed-std" and row["verdict"] == "INIT002"
    assert doc["signal"]["threshold"] == 10.0
    assert doc["signal"]["curve"][-2]["forward_std"] is None  # overflowed
    [network] = [f for f in doc["findings"] if f["code"] == "INIT008"]
    assert network["line"] is None and network["column"] is None and network["layer"] == "MLP"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_threshold_and_input_shape_options() -> None:
    args = [MLP, "--kwargs", '{"depth": 6, "width": 32}', "--format", "json", "--input-shape", "16,32"]
    code, out, _ = run(*args)
    doc = json.loads(out)
    assert doc["input_shape"] == [16, 32] and any(f["code"] == "INIT008" for f in doc["findings"])
    code, out, _ = run(*args, "--signal-threshold", "1e6", "--fail-on", "error")
    doc = json.loads(out)
    assert code == 0 and doc["signal"]["threshold"] == 1e6
    assert not any(f["code"] == "INIT008" for f in doc["findings"])


def test_apply_demo_shows_before_and_after() -> None:
    code, out, err = run(MLP, "--kwargs", '{"depth": 12, "width": 64}', "--apply-demo")
    assert code == 1, err  # the exit code is about the model as built
    before, after = out.split("\napply_recommended_init(model):\n")
    assert "INIT008 [warning]" in before
    assert 'hidden.0: torch-default -> nn.init.kaiming_normal_(model.hidden[0].weight, nonlinearity="relu")' in after
    assert "head: torch-default -> nn.init.xavier_uniform_(model.head.weight)" in after
    assert after.rstrip().splitlines()[-1].endswith("0 errors, 0 warnings, 0 advice")


@pytest.mark.parametrize("target, reason", [
    (f"{TARGETS / 'broken_import.py'}:Model", "cannot import: RuntimeError: this module cannot be imported"),
    (MLP, "cannot build the model: TypeError"),
    ("no_such_package_initlint.models:Net", "cannot import: ModuleNotFoundError"),
    ("mlp.py", "expected path/to/file.py:Name or package.module:Name"),
])
def test_bad_targets_exit_2_with_one_line(target: str, reason: str) -> None:
    code, out, err = run(target)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {target}: ") and reason in lines[0], err


def test_import_failure_in_a_real_process() -> None:
    target = f"{TARGETS / 'broken_import.py'}:Model"
    proc = subprocess.run([sys.executable, "-m", "initlint", "check", target], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        f"error: {target}: cannot import: RuntimeError: this module cannot be imported\n"
    )


def test_package_module_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TARGETS.parent.parent)
    code, out, err = run("tests.live_targets.dynamic_flow:Gated", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["tracer"] == "recorded" and doc["findings"] == []
    assert doc["layers"][2]["consumer"] == "LeakyReLU"


def test_bad_kwargs_and_shape_are_usage_errors() -> None:
    code, _, err = run(MLP, "--kwargs", "[1, 2]")
    assert code == 2 and "--kwargs must be a JSON object" in err
    code, _, err = run(MLP, "--kwargs", '{"depth": 2}', "--input-shape", "a,b")
    assert code == 2 and "bad --input-shape 'a,b'" in err


def test_threshold_from_the_targets_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.initlint]\nsignal-threshold = 1e30\n")
    model = tmp_path / "model.py"
    model.write_text((TARGETS / "mlp.py").read_text())
    code, out, err = run(f"{model}:build", "--kwargs", '{"depth": 6, "width": 32}', "--format", "json")
    doc = json.loads(out)
    assert doc["signal"]["threshold"] == 1e30 and not any(f["code"] == "INIT008" for f in doc["findings"])
    code, out, _ = run(f"{model}:build", "--kwargs", '{"depth": 6, "width": 32}', "--format", "json",
                       "--signal-threshold", "10")
    assert any(f["code"] == "INIT008" for f in json.loads(out)["findings"])  # the flag wins
