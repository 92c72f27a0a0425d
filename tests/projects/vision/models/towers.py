import torch
import torch.nn as nn
import torch.nn.functional as F

from .proj import Gate, Held, Proj


class ReluTower(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.proj = Proj()
        self.gate = Gate(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = F.relu(self.proj(x))
        x = F.relu(self.gate(x))
        return self.head(x)


class TanhTower(nn.Module):
    def __init__(self, dim=64):
        super().__init__()
        self.proj = Proj()
        self.gate = Gate(dim)

    def forward(self, x):
        return torch.tanh(self.gate(F.relu(self.proj(x))))


class Passing(nn.Module):
    """Hands Proj's output to its own caller (Outer, another file), which applies ReLU."""

    def __init__(self, dim=64):
        super().__init__()
        self.proj = Proj()

    def forward(self, x):
        return self.proj(x)


class Holder:
    """Not a module: it holds a block and calls it."""

    def __init__(self, dim=64):
        self.block = Held(dim)

    def __call__(self, x):
        return torch.relu(self.block(x))
