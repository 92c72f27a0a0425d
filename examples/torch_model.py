"""A small image classifier with a few initialization mistakes that initlint finds.

Run:  initlint examples/torch_model.py
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    """Conv -> BatchNorm -> ReLU, initialized the torchvision way (He, fan_out)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Classifier(nn.Module):
    def __init__(self, num_classes: int = 10, hidden: int = 256):
        super().__init__()
        self.features = nn.Sequential(
            ConvBlock(3, 64),
            nn.MaxPool2d(2),
            ConvBlock(64, 256),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.fc1 = nn.Linear(256, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.gate = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, num_classes)
        # Glorot is meant for tanh; fc1 feeds a ReLU.
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.zeros_(self.fc1.bias)
        # A hand-written std that ignores the width.
        self.gate.weight.data.normal_(0.0, 1.0)

    def forward(self, x):
        x = self.features(x)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))  # fc2 keeps PyTorch's default init
        x = torch.tanh(self.gate(x))
        return self.head(x)


class SelfNormalizingMLP(nn.Module):
    """A SELU network: needs LeCun normal weights and AlphaDropout."""

    def __init__(self, features: int = 256, depth: int = 4):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(features, features) for _ in range(depth)])
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(features, 1)
        for layer in self.layers:
            # PyTorch's "selu" gain is 3/4; self-normalizing nets need nonlinearity="linear".
            nn.init.kaiming_normal_(layer.weight, nonlinearity="selu")

    def forward(self, x):
        for layer in self.layers:
            x = self.drop(F.selu(layer(x)))
        return self.out(x)


class LowRankAdapter(nn.Module):
    """Raw parameters used as matmul weights."""

    def __init__(self, dim: int = 768, rank: int = 16):
        super().__init__()
        self.down = nn.Parameter(torch.randn(dim, rank) / math.sqrt(dim))
        self.up = nn.Parameter(torch.empty(rank, dim))

    def forward(self, x):
        return x + F.relu(x @ self.down) @ self.up
