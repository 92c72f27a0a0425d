"""Deep stacks whose signal really vanishes or explodes, and guards that must not count as consumers (INIT008)."""

import torch
from torch import nn


def default_relu_mlp(depth: int = 50, width: int = 128) -> nn.Module:
    """PyTorch's default Linear init before ReLU: the gradient shrinks ~sqrt(6)x per layer toward the input."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def tapering_normal_mlp(depth: int = 20, width: int = 256, step: int = 8) -> nn.Module:
    """N(0, 1) weights before ReLU, each layer narrower than the last: the forward std explodes."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layer = nn.Linear(width, width - step)
        nn.init.normal_(layer.weight)
        layers += [layer, nn.ReLU()]
        width -= step
    return nn.Sequential(*layers, nn.Linear(width, 10))


class Reused(nn.Module):
    """One default-init layer applied 20 times: only every call together shows the loss."""

    def __init__(self, width: int = 128, times: int = 20) -> None:
        super().__init__()
        self.inp = nn.Linear(width, width)
        self.shared = nn.Linear(width, width)
        self.head = nn.Linear(width, 10)
        self.times = times

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.inp(x))
        for _ in range(self.times):
            x = torch.relu(self.shared(x))
        return self.head(x)


def zero_layer_mlp(depth: int = 8, width: int = 64) -> nn.Module:
    """A He-initialized MLP with one all-zero hidden layer: everything after it is constant."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layer = nn.Linear(width, width)
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        if i == depth // 2:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        layers += [layer, nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


class Guarded(nn.Module):
    """He-initialized ReLU layers whose outputs are also checked by guards (comparisons, asserts, isfinite)."""

    def __init__(self, width: int = 64, depth: int = 10) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            h = layer(x)
            if h.abs().mean() > 1e6:
                raise RuntimeError("diverged")
            assert torch.isfinite(h).all()
            x = torch.relu(h)
        return self.head(x)
