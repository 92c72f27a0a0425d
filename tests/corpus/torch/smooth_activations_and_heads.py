# Smooth rectifiers (GELU, SiLU, Mish) and output heads.
# Exercises: Glorot before GELU is INIT001 advice (square layer, 2x below He) but silent on an
# expanding/contracting layer within 1.5x of He fan_out/fan_in (SPEC 8.3); the default before SiLU/Mish is
# INIT005; He on a 512 -> 10 head is within 1.02x of Glorot (silent) while He on a square 64 -> 64
# head before log_softmax is 2x over (INIT001 advice); `nn.functional` reached through `from torch import nn`.
import torch
from torch import nn


class GeluMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)  # expect: INIT001 advice  (Glorot 1/512 is 2x below He 2/512 before GELU)
        self.fc2 = nn.Linear(512, 2048)  # Glorot 2/2560 vs He fan_out 2/2048: 1.25x -> silent
        self.fc3 = nn.Linear(2048, 512)  # Glorot 2/2560 vs He fan_in 2/2048: 1.25x -> silent
        self.head = nn.Linear(512, 10)  # He 2/512 vs Glorot 2/522: 1.02x -> silent
        self.act = nn.GELU()
        for layer in (self.fc1, self.fc2, self.fc3):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
        nn.init.kaiming_normal_(self.head.weight)

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        x = self.act(self.fc3(x))
        return self.head(x)


class SwishMishNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(1024, 1024)  # expect: INIT005 advice
        self.act1 = nn.SiLU()
        self.fc2 = nn.Linear(1024, 1024)  # expect: INIT005 advice
        self.out = nn.Linear(1024, 1)

    def forward(self, x):
        x = self.act1(self.fc1(x))
        x = nn.functional.mish(self.fc2(x))
        return self.out(x)


class TinyPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(32, 64)
        self.logits = nn.Linear(64, 64)  # expect: INIT001 advice  (He 2/64 is 2x Glorot/LeCun 1/64 on this head)
        nn.init.kaiming_normal_(self.trunk.weight, nonlinearity="relu")
        nn.init.kaiming_normal_(self.logits.weight, nonlinearity="relu")

    def forward(self, obs):
        h = torch.relu(self.trunk(obs))
        return torch.log_softmax(self.logits(h), dim=-1)
