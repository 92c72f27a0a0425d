import torch.nn as nn


class Trunk(nn.Module):
    """Builds whatever block class it is given, then re-initializes every Linear."""

    def __init__(self, block, depth=2, dim=64):
        super().__init__()
        self.blocks = nn.Sequential(*[block(dim) for _ in range(depth)])
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)

    def forward(self, x):
        return self.blocks(x)


def _trunk(**kwargs):
    return Trunk(**kwargs)
