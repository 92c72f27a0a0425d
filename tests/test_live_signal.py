"""INIT008 per SPEC 8.36 on real architectures and constructed deep stacks, example inputs, tied weights (8.38).

torchvision's model definitions are a verbatim copy (tests/vendor/torchvision_0_28, made by
scripts/vendor_torchvision.py): its wheel does not import on the CPU-only torch build.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from initlint import apply_recommended_init, check_model  # noqa: E402
from initlint.formulas import signal_body  # noqa: E402
from initlint.frontends.live.targets import LiveError  # noqa: E402
from initlint.records import LiveResult  # noqa: E402

from .live_targets.signal_cases import Guarded, Reused, default_relu_mlp, tapering_normal_mlp, zero_layer_mlp  # noqa: E402
from .live_targets.tokens import DictInput, TiedLM, TwoInputs  # noqa: E402
from .vendor.torchvision_0_28.models import efficientnet, mobilenetv3, resnet, vgg, vision_transformer  # noqa: E402
from .vendor.torchvision_0_28.ops.stochastic_depth import StochasticDepth  # noqa: E402

TARGETS = Path(__file__).resolve().parent / "live_targets"


def init008(result: LiveResult) -> list[str]:
    return [f.message for f in result.findings if f.code == "INIT008"]


def hooks(model: nn.Module, shape: tuple[int, ...], seed: int = 0) -> dict[str, tuple[float, float]]:
    """Independent measurement with forward hooks: call label -> (forward std, gradient norm per sample)."""
    model = copy.deepcopy(model).train()
    for module in model.modules():
        if isinstance(module, StochasticDepth):
            module.eval()
    outputs: list[tuple[str, torch.Tensor]] = []
    count: dict[str, int] = defaultdict(int)

    def hook(name: str) -> Callable[..., torch.Tensor]:
        def keep(_m: nn.Module, _i: Any, out: torch.Tensor) -> torch.Tensor:
            count[name] += 1
            outputs.append((name if count[name] == 1 else f"{name} (call {count[name]})", out))
            return out.clone()
        return keep

    for name, module in model.named_modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.register_forward_hook(hook(name))
    generator = torch.Generator().manual_seed(seed)
    out = model(torch.randn(shape, generator=generator).requires_grad_(True))
    loss = (out * torch.randn(out.shape, generator=generator)).sum()
    grads = torch.autograd.grad(loss, [t for _, t in outputs], allow_unused=True)
    return {label: (float(t.detach().double().std()),
                    0.0 if g is None else float(g.double().pow(2).sum().div(shape[0]).sqrt()))
            for (label, t), g in zip(outputs, grads)}


# ------------------------------------------------------------------------------- torchvision: silent

TORCHVISION = {
    "resnet18": (resnet.resnet18, (8, 3, 64, 64)),
    "resnet50": (resnet.resnet50, (4, 3, 64, 64)),
    "vgg11": (vgg.vgg11, (4, 3, 32, 32)),
    "mobilenet_v3_small": (mobilenetv3.mobilenet_v3_small, (8, 3, 64, 64)),
    "efficientnet_b0": (efficientnet.efficientnet_b0, (4, 3, 64, 64)),
    "vit_b_16": (lambda: vision_transformer.vit_b_16(image_size=32), (4, 3, 32, 32)),
}


@lru_cache(maxsize=None)
def torchvision_checked(name: str) -> tuple[nn.Module, LiveResult]:
    factory, shape = TORCHVISION[name]
    torch.manual_seed(0)
    model = factory()
    return model, check_model(model, shape)


@pytest.mark.parametrize("name", list(TORCHVISION))
def test_stock_torchvision_architectures_do_not_fire(name: str) -> None:
    model, result = torchvision_checked(name)
    shape = TORCHVISION[name][1]
    assert not init008(result), init008(result)
    assert not [row for row in result.layers if row["unresolved"]], [row["unresolved"] for row in result.layers]
    body = signal_body(result.signal.curve)
    ind = hooks(model, shape) if name != "vit_b_16" else {}
    for point in (body[0], body[-1]):  # the endpoints agree with the independent measurement
        if point.layer in ind:
            assert point.forward_std == pytest.approx(ind[point.layer][0], rel=1e-6)


def test_efficientnet_stochastic_depth_is_off_and_resolved() -> None:
    model, result = torchvision_checked("efficientnet_b0")
    rows = {row["layer"]: row for row in result.layers}
    assert rows["features.2.1.block.3.0"]["consumer"] == "identity" and not rows["features.2.1.block.3.0"]["unresolved"]
    assert all(m.training for m in model.modules() if isinstance(m, StochasticDepth))  # restored


def test_vit_attention_internals_are_measured_and_resolved() -> None:
    _, result = torchvision_checked("vit_b_16")
    rows = {row["layer"]: row for row in result.layers}
    qkv = rows["encoder.layers.encoder_layer_0.self_attention.in_proj_weight"]
    out = rows["encoder.layers.encoder_layer_0.self_attention.out_proj"]
    assert qkv["scheme"] == "glorot" and qkv["forward_std"] and not qkv["unresolved"]
    assert out["forward_std"] and not out["unresolved"] and out["consumer"] == "identity"
    conv = result.records[0]
    assert conv.name == "conv_proj" and not conv.residual_end  # the stream, not a branch end
    assert len(result.signal.curve) == 1 + 12 * 4 + 1


# ------------------------------------------------------------------------------- deep stacks: fire


@pytest.mark.parametrize(("factory", "shape", "words"), [
    (default_relu_mlp, (128, 128), "gradient norm vanishes toward the input: 1.1e+19x"),
    (tapering_normal_mlp, (128, 256), "forward std explodes: 3.2e+18x from 0 (16, 248) to 38"),
    (Reused, (128, 128), "gradient norm vanishes toward the input: 2.6e+07x from inp"),
    (zero_layer_mlp, (128, 64), "the output of 8 is constant (std 0)"),
])
def test_deep_stacks_that_vanish_or_explode_fire(factory: Callable[[], nn.Module], shape: tuple[int, ...],
                                                 words: str) -> None:
    torch.manual_seed(0)
    model = factory()
    result = check_model(model, shape)
    [message] = init008(result)
    assert words in message
    body = signal_body(result.signal.curve)
    ind = hooks(model, shape)
    for point in (body[0], body[-1]):
        fwd, grad = ind[point.layer]
        assert point.forward_std == pytest.approx(fwd, rel=1e-6)
        assert point.grad_norm == pytest.approx(grad, rel=1e-6, abs=1e-300)
    torch.manual_seed(1)
    apply_recommended_init(model, shape)
    after = check_model(model, shape)
    assert not init008(after), init008(after)  # the zero layer too: INIT003 reports it dead, so it is redrawn


def test_every_call_of_a_reused_module_is_measured() -> None:
    torch.manual_seed(0)
    result = check_model(Reused(times=20), (64, 128))
    labels = [p.layer for p in result.signal.curve]
    assert labels[:3] == ["inp", "shared", "shared (call 2)"] and labels[-2:] == ["shared (call 20)", "head"]
    [row] = [row for row in result.layers if row["layer"] == "shared"]
    assert row["consumer"] == "ReLU"


def test_guards_on_layer_outputs_are_not_consumers() -> None:
    torch.manual_seed(0)
    result = check_model(Guarded(), (32, 64))
    assert result.tracer == "recorded"  # the if/assert stop fx
    assert [row["consumer"] for row in result.layers] == ["ReLU"] * 10 + ["identity"]
    assert not init008(result)


def test_stochastic_depth_is_disabled_like_dropout() -> None:
    def net(drop: nn.Module) -> nn.Module:
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(32, 32), nn.ReLU(), drop, nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))

    with_drop = check_model(net(StochasticDepth(0.9, "row")), (64, 32), seed=3)
    without = check_model(net(nn.Identity()), (64, 32), seed=3)
    assert [p.forward_std for p in with_drop.signal.curve] == [p.forward_std for p in without.signal.curve]


# ------------------------------------------------------------------------------- tied weights (SPEC 8.38)


def test_tied_lm_head_is_exempt_and_never_reinitialized() -> None:
    torch.manual_seed(0)
    model = TiedLM()
    result = check_model(model, (8, 16))
    rows = {row["layer"]: row for row in result.layers}
    assert rows["head"]["type"] == "embedding" and rows["head"]["verdict"] == "ok"
    assert not [f for f in result.findings if f.layer == "head"]
    table = model.embed.weight.detach().clone()
    changes = apply_recommended_init(model, (8, 16), include_kept=True)
    assert torch.equal(model.embed.weight, table) and model.head.weight is model.embed.weight
    kept = {c.layer: c.reason for c in changes if not c.changed}
    assert "SPEC 8.38" in kept["head"]


def test_mha_in_proj_and_out_proj_in_a_transformer_encoder() -> None:
    torch.manual_seed(0)
    result = check_model(TiedLM(), (8, 16))
    rows = {row["layer"]: row for row in result.layers}
    assert rows["encoder.layers.0.self_attn.in_proj_weight"]["scheme"] == "glorot"
    assert rows["encoder.layers.0.self_attn.out_proj"]["forward_std"] is not None
    assert not [row for row in result.layers if row["unresolved"]]


# ------------------------------------------------------------------------------- example inputs


def test_token_ids_are_drawn_for_a_model_with_a_root_position_table() -> None:
    torch.manual_seed(0)
    result = check_model(TiedLM(), (4, 12))
    assert result.input_shape == (4, 12) and result.signal.curve  # floats in nn.Embedding would have failed


def test_example_inputs_tuple_and_dict() -> None:
    torch.manual_seed(0)
    pair = check_model(TwoInputs(), example_inputs=(torch.randn(16, 8), torch.randn(16, 4)))
    assert pair.input_shape == (16, 8) and [row["consumer"] for row in pair.layers] == ["ReLU", "ReLU", "identity"]
    batch = {"ids": torch.randint(50, (16, 5)), "extra": torch.randn(16, 3)}
    keyed = check_model(DictInput(), example_inputs={"batch": batch})
    assert [row["consumer"] for row in keyed.layers] == ["ReLU", "identity"]
    assert batch["extra"].grad is None and not batch["extra"].requires_grad  # the caller's tensors are not touched


def test_failures_say_what_can_help() -> None:
    with pytest.raises(LiveError, match="example_inputs") as err:
        check_model(TwoInputs())
    assert "--input-shape" not in str(err.value)
    with pytest.raises(LiveError, match="needs|nn.Embedding"):
        check_model(TwoInputs(), (4, 8), input_dtype="long")


def test_input_dtype_long_on_the_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from initlint.cli import main

    target = tmp_path / "lm.py"
    target.write_text(
        "import torch\nfrom torch import nn\n\n\n"
        "class Bag(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.scale = nn.Parameter(torch.ones(1))\n"
        "        self.fc = nn.Linear(8, 2)\n"
        "        self.table = nn.Embedding(30, 8)\n\n"
        "    def forward(self, ids):\n"
        "        return self.fc(self.table(ids).mean(1) * self.scale)\n"
    )
    result = CliRunner().invoke(main, ["check", f"{target}:Bag", "--input-shape", "8,5", "--input-dtype", "long"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Bag on input 8,5")
    bad = CliRunner().invoke(main, ["check", f"{target}:Bag", "--input-dtype", "complex"])
    assert bad.exit_code == 2 and "bad --input-dtype 'complex'" in bad.output


def test_module_ratio_is_finite_for_the_docs_table() -> None:
    assert math.isfinite(hooks(default_relu_mlp(4, 16), (8, 16))["0"][0])


def test_plot_marks_zeros_endpoints_and_the_verdict(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib import image

    from initlint.reporters.live import _segments, _verdict, plot

    torch.manual_seed(0)
    result = check_model(zero_layer_mlp(), (128, 64))
    assert _segments([0, 1, 2, 3, 4], [1.0, 0.0, 2.0, 3.0, None]) == [[(0, 1.0)], [(2, 2.0), (3, 3.0)]]
    assert _verdict(result).startswith("INIT008: the output of 8 is constant")
    png = tmp_path / "signal.png"
    plot(result, str(png))
    pixels = image.imread(str(png))
    assert pixels.shape[0] >= 700 and pixels.shape[1] >= 1000  # 150 dpi


def test_a_trained_live_model_is_judged_as_trained() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(6) for m in (nn.Linear(128, 128), nn.ReLU())], nn.Linear(128, 10))
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):  # heavy-tailed, as trained weights are
                layer.weight.copy_(torch.distributions.StudentT(3.0).sample(layer.weight.shape) * 0.02)
    result = check_model(model)
    assert {row["scheme"] for row in result.layers} == {"trained"}
    assert not [f for f in result.findings if f.code != "INIT008"]
    assert all("apply_recommended_init" not in m for m in init008(result))
    weights = [p.detach().clone() for p in model.parameters()]
    apply_recommended_init(model)
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters()))


def test_the_static_reason_is_carried_into_the_live_finding(tmp_path: Path) -> None:
    from initlint.api import check_target

    target = tmp_path / "net.py"
    target.write_text(
        "import torch.nn as nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(64, 64)\n"
        "        self.out = nn.Linear(64, 2)\n\n"
        "    def _init_weights(self, m):\n"
        "        if isinstance(m, nn.Linear):\n"
        "            nn.init.kaiming_normal_(m.weight)\n\n"
        "    def forward(self, x):\n"
        "        return self.out(self.fc(x).relu())\n"
    )
    result, _ = check_target(f"{target}:Net")
    [finding] = [f for f in result.findings if f.code == "INIT005"]
    assert "because _init_weights is defined but never applied" in finding.message
