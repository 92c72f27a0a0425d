"""Live Keras models on the torch backend: measured kernels, consumers from the Keras graph, one batch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover - keras imported earlier with another backend
    pytest.skip("Keras live checks need KERAS_BACKEND=torch", allow_module_level=True)

from initlint import apply_recommended_init  # noqa: E402
from initlint.api import check_target  # noqa: E402
from initlint.frontends.live.targets import LiveError  # noqa: E402

TARGET = f"{Path(__file__).resolve().parent / 'live_targets' / 'keras_models.py'}"


def test_glorot_before_relu_is_measured_and_vanishes() -> None:
    result, _ = check_target(f"{TARGET}:build", kwargs={"depth": 20})
    assert result.tracer == "keras graph" and result.input_shape == (128, 128)
    rows = result.layers
    assert rows[0]["scheme"] == "glorot" and rows[0]["consumer"] == "relu" and rows[-1]["consumer"] == "softmax"
    assert sum(f.code == "INIT001" and f.severity == "warning" for f in result.findings) == 20
    [network] = [f for f in result.findings if f.code == "INIT008"]
    assert network.framework == "keras" and "forward std vanishes" in network.message
    body = [p for p in result.signal.curve if not p.head]
    per_layer = (body[-1].forward_std / body[0].forward_std) ** (1 / 19)
    assert 0.6 < per_layer < 0.8  # Glorot before ReLU halves the variance: std x 0.71 per layer


@pytest.mark.parametrize("activation, init", [("relu", "he_normal"), ("selu", "lecun_normal")])
def test_matching_initializers_are_clean(activation: str, init: str) -> None:
    result, _ = check_target(f"{TARGET}:build", kwargs={"depth": 20, "activation": activation, "init": init})
    assert not result.findings, [f.message for f in result.findings]


def test_functional_batchnorm_and_leaky_layer() -> None:
    result, model = check_target(f"{TARGET}:functional")
    first = result.records[0]
    assert first.normalized and first.activation is not None
    assert first.activation.name == "LeakyReLU" and first.activation.slope == pytest.approx(0.3)
    assert result.layers[1]["consumer"] == "identity"
    assert all(layer.rate == 0.3 for layer in model.layers if hasattr(layer, "rate"))  # dropout restored
    with pytest.raises(LiveError, match="torch models"):
        apply_recommended_init(model)


def test_conv_kernels_are_measured_through_their_torch_layout() -> None:
    result, _ = check_target(f"{TARGET}:convnet")
    rows = {row["layer"]: row for row in result.layers}
    convs = [row for row in result.layers if row["type"] == "conv"]
    assert len(convs) == 2 and all(row["forward_std"] and row["grad_std"] for row in convs)
    assert convs[0]["fan_in"] == 27 and convs[0]["scheme"] == "he"
    assert [p.shape for p in result.signal.curve][:2] == [(16, 16, 16), (16, 16, 16)]
    assert not result.findings, [f.message for f in result.findings]  # global pooling is not a problem
    assert len(rows) == 4


def test_default_dense_agrees_with_the_static_lint_and_is_deterministic() -> None:
    from initlint.api import lint_file

    target = f"{TARGET}:default_dense"
    first, _ = check_target(target, seed=5)
    again, _ = check_target(target, seed=5)
    other, _ = check_target(target, seed=6)
    stds = [row["measured_std"] for row in first.layers]
    assert stds == [row["measured_std"] for row in again.layers]  # Keras' own RNG is seeded by --seed
    assert stds != [row["measured_std"] for row in other.layers]
    live = {(f.code, f.severity) for f in first.findings if f.code != "INIT008"}
    static = {(f.code, f.severity) for f in lint_file(TARGET).findings if f.line and f.line > 30}
    assert live == static == {("INIT005", "advice")}
