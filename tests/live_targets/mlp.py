"""Deep MLPs with a chosen activation and weight init, built by a factory: ``build(depth, width, activation, init)``."""

from __future__ import annotations

import math

import torch.nn as nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "selu": nn.SELU, "gelu": nn.GELU}


def _init(name: str, weight: nn.Parameter) -> None:
    """Every way to (mis)initialize a hidden weight that the tests need."""
    table = {
        "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
        "glorot": nn.init.xavier_uniform_,
        "lecun": lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear"),
        "selu_gain": lambda w: nn.init.kaiming_normal_(w, nonlinearity="selu"),
        "normal": nn.init.normal_,
        "small": lambda w: nn.init.normal_(w, 0.0, 0.1 / math.sqrt(w.shape[1])),
    }
    table[name](weight)


class MLP(nn.Module):
    """``depth`` hidden Linear+activation layers of ``width`` units, then a 10-way head."""

    def __init__(self, depth: int, width: int, activation: str, init: str = "default") -> None:
        super().__init__()
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        self.act = ACTIVATIONS[activation]()
        self.head = nn.Linear(width, 10)
        if init != "default":
            for layer in self.hidden:
                _init(init, layer.weight)
                nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = self.act(layer(x))
        return self.head(x)


def build(depth: int, width: int = 128, activation: str = "relu", init: str = "default") -> MLP:
    """A factory that needs at least ``depth`` (the CLI passes it with --kwargs)."""
    return MLP(depth, width, activation, init)
