"""A deterministic ONNX fuzzer: generated, hostile and mutated models, each audited under the contract.

Every input is built from a seeded ``numpy`` generator (input ``i`` of seed ``s`` is the same
bytes on every run): a graph of weight layers (MatMul, Gemm, Conv) and activations, with
weights drawn from real initializers or hostile values (zeros, constants, NaN, Inf, 3e38,
integers, float16/float64), plus one or more of: ``Loop`` (trip counts 0, 3, 2**62, none,
computed), ``Scan``, ``If`` with weights in their bodies, sparse initializers (valid,
out-of-range indices, 2**31 x 2**31 dims), huge declared inputs and initializers,
``ConstantOfShape`` of 64 GiB, weights in external files (missing, truncated, ``..``,
absolute, symbolic link, hard link, FIFO, folder, offset past the end, ``length`` 2**62,
in subgraphs too), then sometimes the model's bytes truncated or flipped, or its data
file cut. Half of them are audited with ``--propagate`` (some with an ``--input-shape``,
valid, huge or of the wrong rank).

The contract for each input (:func:`check`): records, or one error line that starts with
the file's name; never an internal error, a traceback, a warning on stderr or a timeout of
the audit itself (a propagation that runs out of its time is a skip reason, allowed); the
text and JSON reporters render the result and the JSON is strict. A crash (SIGSEGV, SIGBUS)
ends the process: the runner prints each input's index first, so the last one names it.

    python -m tests.onnx_fuzz --count 5000 --seed 0 [--cli-every 250] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from initlint import audit_onnx
from initlint.records import FileResult, Report
from initlint.reporters import json as json_reporter
from initlint.reporters import text as text_reporter
from initlint.settings import Settings

OPSET = 17
ACTIVATIONS = ("Relu", "LeakyRelu", "Tanh", "Sigmoid", "Gelu", "Softmax", "Elu", "Selu", "Clip", "SiLU", None)
WEIGHTS = ("he", "he", "glorot", "uniform", "zero", "const", "nan", "inf", "huge", "int", "float16", "float64", "tiny")
EXTRAS = ("loop", "scan", "if", "sparse", "huge_input", "huge_init", "const_of_shape", "deep_loop", "none", "none")
EXTERNAL = ("ok", "ok", "missing", "truncated", "dotdot", "absolute", "symlink", "hardlink", "fifo", "folder",
            "offset", "length", "subgraph_ok", "subgraph_missing")
MUTATIONS = ("none",) * 6 + ("truncate", "flip", "data_cut")


@dataclass
class Case:
    path: Path
    settings: Settings
    kind: str


def _weight(rng: np.random.Generator, shape: tuple[int, ...], kind: str, fan_in: int, fan_out: int) -> np.ndarray:
    if kind == "he":
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32)
    if kind == "glorot":
        bound = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    if kind == "uniform":
        return rng.uniform(-1 / np.sqrt(fan_in), 1 / np.sqrt(fan_in), shape).astype(np.float32)
    if kind == "zero":
        return np.zeros(shape, np.float32)
    if kind == "const":
        return np.full(shape, 0.5, np.float32)
    if kind == "nan":
        out = rng.standard_normal(shape).astype(np.float32)
        out.flat[int(rng.integers(out.size))] = np.nan
        return out
    if kind == "inf":
        return np.full(shape, np.inf, np.float32)
    if kind == "huge":
        return np.full(shape, 3e38, np.float32) * rng.choice([-1, 1], shape).astype(np.float32)
    if kind == "int":
        return rng.integers(-3, 3, shape).astype(np.int32)
    if kind == "float16":
        return (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float16)
    if kind == "float64":
        return rng.standard_normal(shape) * np.sqrt(1 / fan_in)
    return (rng.standard_normal(shape) * 1e-30).astype(np.float32)


class _Builder:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self.sparse: list[onnx.SparseTensorProto] = []
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def const(self, value: np.ndarray, stem: str = "c") -> str:
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, shape: tuple[int, ...], fan_in: int, fan_out: int) -> str:
        kind = str(self.rng.choice(WEIGHTS))
        values = _weight(self.rng, shape, kind, fan_in, fan_out)
        name = self.const(values, "w")
        if values.dtype != np.float32:  # a Cast on the way keeps the graph valid for onnxruntime
            cast = self.name("wc")
            self.nodes.append(helper.make_node("Cast", [name], [cast], to=TensorProto.FLOAT))
            return cast
        return name

    def activation(self, x: str) -> str:
        act = self.rng.choice(np.array(ACTIVATIONS, dtype=object))
        if act is None:
            return x
        out = self.name("a")
        if act == "SiLU":
            sig = self.name("s")
            self.nodes += [helper.make_node("Sigmoid", [x], [sig]), helper.make_node("Mul", [x, sig], [out])]
        elif act == "Clip":
            self.nodes.append(helper.make_node("Clip", [x, self.const(np.float32(0)), self.const(np.float32(6))], [out]))
        else:
            self.nodes.append(helper.make_node(str(act), [x], [out]))
        return out

    def dense(self, x: str, k: int, n: int) -> str:
        out = self.name("h")
        if self.rng.random() < 0.5:
            self.nodes.append(helper.make_node("MatMul", [x, self.weight((k, n), k, n)], [out], name=self.name("fc")))
        else:
            w = self.weight((n, k), k, n)
            self.nodes.append(helper.make_node("Gemm", [x, w, self.const(np.zeros(n, np.float32), "b")], [out],
                                               transB=1, name=self.name("gemm")))
        return self.activation(out)


def _body(b: _Builder, width: int, kind: str) -> onnx.GraphProto:
    """A Loop body that carries a [4, width] tensor through a weight layer (and emits a scan output)."""
    inner = _Builder(b.rng)
    inner.count = b.count + 1000
    h = inner.dense("v_in", width, width)
    inner.nodes.append(helper.make_node("Identity", [h], ["v_out"]))
    inner.nodes.append(helper.make_node("Identity", ["cond_in"], ["cond_out"]))
    outputs = [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
               helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [4, width])]
    if kind == "deep_loop":
        inner.nodes.append(helper.make_node("ReduceSum", ["v_out"], ["emit"], keepdims=0))
        outputs.append(helper.make_tensor_value_info("emit", TensorProto.FLOAT, []))
    return helper.make_graph(
        inner.nodes, inner.name("body"),
        [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [4, width])],
        outputs, inner.inits)


def _extra(b: _Builder, x: str, width: int, kind: str) -> str:
    """One hostile or control-flow feature after tensor ``x`` ([4, width]); the tensor that carries on."""
    rng = b.rng
    out = b.name("e")
    if kind in ("loop", "deep_loop"):
        trips = rng.choice(np.array([0, 1, 3, 2**62, -1, None, "computed"], dtype=object))
        if trips is None:
            count = ""
        elif trips == "computed":
            count = b.name("m")
            b.nodes.append(helper.make_node("Mul", [b.const(np.int64(2**31)), b.const(np.int64(2**31))], [count]))
        else:
            count = b.const(np.int64(trips), "m")
        cond = b.const(np.bool_(True), "cond")
        outs = [out] + ([b.name("scan")] if kind == "deep_loop" else [])
        b.nodes.append(helper.make_node("Loop", [count, cond, x], outs, body=_body(b, width, kind), name=b.name("loop")))
        return out
    if kind == "scan":
        inner = _Builder(rng)
        inner.count = b.count + 2000
        h = inner.dense("row", width, width)
        inner.nodes += [helper.make_node("Add", ["state", h], ["state_out"]), helper.make_node("Identity", [h], ["row_out"])]
        body = helper.make_graph(inner.nodes, "scan_body",
                                 [helper.make_tensor_value_info("state", TensorProto.FLOAT, [width]),
                                  helper.make_tensor_value_info("row", TensorProto.FLOAT, [width])],
                                 [helper.make_tensor_value_info("state_out", TensorProto.FLOAT, [width]),
                                  helper.make_tensor_value_info("row_out", TensorProto.FLOAT, [width])], inner.inits)
        b.nodes.append(helper.make_node("Scan", [b.const(np.zeros(width, np.float32)), x], [b.name("final"), out],
                                        body=body, num_scan_inputs=1, name=b.name("scan")))
        return out
    if kind == "if":
        branches = []
        for tag in ("then", "else"):
            inner = _Builder(rng)
            inner.count = b.count + (3000 if tag == "then" else 4000)
            h = inner.dense(x, width, width)
            inner.nodes.append(helper.make_node("Identity", [h], [f"{tag}_out"]))
            branches.append(helper.make_graph(inner.nodes, tag, [], [
                helper.make_tensor_value_info(f"{tag}_out", TensorProto.FLOAT, [4, width])], inner.inits))
        b.nodes.append(helper.make_node("If", [b.const(np.bool_(rng.random() < 0.5), "flag")], [out],
                                        then_branch=branches[0], else_branch=branches[1], name=b.name("if")))
        return out
    if kind == "sparse":
        name = b.name("sp")
        variant = rng.integers(4)
        dims = [width, width] if variant != 3 else [2**31, 2**31]
        stored = int(rng.integers(1, width * width + 1))
        values = numpy_helper.from_array((rng.standard_normal(stored) * np.sqrt(2 / width)).astype(np.float32), name)
        index = np.sort(rng.choice(width * width, stored, replace=False)).astype(np.int64)
        if variant == 1:
            index[-1] = width * width + 5  # out of range
        if variant == 2:
            index = np.stack(np.unravel_index(index, (width, width)), axis=1).astype(np.int64)
        b.sparse.append(helper.make_sparse_tensor(values, numpy_helper.from_array(index, name + "_idx"), dims))
        b.nodes.append(helper.make_node("MatMul", [x, name], [out], name=b.name("sparse_fc")))
        return b.activation(out)
    if kind == "huge_init":
        tensor = TensorProto(name=b.name("big"), data_type=TensorProto.FLOAT, dims=[2**31, 2**31])
        b.inits.append(tensor)
        b.nodes.append(helper.make_node("MatMul", [x, tensor.name], [out], name=b.name("big_fc")))
        return out
    if kind == "const_of_shape":
        big = b.name("big")
        total = b.name("sum")
        b.nodes += [helper.make_node("ConstantOfShape", [b.const(np.array([1 << 20, 1 << 14], np.int64))], [big]),
                    helper.make_node("ReduceSum", [big], [total], keepdims=0),
                    helper.make_node("Add", [x, total], [out])]
        return out
    return x


def _externalize(rng: np.random.Generator, model: onnx.ModelProto, folder: Path, variant: str) -> None:
    """Move tensors into ``weights.bin`` (subgraph ones too for subgraph_*), then break the link as ``variant`` says."""
    tensors = [t for t in model.graph.initializer if t.raw_data or t.float_data]
    if variant.startswith("subgraph"):
        tensors = [t for n in model.graph.node for a in n.attribute if a.HasField("g") for t in a.g.initializer] or tensors
    data = folder / "weights.bin"
    chunks, offset = [], 0
    for t in tensors:
        raw = numpy_helper.to_array(t).tobytes()
        t.ClearField("float_data")
        t.ClearField("int32_data")
        t.ClearField("int64_data")
        t.ClearField("double_data")
        location = {"dotdot": "../outside.bin", "absolute": str(folder.parent / "outside.bin")}.get(variant, "weights.bin")
        length = 2**62 if variant == "length" else len(raw)
        start = offset + (1 << 30 if variant == "offset" else 0)
        onnx.external_data_helper.set_external_data(t, location, start, length)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        chunks.append(raw)
        offset += len(raw)
    blob = b"".join(chunks)
    (folder.parent / "outside.bin").write_bytes(blob)
    if variant in ("missing", "subgraph_missing") or not tensors:
        return
    if variant == "truncated":
        blob = blob[: len(blob) // 2]
    if variant == "symlink":
        data.symlink_to(folder.parent / "outside.bin")
    elif variant == "hardlink":
        os.link(folder.parent / "outside.bin", data)
    elif variant == "fifo" and hasattr(os, "mkfifo"):
        os.mkfifo(data)
    elif variant == "folder":
        data.mkdir()
    else:
        data.write_bytes(blob)


def generate(seed: int, index: int, root: Path) -> Case:
    """Input ``index`` of fuzz seed ``seed``, written under ``root`` (its own folder)."""
    rng = np.random.default_rng([seed, index])
    folder = root / f"case{index:05d}" / "m"
    folder.mkdir(parents=True)
    b = _Builder(rng)
    width = int(rng.choice([4, 8, 16, 32]))
    extra = str(rng.choice(EXTRAS))
    in_shape: list[Any] = [4, width] if extra != "huge_input" else [1048576, width]
    if rng.random() < 0.15:
        in_shape[0] = "batch"
    x = "x"
    conv = rng.random() < 0.2
    if conv:
        c = int(rng.choice([1, 3]))
        in_shape = [4, c, 8, 8]
        h = b.name("h")
        b.nodes.append(helper.make_node("Conv", ["x", b.weight((width, c, 3, 3), c * 9, width * 9)], [h],
                                        pads=[1, 1, 1, 1], name=b.name("conv")))
        h = b.activation(h)
        pooled = b.name("p")
        b.nodes += [helper.make_node("GlobalAveragePool", [h], [pooled]), helper.make_node("Flatten", [pooled], [b.name("f")])]
        x = b.nodes[-1].output[0]
    for _ in range(int(rng.integers(1, 4))):
        x = b.dense(x, width, width)
    x = _extra(b, x, width, extra)
    b.nodes.append(helper.make_node("Identity", [x], ["y"]))
    graph = helper.make_graph(b.nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], b.inits,
                              sparse_initializer=b.sparse)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    external = str(rng.choice(EXTERNAL)) if rng.random() < 0.3 else ""
    if external:
        _externalize(rng, model, folder, external)
    path = folder / "model.onnx"
    data = bytearray(model.SerializeToString())
    mutation = str(rng.choice(MUTATIONS))
    if mutation == "truncate" and data:
        data = data[: int(rng.integers(0, len(data)))]
    elif mutation == "flip" and data:
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(len(data)))] = int(rng.integers(256))
    elif mutation == "data_cut" and (folder / "weights.bin").is_file() and not (folder / "weights.bin").is_symlink():
        blob = (folder / "weights.bin").read_bytes()
        (folder / "weights.bin").write_bytes(blob[: int(rng.integers(0, len(blob) + 1))])
    path.write_bytes(bytes(data))
    propagate = bool(rng.random() < 0.5)
    shape = None
    if propagate and rng.random() < 0.2:
        options = [(8, width), (1 << 22, 64), (2, 3, 4), (4, 1, 8, 8)]
        shape = options[int(rng.integers(len(options)))]
    settings = Settings(propagate=propagate, input_shape=shape, timeout=TIMEOUT)
    return Case(path, settings, f"{extra}/{external or 'embedded'}/{mutation}/{'propagate' if propagate else 'audit'}")


TIMEOUT = 6.0  # the audit's own per-file --timeout in the fuzz; propagation gets what is left of it


def _strict(text: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def check(case: Case) -> tuple[FileResult, str]:
    """Audit one case under the contract; the result and its outcome class. AssertionError names the breach."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.monotonic()
        result = audit_onnx(str(case.path), case.settings)
        elapsed = time.monotonic() - start
    assert not caught, f"{case.path}: warnings leaked: {[str(w.message) for w in caught][:3]}"
    assert elapsed < TIMEOUT + 10, f"{case.path}: took {elapsed:.1f} s"
    if result.error is not None:
        assert result.error.startswith(f"{case.path}: "), result.error
        assert "\n" not in result.error, result.error
        for bad in ("internal error", "Traceback", "timed out"):
            assert bad not in result.error, result.error
        assert result.records == ()
        return result, "error"
    report = Report((result,))
    _strict(json_reporter.render(report, show_unresolved=True))
    text_reporter.render(report, show_unresolved=True)
    network = [r for r in result.records if r.kind == "network"]
    if network and network[0].signal is not None and network[0].signal.skipped:
        skipped = network[0].signal.skipped
        assert "\n" not in skipped and "Traceback" not in skipped, skipped
        return result, "propagation skipped"
    return result, "propagated" if network else "audited"


def check_cli(folder: Path, propagate: bool, timeout: float = TIMEOUT) -> tuple[int, int]:
    """The CLI over a folder of cases: strict JSON on stdout, only ``error: PATH: ...`` lines on stderr.

    (files reported, error lines).
    """
    cmd = [sys.executable, "-m", "initlint", str(folder), "--no-cache", "--format", "json", "--jobs", "1",
           "--timeout", str(timeout)] + (["--propagate"] if propagate else [])
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=3600)
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-2000:])
    doc = _strict(proc.stdout)
    lines = proc.stderr.splitlines()
    for line in lines:
        assert line.startswith(f"error: {folder}") and ".onnx: " in line, line
        assert "internal error" not in line and "timed out" not in line, line
    assert "Traceback" not in proc.stderr
    return doc["summary"]["files"], len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Fuzz the ONNX audit with generated, hostile and mutated models.")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="first input index (to replay one: --start N --count 1)")
    parser.add_argument("--cli-every", type=int, default=250, help="also run the CLI over each batch of this many")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="initlint-onnx-fuzz-"))
    outcomes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    cli_files = cli_errors = 0
    started = time.monotonic()
    try:
        import onnxruntime  # noqa: F401 - loaded once, shared by every forked propagation
    except ImportError:
        pass
    batch = root / "batch0"
    for index in range(args.start, args.start + args.count):
        print(f"input {index}", file=sys.stderr, flush=True)  # a crash leaves the index as the last line
        case = generate(args.seed, index, batch)
        _, outcome = check(case)
        outcomes[outcome] += 1
        kinds[case.kind.split("/")[0]] += 1
        done = index - args.start + 1
        if args.cli_every and (done % args.cli_every == 0 or done == args.count):
            files, errors = check_cli(batch, propagate=(done // args.cli_every) % 2 == 1)
            cli_files += files
            cli_errors += errors
            shutil.rmtree(batch, ignore_errors=True)
            batch = root / f"batch{done}"
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({"seed": args.seed, "inputs": args.count, "outcomes": dict(outcomes), "features": dict(kinds),
                      "cli_files": cli_files, "cli_error_lines": cli_errors,
                      "seconds": round(time.monotonic() - started, 1)}))


if __name__ == "__main__":
    main()
