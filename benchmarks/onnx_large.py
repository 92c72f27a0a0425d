"""Benchmark: audit a synthetic >= 1 GB external-data ONNX model, beside ``onnx.load`` of the same file.

    python benchmarks/onnx_large.py [--gib 1.0] [--dir /tmp/initlint-bench] [--keep]

Writes an MLP of 8192x2048 float32 Gemm layers (64 MiB each; He, Glorot and PyTorch-default
layers in turn before ReLU) whose weights live in one ``weights.bin`` next to ``model.onnx``,
generated in chunks so the generator itself never holds a layer in memory. Then, each in a fresh
process, measures wall time and peak RSS of

* ``initlint.audit_onnx(model.onnx)`` (weights memory-mapped, a bounded sample per tensor), and
* ``onnx.load(model.onnx)`` (reads every external tensor into memory).

The big files are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

ROWS, COLS = 8192, 2048  # (out, in): one 64 MiB float32 tensor
CHUNK = 1024  # rows per generated chunk (8 MiB)
SCHEMES = ("he", "glorot", "torch-default")


def _chunk(rng: np.random.Generator, scheme: str, rows: int, fan_in: int) -> np.ndarray:
    fan_out = ROWS * COLS // fan_in
    if scheme == "he":
        return (rng.standard_normal((rows, COLS), dtype=np.float32) * np.float32(np.sqrt(2 / fan_in)))
    if scheme == "glorot":
        bound = np.sqrt(6 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, (rows, COLS)).astype(np.float32)
    bound = 1 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, (rows, COLS)).astype(np.float32)


def generate(folder: Path, gib: float) -> Path:
    """model.onnx + weights.bin with enough 64 MiB layers to reach ``gib`` GiB."""
    layers = max(1, int(np.ceil(gib * 1024 / 64)))
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    offset = 0
    with open(folder / "weights.bin", "wb") as fh:
        for i in range(layers):
            scheme = SCHEMES[i % len(SCHEMES)]
            fan_in = COLS if i % 2 == 0 else ROWS  # transB=1 reads (out, in), transB=0 reads (in, out)
            for _ in range(ROWS // CHUNK):
                fh.write(_chunk(rng, scheme, CHUNK, fan_in).tobytes())
            t = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[ROWS, COLS])
            t.data_location = TensorProto.EXTERNAL
            for key, value in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(ROWS * COLS * 4))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            offset += ROWS * COLS * 4
            inits.append(t)
            # Alternate transB so 2048 -> 8192 -> 2048 ... chains with one stored shape.
            src = "x" if i == 0 else f"a{i - 1}"
            nodes.append(helper.make_node("Gemm", [src, f"w{i}"], [f"h{i}"], name=f"fc{i}", transB=1 if i % 2 == 0 else 0))
            nodes.append(helper.make_node("Relu", [f"h{i}"], [f"a{i}"], name=f"relu{i}"))
    width_in = COLS
    width_out = ROWS if layers % 2 else COLS
    graph = helper.make_graph(
        nodes, "large", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width_in])],
        [helper.make_tensor_value_info(f"a{layers - 1}", TensorProto.FLOAT, [1, width_out])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


MEASURE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
if sys.argv[1] == "initlint":
    from initlint import audit_onnx
    from initlint.frontends.onnx import graph as onnx_graph  # imports onnx and numpy
else:
    import onnx
t1 = time.perf_counter()
if sys.argv[1] == "initlint":
    result = audit_onnx(sys.argv[2])
    detail = {"layers": len(result.records), "error": result.error,
              "schemes": [r.init.scheme for r in result.records if r.init],
              "findings": [f"{f.layer} {f.code}" for f in result.findings]}
else:
    model = onnx.load(sys.argv[2])
    detail = {"initializers": len(model.graph.initializer)}
t2 = time.perf_counter()
print(json.dumps({"import_s": round(t1 - t0, 3), "run_s": round(t2 - t1, 3),
                  "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), **detail}))
"""


def measure(what: str, path: Path) -> dict[str, object]:
    run = subprocess.run([sys.executable, "-c", MEASURE, what, str(path)], capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="initlint-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        path = generate(folder, args.gib)
        size = (folder / "weights.bin").stat().st_size
        print(f"generated {size / 2**30:.2f} GiB in {time.perf_counter() - t:.1f} s: {path}")
        for what in ("initlint", "onnx.load"):
            print(what, json.dumps(measure(what, path)))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
