# Initialization done by helpers imported from another module: the analysis cannot see what
# they do, so every layer they touch is unresolved and silent -- even layers whose default
# init would otherwise be flagged (SPEC 3, "init in a helper from another module").
import torch
import torch.nn as nn
import torch.nn.functional as F

from .initialization import init_weights, kaiming_init
from mylib.nn_utils import init_module


class ConvClassifier(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)  # expect-unresolved
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)  # expect-unresolved
        self.fc1 = nn.Linear(32 * 8 * 8, 256)  # expect-unresolved
        self.fc2 = nn.Linear(256, num_classes)
        self.apply(init_weights)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)  # expect-unresolved
        self.fc2 = nn.Linear(512, 512)  # expect-unresolved
        self.out = nn.Linear(512, 64)
        kaiming_init(self.fc1)
        init_module(self.fc2, nonlinearity="tanh")

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.out(x)
