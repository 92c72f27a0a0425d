"""ONNX per SPEC 8.37: trained files, shape tests at small sizes, rounding slack, consumers through
CastLike / affine normalization / residual streams / token selection, computed weights, names."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from initlint import audit_onnx
from initlint.cli import main
from initlint.measure import infer, kurtosis_ok, shape_class, stats

RNG = np.random.default_rng(7)
PAIRING = {"INIT001", "INIT002", "INIT003", "INIT004", "INIT005", "INIT006"}


def graph(nodes: list[onnx.NodeProto], inits: list[TensorProto], x: tuple[int, ...], y: tuple[int, ...],
          extra_inputs: tuple[onnx.ValueInfoProto, ...] = ()) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x)), *extra_inputs],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y))], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])


def save(m: onnx.ModelProto, path: Path) -> str:
    path.write_bytes(m.SerializeToString())
    return str(path)


def trained(shape: tuple[int, ...], scale: float) -> np.ndarray:
    """Heavy-tailed weights like trained ones (Student t, 3 dof)."""
    return (RNG.standard_t(3, shape) * scale).astype(np.float32)


def mlp(weights: list[np.ndarray], act: str = "Relu") -> onnx.ModelProto:
    nodes, inits, name = [], [], "x"
    for i, w in enumerate(weights):
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("Gemm", [name, f"w{i}"], [f"h{i}"], transB=1, name=f"node_Gemm_{i}"))
        name = f"h{i}"
        if i < len(weights) - 1:
            nodes.append(helper.make_node(act, [name], [f"a{i}"]))
            name = f"a{i}"
    nodes.append(helper.make_node("Identity", [name], ["y"]))
    return graph(nodes, inits, (4, weights[0].shape[1]), (4, weights[-1].shape[0]))


def test_a_mostly_trained_file_gets_no_pairing_finding(tmp_path: Path) -> None:
    # 5 trained layers and 2 whose N(0,1) scale happens to look like an unscaled init
    weights = [trained((128, 128), 0.05) for _ in range(5)] + [RNG.standard_normal((128, 128)).astype(np.float32)
                                                              for _ in range(2)]
    result = audit_onnx(save(mlp(weights), tmp_path / "t.onnx"))
    assert {r.init.scheme for r in result.records} == {"trained"}
    assert not [f for f in result.findings if f.code in PAIRING]
    assert "the file is trained (5 of its 7 measurable layers fit no initializer)" in result.records[-1].init.note
    table = CliRunner().invoke(main, [str(tmp_path / "t.onnx"), "--no-cache", "--verbose"]).output
    assert "trained (skipped)" in table
    # the same unscaled layers in a file that is not trained are still errors
    fresh = audit_onnx(save(mlp([RNG.standard_normal((128, 128)).astype(np.float32) for _ in range(3)]),
                            tmp_path / "f.onnx"))
    assert [f.code for f in fresh.findings].count("INIT002") >= 2


def test_heavy_tails_and_uniform_bounds_at_small_sizes() -> None:
    depthwise = trained((16, 1, 3, 3), 1.0)  # 144 entries, kurtosis far above any initializer's
    spec = infer(depthwise, 9, 144, framework="onnx")
    assert spec.scheme == "inconclusive" and "heavier-tailed" in spec.note
    uniform = RNG.uniform(-0.2, 0.2, 100).astype(np.float32)
    uniform[0] = 0.64  # past U(±0.2)'s bound: no uniform candidate may match
    assert "U(±0.2)" not in infer(uniform, 10, 10, framework="onnx").note
    normal = RNG.standard_normal(128).astype(np.float32) * 0.125  # a clean small normal still matches
    assert infer(normal, 128, 1, framework="torch").scheme != "trained"


def test_pytorch_default_stored_as_float16_is_the_default() -> None:
    fan_in = 512
    bound = 1 / np.sqrt(fan_in)
    w = RNG.uniform(-bound, bound, (512, fan_in)).astype(np.float16)
    assert infer(w, fan_in, 512, framework="onnx").scheme == "torch-default"


def test_consumers_through_castlike_affine_norm_gather_and_residual_stream(tmp_path: Path) -> None:
    d = 64
    w = lambda: (RNG.standard_normal((d, d)) * np.sqrt(2 / d)).astype(np.float32)  # noqa: E731
    inits = [numpy_helper.from_array(w(), n) for n in ("w0", "w1", "w2", "w3")] + [
        numpy_helper.from_array(np.ones((1, d, 1), np.float32), "gamma"),
        numpy_helper.from_array(np.zeros((1, d, 1), np.float32), "beta"),
        numpy_helper.from_array(np.ones(d, np.float32), "s"), numpy_helper.from_array(np.zeros(d, np.float32), "b"),
        numpy_helper.from_array(np.array(0, np.int64), "zero"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w0"], ["h0"], name="fc0"),
        helper.make_node("CastLike", ["x", "h0"], ["xc"]),  # h0 is only a type reference here
        helper.make_node("Reshape", ["h0", "shape3"], ["h0r"]),
        helper.make_node("InstanceNormalization", ["h0r", "s", "b"], ["n0"]),
        helper.make_node("Mul", ["n0", "gamma"], ["n1"]),  # GroupNorm's affine, exported apart
        helper.make_node("Add", ["n1", "beta"], ["n2"]),
        helper.make_node("Reshape", ["n2", "shape2"], ["n3"]),
        helper.make_node("Relu", ["n3"], ["a0"]),
        helper.make_node("MatMul", ["a0", "w1"], ["h1"], name="block"),
        helper.make_node("Add", ["h1", "xc"], ["s1"]),  # residual add: block ends a branch
        helper.make_node("LayerNormalization", ["s1", "s", "b"], ["l1"], axis=-1),
        helper.make_node("MatMul", ["l1", "w2"], ["h2"], name="next"),
        helper.make_node("Add", ["h2", "s1"], ["s2"]),
        helper.make_node("Gather", ["s2", "zero"], ["cls"], axis=0),  # the class token
        helper.make_node("MatMul", ["cls", "w3"], ["y"], name="head"),
    ]
    inits += [numpy_helper.from_array(np.array([4, d, 1], np.int64), "shape3"),
              numpy_helper.from_array(np.array([4, d], np.int64), "shape2")]
    m = graph(nodes, inits, (4, d), (d,))
    result = audit_onnx(save(m, tmp_path / "g.onnx"))
    recs = {r.name: r for r in result.records}
    assert recs["fc0"].activation.name == "ReLU" and recs["fc0"].normalized, recs["fc0"].unresolved
    assert recs["block"].residual_end and recs["block"].activation.family == "linear"
    assert not recs["next"].unresolved and recs["next"].activation.family == "linear"


def test_computed_weights_are_counted_unresolved_and_generic_names_use_the_weight(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["wc"], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.1])),
        helper.make_node("MatMul", ["x", "wc"], ["h"], name="node_MatMul_3"),
        helper.make_node("MatMul", ["h", "wg"], ["h2"], name="node_MatMul_4"),
        helper.make_node("Gemm", ["h2", "encoder.proj.weight"], ["y"], transB=1, name="node_Gemm_5"),
    ]
    inits = [numpy_helper.from_array(np.array([16, 16], np.int64), "shape"),
             numpy_helper.from_array((RNG.standard_normal((8, 16)) * 0.25).astype(np.float32), "encoder.proj.weight")]
    m = graph(nodes, inits, (4, 16), (4, 8), (helper.make_tensor_value_info("wg", TensorProto.FLOAT, [16, 16]),))
    result = audit_onnx(save(m, tmp_path / "c.onnx"))
    names = [r.name for r in result.records]
    assert len(result.records) == 3 and names[2] == "encoder.proj.weight"
    reasons = [r.unresolved for r in result.records[:2]]
    assert reasons == ["its weight is computed in the graph (ConstantOfShape)",
                       "its weight is a graph input (not stored in the file)"]


@pytest.mark.parametrize("scale", [0.05])
def test_trained_file_init008_gives_no_reinit_hint(tmp_path: Path, scale: float) -> None:
    pytest.importorskip("onnxruntime")
    from initlint.settings import Settings

    weights = [trained((64, 64), scale * (0.2 ** i)) for i in range(6)]  # the signal shrinks 5x per layer
    path = save(mlp(weights), tmp_path / "p.onnx")
    result = audit_onnx(path, Settings(propagate=True))
    [finding] = [f for f in result.findings if f.code == "INIT008"]
    assert "apply_recommended_init" not in finding.message and "The weights are trained" in finding.message


def test_chain_factors_follow_data_flow(tmp_path: Path) -> None:
    d = 256
    default = lambda: RNG.uniform(-1 / np.sqrt(d), 1 / np.sqrt(d), (d, d)).astype(np.float32)  # noqa: E731
    seq = audit_onnx(save(mlp([default() for _ in range(4)] + [default()[:10]]), tmp_path / "seq.onnx"))
    notes = [f.message for f in seq.findings if f.code == "INIT005"]
    assert len(notes) == 4 and all("Over the 4 such layers" in m for m in notes)
    # two parallel branches of two layers each, summed: two chains of 2, never one of 4
    inits = [numpy_helper.from_array(default(), f"w{i}") for i in range(4)]
    nodes = []
    for branch, (a, b) in enumerate(((0, 1), (2, 3))):
        nodes += [helper.make_node("MatMul", ["x", f"w{a}"], [f"h{a}"], name=f"b{branch}_fc0"),
                  helper.make_node("Relu", [f"h{a}"], [f"r{a}"]),
                  helper.make_node("MatMul", [f"r{a}", f"w{b}"], [f"h{b}"], name=f"b{branch}_fc1"),
                  helper.make_node("Relu", [f"h{b}"], [f"r{b}"])]
    nodes.append(helper.make_node("Add", ["r1", "r3"], ["y"]))
    par = audit_onnx(save(graph(nodes, inits, (4, d), (4, d)), tmp_path / "par.onnx"))
    messages = [f.message for f in par.findings if f.code == "INIT005"]
    assert messages and not any("Over the 4" in m for m in messages)


def drifted_uniform(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """A Glorot-uniform matrix after a little training (as scikit-learn's MLPs ship): most entries stay
    near their uniform draw, 15 % moved far. Variance and kurtosis still look like a Glorot normal."""
    rng = np.random.default_rng(seed)
    bound = math.sqrt(6 / sum(shape))
    w = rng.uniform(-bound, bound, shape) * 0.9
    moved = rng.random(shape) < 0.15
    w[moved] = rng.normal(0, bound * 0.85, int(moved.sum()))
    return w.astype(np.float32)


@pytest.mark.parametrize("seed", range(3))
def test_a_trained_tensor_that_kept_its_variance_is_caught_by_its_shape(tmp_path: Path, seed: int) -> None:
    w = drifted_uniform((64, 64), seed)
    x = w.ravel().astype(np.float64)
    st = stats(x, 2.0**-22)
    assert kurtosis_ok(st, shape_class(st))  # the moments alone would call it a Glorot normal
    spec = infer(w, 64, 64)
    assert spec.scheme == "trained" and "Kolmogorov-Smirnov" in spec.note, spec
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["h0"], name="MatMul"), helper.make_node("Relu", ["h0"], ["a0"]),
             helper.make_node("MatMul", ["a0", "w1"], ["h1"], name="MatMul1"), helper.make_node("Relu", ["h1"], ["a1"]),
             helper.make_node("MatMul", ["a1", "w2"], ["y"], name="MatMul2")]
    weights = [drifted_uniform((64, 64), seed + 10 * i) for i in range(3)]
    inits = [numpy_helper.from_array(w, f"w{i}") for i, w in enumerate(weights)]
    result = audit_onnx(save(graph(nodes, inits, (1, 64), (1, 64)), tmp_path / "mlp.onnx"))
    assert not [f for f in result.findings if f.code in PAIRING]
    assert {r.init.scheme for r in result.records if r.kind != "network"} == {"trained"}
