import torch.nn as nn
import torch.nn.functional as F

from .norms import Head, LayerNorm2d


class GatedStem(nn.Module):
    """Its layers feed module classes of another file: the consumers are read from that file."""

    def __init__(self, c=64):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)  # expect: INIT001 advice
        self.norm = LayerNorm2d(c)
        self.proj = nn.Linear(c, c)  # expect: INIT002 error
        self.head = Head(c)
        nn.init.xavier_uniform_(self.conv.weight)
        nn.init.normal_(self.proj.weight, 0.0, 1.0)

    def forward(self, x):
        x = F.relu(self.norm(self.conv(x)))
        return self.head(self.proj(x.mean((2, 3))))
