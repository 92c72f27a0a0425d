import torch.nn as nn

from .attn import get_attn, make_gate
from .wide import Wide


class Block(nn.Module):
    """Builds an attention class chosen by a string its caller passes, and a gate by a literal key."""

    def __init__(self, channels, attn="gc"):
        super().__init__()
        self.attn = get_attn(attn)(channels)
        self.gate = make_gate("gate")(channels)
        self.wide = Wide(channels, channels)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.wide(self.gate(self.attn(x)))
