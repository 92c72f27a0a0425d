"""A child module whose ModuleList init is partly undone at run time (INIT007 on encoder.layers.1 only)."""

import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, width=128):
        super().__init__()
        self.blocks = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU())
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(2)])
        for m in self.blocks:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        for layer in self.layers:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        for name in ("layers",):
            getattr(self, name)[1].reset_parameters()

    def forward(self, x):
        x = self.blocks(x)
        for layer in self.layers:
            x = layer(x).relu()
        return x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(128, 3)

    def forward(self, x):
        return self.head(self.encoder(x))
