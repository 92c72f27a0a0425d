"""The variance math against torch.nn.init on real tensors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from initlint import formulas
from initlint.records import InitSpec

SHAPES = [(256, 128), (64, 32, 3, 3), (32, 16, 5), (128, 64, 3, 3, 3)]


def measured_var(tensor: torch.Tensor) -> float:
    return float(tensor.double().pow(2).mean())


@pytest.mark.parametrize("shape", SHAPES)
def test_torch_fans_match_torch(shape: tuple[int, ...]) -> None:
    t = torch.empty(shape)
    assert formulas.torch_fans(shape) == nn.init._calculate_fan_in_and_fan_out(t)


def test_keras_fans() -> None:
    assert formulas.keras_fans((3, 3, 64, 128)) == (576, 1152)
    assert formulas.keras_fans((5, 64, 128)) == (320, 640)
    assert formulas.keras_fans((64, 10)) == (64, 10)


@pytest.mark.parametrize(
    "nonlinearity, param",
    [("relu", None), ("tanh", None), ("sigmoid", None), ("linear", None), ("selu", None), ("leaky_relu", 0.2),
     ("leaky_relu", None), ("leaky_relu", math.sqrt(5)), ("conv2d", None)],
)
def test_gains_match_calculate_gain(nonlinearity: str, param: float | None) -> None:
    gain2, _ = formulas.torch_gain2(nonlinearity, param)  # type: ignore[misc]
    assert gain2 == pytest.approx(nn.init.calculate_gain(nonlinearity, param) ** 2, rel=1e-12)


def test_unsupported_gain_is_none() -> None:
    assert formulas.torch_gain2("gelu") is None


# (torch init call, InitSpec it corresponds to)
CASES = [
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), InitSpec("he", scale=2.0, mode="fan_in")),
    (lambda w: nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu"), InitSpec("he", scale=2.0, mode="fan_out")),
    (lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5)), InitSpec("torch-default", scale=1 / 3, mode="fan_in")),
    (lambda w: nn.init.kaiming_normal_(w, nonlinearity="selu"), InitSpec("variance-scaling", scale=9 / 16, mode="fan_in")),
    (lambda w: nn.init.kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu"),
     InitSpec("variance-scaling", scale=formulas.leaky_gain2(0.2), mode="fan_in")),
    (lambda w: nn.init.xavier_uniform_(w), InitSpec("glorot", scale=1.0, mode="fan_avg")),
    (lambda w: nn.init.xavier_normal_(w, gain=nn.init.calculate_gain("tanh")),
     InitSpec("variance-scaling", scale=25 / 9, mode="fan_avg")),
    (lambda w: nn.init.orthogonal_(w), InitSpec("orthogonal", scale=1.0, mode="fan_max")),
    (lambda w: nn.init.normal_(w, 0.0, 0.02), InitSpec("fixed-std", std=0.02)),
    (lambda w: nn.init.trunc_normal_(w, std=0.02), InitSpec("fixed-std", std=0.02)),
    (lambda w: nn.init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04),
     InitSpec("fixed-std", std=0.02 * math.sqrt(formulas.truncation_factor(2.0)))),
]


@pytest.mark.parametrize("index", range(len(CASES)))
@pytest.mark.parametrize("shape", [(512, 256), (128, 64, 3, 3)])
def test_variance_matches_torch_init(index: int, shape: tuple[int, ...]) -> None:
    init, spec = CASES[index]
    if spec.scheme == "orthogonal" and len(shape) > 2:
        pytest.skip("orthogonal's mean square is gain**2/max(rows, cols) with rows = shape[0]: exact for 2-D only")
    torch.manual_seed(index)
    w = torch.empty(shape)
    init(w)
    fan_in, fan_out = formulas.torch_fans(shape)
    expected = formulas.variance(spec, fan_in, fan_out)
    assert expected is not None
    assert measured_var(w) == pytest.approx(expected, rel=0.03)


def test_linear_default_is_torch_default_variance() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(1024, 512)
    spec = InitSpec("torch-default", source="default", scale=1 / 3, mode="fan_in")
    assert measured_var(layer.weight.detach()) == pytest.approx(formulas.variance(spec, 1024, 512), rel=0.02)


def test_conv_transpose_fans_follow_storage() -> None:
    layer = nn.ConvTranspose2d(64, 128, 4)
    fan_in, _ = formulas.torch_fans(tuple(layer.weight.shape))
    assert fan_in == 128 * 16
    var = measured_var(layer.weight.detach())
    assert var == pytest.approx(1 / (3 * fan_in), rel=0.05)


def test_uniform_second_moment_includes_mean() -> None:
    spec = InitSpec("fixed-std", std=1 / math.sqrt(12), mean=0.5, distribution="uniform")
    w = torch.empty(200_000).uniform_(0, 1)
    assert float(w.double().pow(2).mean()) == pytest.approx(formulas.second_moment(spec, None, None), rel=0.01)


def test_truncation_factor_table() -> None:
    assert formulas.truncation_factor(2.0) == pytest.approx(0.7737413035, rel=1e-9)
    assert formulas.truncation_factor(1.0) == pytest.approx(0.2911250948, rel=1e-9)
    assert math.sqrt(formulas.truncation_factor(2.0)) == pytest.approx(formulas.TRUNCNORM_STD_2, rel=1e-12)


def test_requirements_and_scheme_names() -> None:
    assert formulas.requirements("relu", 100, 50) == [("He", 0.02), ("He", 0.04)]
    assert formulas.requirements("selu", 100, None) == [("LeCun", 0.01)]
    assert formulas.requirements("tanh", 100, 300) == [("Glorot", 0.005), ("LeCun", 0.01)]
    assert formulas.scheme_name(2.0, "fan_out") == "he"
    assert formulas.scheme_name(1.0, "fan_avg") == "glorot"
    assert formulas.scheme_name(1.0, "fan_in") == "lecun"
    assert formulas.scheme_name(1 / 3, "fan_in") == "torch-default"
    assert formulas.scheme_name(25 / 9, "fan_in") == "variance-scaling"
