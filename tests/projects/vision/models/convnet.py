import torch.nn as nn

from . import blocks


class ConvNet(nn.Module):
    def __init__(self, dim=96):
        super().__init__()
        self.mlp = blocks.Mlp(dim, 4 * dim)
        self.head = nn.Linear(dim, 10)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.head(self.mlp(x))
