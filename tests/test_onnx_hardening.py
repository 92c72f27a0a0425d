"""Hostile ONNX inputs that once crashed, hung or exhausted the run: one regression test each, and a fuzz round.

Models are built with ``onnx.helper`` (deterministic, small); files are real, processes are
real (the CLI in a subprocess, onnxruntime in its forked child). See docs/robustness.md.
"""

from __future__ import annotations

import json
import mmap
import os
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")

from onnx import TensorProto, helper, numpy_helper

from initlint import audit_onnx
from initlint.frontends.onnx import isolation
from initlint.frontends.onnx.graph import open_graph, records
from initlint.frontends.onnx.tensors import BadModel, LazyTensor
from initlint.records import Report
from initlint.reporters import json as json_reporter
from initlint.reporters import text as text_reporter
from initlint.settings import Settings

from . import onnx_fuzz

HAS_ORT = True
try:
    import onnxruntime  # noqa: F401
except ImportError:  # pragma: no cover - the runtime extra is installed in CI
    HAS_ORT = False
needs_ort = pytest.mark.skipif(not HAS_ORT, reason="onnxruntime is not installed")
SCALE = max(1, int(os.environ.get("INITLINT_FUZZ_SCALE", "1")))


# -- builders ---------------------------------------------------------------------------------------


def he(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * np.sqrt(2 / shape[0])).astype(np.float32)


def save(model: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(model.SerializeToString())
    return path


def make(nodes: list, inits: list, x: list, y: list | None = None, sparse: list | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)], inits,
                              sparse_initializer=sparse or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def fc_relu(width: int = 16) -> tuple[list, list]:
    return ([helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"), helper.make_node("Relu", ["h"], ["a"])],
            [numpy_helper.from_array(he((width, width)), "w")])


def loop_model(count: int | None, width: int = 16) -> onnx.ModelProto:
    """fc -> ReLU -> Loop(count, cond=True) whose body adds one; ``None``: no trip count (runs while cond holds)."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [4, width])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [4, width])],
        [numpy_helper.from_array(np.ones((4, width), np.float32), "one")])
    nodes, inits = fc_relu(width)
    inits.append(numpy_helper.from_array(np.array(True), "c"))
    if count is not None:
        inits.append(numpy_helper.from_array(np.array(count, np.int64), "M"))
    nodes.append(helper.make_node("Loop", ["M" if count is not None else "", "c", "a"], ["y"], body=body, name="loop"))
    return make(nodes, inits, [4, width], [4, width])


def external(name: str, dims: list[int], location: str, length: int) -> TensorProto:
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def gemm_external(folder: Path, rows: int, cols: int, data: bytes | None = None) -> Path:
    """One Gemm(transB=1) + ReLU whose (rows, cols) weight is ``weights.bin`` (a file of holes, all 0, by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    nbytes = rows * cols * 4
    with open(folder / "weights.bin", "wb") as fh:
        if data is None:
            fh.truncate(nbytes)
        else:
            fh.write(data)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1), helper.make_node("Relu", ["h"], ["y"])]
    return save(make(nodes, [external("w", [rows, cols], "weights.bin", nbytes)], [1, cols], [1, rows]), folder)


def network(result):  # type: ignore[no-untyped-def]
    return next(r for r in result.records if r.kind == "network")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "initlint", *args, "--no-cache", "--jobs", "1"],
                          check=False, capture_output=True, text=True, timeout=timeout)


def strict_json(text: str) -> dict:
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


# -- --propagate: bounds and the timeout --------------------------------------------------------------


@needs_ort
def test_loop_with_2_62_trips_is_skipped_before_it_runs(tmp_path: Path) -> None:
    result = audit_onnx(str(save(loop_model(2**62), tmp_path)), Settings(propagate=True, timeout=60))
    skipped = network(result).signal.skipped
    assert skipped == "Loop 'loop' runs 4,611,686,018,427,387,904 iterations, over the 10,000 a propagation allows"
    assert [r.init.scheme for r in result.records if r.kind != "network"] == ["he"]  # the audit itself still holds


@needs_ort
def test_loop_within_the_bound_runs(tmp_path: Path) -> None:
    result = audit_onnx(str(save(loop_model(3), tmp_path)), Settings(propagate=True, timeout=60))
    assert network(result).signal.skipped == "" and len(network(result).signal.curve) == 1


@needs_ort
def test_unbounded_loop_respects_the_timeout(tmp_path: Path) -> None:
    """No trip count and a condition that stays true: onnxruntime is killed, the audit's records survive."""
    path = save(loop_model(None), tmp_path)
    start = time.monotonic()
    proc = cli(str(path), "--propagate", "--timeout", "4", timeout=120)
    elapsed = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr
    assert "signal propagation (INIT008) skipped: onnxruntime did not finish within" in proc.stdout
    assert "(--timeout)" in proc.stdout and " fc " in proc.stdout and proc.stderr == ""
    assert elapsed < 60  # the hang guard; it ends within --timeout plus the interpreter's start


@needs_ort
def test_declared_huge_input_is_refused_and_input_shape_overrides(tmp_path: Path) -> None:
    nodes, inits = fc_relu(64)
    nodes.append(helper.make_node("Identity", ["a"], ["y"]))
    path = save(make(nodes, inits, [1048576, 64], [1048576, 64]), tmp_path)
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30));"
              "from initlint import audit_onnx; from initlint.settings import Settings;"
              "r = audit_onnx(sys.argv[1], Settings(propagate=True));"
              "print([x.signal.skipped for x in r.records if x.kind == 'network'][0])")
    proc = subprocess.run([sys.executable, "-c", script, str(path)], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == ("input 'x' of shape [1048576, 64] has 67,108,864 entries, over the 33,554,432 "
                                   "a propagation feeds (pass a smaller --input-shape)")
    given = audit_onnx(str(path), Settings(propagate=True, input_shape=(8, 64)))
    assert network(given).signal.skipped == "" and network(given).signal.input_shape == (8, 64)


@needs_ort
def test_graph_tensors_over_the_size_bound_are_refused(tmp_path: Path) -> None:
    nodes, inits = fc_relu()
    inits.append(numpy_helper.from_array(np.array([1 << 20, 1 << 14], np.int64), "shape"))
    nodes += [helper.make_node("ConstantOfShape", ["shape"], ["big"]),
              helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0), helper.make_node("Add", ["a", "total"], ["y"])]
    result = audit_onnx(str(save(make(nodes, inits, [4, 16], [4, 16]), tmp_path)), Settings(propagate=True))
    assert network(result).signal.skipped == ("the graph's tensors on input [4, 16] would take 64 GiB, over the "
                                              "2 GiB a propagation allows")


@needs_ort
@pytest.mark.skipif(sys.platform != "linux", reason="the address-space cap is RLIMIT_AS")
def test_memory_the_shapes_do_not_show_hits_the_cap(tmp_path: Path) -> None:
    """A loop that emits 16 MiB per iteration without a trip count: onnxruntime's child runs into its cap."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Identity", ["v_in"], ["v_out"]),
         helper.make_node("ConstantOfShape", ["n"], ["chunk"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [4, 16]),
         helper.make_tensor_value_info("chunk", TensorProto.FLOAT, [1 << 22])],
        [numpy_helper.from_array(np.array([1 << 22], np.int64), "n")])
    nodes, inits = fc_relu()
    inits.append(numpy_helper.from_array(np.array(True), "c"))
    nodes.append(helper.make_node("Loop", ["", "c", "a"], ["y", "chunks"], body=body, name="loop"))
    path = save(make(nodes, inits, [4, 16], [4, 16]), tmp_path)
    script = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30));"
              "from initlint import audit_onnx; from initlint.settings import Settings;"
              "r = audit_onnx(sys.argv[1], Settings(propagate=True, timeout=120));"
              "print(r.error, [x.signal.skipped for x in r.records if x.kind == 'network'][0])")
    proc = subprocess.run([sys.executable, "-c", script, str(path)], check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("None onnxruntime ran out of memory (its address space is capped at "), proc.stdout


# -- external data: truncation, replacement, memory ---------------------------------------------------


def test_external_data_truncated_after_validation_is_an_error(tmp_path: Path) -> None:
    path = gemm_external(tmp_path, 64, 32, he((64, 32)).tobytes())
    graph = open_graph(str(path))  # validated: the file was long enough
    os.truncate(tmp_path / "weights.bin", 100)
    with pytest.raises(BadModel, match=r"external data file 'weights.bin' of tensor 'w' changed during the audit "
                                       r"\(now 100 bytes, 8192 needed\)"):
        records(graph, str(path), Settings())
    result = audit_onnx(str(path))  # a fresh audit refuses it up front
    assert result.error == (f"{path}: external data of tensor 'w' ends past the end of 'weights.bin' "
                            "(offset 0 + length 8192 > 100 bytes)")


def test_external_data_replaced_after_validation_is_an_error(tmp_path: Path) -> None:
    path = gemm_external(tmp_path, 64, 32, he((64, 32)).tobytes())
    graph = open_graph(str(path))
    (tmp_path / "other.bin").write_bytes(he((64, 32), seed=1).tobytes())
    os.replace(tmp_path / "other.bin", tmp_path / "weights.bin")
    with pytest.raises(BadModel, match="changed during the audit \\(replaced by another file\\)"):
        records(graph, str(path), Settings())


_TRUNCATE_WHILE_AUDITING = """
import json, os, sys, threading
import numpy as np
from initlint import audit_onnx
path, data = sys.argv[1], sys.argv[2]
blob = open(data, "rb").read()
stop = threading.Event()
def churn():
    while not stop.is_set():
        with open(data, "r+b") as fh:
            fh.truncate(len(blob) // 3)
        with open(data, "r+b") as fh:
            fh.write(blob)
worker = threading.Thread(target=churn)
worker.start()
errors = []
for _ in range(int(sys.argv[3])):
    errors.append(audit_onnx(path).error)
stop.set()
worker.join()
print(json.dumps(errors))
"""


def test_concurrent_truncation_is_never_a_crash(tmp_path: Path) -> None:
    """Another thread truncates and restores the weights file while it is audited again and again."""
    rows = 4096  # 4096 x 2048 floats: a LazyTensor, read in pieces while the file changes under it
    path = gemm_external(tmp_path, rows, 2048, he((rows, 2048)).tobytes())
    proc = subprocess.run([sys.executable, "-c", _TRUNCATE_WHILE_AUDITING, str(path), str(tmp_path / "weights.bin"),
                           str(40)], check=False, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])  # SIGBUS would be -7
    errors = json.loads(proc.stdout)
    assert len(errors) == 40
    for error in errors:
        assert error is None or (error.startswith(f"{path}: ") and "\n" not in error and (
            "changed during the audit" in error or "ends past the end" in error)), error


def _rchar() -> int:
    with open("/proc/self/io") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("rchar:"))


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts bytes read through /proc/self/io")
def test_zero_tensor_is_sampled_not_read_whole(tmp_path: Path) -> None:
    """512 MiB of zeros (a file of holes: no disk): about 16 MiB is read, and it is still called zero."""
    path = gemm_external(tmp_path, 16384, 8192)
    before = _rchar()
    result = audit_onnx(str(path))
    read = _rchar() - before
    (rec,) = result.records
    assert (rec.init.scheme, [f.code for f in result.findings]) == ("zero", ["INIT003"])
    assert rec.init.note == "every entry read is 0 (4,194,304 of 134,217,728, in 256 blocks spread over the tensor)"
    assert 16 << 20 <= read < 24 << 20, read  # 4 Mi float32 entries plus the sample, of 512 MiB


def test_large_external_tensor_is_lazy_and_measured_like_in_memory(tmp_path: Path) -> None:
    weights = he((4096, 2048))  # 8 Mi entries: over the whole-read size
    path = gemm_external(tmp_path, 4096, 2048, weights.tobytes())
    lazy = open_graph(str(path)).tensors.array("w")
    assert isinstance(lazy, LazyTensor) and lazy.shape == (4096, 2048)
    assert np.array_equal(lazy.ravel()[1000:1010], weights.reshape(-1)[1000:1010])
    assert np.array_equal(lazy.transpose((1, 0)).reshape(2048, -1)[:3], weights.T[:3])
    from initlint.measure import infer

    assert infer(lazy, 2048, 4096, framework="onnx") == infer(weights, 2048, 4096, framework="onnx")


# -- sparse initializers ------------------------------------------------------------------------------


def sparse_model(values: np.ndarray, index: np.ndarray, dims: list[int]) -> onnx.ModelProto:
    sparse = helper.make_sparse_tensor(numpy_helper.from_array(values, "w"), numpy_helper.from_array(index, "w_idx"), dims)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"), helper.make_node("Relu", ["h"], ["y"])]
    return make(nodes, [], [4, dims[1] if dims[1] < 2**20 else 16], [4, 16], sparse=[sparse])


def test_sparse_initializer_is_measured(tmp_path: Path) -> None:
    dense = he((64, 64))
    every = audit_onnx(str(save(sparse_model(dense.reshape(-1), np.arange(64 * 64, dtype=np.int64), [64, 64]),
                                tmp_path / "all")))
    (rec,) = every.records
    assert every.error is None and rec.init.scheme == "he" and rec.fan_in == 64 and not rec.unresolved
    some = audit_onnx(str(save(sparse_model(dense.reshape(-1)[:100], np.arange(0, 4000, 40, dtype=np.int64), [64, 64]),
                               tmp_path / "some")))
    (rec,) = some.records
    assert some.error is None and rec.unresolved.startswith("measured initializer is inconclusive: 98% of the entries")
    coordinates = np.stack(np.unravel_index(np.arange(64 * 64), (64, 64)), axis=1).astype(np.int64)
    coo = audit_onnx(str(save(sparse_model(dense.reshape(-1), coordinates, [64, 64]), tmp_path / "coo")))
    assert coo.records[0].init.scheme == "he"


@pytest.mark.parametrize("values, index, dims, reason", [
    (np.ones(4, np.float32), np.array([0, 1, 2, 9999], np.int64), [16, 16],
     "sparse initializer (4 of 256 entries stored) has indices out of range"),
    (np.ones(4, np.float32), np.arange(3, dtype=np.int64), [16, 16],
     "sparse initializer (4 of 256 entries stored) has 3 indices for 4 values"),
    (np.ones(4, np.float32), np.arange(4, dtype=np.int64), [2**31, 2**31],
     "sparse initializer (4 of 4611686018427387904 entries stored): over 4194304 entries, not measured"),
])
def test_sparse_initializer_that_cannot_be_densified_is_unresolved(tmp_path: Path, values, index, dims, reason) -> None:
    result = audit_onnx(str(save(sparse_model(values, index, dims), tmp_path)))
    assert result.error is None and [r.unresolved for r in result.records] == [reason]
    assert result.findings == ()


@needs_ort
def test_sparse_initializer_under_propagate(tmp_path: Path) -> None:
    dense = he((16, 16))
    path = save(sparse_model(dense.reshape(-1), np.arange(256, dtype=np.int64), [16, 16]), tmp_path)
    result = audit_onnx(str(path), Settings(propagate=True))
    assert result.error is None and network(result).signal.skipped == ""
    assert network(result).signal.curve[0].forward_std == pytest.approx(
        float((np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32) @ dense).std()), rel=1e-5)


# -- strict JSON, no warnings --------------------------------------------------------------------------


@needs_ort
def test_json_is_strict_and_numpy_warnings_do_not_leak(tmp_path: Path) -> None:
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"), helper.make_node("Relu", ["h"], ["y"])]
    huge = numpy_helper.from_array(np.full((16, 16), 3e38, np.float32) * np.sign(he((16, 16))), "w")
    path = save(make(nodes, [huge], [4, 16], [4, 16]), tmp_path)
    proc = cli(str(path), "--propagate", "--format", "json")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr  # no RuntimeWarning from the overflow
    doc = strict_json(proc.stdout)
    (point,) = doc["propagation"][0]["curve"]
    assert point["forward_std"] is None  # the batch overflows to inf/nan: written as null
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = audit_onnx(str(path), Settings(propagate=True))
    assert caught == [] and "fc nan" in text_reporter.render(Report((result,)))


def test_json_reporter_writes_non_finite_numbers_as_null() -> None:
    doc = {"a": float("nan"), "b": [1.0, float("inf"), {"c": -float("inf")}], "d": "NaN", "e": 2}
    assert json_reporter.finite(doc) == {"a": None, "b": [1.0, None, {"c": None}], "d": "NaN", "e": 2}


# -- subgraph external data, bad files ----------------------------------------------------------------


def if_with_external(folder: Path, location: str) -> Path:
    """fc -> ReLU -> If(then: MatMul by an external weight stored at ``location``, else: Identity)."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = he((16, 16))
    (folder / "w.bin").write_bytes(weights.tobytes())
    then = helper.make_graph([helper.make_node("MatMul", ["a", "wsub"], ["o1"])], "then", [],
                             [helper.make_tensor_value_info("o1", TensorProto.FLOAT, [4, 16])],
                             [external("wsub", [16, 16], location, weights.nbytes)])
    other = helper.make_graph([helper.make_node("Identity", ["a"], ["o2"])], "else", [],
                              [helper.make_tensor_value_info("o2", TensorProto.FLOAT, [4, 16])])
    nodes, inits = fc_relu()
    inits.append(numpy_helper.from_array(np.array(True), "c"))
    nodes.append(helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other, name="if"))
    return save(make(nodes, inits, [4, 16], [4, 16]), folder)


@pytest.mark.parametrize("location, reason", [
    ("../secret.bin", "external data location '../secret.bin' of tensor 'wsub' leaves the model folder"),
    ("/etc/hostname", "external data location '/etc/hostname' of tensor 'wsub' is not a relative path"),
    ("nothere.bin", "external data file 'nothere.bin' of tensor 'wsub' is missing"),
    ("link.bin", "external data 'link.bin' of tensor 'wsub' is a symbolic link"),
])
@pytest.mark.parametrize("propagate", [False, True])
def test_subgraph_external_data_refused_with_one_line(tmp_path: Path, location: str, reason: str, propagate: bool) -> None:
    (tmp_path / "secret.bin").write_bytes(b"\1" * 1024)
    path = if_with_external(tmp_path / "m", location)
    if location == "link.bin":
        (tmp_path / "m" / "link.bin").symlink_to(tmp_path / "secret.bin")
    result = audit_onnx(str(path), Settings(propagate=propagate))
    assert result.error == f"{path}: {reason}"


@needs_ort
def test_subgraph_external_data_is_read_for_propagate(tmp_path: Path) -> None:
    result = audit_onnx(str(if_with_external(tmp_path, "w.bin")), Settings(propagate=True))
    assert result.error is None and network(result).signal.skipped == ""
    assert [p.layer for p in network(result).signal.curve] == ["fc"]


def test_bad_files_one_line_each_exit_2_others_still_reported(tmp_path: Path) -> None:
    nodes, inits = fc_relu()
    good = save(make(nodes + [helper.make_node("Identity", ["a"], ["y"])], inits, [4, 16], [4, 16]), tmp_path / "good")
    bad = {name: tmp_path / name / "model.onnx" for name in ("empty", "garbage", "truncated")}
    for name, data in (("empty", b""), ("garbage", bytes(range(256)) * 4), ("truncated", good.read_bytes()[:200])):
        bad[name].parent.mkdir()
        bad[name].write_bytes(data)
    bad["missing"] = gemm_external(tmp_path / "missing", 16, 16)
    (tmp_path / "missing" / "weights.bin").unlink()
    proc = cli(str(tmp_path), "--verbose")  # the layer table of a graph without findings
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 4
    expected = {"empty": "empty file", "garbage": "not an ONNX model, or truncated (cannot parse: ",
                "truncated": "not an ONNX model, or truncated (cannot parse: ",
                "missing": "external data file 'weights.bin' of tensor 'w' is missing"}
    for name, path in bad.items():
        (line,) = [x for x in lines if x.startswith(f"error: {path}: ")]
        assert line.startswith(f"error: {path}: {expected[name]}"), line
    assert f"{good}: 1 weight layers" in proc.stdout  # the good one is still reported


def test_a_name_that_is_not_utf8_is_a_corrupt_file(tmp_path: Path) -> None:
    """protobuf returns bytes for such a string field; it must not reach a reporter (found by the fuzzer)."""
    nodes, inits = fc_relu()
    nodes[0].name = "gemmX1"
    data = make(nodes + [helper.make_node("Identity", ["a"], ["y"])], inits, [4, 16], [4, 16]).SerializeToString()
    path = tmp_path / "model.onnx"
    path.write_bytes(data.replace(b"gemmX1", b"gemm\xe31"))
    result = audit_onnx(str(path))
    assert result.error == f"{path}: corrupt file: field 'name' (NodeProto) is not UTF-8 text"
    proc = cli(str(path), "--format", "json")
    assert proc.returncode == 2 and strict_json(proc.stdout)["errors"] == [result.error]


# -- the isolation of onnxruntime's run -----------------------------------------------------------------


@pytest.mark.skipif(not isolation.available(), reason="no fork on this platform")
def test_isolation_returns_raises_times_out_and_survives_sigbus(tmp_path: Path) -> None:
    assert isolation.run(lambda: {"a": [1, 2.5]}) == {"a": [1, 2.5]}
    with pytest.raises(KeyError, match="boom"):
        isolation.run(lambda: {}["boom"])
    start = time.monotonic()
    with pytest.raises(isolation.Overran):
        isolation.run(lambda: time.sleep(30), limit=0.5)
    assert time.monotonic() - start < 10

    data = tmp_path / "d.bin"
    data.write_bytes(b"\1" * (1 << 20))

    def read_past_the_end() -> int:  # the failure pread avoids: a mapped page of a file truncated since
        with open(data, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        os.truncate(data, 0)
        return mapped[(1 << 20) - 1]

    with pytest.raises(isolation.ChildFailed) as failed:
        isolation.run(read_past_the_end)
    assert failed.value.signum == signal.SIGBUS and str(failed.value) == "killed by SIGBUS"


# -- a fuzz round -------------------------------------------------------------------------------------


def test_fuzz_round_in_process() -> None:
    """Generated, hostile and mutated models (tests/onnx_fuzz.py), each under the contract; then one report of all."""
    outcomes: dict[str, int] = {}
    results = []
    with tempfile.TemporaryDirectory() as root:
        for index in range(60 * SCALE):
            result, outcome = onnx_fuzz.check(onnx_fuzz.generate(7, index, Path(root)))
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            results.append(result)
    assert outcomes.get("error", 0) and outcomes.get("audited", 0), outcomes  # both sides of the contract were hit
    strict_json(json_reporter.render(Report(tuple(results)), show_unresolved=True))


def test_fuzz_round_through_the_cli(tmp_path: Path) -> None:
    for index in range(30):
        onnx_fuzz.generate(11, index, tmp_path)
    files, errors = onnx_fuzz.check_cli(tmp_path, propagate=HAS_ORT)
    assert files == 30 and 0 < errors < 30
