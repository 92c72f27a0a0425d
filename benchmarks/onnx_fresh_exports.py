"""Fresh ONNX exports of models with known inits: does the graph audit agree with the source lint?

For every (initializer, activation, width) in the grid below, a small PyTorch MLP is written as source,
linted statically (the reference: the source says which initializer each layer has), executed, exported
with ``torch.onnx.export`` and audited. Per layer and code, a finding of the audit counts as a true
positive when the source lint reports the same code on that layer; precision = TP / audit findings,
recall = TP / source findings. INIT003 is left out (a zero tensor's consumer rule differs by design only
where the source sees a residual branch) and nothing else is filtered.

    python benchmarks/onnx_fresh_exports.py
"""

from __future__ import annotations

import collections
import io
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from initlint import audit_onnx, lint_source  # noqa: E402

INITS = {
    "default": "",
    "he_normal": 'nn.init.kaiming_normal_({w}, nonlinearity="relu")',
    "he_uniform": 'nn.init.kaiming_uniform_({w}, nonlinearity="relu")',
    "xavier_uniform": "nn.init.xavier_uniform_({w})",
    "xavier_normal": "nn.init.xavier_normal_({w})",
    "normal_1": "nn.init.normal_({w})",
    "normal_002": "nn.init.normal_({w}, 0.0, 0.02)",
    "lecun": 'nn.init.kaiming_normal_({w}, nonlinearity="linear")',
    "orthogonal": "nn.init.orthogonal_({w})",
}
ACTS = {"relu": "torch.relu", "tanh": "torch.tanh", "gelu": "F.gelu", "sigmoid": "torch.sigmoid", "selu": "F.selu"}
WIDTHS = (16, 64, 256)
ARCHS = ("mlp", "cnn")


def source(init: str, act: str, width: int, arch: str = "mlp") -> str:
    """An MLP (widths w -> w, w -> 2w, 2w -> w) or a CNN (3x3 convs, channels w/4 -> w/2 -> w/4) with a Linear head."""
    lines = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F", "", "",
             "class Net(nn.Module):", "    def __init__(self):", "        super().__init__()"]
    sizes = [(width, width), (width, 2 * width), (2 * width, width)]
    if arch == "cnn":
        sizes = [(3, width // 4), (width // 4, width // 2), (width // 2, width // 4)]
    for i, (a, b) in enumerate(sizes):
        layer = f"nn.Conv2d({a}, {b}, 3, padding=1)" if arch == "cnn" else f"nn.Linear({a}, {b})"
        lines.append(f"        self.fc{i} = {layer}")
        if INITS[init]:
            lines.append("        " + INITS[init].format(w=f"self.fc{i}.weight"))
    head = width // 4 if arch == "cnn" else width
    lines += [f"        self.head = nn.Linear({head}, 10)", "", "    def forward(self, x):"]
    for i in range(3):
        lines.append(f"        x = {ACTS[act]}(self.fc{i}(x))")
    if arch == "cnn":
        lines.append("        x = x.mean((2, 3))")
    lines.append("        return self.head(x)")
    return "\n".join(lines) + "\n"


def layer_of(name: str) -> str:
    """``Net.fc1`` / ``/fc1/Gemm`` / ``fc1.weight`` -> ``fc1``."""
    for part in name.replace("/", ".").split("."):
        if part.startswith(("fc", "head")):
            return part
    return name


def main() -> None:
    tp = fp = fn = 0
    per_code: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    disagreements = []
    with tempfile.TemporaryDirectory() as tmp:
        grid = [(i, a, w, arch) for arch in ARCHS for i in INITS for a in ACTS for w in WIDTHS]
        for init, act, width, arch in grid:
                    text = source(init, act, width, arch)
                    static = {(layer_of(f.layer), f.code) for f in lint_source(text, "net.py").findings
                              if f.code != "INIT003"}
                    namespace: dict[str, object] = {}
                    exec(compile(text, "net.py", "exec"), namespace)  # noqa: S102 - our own generated source
                    torch.manual_seed(0)
                    model = namespace["Net"]()  # type: ignore[operator]
                    path = Path(tmp) / f"{arch}_{init}_{act}_{width}.onnx"
                    with warnings.catch_warnings(), io.StringIO():
                        warnings.simplefilter("ignore")
                        example = torch.randn(2, 3, 8, 8) if arch == "cnn" else torch.randn(2, width)
                        torch.onnx.export(model, (example,), str(path), dynamo=False)
                    graph = {(layer_of(f.layer), f.code) for f in audit_onnx(str(path)).findings
                             if f.code != "INIT003"}
                    tp += len(graph & static)
                    fp += len(graph - static)
                    fn += len(static - graph)
                    for layer, code in graph - static:
                        per_code[code]["fp"] += 1
                        disagreements.append(f"  extra   {arch} {init:14s} {act:8s} {width:4d} {layer} {code}")
                    for layer, code in static - graph:
                        per_code[code]["fn"] += 1
                        disagreements.append(f"  missed  {arch} {init:14s} {act:8s} {width:4d} {layer} {code}")
                    for _, code in graph & static:
                        per_code[code]["tp"] += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    models = len(INITS) * len(ACTS) * len(WIDTHS) * len(ARCHS)
    print(f"{models} exports: TP {tp}, FP {fp}, FN {fn}: precision {precision:.3f}, recall {recall:.3f}")
    for code in sorted(per_code):
        print(f"  {code}: {dict(per_code[code])}")
    print("\n".join(disagreements))


if __name__ == "__main__":
    main()
