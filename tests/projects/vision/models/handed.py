import torch
import torch.nn as nn

from .trunk import _trunk


class HandedBlock(nn.Module):
    """Handed by keyword to a factory: the container it ends up in is not visible, so its init is unknown."""

    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect-unresolved  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.fc(x))


def trunk_small():
    return _trunk(block=HandedBlock)
