import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """A normalization subclass: a layer feeding it in another file is normalized."""

    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape).permute(0, 3, 1, 2)


class Head(nn.Module):
    """Its forward applies a weight first: what another file's layer feeds it is a linear consumer."""

    def __init__(self, dim, classes=10):
        super().__init__()
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        return self.fc(x)
