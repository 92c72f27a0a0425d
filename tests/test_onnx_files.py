"""ONNX graphs built with ``onnx.helper`` (forms the exporter does not emit), external data, and bad files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from initlint import audit_onnx
from initlint.cli import main
from initlint.records import FileResult

RNG = np.random.default_rng(0)


def he(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    return (RNG.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32)


def model(nodes: list[onnx.NodeProto], inits: list[TensorProto], x: tuple[int, ...], y: tuple[int, ...]) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(y))], inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def save(m: onnx.ModelProto, path: Path) -> str:
    path.write_bytes(m.SerializeToString())
    return str(path)


def only(result: FileResult):  # type: ignore[no-untyped-def]
    assert result.error is None, result.error
    assert len(result.records) == 1, result.records
    return result.records[0]


def test_matmul_with_transposed_initializer(tmp_path: Path) -> None:
    w = he((32, 64), 64)  # torch layout (out, in), transposed in the graph
    m = model(
        [helper.make_node("Transpose", ["w"], ["wt"], perm=[1, 0]), helper.make_node("MatMul", ["x", "wt"], ["h"], name="fc"),
         helper.make_node("Relu", ["h"], ["y"])],
        [numpy_helper.from_array(w, "w")], (8, 64), (8, 32),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert (rec.name, rec.fan_in, rec.fan_out, rec.init.scheme, rec.activation.name) == ("fc", 64, 32, "he", "ReLU")


def test_weight_in_a_constant_node_and_gemm_without_transb(tmp_path: Path) -> None:
    w = numpy_helper.from_array((RNG.standard_normal((64, 32)) * np.sqrt(2 / 96)).astype(np.float32), "c")  # Glorot, (in, out)
    m = model(
        [helper.make_node("Constant", [], ["w"], value=w), helper.make_node("Gemm", ["x", "w"], ["h"], transB=0),
         helper.make_node("Tanh", ["h"], ["y"])],
        [], (8, 64), (8, 32),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert rec.name == "w"  # unnamed node: the weight names the layer
    assert (rec.fan_in, rec.fan_out, rec.init.scheme, rec.activation.name) == (64, 32, "glorot", "Tanh")


def test_grouped_conv_fans(tmp_path: Path) -> None:
    w = he((32, 4, 3, 3), 36)  # 16 input channels in 4 groups
    m = model(
        [helper.make_node("Conv", ["x", "w"], ["h"], name="conv", group=4, pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["h"], ["y"])],
        [numpy_helper.from_array(w, "w")], (1, 16, 8, 8), (1, 32, 8, 8),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert (rec.fan_in, rec.fan_out, rec.node.group, rec.init.scheme) == (36, 288, 4, "he")


def test_quantized_weight_is_unresolved(tmp_path: Path) -> None:
    q = numpy_helper.from_array(RNG.integers(-100, 100, (32, 64)).astype(np.int8), "q")
    scale = numpy_helper.from_array(np.array(0.01, np.float32), "s")
    m = model(
        [helper.make_node("DequantizeLinear", ["q", "s"], ["w"]), helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)],
        [q, scale], (8, 64), (8, 32),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert "quantized" in rec.unresolved and rec.init is None


def mlp_model() -> onnx.ModelProto:
    """64 -> 128 (N(0, 1), before ReLU) -> 10."""
    w1 = RNG.standard_normal((128, 64)).astype(np.float32)
    w2 = he((10, 128), 128)
    return model(
        [helper.make_node("Gemm", ["x", "w1"], ["h"], name="fc1", transB=1), helper.make_node("Relu", ["h"], ["a"]),
         helper.make_node("Gemm", ["a", "w2"], ["y"], name="fc2", transB=1)],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")], (4, 64), (4, 10),
    )


def externalize(m: onnx.ModelProto, folder: Path, location: str, data_file: Path | None = None) -> str:
    """Write every initializer's bytes to one file and point the tensors at ``location``."""
    data_file = data_file or folder / location
    offset = 0
    with open(data_file, "wb") as fh:
        for t in m.graph.initializer:
            raw = numpy_helper.to_array(t).tobytes()
            fh.write(raw)
            onnx.external_data_helper.set_external_data(t, location, offset, len(raw))
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            offset += len(raw)
    return save(m, folder / "model.onnx")


def test_external_data_is_memory_mapped(tmp_path: Path) -> None:
    path = externalize(mlp_model(), tmp_path, "weights.bin")
    result = audit_onnx(path)
    assert result.error is None
    assert [(f.layer, f.code) for f in result.findings] == [("fc1", "INIT002")]


def bad_files(root: Path) -> dict[str, str]:
    """name -> path of every kind of unreadable model, each in its own folder."""
    out: dict[str, str] = {}

    def folder(name: str) -> Path:
        d = root / name
        d.mkdir()
        return d

    (folder("empty") / "m.onnx").write_bytes(b"")
    out["empty"] = str(root / "empty" / "m.onnx")
    good = mlp_model().SerializeToString()
    (folder("truncated") / "m.onnx").write_bytes(good[: len(good) // 2])
    out["truncated"] = str(root / "truncated" / "m.onnx")
    cut = mlp_model()
    del cut.graph.node[1:]  # parses, but the graph output is never produced
    (folder("cut_graph") / "m.onnx").write_bytes(cut.SerializeToString())
    out["cut_graph"] = str(root / "cut_graph" / "m.onnx")
    (folder("random") / "m.onnx").write_bytes(np.random.default_rng(1).bytes(4096))
    out["random"] = str(root / "random" / "m.onnx")
    (folder("text") / "m.onnx").write_text("import torch\nprint('not a model')\n")
    (folder("tensor") / "m.onnx").write_bytes(numpy_helper.from_array(np.ones((4, 4), np.float32), "t").SerializeToString())
    out["tensor"] = str(root / "tensor" / "m.onnx")
    out["text"] = str(root / "text" / "m.onnx")
    d = folder("missing")
    out["missing"] = externalize(mlp_model(), d, "weights.bin")
    os.remove(d / "weights.bin")
    d = folder("traversal")
    (root / "secret.bin").write_bytes(b"\0" * 65536)
    out["traversal"] = externalize(mlp_model(), d, "../secret.bin", root / "secret.bin")
    d = folder("absolute")
    out["absolute"] = externalize(mlp_model(), d, str(root / "secret.bin"), root / "abs.bin")
    d = folder("symlink")
    externalize(mlp_model(), d, "weights.bin", root / "outside.bin")
    os.symlink(root / "outside.bin", d / "weights.bin")
    out["symlink"] = str(d / "model.onnx")
    d = folder("short")
    out["short"] = externalize(mlp_model(), d, "weights.bin")
    with open(d / "weights.bin", "r+b") as fh:
        fh.truncate(1000)
    return out


REASONS = {
    "empty": "empty file",
    "truncated": "truncated",
    "cut_graph": "never produced",
    "random": "not an ONNX model",
    "text": "not an ONNX model",
    "tensor": "not an ONNX model",
    "missing": "is missing",
    "traversal": "leaves the model folder",
    "absolute": "not a relative path",
    "symlink": "symbolic link",
    "short": "past the end",
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return bad_files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_bad_file_gives_one_clear_line(bad: dict[str, str], kind: str) -> None:
    result = audit_onnx(bad[kind])
    assert result.error is not None and result.error.startswith(bad[kind] + ": ")
    assert "\n" not in result.error and REASONS[kind] in result.error
    assert result.records == ()


def test_cli_reports_every_bad_file_and_still_audits_the_good_one(bad: dict[str, str], tmp_path: Path) -> None:
    good = save(mlp_model(), tmp_path / "good.onnx")
    result = CliRunner().invoke(main, [good, *bad.values()])
    assert result.exit_code == 2, result.output
    err_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(err_lines) == len(bad)
    assert all(any(path in line for line in err_lines) for path in bad.values())
    assert "Traceback" not in result.output + result.stderr
    assert "fc1: INIT002 [error]" in result.stdout and "weight layers" in result.stdout


def test_subprocess_cli_json_layers(tmp_path: Path) -> None:
    import json

    good = save(mlp_model(), tmp_path / "good.onnx")
    run = subprocess.run([sys.executable, "-m", "initlint", "--format", "json", good], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    layers = {item["layer"]: item for item in doc["layers"]}
    assert layers["fc1"]["scheme"] == "fixed-std" and layers["fc1"]["verdict"] == "INIT002 error"
    assert (layers["fc1"]["fan_in"], layers["fc1"]["fan_out"], layers["fc1"]["shape"]) == (64, 128, [128, 64])
    # 1280 entries cannot tell He (an over-scaled head: advice) from Glorot (fine) here: unresolved, not guessed
    assert layers["fc2"]["consumer"] == "identity" and layers["fc2"]["verdict"] == "unresolved"
    assert "inconclusive" in layers["fc2"]["unresolved"] and doc["summary"]["unresolved"] == 1
    assert doc["findings"][0]["line"] is None and doc["findings"][0]["layer"] == "fc1"


def _keras_he_normal(fan_in: int, fan_out: int) -> np.ndarray:
    """Keras he_normal on a Dense kernel (in, out): truncated at ±2σ' with σ' = sqrt(2/fan_in)/0.8796."""
    pre = np.sqrt(2 / fan_in) / 0.87962566103423978
    x = RNG.normal(0, pre, (fan_in, fan_out))
    while (bad := np.abs(x) > 2 * pre).any():
        x[bad] = RNG.normal(0, pre, int(bad.sum()))
    return x.astype(np.float32)


@pytest.mark.parametrize(("act", "kernel", "expected"), [
    ("Relu", "he_normal", None),
    ("Selu", "he_normal", ("INIT004", "error")),
    ("Selu", "lecun_uniform", ("INIT004", "advice")),
])
def test_keras_layout_dense(tmp_path: Path, act: str, kernel: str, expected: tuple[str, str] | None) -> None:
    fi, fo = 200, 300
    w = _keras_he_normal(fi, fo) if kernel == "he_normal" else RNG.uniform(-np.sqrt(3 / fi), np.sqrt(3 / fi), (fi, fo)).astype(np.float32)
    m = model(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"), helper.make_node(act, ["h"], ["y"])],
        [numpy_helper.from_array(w, "w")], (4, fi), (4, fo),
    )
    result = audit_onnx(save(m, tmp_path / "k.onnx"))
    rec = only(result)
    assert (rec.fan_in, rec.fan_out) == (fi, fo)
    dist = "truncated_normal" if kernel == "he_normal" else "uniform"
    assert rec.init.distribution == dist and rec.init.scheme == ("he" if kernel == "he_normal" else "lecun")
    got = [(f.code, f.severity) for f in result.findings]
    assert got == ([expected] if expected else [])


def test_corrupted_bytes_never_raise(tmp_path: Path) -> None:
    """Seeded byte flips of a valid model: each run gives records or one error line, never an exception."""
    data = bytearray(mlp_model().SerializeToString())
    rng = np.random.default_rng(7)
    outcomes = set()
    for i in range(40):
        broken = bytearray(data)
        for pos in rng.integers(0, len(broken), size=int(rng.integers(1, 6))):
            broken[pos] = int(rng.integers(0, 256))
        path = tmp_path / f"f{i}.onnx"
        path.write_bytes(bytes(broken))
        result = audit_onnx(str(path))
        if result.error:
            assert "\n" not in result.error and result.error.startswith(f"{path}: ")
        outcomes.add(result.error is None)
    assert outcomes == {True, False}  # some flips still parse, others are reported


def test_conv_kernel_stored_channels_last_behind_a_transpose(tmp_path: Path) -> None:
    hwio = he((3, 3, 16, 32), 144)  # as a converter from Keras stores it
    m = model(
        [helper.make_node("Transpose", ["w"], ["oihw"], perm=[3, 2, 0, 1]),
         helper.make_node("Conv", ["x", "oihw"], ["h"], name="conv", pads=[1, 1, 1, 1]), helper.make_node("Relu", ["h"], ["y"])],
        [numpy_helper.from_array(hwio, "w")], (1, 16, 8, 8), (1, 32, 8, 8),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert (rec.shape, rec.fan_in, rec.fan_out, rec.init.scheme) == ((32, 16, 3, 3), 144, 288, "he")


def test_show_unresolved_names_the_reason(tmp_path: Path) -> None:
    w = he((32, 64), 64)
    m = model(
        [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1), helper.make_node("Relu", ["h"], ["a"]),
         helper.make_node("Tanh", ["h"], ["b"]), helper.make_node("Add", ["a", "b"], ["y"])],
        [numpy_helper.from_array(w, "w")], (8, 64), (8, 32),
    )
    path = save(m, tmp_path / "m.onnx")
    result = CliRunner().invoke(main, ["--show-unresolved", path])
    assert f"{path}: unresolved fc: branches disagree: ReLU vs Tanh" in result.output
    assert "0 resolved, 1 unresolved" in result.output and result.exit_code == 0


def test_weight_layers_in_subgraphs_are_counted_unresolved(tmp_path: Path) -> None:
    then_graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["t"], name="inner_fc", transB=1)], "then", [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [8, 32])],
    )
    else_graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["e"])], "else", [], [helper.make_tensor_value_info("e", TensorProto.FLOAT, [8, 64])],
    )
    cond = numpy_helper.from_array(np.array(True), "cond")
    m = model([helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_graph, else_branch=else_graph)],
              [numpy_helper.from_array(he((32, 64), 64), "w"), cond], (8, 64), (8, 32))
    result = audit_onnx(save(m, tmp_path / "m.onnx"))
    rec = only(result)
    assert rec.name == "inner_fc" and "subgraphs are not analysed" in rec.unresolved


def test_gemm_alpha_scaling_the_weight_is_unresolved(tmp_path: Path) -> None:
    m = model(
        [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1, alpha=0.5), helper.make_node("Relu", ["h"], ["y"])],
        [numpy_helper.from_array(he((32, 64), 64), "w")], (4, 64), (4, 32),
    )
    rec = only(audit_onnx(save(m, tmp_path / "m.onnx")))
    assert rec.unresolved == "Gemm alpha=0.5 scales the weight"


def test_onnx_external_data_writer_and_float16_weights(tmp_path: Path) -> None:
    from initlint.frontends.onnx.graph import open_graph

    w = numpy_helper.from_array(he((64, 128), 128).astype(np.float16), "w")
    m = model(
        [helper.make_node("Cast", ["w"], ["wf"], to=TensorProto.FLOAT), helper.make_node("Gemm", ["x", "wf"], ["h"], name="fc", transB=1),
         helper.make_node("Relu", ["h"], ["y"])],
        [w], (4, 128), (4, 64),
    )
    path = tmp_path / "m.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, location="m.bin", size_threshold=0)
    values = open_graph(str(path)).tensors.array("w")  # read from m.bin with pread, in its stored dtype
    assert values.dtype == np.float16 and values.shape == (64, 128)
    assert np.array_equal(values, numpy_helper.to_array(w))
    rec = only(audit_onnx(str(path)))
    assert (rec.init.scheme, rec.activation.name, rec.fan_in) == ("he", "ReLU", 128)
