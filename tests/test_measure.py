"""Measured-scheme inference on real ``torch.nn.init`` tensors and Keras-style truncated normals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch.nn import init

from initlint import formulas, measure
from initlint.checks import CHECKS
from initlint.engine import same_verdicts
from initlint.records import Activation, InitSpec, LayerRecord, Origin


def infer(values: object, *args: object, **kwargs: object) -> InitSpec:
    """:func:`initlint.measure.infer` as the frontends call it: ambiguous matches decided by the engine."""
    return measure.infer(values, *args, agree=same_verdicts, **kwargs)  # type: ignore[arg-type]


Init = Callable[[torch.Tensor], object]

# name -> (torch init, expected scheme, variance as (scale, mode) meaning scale/fan(mode) or a fixed one, distribution)
TORCH_INITS: dict[str, tuple[Init, str, tuple[float, str] | float, str]] = {
    "kaiming_normal": (lambda w: init.kaiming_normal_(w, nonlinearity="relu"), "he", (2, "fan_in"), "normal"),
    "kaiming_uniform": (lambda w: init.kaiming_uniform_(w, nonlinearity="relu"), "he", (2, "fan_in"), "uniform"),
    "kaiming_fan_out": (lambda w: init.kaiming_normal_(w, mode="fan_out"), "he", (2, "fan_out"), "normal"),
    "xavier_uniform": (init.xavier_uniform_, "glorot", (1, "fan_avg"), "uniform"),
    "xavier_normal": (init.xavier_normal_, "glorot", (1, "fan_avg"), "normal"),
    "lecun_normal": (lambda w: init.kaiming_normal_(w, nonlinearity="linear"), "lecun", (1, "fan_in"), "normal"),
    "torch_default": (lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), "torch-default", (1 / 3, "fan_in"), "uniform"),
    "kaiming_selu": (lambda w: init.kaiming_normal_(w, nonlinearity="selu"), "variance-scaling", (9 / 16, "fan_in"), "normal"),
    "kaiming_tanh": (lambda w: init.kaiming_normal_(w, nonlinearity="tanh"), "variance-scaling", (25 / 9, "fan_in"), "normal"),
    "normal_1": (init.normal_, "fixed-std", 1.0, "normal"),
    "normal_002": (lambda w: init.normal_(w, std=0.02), "fixed-std", 4e-4, "normal"),
    "trunc_normal_002": (lambda w: init.trunc_normal_(w, std=0.02), "fixed-std", 4e-4, "normal"),
}
# Shapes of >= 4096 weights. Fans where a scheme's std lands on a round fixed std (fan_in 400:
# LeCun = N(0, 0.05²)) are honestly ambiguous and avoided here; a 512->10 head keeps He and Glorot twins.
BIG_SHAPES = [(96, 64), (160, 300), (40, 28, 3, 3), (64, 12, 5, 5), (10, 512), (384, 640)]


def _tensor(shape: tuple[int, ...], fn: Init, seed: int) -> np.ndarray:
    torch.manual_seed(seed)
    w = torch.empty(*shape)
    fn(w)
    return w.numpy()


def _right(spec: InitSpec, scheme: str, var: float, dist: str, fans: tuple[int, int]) -> bool:
    """The scheme (or a twin within 5 % that the rules judge the same way), its variance and distribution."""
    got = formulas.variance(spec, *fans)
    twin = "also consistent with" in spec.note
    return got is not None and abs(math.log(got / var)) < 0.05 and spec.distribution == dist and (
        spec.scheme == scheme or twin)


def _wrong(spec: InitSpec, var: float, fans: tuple[int, int]) -> bool:
    if spec.scheme == "inconclusive":
        return False
    got = formulas.variance(spec, *fans)
    return got is None or abs(math.log(got / var)) > 0.15


def _expected_var(entry: tuple[Init, str, tuple[float, str] | float, str], fans: tuple[int, int]) -> float:
    target = entry[2]
    if isinstance(target, float):
        return target
    return formulas.variance(InitSpec("variance-scaling", scale=target[0], mode=target[1]), *fans) or 0.0


def test_big_tensors_are_identified_at_least_95_percent() -> None:
    right = total = 0
    wrong: list[str] = []
    for shape in BIG_SHAPES:
        fans = formulas.torch_fans(shape)
        for name, entry in TORCH_INITS.items():
            for seed in range(2):
                w = _tensor(shape, entry[0], seed)
                var = _expected_var(entry, fans)
                spec = infer(w, *fans)
                total += 1
                right += _right(spec, entry[1], var, entry[3], fans)
                if _wrong(spec, var, fans):
                    wrong.append(f"{name} {shape}: {spec.scheme} {spec.note}")
    assert not wrong, wrong
    assert right / total >= 0.95, f"{right}/{total}"


@pytest.mark.parametrize("shape", [(4, 4), (8, 3), (5, 6), (16, 2), (3, 3, 2, 2), (8, 8), (32, 8)])
def test_tiny_tensors_are_inconclusive_never_wrong(shape: tuple[int, ...]) -> None:
    fans = formulas.torch_fans(shape)
    for name, entry in TORCH_INITS.items():
        for seed in range(8):
            w = _tensor(shape, entry[0], seed)
            var = _expected_var(entry, fans)
            spec = infer(w, *fans)
            assert spec.scheme == "inconclusive" or _right(spec, entry[1], var, entry[3], fans), (name, seed, spec)


def test_fewer_than_16_entries_is_inconclusive() -> None:
    w = _tensor((3, 4), TORCH_INITS["kaiming_normal"][0], 0)
    spec = infer(w, 4, 3)
    assert spec.scheme == "inconclusive" and "12 entries" in spec.note


def keras_truncated(shape: tuple[int, ...], variance: float, seed: int) -> np.ndarray:
    """Keras' corrected truncated normal: std sqrt(v)/0.8796 cut at ±2 of that std, final variance v."""
    rng = np.random.default_rng(seed)
    pre = math.sqrt(variance) / formulas.TRUNCNORM_STD_2
    x = rng.normal(0, pre, size=shape)
    while (bad := np.abs(x) > 2 * pre).any():
        x[bad] = rng.normal(0, pre, size=int(bad.sum()))
    return x.astype(np.float32)


@pytest.mark.parametrize(("scheme", "scale", "mode"), [("he", 2, "fan_in"), ("lecun", 1, "fan_in"), ("glorot", 1, "fan_avg")])
def test_keras_truncated_normals(scheme: str, scale: float, mode: str) -> None:
    fi, fo = 300, 120  # Keras Dense kernel (in, out); fans as ONNX shows it in torch layout (out, in)
    var = scale / formulas.fan(mode, fi, fo)  # type: ignore[arg-type]
    for seed in range(5):
        w = keras_truncated((fi, fo), var, seed).T
        spec = infer(w, fi, fo, framework="keras")
        assert spec.scheme == scheme and spec.distribution == "truncated_normal", spec


def test_structure_constant_identity_orthogonal() -> None:
    assert infer(np.zeros((32, 16), np.float32), 16, 32).scheme == "zero"
    ones = infer(np.full((32, 16), 0.5, np.float32), 16, 32)
    assert (ones.scheme, ones.value) == ("constant", 0.5)
    assert infer(_tensor((32, 16), init.eye_, 0), 16, 32).scheme == "identity"
    assert infer(_tensor((16, 8, 3, 3), init.dirac_, 0), 72, 144).scheme == "identity"
    for gain in (1.0, math.sqrt(2)):
        spec = infer(_tensor((128, 64), lambda w: init.orthogonal_(w, gain=gain), 0), 64, 128)
        assert spec.scheme == "orthogonal" and spec.scale == pytest.approx(gain**2, rel=1e-3), spec
        assert formulas.variance(spec, 64, 128) == pytest.approx(gain**2 / 128, rel=1e-3)


def test_unscaled_and_offset_draws_are_fixed_std() -> None:
    spec = infer(_tensor((256, 128), init.normal_, 0), 128, 256)
    assert (spec.scheme, round(spec.std or 0, 3)) == ("fixed-std", 1.0)
    u01 = infer(_tensor((256, 128), init.uniform_, 0), 128, 256)
    assert u01.scheme == "fixed-std" and u01.mean == pytest.approx(0.5, abs=0.01)
    odd = infer(_tensor((256, 128), lambda w: init.normal_(w, std=0.7), 0), 128, 256)
    assert odd.scheme == "fixed-std"  # no round std, but 10x beyond any activation's need: unscaled


def test_trained_looking_weights_are_trained() -> None:
    rng = np.random.default_rng(0)
    heavy = (rng.standard_t(3, size=(256, 128)) * 0.05).astype(np.float32)
    assert infer(heavy, 128, 256).scheme == "trained"
    odd_scale = (rng.normal(size=(256, 128)) * math.sqrt(7 / 128)).astype(np.float32)  # no initializer gives 7/fan_in
    assert infer(odd_scale, 128, 256).scheme == "trained"


def test_sparse_is_inconclusive() -> None:
    spec = infer(_tensor((200, 100), lambda w: init.sparse_(w, 0.3), 0), 100, 200)
    assert spec.scheme == "inconclusive"


def test_kaiming_selu_gain_is_caught_by_init004() -> None:
    w = _tensor((256, 256), lambda t: init.kaiming_normal_(t, nonlinearity="selu"), 0)
    spec = infer(w, 256, 256, family="selu")
    assert spec.gain_nonlinearity == "selu"
    record = LayerRecord("fc", "linear", "onnx", Origin("m.onnx"), 256, 256, init=spec,
                         activation=Activation("SELU", "selu"))
    verdict = CHECKS["INIT004"](record)
    assert verdict is not None and verdict.severity == "error"


def test_sampling_bounds_the_work_and_is_seeded() -> None:
    w = _tensor((1024, 1024), TORCH_INITS["kaiming_uniform"][0], 0)
    a, b = infer(w, 1024, 1024, sample=4096), infer(w, 1024, 1024, sample=4096)
    assert a == b and a.scheme == "he"
    assert infer(w, 1024, 1024, sample=4096, seed=1).measured_std != a.measured_std


def test_float16_storage() -> None:
    w = _tensor((256, 128), TORCH_INITS["kaiming_uniform"][0], 0).astype(np.float16)
    assert infer(w, 128, 256).scheme == "he"


def test_orthogonal_conv_kernels_in_either_layout() -> None:
    """PyTorch flattens (out, in*k*k); Keras flattens (k*k*in, out): both are recognised."""
    torch_kernel = _tensor((32, 16, 3, 3), lambda w: init.orthogonal_(w, gain=math.sqrt(2)), 0)
    spec = infer(torch_kernel, 144, 288)
    assert spec.scheme == "orthogonal" and formulas.variance(spec, 144, 288) == pytest.approx(2 / 144, rel=1e-3)
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((3 * 3 * 16, 32)))  # Keras: (k*k*in, out)
    keras_kernel = (q * math.sqrt(2)).reshape(3, 3, 16, 32).astype(np.float32)
    fi, fo = formulas.keras_fans(keras_kernel.shape)
    spec = infer(keras_kernel, fi, fo, framework="keras")
    assert spec.scheme == "orthogonal" and formulas.variance(spec, fi, fo) == pytest.approx(2 / 144, rel=1e-3)


def test_a_rejected_neighbour_does_not_chain_two_hypotheses() -> None:
    """He on a 64->128 3x3 conv: U(±0.1) (rejected: not uniform) sits 4 % from He and 4 % from the tanh-gain
    Glorot (rejected: 14 standard errors off); it must not join them into one ambiguous group."""
    kernel = _tensor((128, 64, 3, 3), lambda w: init.kaiming_normal_(w, nonlinearity="relu"), 0)
    spec = infer(kernel, 576, 1152, family="tanh")
    assert spec.scheme == "he" and spec.mode == "fan_in", spec


@pytest.mark.parametrize("seed", range(5))
def test_round_uniform_yields_to_the_torch_default_on_a_small_kernel(seed: int) -> None:
    """A 3->4 3x3 conv (108 entries) on PyTorch's default: U(±0.2) fits the bound test too at this size."""
    kernel = _tensor((4, 3, 3, 3), lambda w: init.kaiming_uniform_(w, a=math.sqrt(5)), seed)
    assert infer(kernel, 27, 36, framework="torch", family="relu").scheme == "torch-default"
    onnx = infer(kernel, 27, 36, framework="onnx", family="relu")  # exporter unknown: both stay possible
    assert onnx.scheme in ("torch-default", "inconclusive"), onnx
    drawn = np.random.default_rng(seed).uniform(-0.2, 0.2, (4, 3, 3, 3)).astype(np.float32)
    assert infer(drawn, 27, 36, framework="torch").scheme != "torch-default"  # past the default's bound


def test_orthogonal_keeps_its_name_whatever_the_long_side() -> None:
    """A 3->64 3x3 conv flattens to 64x27: the long side is neither fan, the gain and mean square are still exact."""
    kernel = _tensor((64, 3, 3, 3), init.orthogonal_, 0)
    spec = infer(kernel, 27, 576)
    assert spec.scheme == "orthogonal" and spec.value == pytest.approx(1.0, rel=1e-3)
    assert formulas.variance(spec, 27, 576) == pytest.approx(1 / 64, rel=1e-3)
    tanh = Activation("Tanh", "tanh")
    record = LayerRecord("c", "conv", "onnx", Origin("m.onnx"), 27, 576, init=spec, activation=tanh)
    assert CHECKS["INIT001"](record) is None  # orthogonal(1) before tanh is the textbook pairing
    relu = LayerRecord("c", "conv", "onnx", Origin("m.onnx"), 27, 576, init=spec, activation=Activation("ReLU", "relu"))
    assert CHECKS["INIT001"](relu) is not None


def test_orthogonal_with_four_rows_only_when_chance_cannot_explain_it() -> None:
    """4 orthonormal rows of 27 are found; random rows never pass, nor 4 rows in bfloat16's wide tolerance."""
    assert infer(_tensor((4, 3, 3, 3), init.orthogonal_, 0), 27, 36).scheme == "orthogonal"
    assert infer(_tensor((4, 27), init.orthogonal_, 0), 27, 4).scheme == "orthogonal"
    assert measure._chance_orthogonal(4, 27, 1e-3) < 1e-12
    assert measure._chance_orthogonal(4, 27, 8 * 2.0**-7) > 1e-9  # bf16: left to the statistics
    assert measure._chance_orthogonal(4, 1 << 16, 1e-3) > 1e-9  # a long side makes chance plausible
    assert infer(_tensor((4, 27), lambda w: init.normal_(w, std=0.2), 0), 27, 4).scheme != "orthogonal"


@pytest.mark.parametrize("name", sorted(TORCH_INITS))
def test_the_shape_test_never_rejects_a_fresh_draw(name: str) -> None:
    """Kolmogorov-Smirnov at 99.9 % with the std estimated from the sample: no real initializer fails it,
    in float32 or float16, from 64 entries to a sampled 3M."""
    fn = TORCH_INITS[name][0]
    for shape in [(8, 8), (96, 64), (128, 64, 3, 3), (3000, 1000)]:
        for seed in range(3):
            w = _tensor(shape, fn, seed)
            for arr in (w, w.astype(np.float16)):
                x = measure.sample_entries(arr.ravel(), 65536, 0)
                st = measure.stats(x, measure._rounding(arr.dtype))
                assert measure.shape_fits(x, st, measure.shape_class(st)), (shape, seed, arr.dtype)
