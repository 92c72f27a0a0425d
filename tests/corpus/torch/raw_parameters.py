# Raw nn.Parameter weights used with `@`, torch.matmul and F.linear (SPEC 8.9).
# Exercises: unscaled torch.randn weights (INIT002), scaled expressions that are understood
# (`* math.sqrt(2.0 / n)`, `/ math.sqrt(n)`), position tables and scales that are not weights (silent),
# torch.empty / torch.Tensor / torch.FloatTensor never filled (INIT010, for every parameter, weight or not),
# and uninitialized memory that an init call does fill (silent).
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class HandRolledMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(256, 256) * math.sqrt(2.0 / 256))
        self.b1 = nn.Parameter(torch.zeros(256))
        self.w2 = nn.Parameter(torch.randn(256, 256))  # expect: INIT002 error
        self.w_out = nn.Parameter(torch.randn(256, 10) / math.sqrt(256))
        self.pos = nn.Parameter(torch.randn(1, 16, 256))
        self.temperature = nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = x + self.pos
        h = F.relu(x @ self.w1 + self.b1)
        h = torch.relu(h @ self.w2)
        return (h @ self.w_out) / self.temperature


class GatedProjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.w_in = nn.Parameter(torch.empty(256, 256))  # expect: INIT010 error
        self.gate = nn.Parameter(torch.Tensor(256))  # expect: INIT010 error  (not a weight, but garbage memory all the same)
        self.w_mix = nn.Parameter(torch.empty(256, 256))
        self.proj = nn.Parameter(torch.FloatTensor(128, 256))
        nn.init.orthogonal_(self.w_mix)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.xavier_uniform_(self.proj)

    def forward(self, x):
        h = F.relu(x @ self.w_in)
        h = h * self.gate
        h = torch.tanh(torch.matmul(h, self.w_mix))
        return F.linear(h, self.proj)


class MaskedLinear(nn.Module):
    """A MADE-style masked layer whose author forgot reset_parameters."""

    def __init__(self, in_features=64, out_features=64):
        super().__init__()
        self.weight = nn.Parameter(torch.Tensor(out_features, in_features))  # expect: INIT010 error
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.register_buffer("mask", torch.ones(out_features, in_features))

    def forward(self, x):
        return F.linear(x, self.mask * self.weight, self.bias)
