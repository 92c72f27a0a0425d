"""ONNX audits of broken, hostile and inconsistent models: one clear line, bounded time and memory.

The inputs are a real ``torch.onnx.export`` (truncated, byte-flipped) and graphs built
with ``onnx.helper`` that break the spec in ways an exporter never would. Each audit
runs in-process (the contract: records, or an error line that starts with the file's
name) and, for the hostile ones, in a fresh process with a memory cap and a timeout
(a hang or an allocation of the declared size fails the test instead of the machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
pytest.importorskip("initlint.frontends.onnx.graph")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from initlint import audit_onnx  # noqa: E402
from initlint.records import FileResult  # noqa: E402

SCALE = max(1, int(os.environ.get("INITLINT_FUZZ_SCALE", "1")))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small MLP with a conv stem, exported by the TorchScript exporter."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(),
        torch.nn.Linear(8 * 6 * 6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10),
    )
    path = tmp_path_factory.mktemp("export") / "net.onnx"
    with warnings.catch_warnings():  # the TorchScript exporter announces its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.randn(1, 3, 8, 8),), str(path), dynamo=False, do_constant_folding=False)
    return path.read_bytes()


def check(result: FileResult, path: Path) -> None:
    """Records, or one error line that names the file; never an exception or an internal error."""
    if result.error is not None:
        assert result.error.startswith(f"{path}: "), result.error
        assert "\n" not in result.error and "internal error" not in result.error, result.error
        assert result.records == ()


def test_the_export_itself_audits(exported: bytes, tmp_path: Path) -> None:
    path = tmp_path / "net.onnx"
    path.write_bytes(exported)
    result = audit_onnx(str(path))
    assert result.error is None and len(result.records) == 3


@settings(max_examples=60 * SCALE, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.floats(0, 1, exclude_max=True), flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                                                        st.integers(0, 255)), max_size=6))
def test_truncated_and_flipped_exports(exported: bytes, tmp_path: Path, cut: float, flips: list) -> None:
    data = bytearray(exported)
    for where, byte in flips:
        data[int(where * len(data))] = byte
    if cut > 0.5:  # half the examples keep their full length, with or without flips
        data = data[: int((cut - 0.5) * 2 * len(data))]
    path = tmp_path / "broken.onnx"
    path.write_bytes(bytes(data))
    check(audit_onnx(str(path)), path)


# -- hostile graphs ---------------------------------------------------------------------------------


def _graph(nodes: list, inits: list, x: list, y: list, value_info: list | None = None) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)], inits,
                              value_info=value_info or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _w(*shape: int) -> TensorProto:
    return numpy_helper.from_array(np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 0.1, "w")


def _huge(name: str, dims: list[int]) -> TensorProto:
    """An initializer that declares enormous dims and carries no data."""
    tensor = TensorProto()
    tensor.name, tensor.data_type = name, TensorProto.FLOAT
    tensor.dims.extend(dims)
    return tensor


def _external(name: str, dims: list[int], location: str, offset: int = 0, length: int | None = None) -> TensorProto:
    tensor = _huge(name, dims)
    tensor.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": str(offset)}
    if length is not None:
        entries["length"] = str(length)
    for key, value in entries.items():
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def _matmul_relu(init: TensorProto, k: int = 16, n: int = 16) -> onnx.ModelProto:
    return _graph([helper.make_node("MatMul", ["x", init.name], ["h"], name="fc"), helper.make_node("Relu", ["h"], ["y"])],
                  [init], [4, k], [4, n])


def hostile(folder: Path) -> dict[str, Path]:
    """name -> a model file that breaks the spec (or the reader's trust) in one way."""
    out: dict[str, Path] = {}

    def save(name: str, m: onnx.ModelProto) -> None:
        d = folder / name
        d.mkdir()
        out[name] = d / "model.onnx"
        out[name].write_bytes(m.SerializeToString())

    save("wrong_shape", _graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1, name="fc")], [_w(10, 7)],
                               [4, 16], [4, 10]))
    save("rank_5_gemm", _graph([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")], [_w(2, 2, 2, 2, 2)],
                               [4, 2], [4, 2]))
    save("missing_initializer", _graph([helper.make_node("MatMul", ["x", "nowhere"], ["h"], name="fc"),
                                        helper.make_node("Relu", ["h"], ["y"])], [], [4, 16], [4, 16]))
    save("cycle", _graph([helper.make_node("MatMul", ["x", "w"], ["a"], name="fc"),
                          helper.make_node("Add", ["a", "c"], ["b"], name="add"),
                          helper.make_node("Relu", ["b"], ["c"], name="relu"),
                          helper.make_node("Identity", ["c"], ["y"])], [_w(16, 16)], [4, 16], [4, 16]))
    save("self_loop", _graph([helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
                              helper.make_node("Add", ["h", "h2"], ["h2"], name="loop"),
                              helper.make_node("Relu", ["h2"], ["y"])], [_w(16, 16)], [4, 16], [4, 16]))
    save("huge_dims_no_data", _matmul_relu(_huge("w", [2**31, 2**31]), 2**31, 2**31))
    save("negative_dims", _matmul_relu(_huge("w", [-4, 16])))
    save("zero_dims", _matmul_relu(_huge("w", [0, 16]), 0, 16))
    save("conv_zero_group", _graph([helper.make_node("Conv", ["x", "w"], ["y"], group=0, name="conv")],
                                   [_w(8, 3, 3, 3)], [1, 3, 8, 8], [1, 8, 6, 6]))
    save("conv_rank_1", _graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [_w(8)],
                               [1, 3, 8, 8], [1, 8, 8, 8]))
    nan = numpy_helper.from_array(np.full((16, 16), np.nan, np.float32), "w")
    save("nan_weights", _matmul_relu(nan))
    inf = numpy_helper.from_array(np.full((16, 16), np.inf, np.float32), "w")
    save("inf_weights", _matmul_relu(inf))
    save("string_weights", _matmul_relu(helper.make_tensor("w", TensorProto.STRING, [2, 2], [b"a", b"b", b"c", b"d"])))
    save("duplicate_outputs", _graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="fc1"),
                                      helper.make_node("MatMul", ["x", "w"], ["y"], name="fc2")],
                                     [_w(16, 16)], [4, 16], [4, 16]))
    save("unknown_op", _graph([helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
                               helper.make_node("NoSuchOp", ["h"], ["y"], domain="com.example")],
                              [_w(16, 16)], [4, 16], [4, 16]))
    long_chain = [helper.make_node("MatMul", ["x", "w"], ["h0"], name="fc")]
    long_chain += [helper.make_node("Identity", [f"h{i}"], [f"h{i + 1}"]) for i in range(20000)]
    long_chain.append(helper.make_node("Relu", ["h20000"], ["y"]))
    save("identity_chain", _graph(long_chain, [_w(16, 16)], [4, 16], [4, 16]))
    (folder / "secrets").mkdir()
    (folder / "secrets" / "key.bin").write_bytes(os.urandom(1024))
    for name, location, kwargs in [
        ("external_missing", "weights.bin", {}),
        ("external_dotdot", "../secrets/key.bin", {}),
        ("external_absolute", str(folder / "secrets" / "key.bin"), {}),
        ("external_is_folder", ".", {}),
        ("external_nul", "weights\0.bin", {}),
        ("external_negative_offset", "weights.bin", {"offset": -4096}),
        ("external_huge_length", "weights.bin", {"length": 2**62}),
        ("external_huge_dims", "weights.bin", {}),
        ("external_symlink_out", "weights.bin", {}),
        ("external_fifo", "weights.bin", {}),
    ]:
        dims = [2**31, 2**31] if name == "external_huge_dims" else [16, 16]
        save(name, _matmul_relu(_external("w", dims, location, **kwargs), dims[0], dims[1]))
    for name in ("external_negative_offset", "external_huge_length", "external_huge_dims"):
        (out[name].parent / "weights.bin").write_bytes(b"\0" * 1024)
    (out["external_symlink_out"].parent / "weights.bin").symlink_to(folder / "secrets" / "key.bin")
    if hasattr(os, "mkfifo"):
        os.mkfifo(out["external_fifo"].parent / "weights.bin")
    return out


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return hostile(tmp_path_factory.mktemp("hostile"))


# What each one must say (a substring of the reason), or None where a clean audit is also fine.
REASONS: dict[str, str | None] = {
    "missing_initializer": None,
    "huge_dims_no_data": None,
    "external_missing": "is missing",
    "external_dotdot": "leaves the model folder",
    "external_absolute": "not a relative path",
    "external_is_folder": None,
    "external_nul": None,
    "external_negative_offset": "offset",
    "external_huge_length": None,
    "external_huge_dims": None,
    "external_symlink_out": "symbolic link",
    "external_fifo": "not a regular file",
}


def test_hostile_graphs_in_process(hostile_files: dict[str, Path]) -> None:
    for name, path in sorted(hostile_files.items()):
        result = audit_onnx(str(path))
        check(result, path)
        reason = REASONS.get(name)
        if reason is not None:
            assert result.error is not None and reason in result.error, (name, result.error)
        # A layer whose weights cannot be measured is never judged: no finding from nothing.
        if name in ("huge_dims_no_data", "missing_initializer", "string_weights", "nan_weights", "inf_weights"):
            assert result.findings == (), (name, result.findings)


_CAPPED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from initlint import audit_onnx
out = {}
for path in sys.argv[1:]:
    result = audit_onnx(path)
    out[path] = result.error
print(json.dumps(out))
"""


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is how the memory bound is enforced")
def test_hostile_graphs_bounded_memory_and_time(hostile_files: dict[str, Path]) -> None:
    """All of them in one fresh process capped at 2 GiB of address space, within a time limit."""
    paths = [str(p) for _, p in sorted(hostile_files.items())]
    proc = subprocess.run([sys.executable, "-c", _CAPPED, *paths], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = json.loads(proc.stdout)
    assert set(errors) == set(paths)
    assert not any(e and ("MemoryError" in e or "internal error" in e) for e in errors.values()), errors


def test_cli_reports_each_hostile_file_once(hostile_files: dict[str, Path], tmp_path: Path) -> None:
    folder = next(iter(hostile_files.values())).parent.parent
    proc = subprocess.run([sys.executable, "-m", "initlint", str(folder), "--no-cache", "--jobs", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    for line in proc.stderr.splitlines():
        assert line.startswith("error: ") and ".onnx: " in line, line
