"""``--propagate``: one seeded N(0,1) batch through onnxruntime feeds INIT008."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.nn import init

from initlint import audit_onnx
from initlint.cli import main
from initlint.settings import Settings

pytest.importorskip("onnxruntime")


def deep_mlp(depth: int, he: bool, dead_bias: bool = False) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(depth):
        fc = nn.Linear(128, 128)
        if he:
            init.kaiming_normal_(fc.weight, nonlinearity="relu")
            init.zeros_(fc.bias)
        if dead_bias and i == 2:
            init.constant_(fc.bias, -50.0)  # every unit negative before the ReLU
        layers += [fc, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(128, 10))


def export(model: nn.Module, path: Path, shape: tuple[int, ...] = (16, 128), dynamic: bool = False, fold: bool = True) -> str:
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, torch.randn(*shape), str(path), dynamo=False, do_constant_folding=fold,
            input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "features"}} if dynamic else None,
        )
    return str(path)


def network(result):  # type: ignore[no-untyped-def]
    return next(r for r in result.records if r.kind == "network")


def test_default_init_signal_vanishes(tmp_path: Path) -> None:
    result = audit_onnx(export(deep_mlp(12, he=False), tmp_path / "d.onnx"), Settings(propagate=True))
    curve = network(result).signal.curve
    assert len(curve) == 13 and curve[-1].head and not curve[0].head
    assert curve[0].forward_std / curve[-2].forward_std > 10
    init008 = [f for f in result.findings if f.code == "INIT008"]
    assert len(init008) == 1 and "vanishes" in init008[0].message and init008[0].severity == "warning"


def test_he_init_signal_is_stable(tmp_path: Path) -> None:
    result = audit_onnx(export(deep_mlp(12, he=True), tmp_path / "h.onnx"), Settings(propagate=True))
    assert not [f for f in result.findings if f.code == "INIT008"]
    assert all(0.25 < p.dead_fraction < 0.75 for p in network(result).signal.curve[:-1])


def test_dead_layer(tmp_path: Path) -> None:
    result = audit_onnx(export(deep_mlp(4, he=True, dead_bias=True), tmp_path / "x.onnx"), Settings(propagate=True))
    init008 = [f for f in result.findings if f.code == "INIT008"]
    assert init008 and "dead" in init008[0].message


def test_batchnorm_runs_on_batch_statistics(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16), nn.ReLU(), nn.Flatten(), nn.Linear(16 * 6 * 6, 10))
    with torch.no_grad():
        model[1].running_mean.fill_(100.0)  # eval statistics would make every unit negative; batch statistics do not
    result = audit_onnx(export(model, tmp_path / "bn.onnx", (8, 3, 8, 8), fold=False), Settings(propagate=True))
    curve = network(result).signal.curve
    assert curve[0].dead_fraction == pytest.approx(0.5, abs=0.1)  # normalized pre-activations: half negative


def test_dynamic_dims_need_input_shape(tmp_path: Path) -> None:
    path = export(deep_mlp(2, he=True), tmp_path / "dyn.onnx", dynamic=True)
    skipped = network(audit_onnx(path, Settings(propagate=True)))
    assert "dynamic dimension 1" in skipped.signal.skipped and "--input-shape" in skipped.signal.skipped
    ran = CliRunner().invoke(main, ["--propagate", "--input-shape", "32,128", path])
    assert "forward std per weight layer on one N(0,1) batch 32x128" in ran.output, ran.output


def test_without_onnxruntime_says_how_to_enable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = export(deep_mlp(2, he=False), tmp_path / "n.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if not installed
    result = CliRunner().invoke(main, ["--propagate", path])
    assert "signal propagation (INIT008) skipped: onnxruntime is not installed (pip install onnxruntime)" in result.output
    assert result.exit_code in (0, 1)  # skipping is not an input error
