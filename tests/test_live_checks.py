"""INIT007 and INIT008 as pure checks over hand-built records (the format other frontends feed them)."""

from __future__ import annotations

import math
from dataclasses import replace

from initlint.checks import CHECKS
from initlint.checks.init007_declared_init_not_applied import check as init007
from initlint.checks.init008_unstable_signal import check as init008
from initlint.records import Activation, InitSpec, LayerRecord, Origin, Signal, SignalPoint

RELU = Activation("ReLU", "relu")


def network(curve: list[SignalPoint], threshold: float = 10.0) -> LayerRecord:
    return LayerRecord("Net", "network", "torch", Origin("net.py"), signal=Signal(tuple(curve), threshold))


def point(layer: str, fwd: float | None, grad: float | None, dead: float | None = None,
          shape: tuple[int, ...] | None = None, **flags: bool) -> SignalPoint:
    return SignalPoint(layer, fwd, grad, dead, shape=shape, **flags)


def test_registered() -> None:
    assert CHECKS["INIT007"] is init007
    assert CHECKS["INIT008"] is init008


def test_init008_stable_curve_is_silent() -> None:
    curve = [point(f"l{i}", 1.0 + 0.1 * (i % 3), 0.5) for i in range(10)] + [point("head", 50.0, 1.0, head=True)]
    assert init008(network(curve)) is None


def test_init008_vanishing_forward_names_both_ends_and_factor() -> None:
    curve = [point(f"l{i}", 0.5 ** i, 0.5) for i in range(6)]  # 32x over 6 layers
    verdict = init008(network(curve))
    assert verdict is not None and verdict.code == "INIT008" and verdict.severity == "warning"
    assert "forward std vanishes: 32x from l0 (1) to l5 (0.0312)" in verdict.message
    assert "threshold 10x" in verdict.message
    assert ("Curve (forward std / gradient norm per sample): l0 1/0.5, l1 0.5/0.5, l2 0.25/0.5, l4 0.062/0.5, "
            "l5 0.031/0.5." in verdict.message)
    assert init008(network(curve, threshold=40.0)) is None


def test_init008_gradient_direction_words() -> None:
    growing_to_head = [point(f"l{i}", 1.0, 2.0 ** i) for i in range(6)]
    verdict = init008(network(growing_to_head))
    assert verdict is not None and "gradient norm vanishes toward the input" in verdict.message
    shrinking_to_head = [point(f"l{i}", 1.0, 2.0 ** -i) for i in range(6)]
    verdict = init008(network(shrinking_to_head))
    assert verdict is not None and "gradient norm explodes toward the input" in verdict.message
    # the per-sample norm is what is compared when the curve has it
    normed = [replace(p, grad_norm=1.0) for p in growing_to_head]
    assert init008(network(normed)) is None


def test_init008_heads_and_residual_ends_are_left_out_of_the_ratio() -> None:
    curve = [point("a", 1.0, 1.0), point("b", 1.2, 1.0), point("branch_end", 1e-4, 1.0, residual_end=True),
             point("head", 1e-6, 1.0, head=True)]
    assert init008(network(curve)) is None


def test_init008_overflow_constant_and_dead() -> None:
    overflow = init008(network([point("a", 1.0, math.nan), point("b", math.inf, math.nan)]))
    assert overflow is not None and "not finite (overflow) from b on" in overflow.message
    constant = init008(network([point("a", 1.0, 1.0), point("b", 0.0, 1.0)]))
    assert constant is not None and "output of b is constant" in constant.message
    dead = init008(network([point("a", 1.0, 1.0, 0.95), point("b", 1.0, 1.0, 0.5)]))
    assert dead is not None and "a (95% zeros)" in dead.message and "b (" not in dead.message


def test_init008_compares_the_endpoints_across_shape_changes() -> None:
    # SPEC 8.36: no compounding over selected steps; a signal that dips at a shape change and recovers is fine
    dips = [point("conv0", 0.4, 1.0, shape=(32, 16, 16)), point("dw", 1e-3, 1.0, shape=(32, 16, 16)),
            point("conv1", 0.6, 1.0, shape=(64, 8, 8)), point("conv2", 0.7, 1.0, shape=(128, 4, 4))]
    assert init008(network(dips)) is None
    taper = [point(f"fc{i}", 4.0 ** i, 1.0, shape=(256 - 8 * i,)) for i in range(4)]  # width changes every layer
    verdict = init008(network(taper))
    assert verdict is not None and "forward std explodes: 64x from fc0 (1, 256) to fc3 (64, 232)" in verdict.message
    assert "over 4 weight-layer calls" in verdict.message


def test_init008_global_pooling_ends_the_path() -> None:
    conv = [point(f"conv{i}", 1.0, 1.0, shape=(16, 8, 8)) for i in range(3)]
    pooled = [point("fc", 0.05, 0.01, shape=(64,)), point("se", 0.01, 0.01, shape=(16, 1, 1))]
    assert init008(network(conv + pooled)) is None  # pooled vectors are past the measured path
    assert init008(network(pooled + [point("fc2", 1.0, 1.0, shape=(64,))])) is not None  # an MLP: all of it


def test_init008_gradients_of_normalized_endpoints_are_not_compared() -> None:
    bn = [point("a", 1.0, 100.0, normalized=True), point("b", 1.0, 1.0, normalized=True)]
    assert init008(network(bn)) is None  # scale-free: the normalization sets them
    plain = [point("a", 1.0, 100.0), point("b", 1.0, 1.0)]
    assert init008(network(plain)) is not None


def test_init008_zero_gradients() -> None:
    blocked = [point("a", 1.0, 0.0), point("b", 1.0, 0.0), point("c", 1.0, 0.0)]
    assert init008(network(blocked)) is None  # a zero-initialized head blocks every gradient by design
    middle = [point("a", 1.0, 1.0), point("b", 1.0, 0.0), point("c", 1.0, 0.9)]
    assert init008(network(middle)) is None  # the endpoints are what is compared
    below = [point("a", 1.0, 0.0), point("b", 1.0, 0.0), point("c", 1.0, 0.9)]
    verdict = init008(network(below))
    assert verdict is not None and "exactly 0 at b and below, c (0.9) at the top" in verdict.message


def test_init008_ignores_other_records() -> None:
    layer = LayerRecord("fc", "linear", "torch", Origin("x.py"), signal=Signal((point("a", 1.0, 1.0),), 10.0))
    assert init008(layer) is None
    assert init008(network([])) is None


def measured(scheme: str, std: float, **kw: object) -> InitSpec:
    return InitSpec(scheme, source="measured", measured_std=std, **kw)  # type: ignore[arg-type]


def record(declared: InitSpec | None, init: InitSpec, fan_in: int = 256, fan_out: int = 256) -> LayerRecord:
    return LayerRecord("fc2", "linear", "torch", Origin("m.py"), fan_in, fan_out, init=init, activation=RELU,
                       declared=declared)


HE = InitSpec("he", scale=2.0, mode="fan_in", distribution="normal", call="nn.init.kaiming_normal_", line=13)


def test_init007_declared_he_measured_default() -> None:
    verdict = init007(record(HE, measured("torch-default", math.sqrt(1 / (3 * 256)), scale=1 / 3, mode="fan_in")))
    assert verdict is not None and verdict.code == "INIT007" and verdict.severity == "error"
    assert "nn.init.kaiming_normal_" in verdict.message and "(line 13)" in verdict.message
    assert "6x below" in verdict.message


def test_init007_silent_when_the_measurement_agrees() -> None:
    assert init007(record(HE, measured("he", math.sqrt(2 / 256) * 1.02, scale=2.0, mode="fan_in"))) is None


def test_init007_silent_for_inconclusive_trained_defaults_and_missing_declarations() -> None:
    default = InitSpec("torch-default", source="default", scale=1 / 3, mode="fan_in")
    assert init007(record(HE, measured("inconclusive", 0.2))) is None
    assert init007(record(HE, measured("trained", 0.2))) is None
    assert init007(record(default, measured("he", math.sqrt(2 / 256)))) is None
    assert init007(record(None, measured("torch-default", 0.036))) is None


def test_init007_declared_zero_measured_random() -> None:
    zero = InitSpec("zero", distribution="constant", value=0.0, call="nn.init.zeros_")
    verdict = init007(record(zero, measured("torch-default", 0.036, scale=1 / 3, mode="fan_in")))
    assert verdict is not None and "declared zero but the tensor is random" in verdict.message
