# Plain MLP classifiers left on PyTorch's default init (U(+-1/sqrt(fan_in)), variance 1/(3*fan_in)).
# Exercises: INIT005 before ReLU in nn.Sequential (positional and OrderedDict) and in a Module with
# F.relu; the 1.5x "math agrees" exemption (SPEC 8.3) on an expanding layer; heads stay silent (8.5).
from collections import OrderedDict

import torch
from torch import nn
import torch.nn.functional as F


class MnistMLP(nn.Module):
    """784 -> 512 -> 512 -> 10, torch defaults everywhere."""

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),  # expect: INIT005 advice
            nn.ReLU(),
            nn.Linear(512, 512),  # expect: INIT005 advice
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


class TabularNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(32, 256)  # 1/(3*32) vs He fan_out 2/256: 1.33x, within 1.5x -> silent (8.3)
        self.fc2 = nn.Linear(256, 64)  # expect: INIT005 advice
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        x = F.relu(x)
        return self.fc3(x)


def make_classifier():
    return nn.Sequential(
        OrderedDict(
            [
                ("fc1", nn.Linear(100, 100)),  # expect: INIT005 advice
                ("relu1", nn.ReLU()),
                ("drop", nn.Dropout(0.5)),
                ("fc2", nn.Linear(100, 10)),
                ("softmax", nn.LogSoftmax(dim=1)),
            ]
        )
    )


if __name__ == "__main__":
    model = MnistMLP()
    print(model(torch.rand(1, 28, 28)).shape)
