"""ONNX audit of real ``torch.onnx.export`` files with known initializations."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import init

from initlint import audit_onnx
from initlint.records import FileResult, LayerRecord
from initlint.reporters.layer_table import required


def export(model: nn.Module, shape: tuple[int, ...], path: Path, opset: int = 17, fold: bool = True,
           dynamo: bool = False) -> Path:
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs = {"dynamo": dynamo, "opset_version": opset}
        if not dynamo:
            kwargs["do_constant_folding"] = fold
        torch.onnx.export(model, torch.randn(*shape), str(path), **kwargs)
    return path


def by_weight(result: FileResult) -> dict[str, LayerRecord]:
    """Records keyed by the module path of the weight (``fc1`` for ``fc1.weight``)."""
    return {r.node.weight.removesuffix(".weight"): r for r in result.records}


def findings(result: FileResult) -> dict[str, tuple[str, str]]:
    weights = {r.name: r.node.weight.removesuffix(".weight") for r in result.records}
    return {weights[f.layer]: (f.code, f.severity) for f in result.findings if f.layer in weights}


def seeded(fn: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    return fn()


class Mlp(nn.Module):
    """The classic mistakes and one right layer, each before a known activation."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(256, 256)  # PyTorch default before ReLU
        self.fc2 = nn.Linear(256, 256)
        init.xavier_uniform_(self.fc2.weight)  # Glorot before ReLU
        self.fc3 = nn.Linear(256, 256)
        init.kaiming_normal_(self.fc3.weight, nonlinearity="relu")  # right
        self.fc4 = nn.Linear(256, 256)
        init.normal_(self.fc4.weight)  # N(0, 1)
        self.fc5 = nn.Linear(256, 128)
        init.zeros_(self.fc5.weight)  # zero before ReLU: dead
        self.head = nn.Linear(128, 10)  # default head before softmax: fine

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        x = torch.relu(self.fc3(x))
        x = torch.tanh(self.fc4(x))
        x = torch.relu(self.fc5(x))
        return torch.softmax(self.head(x), dim=-1)


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> FileResult:
    path = export(seeded(Mlp), (8, 256), tmp_path_factory.mktemp("mlp") / "mlp.onnx")
    return audit_onnx(str(path))


def test_mlp_findings(mlp: FileResult) -> None:
    assert mlp.error is None
    assert findings(mlp) == {
        "fc1": ("INIT005", "advice"),
        "fc2": ("INIT001", "warning"),
        "fc4": ("INIT002", "error"),
        "fc5": ("INIT003", "error"),
    }


def test_mlp_records(mlp: FileResult) -> None:
    recs = by_weight(mlp)
    assert [r.node.op for r in mlp.records] == ["Gemm"] * 6
    assert {k: r.init.scheme for k, r in recs.items() if r.init} == {
        "fc1": "torch-default", "fc2": "glorot", "fc3": "he", "fc4": "fixed-std", "fc5": "zero", "head": "torch-default",
    }
    assert (recs["fc5"].fan_in, recs["fc5"].fan_out, recs["fc5"].shape) == (256, 128, (128, 256))
    assert recs["fc4"].activation is not None and recs["fc4"].activation.name == "Tanh"
    head = recs["head"].activation
    assert head is not None and (head.name, head.family, head.reaches_weight) == ("Softmax", "linear", False)
    assert all(r.origin.line is None and r.framework == "onnx" for r in mlp.records)
    assert required(recs["fc3"])[1] == pytest.approx(1.0, abs=0.03)


class Heads(nn.Module):
    """Activations the exporter writes as subgraphs or special ops, each after a He layer."""

    def __init__(self, act: nn.Module, out: int = 96) -> None:
        super().__init__()
        self.fc = nn.Linear(128, out)
        init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
        self.act = act
        self.out = nn.Linear(out, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.fc(x)))


@pytest.mark.parametrize(("act", "opset", "name", "family", "slope"), [
    (nn.GELU(), 17, "GELU", "smooth", 0.0),  # Div -> Erf -> Add -> Mul -> Mul
    (nn.GELU(), 20, "GELU", "smooth", 0.0),  # Gelu op
    (nn.GELU(approximate="tanh"), 17, "GELU(tanh)", "smooth", 0.0),
    (nn.SiLU(), 17, "SiLU", "smooth", 0.0),  # Sigmoid + Mul
    (nn.Mish(), 17, "Mish", "smooth", 0.0),  # Softplus -> Tanh -> Mul
    (nn.Softsign(), 17, "Softsign", "tanh", 0.0),  # Abs -> Add -> Div
    (nn.ReLU6(), 17, "ReLU6", "relu", 0.0),  # Clip(0, 6)
    (nn.Hardtanh(), 17, "Hardtanh", "tanh", 0.0),  # Clip(-1, 1)
    (nn.LeakyReLU(0.2), 17, "LeakyReLU(0.2)", "relu", 0.2),
    (nn.PReLU(), 17, "PReLU(0.25)", "relu", 0.25),
    (nn.ELU(), 17, "ELU", "relu", 0.0),
    (nn.Hardswish(), 17, "Hardswish", "smooth", 0.0),
    (nn.Sigmoid(), 17, "Sigmoid", "sigmoid", 0.0),
    (nn.Dropout(0.1), 17, "identity", "linear", 0.0),  # dropout is transparent; the next Gemm is linear
])
def test_consumers(tmp_path: Path, act: nn.Module, opset: int, name: str, family: str, slope: float) -> None:
    path = export(seeded(lambda: Heads(act)), (4, 128), tmp_path / "h.onnx", opset)
    result = audit_onnx(str(path))
    rec = by_weight(result)["fc"]
    assert rec.activation is not None, rec.unresolved
    assert (rec.activation.name, rec.activation.family) == (name, family)
    assert rec.activation.slope == pytest.approx(slope, abs=1e-6)
    assert rec.init is not None and rec.init.scheme == "he"
    assert "fc" not in findings(result) or family in ("linear", "sigmoid", "tanh")


class Selu(nn.Module):
    def __init__(self, gain: str) -> None:
        super().__init__()
        self.fc1 = nn.Linear(256, 256)
        init.kaiming_normal_(self.fc1.weight, nonlinearity=gain)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.selu(self.fc1(x)))


@pytest.mark.parametrize(("gain", "expected"), [("selu", ("INIT004", "error")), ("linear", None), ("relu", ("INIT004", "error"))])
def test_selu(tmp_path: Path, gain: str, expected: tuple[str, str] | None) -> None:
    result = audit_onnx(str(export(seeded(lambda: Selu(gain)), (4, 256), tmp_path / "s.onnx")))
    assert findings(result).get("fc1") == expected


class Cnn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        init.kaiming_normal_(self.conv1.weight, nonlinearity="relu")
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, groups=2)  # default init, no normalization
        self.conv3 = nn.Conv2d(64, 64, 3, padding=1)  # default init, but BatchNorm follows
        self.bn3 = nn.BatchNorm2d(64)
        self.up = nn.ConvTranspose2d(64, 16, 4, stride=2, padding=1)
        init.xavier_normal_(self.up.weight)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = torch.relu(self.bn3(self.conv3(x)))
        x = torch.tanh(self.up(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def test_cnn_unfolded(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(Cnn), (2, 3, 16, 16), tmp_path / "c.onnx", fold=False)))
    recs = by_weight(result)
    assert (recs["conv1"].fan_in, recs["conv1"].fan_out) == (27, 288)
    assert recs["conv1"].normalized and recs["conv1"].init and recs["conv1"].init.scheme == "he"
    assert (recs["conv2"].fan_in, recs["conv2"].fan_out, recs["conv2"].node.group) == (144, 576, 2)
    assert recs["conv3"].normalized and not recs["conv2"].normalized
    assert (recs["up"].fan_in, recs["up"].fan_out) == (256, 1024)  # (in, out/g, k, k) = (64, 16, 4, 4)
    assert recs["up"].kind == "conv_transpose" and recs["up"].init and recs["up"].init.scheme == "glorot"
    got = findings(result)
    assert got.get("conv2") == ("INIT005", "advice")
    assert "conv3" not in got and "conv1" not in got and "up" not in got  # BN silences INIT005; Glorot before tanh is right


def test_cnn_folded_batchnorm_is_not_mistaken_for_an_initializer(tmp_path: Path) -> None:
    model = seeded(Cnn)
    with torch.no_grad():  # running statistics as after training: folding rescales every filter differently
        model.bn3.running_var.uniform_(0.2, 5.0)
    result = audit_onnx(str(export(model, (2, 3, 16, 16), tmp_path / "c.onnx", fold=True)))
    folded = [r for r in result.records if r.node.op == "Conv" and r.node.weight.startswith("onnx::")]
    assert folded and all("folded" in r.node.note for r in folded)
    conv3 = folded[-1]
    assert conv3.init is not None and conv3.init.scheme in ("trained", "inconclusive")


class Residual(nn.Module):
    def __init__(self, zero_last: bool) -> None:
        super().__init__()
        self.inp = nn.Linear(64, 128)
        init.kaiming_normal_(self.inp.weight)
        self.fc1 = nn.Linear(128, 128)
        init.kaiming_normal_(self.fc1.weight)
        self.fc2 = nn.Linear(128, 128)
        (init.zeros_ if zero_last else init.kaiming_normal_)(self.fc2.weight)
        self.head = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.inp(x))
        h = torch.relu(h + self.fc2(torch.relu(self.fc1(h))))
        return self.head(h)


def test_residual_branch_end(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(lambda: Residual(True)), (4, 64), tmp_path / "r.onnx")))
    recs = by_weight(result)
    fc2 = recs["fc2"]
    assert fc2.residual_end and fc2.activation is not None and fc2.activation.name == "ReLU"
    assert fc2.init is not None and fc2.init.scheme == "zero"
    assert findings(result) == {}  # a zero residual end is Fixup/ReZero, not a dead layer


class ZeroChain(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 64)
        init.zeros_(self.fc1.weight)
        self.fc2 = nn.Linear(64, 10)
        init.zeros_(self.fc2.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))


def test_zero_layer_feeding_zero_layer(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(ZeroChain), (4, 64), tmp_path / "z.onnx")))
    recs = by_weight(result)
    assert recs["fc1"].feeds_zero_layer and not recs["fc2"].feeds_zero_layer
    assert findings(result) == {"fc1": ("INIT003", "error")}


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 64)
        self.a = nn.Linear(64, 8)
        self.b = nn.Linear(64, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return self.a(torch.relu(h)) + self.b(torch.tanh(h))


def test_disagreeing_branches_are_unresolved(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(Branches), (4, 64), tmp_path / "b.onnx")))
    fc = by_weight(result)["fc"]
    assert fc.activation is None and "disagree" in fc.unresolved
    assert "fc" not in findings(result)


class Trained(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(256, 256)
        self.fc2 = nn.Linear(256, 10)
        with torch.no_grad():  # heavy-tailed, as weights look after training
            self.fc1.weight.copy_(torch.distributions.StudentT(3.0).sample((256, 256)) * 0.03)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def test_trained_weights_skip_pairing(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(Trained), (4, 256), tmp_path / "t.onnx")))
    fc1 = by_weight(result)["fc1"]
    assert fc1.init is not None and fc1.init.scheme == "trained"
    assert "fc1" not in findings(result)


class NoBias(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(96, 48, bias=False)
        init.kaiming_uniform_(self.fc.weight, nonlinearity="relu")
        self.seq = nn.Linear(48, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.seq(torch.relu(self.fc(x)))


@pytest.mark.parametrize("shape", [(4, 96), (2, 5, 96)])
def test_matmul_transposed_copy_keeps_fans(tmp_path: Path, shape: tuple[int, ...]) -> None:
    result = audit_onnx(str(export(seeded(NoBias), shape, tmp_path / "n.onnx")))
    first = result.records[0]
    assert first.node.op == "MatMul" and first.shape == (96, 48)
    assert (first.fan_in, first.fan_out) == (96, 48)
    assert first.init is not None and first.init.scheme == "he" and first.activation is not None
    assert first.activation.name == "ReLU"


@pytest.mark.skipif(not os.environ.get("INITLINT_SLOW_TESTS"), reason="dynamo export takes ~15 s; INITLINT_SLOW_TESTS=1 runs it")
def test_dynamo_export(tmp_path: Path) -> None:
    pytest.importorskip("onnxscript")
    path = export(seeded(Mlp), (8, 256), tmp_path / "d.onnx", opset=18, dynamo=True)
    result = audit_onnx(str(path))
    assert result.error is None
    got = findings(result)
    assert got.get("fc2") == ("INIT001", "warning") and got.get("fc4") == ("INIT002", "error")
    assert math.isclose(len(result.records), 6)


class ScaledTanh(nn.Module):
    """LeCun's 1.7159 tanh(2x/3): the 2/3 changes the effective weight scale, so the pairing is not judged."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(128, 128)
        init.xavier_normal_(self.fc.weight)
        self.out = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(1.7159 * torch.tanh(self.fc(x) * (2 / 3)))


def test_constant_scale_before_tanh_is_neither_gelu_nor_judged(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(ScaledTanh), (4, 128), tmp_path / "st.onnx")))
    fc = by_weight(result)["fc"]
    assert fc.activation is None and "scaled by a constant (Mul 0.6667)" in fc.unresolved
    assert "fc" not in findings(result)


def test_transformer_encoder(tmp_path: Path) -> None:
    layer = nn.TransformerEncoderLayer(128, 4, 512, batch_first=True, activation="gelu")
    model = seeded(lambda: nn.TransformerEncoder(layer, 1, enable_nested_tensor=False))
    result = audit_onnx(str(export(model, (2, 8, 128), tmp_path / "tr.onnx")))
    recs = {r.name: r for r in result.records}
    in_proj = recs["/layers.0/self_attn/MatMul"]
    assert in_proj.unresolved and (in_proj.fan_in, in_proj.fan_out) == (128, 384)  # Q/K/V are split off: no activation
    linear1, linear2 = recs["/layers.0/linear1/MatMul"], recs["/layers.0/linear2/MatMul"]
    assert linear1.activation is not None and linear1.activation.name == "GELU"
    assert linear2.normalized and linear2.residual_end  # residual add, then LayerNorm
    assert {f.layer: f.code for f in result.findings} == {"/layers.0/linear1/MatMul": "INIT005"}


class Generator(nn.Module):
    """A GAN-style generator: constant and LeCun layers, a Tanh output head on PyTorch's default."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, 128)
        init.ones_(self.fc1.weight)  # every unit identical
        self.fc2 = nn.Linear(128, 128)
        init.kaiming_normal_(self.fc2.weight, nonlinearity="linear")  # LeCun normal before tanh: right
        self.out = nn.Linear(128, 784)  # default before the Tanh head: deliberate, not hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.tanh(self.out(x))


def test_constant_lecun_and_tanh_head(tmp_path: Path) -> None:
    result = audit_onnx(str(export(seeded(Generator), (4, 64), tmp_path / "g.onnx")))
    recs = by_weight(result)
    assert recs["fc1"].init is not None and (recs["fc1"].init.scheme, recs["fc1"].init.value) == ("constant", 1.0)
    assert recs["fc2"].init is not None and recs["fc2"].init.scheme in ("lecun", "glorot")  # twins on a square layer
    head = recs["out"].activation
    assert head is not None and (head.name, head.reaches_weight) == ("Tanh", False)
    assert findings(result) == {"fc1": ("INIT003", "error")}


def test_exporter_decides_the_candidate_set(tmp_path: Path) -> None:
    """torch.onnx writes producer_name "pytorch": a 3->4 conv (108 entries) on the default is the default,
    not a round U(±0.2) that the bound test cannot rule out at this size."""
    model = seeded(lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.ReLU(),
                                         nn.Flatten(), nn.Linear(8 * 4 * 4, 10)))
    result = audit_onnx(str(export(model, (2, 3, 8, 8), tmp_path / "c.onnx")))
    recs = by_weight(result)
    assert recs["0"].init and recs["0"].init.scheme == "torch-default", recs["0"].init
    assert findings(result).get("0") == ("INIT005", "advice")
