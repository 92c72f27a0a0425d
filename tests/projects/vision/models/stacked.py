import torch.nn as nn
import torch.nn.functional as F


class Stage(nn.Module):
    """One stage of Tower: a class named in a docstring or comment is not built (Tower stays the outermost model)."""

    def __init__(self, c=64):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)  # expect: INIT005 advice
        # Tower applies ReLU to what this returns

    def forward(self, x):
        return self.conv(x)


class Tower(nn.Module):
    def __init__(self, c=64):
        super().__init__()
        self.stages = nn.Sequential(Stage(c), Stage(c))
        self.head = nn.Linear(c, c)  # expect: INIT001 advice
        nn.init.kaiming_normal_(self.head.weight)

    def forward(self, x):
        for stage in self.stages:
            x = F.relu(stage(x))
        return self.head(x.mean((2, 3)))
