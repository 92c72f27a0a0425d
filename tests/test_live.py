"""Live torch models: real modules, one real forward/backward pass, measured weights (SPEC 2.3, 8.18, 8.19)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from initlint import check_model  # noqa: E402
from initlint.api import check_target  # noqa: E402
from initlint.formulas import signal_body  # noqa: E402
from initlint.frontends.live.targets import LiveError, import_target  # noqa: E402
from initlint.records import LiveResult, SignalPoint  # noqa: E402

TARGETS = Path(__file__).resolve().parent / "live_targets"


def target(name: str) -> str:
    return f"{TARGETS / name}"


@lru_cache(maxsize=None)
def mlp(activation: str, init: str, depth: int = 50, width: int = 128) -> LiveResult:
    result, _ = check_target(target("mlp.py:build"),
                             kwargs={"depth": depth, "width": width, "activation": activation, "init": init})
    return result


def codes(result: LiveResult, code: str) -> list[str]:
    return [f.layer for f in result.findings if f.code == code]


def body(result: LiveResult) -> list[SignalPoint]:
    return signal_body(result.signal.curve)


def ratio(result: LiveResult, key: str) -> float:
    points = body(result)
    return float(getattr(points[-1], key)) / float(getattr(points[0], key))


PAIRING = {"INIT001", "INIT002", "INIT003", "INIT004", "INIT005", "INIT006"}


def test_relu_default_vanishes_and_the_curve_shows_it() -> None:
    result = mlp("relu", "default")
    assert result.tracer == "fx" and result.input_shape == (128, 128)
    assert len(result.signal.curve) == 51 and result.signal.curve[-1].head
    # backward: each layer scales the gradient variance by fan_out/(3 fan_in) * 1/2 = 1/6
    assert ratio(result, "grad_std") > 1e15
    grads = [p.grad_std for p in body(result)]
    assert all(a < b for a, b in zip(grads[:-1], grads[1:]))  # monotone toward the head
    [network] = [f for f in result.findings if f.code == "INIT008"]
    assert network.line is None and network.layer == "MLP" and network.path.endswith("mlp.py")
    assert "gradient norm vanishes toward the input" in network.message
    hidden = codes(result, "INIT005")
    assert len(hidden) == 50 and "head" not in hidden  # heads on defaults are fine (SPEC 8.5)
    row = result.layers[0]
    assert row["scheme"] == "torch-default" and row["consumer"] == "ReLU" and row["verdict"] == "INIT005"
    assert row["required_std"] == pytest.approx((2 / 128) ** 0.5)
    assert row["ratio"] == pytest.approx(6 ** -0.5, rel=0.05)  # 1/(3 fan_in) vs 2/fan_in


def test_relu_he_is_stable() -> None:
    result = mlp("relu", "he")
    assert not codes(result, "INIT008")
    assert not {f.code for f in result.findings} & PAIRING
    # finite width: over 8 seeds this ratio ranged 0.4-2.4x at width 128; seed 0 gives 0.8x
    assert 1 / 3 < ratio(result, "forward_std") < 3
    assert 1 / 3 < ratio(result, "grad_std") < 3
    assert {row["scheme"] for row in result.layers[:-1]} == {"he"}
    dead = [p.dead_fraction for p in body(result)]
    assert all(0.3 < d < 0.7 for d in dead)  # about half of a ReLU's outputs are 0


def test_relu_unscaled_normal_explodes() -> None:
    result = mlp("relu", "normal")
    [network] = [f for f in result.findings if f.code == "INIT008"]
    assert "forward std is not finite (overflow)" in network.message
    assert len(codes(result, "INIT002")) == 50
    forward = [p.forward_std for p in body(result)][:10]
    per_layer = (forward[-1] / forward[0]) ** (1 / 9)  # type: ignore[operator]
    assert 7 < per_layer < 9  # std x sqrt(128 / 2) = 8 per layer


def test_tanh_right_and_wrong() -> None:
    right = mlp("tanh", "glorot", depth=20)
    assert not right.findings
    wrong = mlp("tanh", "he", depth=20)
    assert codes(wrong, "INIT001") and all(f.severity == "advice" for f in wrong.findings if f.code == "INIT001")
    default = mlp("tanh", "default", depth=20)
    assert len(codes(default, "INIT005")) == 20 and codes(default, "INIT008")


def test_selu_right_and_wrong() -> None:
    right = mlp("selu", "lecun")
    assert not right.findings, [f.message for f in right.findings]
    assert 0.5 < ratio(right, "forward_std") < 2
    gain = mlp("selu", "selu_gain", depth=20)
    assert len(codes(gain, "INIT004")) == 20
    assert all(f.severity == "error" for f in gain.findings if f.code == "INIT004")
    default = mlp("selu", "default", depth=20)
    assert len(codes(default, "INIT004")) == 20 and codes(default, "INIT008")


def test_cnn_with_batchnorm_is_normalized_and_restored() -> None:
    obj, _ = import_target(target("cnn_bn.py:SmallCNN"))
    torch.manual_seed(0)
    model = obj().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = check_model(model)
    assert result.input_shape == (128, 3, 32, 32)
    rows = {row["layer"]: row for row in result.layers}
    assert rows["features.0"]["normalized"] and rows["features.4"]["normalized"]
    assert rows["features.0"]["consumer"] == "ReLU" and rows["classifier"]["consumer"] == "LogSoftmax"
    assert rows["classifier"]["verdict"] == "ok"
    assert not codes(result, "INIT005")  # SPEC 8.1: normalization silences INIT005
    assert not codes(result, "INIT008")
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN running stats put back
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


def test_data_dependent_control_flow_falls_back_to_the_recorded_pass() -> None:
    result, _ = check_target(target("dynamic_flow.py:Gated"))
    assert result.tracer == "recorded"
    rows = {row["layer"]: row for row in result.layers}
    assert rows["inp"]["consumer"] == "ReLU"
    assert rows["b"]["consumer"] == "LeakyReLU"  # through .view(), slope from the call
    [b] = [r for r in result.records if r.name == "b"]
    assert b.activation is not None and b.activation.slope == pytest.approx(0.2)
    assert rows["out"]["consumer"] == "identity" and result.signal.curve[-1].head


def test_residual_raw_parameter_and_zero_branch_ends() -> None:
    result, _ = check_target(target("residual.py:ResMLP"), input_shape=(128, 16))
    records = {r.name: r for r in result.records}
    assert records["proj"].kind == "parameter" and records["proj"].init.scheme == "he"  # type: ignore[union-attr]
    assert (records["proj"].fan_in, records["proj"].fan_out) == (16, 64)  # x @ W with W (in, out)
    assert records["blocks.0.fc1"].normalized and records["blocks.0.fc2"].residual_end
    assert records["blocks.0.fc2"].activation.name == "ReLU"  # type: ignore[union-attr]
    assert records["blocks.0.fc2"].init.scheme == "zero"  # type: ignore[union-attr]
    assert not result.findings  # Fixup/ReZero zero ends: no INIT003, no INIT008


def test_init007_overwritten_init() -> None:
    result, _ = check_target(target("init_overwritten.py:Overwritten"))
    [finding] = [f for f in result.findings if f.code == "INIT007"]
    assert finding.layer == "fc2" and finding.line is None and finding.severity == "error"
    assert "(line 13)" in finding.message and "torch-default" in finding.message
    assert codes(result, "INIT005") == ["fc2"]  # reported alongside (SPEC 8.4)


def test_init007_dispatch_that_skips_the_layer_at_run_time() -> None:
    result, _ = check_target(target("init_runtime_skip.py:build"))
    assert sorted(codes(result, "INIT007")) == ["conv1", "conv2"]


def test_a_skip_the_static_analysis_sees_is_init005_not_init007() -> None:
    result, _ = check_target(target("init_skips_conv1d.py:AudioNet"))
    assert not codes(result, "INIT007")  # SPEC 8.19: the source lint already reports the default
    assert sorted(codes(result, "INIT005")) == ["conv1", "conv2"]
    assert {row["layer"]: row["scheme"] for row in result.layers}["fc"] == "he"


def test_lazy_modules_are_measured_after_materialization() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.LazyLinear(64), torch.nn.ReLU(), torch.nn.Linear(64, 3))
    result = check_model(model, (32, 20))
    assert result.layers[0]["shape"] == [64, 20] and result.layers[0]["scheme"] == "torch-default"


@pytest.mark.parametrize("name, reason", [
    ("broken_import.py:Model", "cannot import: RuntimeError: this module cannot be imported"),
    ("not_a_model.py:build", "the target returned dict, not a torch.nn.Module"),
    ("mlp.py:build", "cannot build the model: TypeError"),
    ("mlp.py:Nope", "has no attribute 'Nope'"),
    ("missing.py:Model", "no such file"),
])
def test_target_errors_are_one_line(name: str, reason: str) -> None:
    with pytest.raises(LiveError) as info:
        check_target(target(name))
    assert reason in str(info.value) and "\n" not in str(info.value)


def test_input_shape_cannot_be_inferred_from_a_raw_first_layer() -> None:
    with pytest.raises(LiveError, match="forward pass on input shape 128,64 failed"):
        check_target(target("residual.py:ResMLP"))


def test_token_inputs_dtype_and_paths() -> None:
    class LM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(100, 32)
            self.fc = torch.nn.Linear(32, 64)
            self.out = torch.nn.Linear(64, 100)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            return self.out(torch.relu(self.fc(self.emb(tokens))))

    result = check_model(LM())
    assert result.input_shape == (128, 16) and result.path == __file__
    assert [row["layer"] for row in result.layers] == ["fc", "out"]  # the embedding is not a weight layer
    double = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    result = check_model(double)
    assert result.path == "<Sequential>" and result.layers[0]["consumer"] == "Tanh"


def test_a_wrong_inferred_shape_says_to_pass_one() -> None:
    class HeadFirst(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = torch.nn.Linear(64, 2)  # registered before the layer the input meets
            self.body = torch.nn.Linear(16, 64)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.relu(self.body(x)))

    with pytest.raises(LiveError, match=r"inferred; pass --input-shape"):
        check_model(HeadFirst())
    rows = check_model(HeadFirst(), (8, 16)).layers
    assert [(row["layer"], row["consumer"]) for row in rows] == [("body", "ReLU"), ("head", "identity")]  # run order


def test_init007_matches_child_modules_by_class_and_attribute() -> None:
    result, _ = check_target(target("nested_overwrite.py:Net"))
    [finding] = [f for f in result.findings if f.code == "INIT007"]
    assert finding.layer == "encoder.layers.1"  # static record Encoder.layers[i]
    assert "(line 15)" in finding.message
    declared = {r.name for r in result.records if r.declared is not None}
    assert declared == {"encoder.blocks.0", "encoder.blocks.2", "encoder.layers.0", "encoder.layers.1"}


def test_tied_embedding_head_is_not_a_raw_weight() -> None:
    class Tied(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = torch.nn.Embedding(100, 32)
            self.fc = torch.nn.Linear(32, 32)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            hidden = torch.relu(self.fc(self.emb(tokens)))
            return torch.nn.functional.linear(hidden, self.emb.weight)  # N(0,1) table reused as the head

    result = check_model(Tied())
    assert [row["layer"] for row in result.layers] == ["fc"]
    assert not any(f.code == "INIT002" for f in result.findings)


def test_shape_queries_do_not_hide_the_consumer() -> None:
    result, _ = check_target(target("cnn_bn.py:PlainCNN"))
    assert result.tracer == "fx"
    rows = {row["layer"]: row for row in result.layers}
    assert rows["conv2"]["consumer"] == "ReLU"  # through pooling and x.view(x.size(0), -1)
    # conv1 (fan_in 27, fan_out 144): the default's 1/81 is within 1.5x of He's 2/fan_out (SPEC 8.2, 8.3)
    assert [f.layer for f in result.findings if f.code == "INIT005"] == ["conv2"]


def test_pooling_between_stages_is_not_a_propagation_problem() -> None:
    layers: list[torch.nn.Module] = []
    channels = 3
    for width in (16, 16, 32, 32):
        layers += [torch.nn.Conv2d(channels, width, 3, padding=1), torch.nn.ReLU()]
        if width == channels or channels == 3:
            layers.append(torch.nn.MaxPool2d(2))
        channels = width
    torch.manual_seed(0)
    model = torch.nn.Sequential(*layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(32, 10))
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    result = check_model(model)
    assert not result.findings, [f.message for f in result.findings]
    shapes = [p.shape for p in result.signal.curve]
    assert shapes == [(16, 32, 32), (16, 16, 16), (32, 8, 8), (32, 8, 8), (10,)]  # steps at pools are not counted
