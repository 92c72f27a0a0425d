import torch
import torch.nn as nn


class GlobalCtx(nn.Module):
    """Reached only through ``get_attn(name)`` with a name from the caller: its containers are not visible."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)  # expect-unresolved  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.conv(x))


class Squeeze(nn.Module):
    """Reached only through ``ATTN["sq"]`` (a dict registry): handed to containers the analysis cannot see."""

    def __init__(self, channels):
        super().__init__()
        self.fc = nn.Conv2d(channels, channels, 1)  # expect-unresolved  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.fc(x))


class Gate(nn.Module):
    """Built only through ``make_gate("gate")`` (a literal key) inside Block, which draws He on every conv."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1)  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.conv(x))


def get_attn(name):
    if name == "gc":
        return GlobalCtx
    return None


def make_gate(name):
    if name == "gate":
        return Gate
    return None


ATTN = {"sq": Squeeze}
