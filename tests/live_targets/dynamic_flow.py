"""Data-dependent control flow: torch.fx cannot trace it, the recorded pass can."""

import torch
import torch.nn as nn


class Gated(nn.Module):
    def __init__(self, width=64):
        super().__init__()
        self.inp = nn.Linear(32, width)
        self.a = nn.Linear(width, width)
        self.b = nn.Linear(width, width)
        self.out = nn.Linear(width, 4)
        for layer in (self.inp, self.a, self.b):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        h = torch.relu(self.inp(x))
        if h.mean() > 0:  # depends on the data: fx raises a TraceError here
            h = torch.relu(self.a(h))
        else:
            h = torch.tanh(self.a(h))
        h = nn.functional.leaky_relu(self.b(h).view(h.shape[0], -1), 0.2)
        return self.out(h)
