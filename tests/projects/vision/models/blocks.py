import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import InitMixin
from .init import default_init_weights, glorot_all


class Bottleneck(nn.Module):
    """Judged alone, both convs are on PyTorch's default before ReLU (INIT005); Net re-initializes them with He."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 1)  # alone: INIT005 advice
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)  # alone: INIT005 advice

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.conv1(x))))


class Mlp(nn.Module):
    """Built by two containers that disagree: ViT draws trunc_normal(0.02), ConvNet Glorot (before GELU: INIT001 advice, the worst)."""

    def __init__(self, dim, hidden, act_layer=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)  # expect: INIT001 advice
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Classifier(InitMixin):
    """Its base class (another file) draws N(0, 1): unscaled (INIT002), also on the head."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 256)  # expect: INIT002 error
        self.out = nn.Linear(256, 10)  # expect: INIT002 error
        self.init_weights()

    def forward(self, x):
        return self.out(F.relu(self.fc(x)))


class DenseBlock(nn.Module):
    """Layers handed in a list to helpers of another file: He for LeakyReLU(0.2) fits, Glorot before ReLU does not."""

    def __init__(self, c=64):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.conv3 = nn.Conv2d(c, c, 3, padding=1)  # expect: INIT001 warning
        self.lrelu = nn.LeakyReLU(0.2)
        default_init_weights([self.conv1, self.conv2])
        glorot_all([self.conv3])

    def forward(self, x):
        x = self.lrelu(self.conv1(x))
        x = self.lrelu(self.conv2(x))
        return F.relu(self.conv3(x))
