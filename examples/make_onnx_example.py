"""Build ``examples/model.onnx``: a small exported torch model with real initialization findings.

Run:  python examples/make_onnx_example.py   (deterministic: seed 0, legacy exporter, opset 17)
Then: initlint examples/model.onnx

What initlint should report (weights are measured, so the schemes are inferred from statistics):

* ``conv1`` He (fan_in) before BatchNorm and ReLU: right, no finding.
* ``conv2`` PyTorch's default U(+-1/sqrt(fan_in)) before ReLU, no normalization: INIT005 advice.
* ``fc1`` Glorot (``xavier_uniform_``) before ReLU: INIT001 warning.
* ``fc2`` PyTorch's default before ReLU: INIT005 advice.
* ``gate`` unscaled N(0, 1) before Tanh: INIT002 error.
* ``head`` PyTorch's default before softmax: an output head, no finding.

The export keeps BatchNorm visible (``do_constant_folding=False``): with folding the BN
statistics are multiplied into the Conv weights, which then no longer show the initializer.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn
from torch.nn import init

HERE = Path(__file__).resolve().parent


class SmallNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1, bias=False)
        init.kaiming_normal_(self.conv1.weight, nonlinearity="relu")
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 24, 3, padding=1)  # PyTorch default, no BatchNorm after it
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc1 = nn.Linear(24 * 2 * 2, 96)
        init.xavier_uniform_(self.fc1.weight)  # square layer: half He's variance
        self.fc2 = nn.Linear(96, 96)  # PyTorch default
        self.gate = nn.Linear(96, 96)
        init.normal_(self.gate.weight)  # std 1, whatever the width
        self.head = nn.Linear(96, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = torch.flatten(self.pool(x), 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        x = torch.tanh(self.gate(x))
        return torch.softmax(self.head(x), dim=-1)


def build(path: Path = HERE / "model.onnx") -> Path:
    torch.manual_seed(0)
    model = SmallNet().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, torch.randn(1, 3, 16, 16), str(path), dynamo=False, opset_version=17,
            do_constant_folding=False, input_names=["image"], output_names=["probs"],
            dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}},
        )
    return path


if __name__ == "__main__":
    out = build()
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
