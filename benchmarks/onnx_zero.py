"""Benchmark: peak memory of auditing one all-zero external tensor of 2 GiB (never read whole).

    python benchmarks/onnx_zero.py [--gib 2.0] [--dir /tmp/initlint-zero] [--sparse] [--keep]

Writes ``model.onnx`` (one Gemm before a ReLU) and ``weights.bin`` holding the Gemm's weight,
every byte 0 (written out, or with ``--sparse`` a file of holes that takes no disk). Then runs
``initlint model.onnx --no-cache --format json`` under ``/usr/bin/time -v`` and prints the
maximum resident set size GNU time reports against the weight bytes (the docs promise at most
25 %), with the scheme the audit inferred. The files are deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from onnx import TensorProto, helper

COLS = 8192
CHUNK = 1 << 26  # bytes written at a time


def generate(folder: Path, gib: float, sparse: bool) -> tuple[Path, int]:
    rows = max(1, int(gib * (1 << 30)) // (COLS * 4))
    nbytes = rows * COLS * 4
    with open(folder / "weights.bin", "wb") as fh:
        if sparse:
            fh.truncate(nbytes)
        else:
            zeros = bytes(CHUNK)
            left = nbytes
            while left:
                left -= fh.write(zeros[: min(left, CHUNK)])
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[rows, COLS])
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", str(nbytes))):
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["h"], name="fc", transB=1), helper.make_node("Relu", ["h"], ["y"])],
        "zero", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, COLS])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, rows])], [t],
    )
    path = folder / "model.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path, nbytes


def measure(path: Path) -> dict[str, object]:
    """Wall time, GNU time's maximum resident set size, and what the audit said."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "initlint", str(path), "--no-cache", "--format", "json"]
    start = time.perf_counter()
    run = subprocess.run(cmd, check=False, capture_output=True, text=True)
    wall = time.perf_counter() - start
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    doc = json.loads(run.stdout)
    layer = doc["layers"][0]
    return {"exit": run.returncode, "wall_s": round(wall, 2),
            "max_rss_mib": round(int(found.group(1)) / 1024, 1) if found else None,
            "scheme": layer["scheme"], "note": layer["scheme_note"],
            "findings": [f"{f['layer']} {f['code']}" for f in doc["findings"]], "errors": doc["errors"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=2.0)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--sparse", action="store_true", help="a file of holes instead of written zeros")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("needs GNU time at /usr/bin/time (apt-get install time)")
    folder = args.dir or Path(tempfile.mkdtemp(prefix="initlint-zero-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        path, nbytes = generate(folder, args.gib, args.sparse)
        result = measure(path)
        rss = result["max_rss_mib"]
        share = f"{100 * rss * (1 << 20) / nbytes:.1f} %" if isinstance(rss, float) else "?"
        print(f"weights {nbytes / (1 << 30):.2f} GiB ({'holes' if args.sparse else 'written zeros'}): "
              f"peak RSS {rss} MiB = {share} of the weight bytes")
        print(json.dumps(result))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
