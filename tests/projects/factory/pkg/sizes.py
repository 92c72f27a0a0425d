import torch.nn as nn
import torch.nn.functional as F


class Projection(nn.Module):
    """On its own its sizes are unknown (judged by declaration); its one container builds it 1152 -> 9216 (on a
    branch the defaults do not take), where the default is within 1.5x of He(fan_out) (SPEC 8.2, 8.3): no finding."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.up = nn.Linear(in_channels, out_channels * 3)
        self.down = nn.Linear(out_channels * 3, out_channels)

    def forward(self, x):
        return self.down(F.silu(self.up(x)))


class TimeEmbedding(nn.Module):
    """Built 256 -> 1536 by Model (the default matches He(fan_out) exactly: no finding) and 256 -> 64 by
    Small (6x below He on both fans): judged per container, the worst reported."""

    def __init__(self, dim, freq_dim=256):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))  # expect: INIT005 advice

    def forward(self, t):
        return self.mlp(t)


class Expand(nn.Module):
    """Its default sizes (64 -> 512) would clear the finding (within 1.5x of He(fan_out)); its container passes
    sizes the analysis cannot evaluate: judged neither on the defaults nor by declaration, it is unresolved."""

    def __init__(self, dim=64, hidden=512):
        super().__init__()
        self.fc = nn.Linear(dim, hidden)  # expect-unresolved

    def forward(self, x):
        return F.relu(self.fc(x))


class Model(nn.Module):
    def __init__(self, image_dim=1152, heads=24, head_dim=128, dit_dim=1536, has_proj=False):
        super().__init__()
        inner = heads * head_dim
        self.proj = Projection(image_dim, inner) if has_proj else None
        self.time = TimeEmbedding(dit_dim)

    def forward(self, x, t):
        if self.proj is not None:
            x = self.proj(x)
        return x + self.time(t)


class Small(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.time = TimeEmbedding(64)
        self.expand = Expand(width, width)

    def forward(self, x, t):
        return self.expand(x) + self.time(t)
