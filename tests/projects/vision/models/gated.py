"""A block whose container re-initializes it only under a condition the analysis cannot evaluate (cond.py)."""

import torch
from torch import nn


class GatedBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 64)  # expect: unresolved  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.fc(x))
