# Activations the rulebook does not know: a SIREN sine layer (Sitzmann et al. 2020) and a user-defined
# SquaredReLU module (users may declare it in [tool.initlint.activations]; by default it is unknown).
# Their layers must stay silent and be counted as unresolved, whatever their init.
import numpy as np
import torch
from torch import nn


class SineLayer(nn.Module):
    def __init__(self, in_features, out_features, bias=True, is_first=False, omega_0=30.0):
        super().__init__()
        self.omega_0 = omega_0
        self.is_first = is_first
        self.in_features = in_features
        self.linear = nn.Linear(in_features, out_features, bias=bias)  # expect-unresolved
        self.init_weights()

    def init_weights(self):
        with torch.no_grad():
            if self.is_first:
                self.linear.weight.uniform_(-1 / self.in_features, 1 / self.in_features)
            else:
                bound = np.sqrt(6 / self.in_features) / self.omega_0
                self.linear.weight.uniform_(-bound, bound)

    def forward(self, input):
        return torch.sin(self.omega_0 * self.linear(input))


class Siren(nn.Module):
    def __init__(self, in_features=2, hidden_features=256, hidden_layers=3, out_features=1):
        super().__init__()
        net = [SineLayer(in_features, hidden_features, is_first=True)]
        for _ in range(hidden_layers):
            net.append(SineLayer(hidden_features, hidden_features))
        final_linear = nn.Linear(hidden_features, out_features)
        with torch.no_grad():
            bound = np.sqrt(6 / hidden_features) / 30.0
            final_linear.weight.uniform_(-bound, bound)
        net.append(final_linear)
        self.net = nn.Sequential(*net)

    def forward(self, coords):
        return self.net(coords)


class SquaredReLU(nn.Module):
    def forward(self, x):
        return torch.relu(x) ** 2


class PrimerFFN(nn.Module):
    def __init__(self, d_model=512, d_ff=2048):
        super().__init__()
        self.wi = nn.Linear(d_model, d_ff)  # expect-unresolved
        self.act = SquaredReLU()
        self.wo = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.wo(self.act(self.wi(x)))
