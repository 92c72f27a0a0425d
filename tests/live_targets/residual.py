"""A residual MLP with a raw matmul weight: residual_end, normalization and raw parameters."""

import math

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.norm = nn.LayerNorm(width)
        self.fc2 = nn.Linear(width, width)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
        nn.init.zeros_(self.fc2.weight)  # zero-init the residual branch's last layer (Fixup / ReZero)

    def forward(self, x):
        return torch.relu(x + self.fc2(torch.relu(self.norm(self.fc1(x)))))


class ResMLP(nn.Module):
    def __init__(self, width=64, depth=4):
        super().__init__()
        self.proj = nn.Parameter(torch.randn(16, width) * math.sqrt(2 / 16))
        self.blocks = nn.Sequential(*[Block(width) for _ in range(depth)])
        self.head = nn.Linear(width, 3)

    def forward(self, x):
        return self.head(self.blocks(torch.relu(x @ self.proj)))
