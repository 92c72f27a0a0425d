"""The init's condition is false at run time (the flag comes from the environment), so the declared He init never
runs (INIT007); the source's default says it does."""

import os

import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self, channels=64, he_init=True):
        super().__init__()
        self.conv1 = nn.Conv1d(4, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.head = nn.Linear(channels, 2)
        if he_init:
            self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv1d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        x = self.conv1(x).relu()
        x = self.conv2(x).relu()
        return self.head(x.mean(dim=-1))


def build():
    return Encoder(he_init=os.environ.get("ENCODER_HE_INIT", "0") == "1")
