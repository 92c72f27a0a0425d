"""An explicit He init that a later reset_parameters() overwrites (INIT007 on fc2)."""

import torch.nn as nn


class Overwritten(nn.Module):
    def __init__(self, width=256):
        super().__init__()
        self.fc1 = nn.Linear(width, width)
        self.fc2 = nn.Linear(width, width)
        self.head = nn.Linear(width, 10)
        nn.init.kaiming_normal_(self.fc1.weight, nonlinearity="relu")
        nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")
        self.refresh()

    def refresh(self):
        getattr(self.fc2, "reset_parameters")()

    def forward(self, x):
        x = self.fc1(x).relu()
        x = self.fc2(x).relu()
        return self.head(x)
