# A normalization layer between a layer and its activation (SPEC 8.1): INIT005/INIT006 stay silent,
# INIT001/INIT002/INIT004 drop to advice, INIT003 stays an error.
# Exercises BatchNorm1d, LayerNorm, GroupNorm and BatchNorm2d between, in Sequential and in forward.
import torch
import torch.nn as nn
import torch.nn.functional as F


class NormalizedMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 256)  # expect: INIT001 advice  (Glorot before ReLU is a warning, BatchNorm between)
        self.bn1 = nn.BatchNorm1d(256)
        self.fc2 = nn.Linear(256, 256)  # expect: INIT002 advice  (N(0,1) is 128x over He; LayerNorm between makes it advice)
        self.ln2 = nn.LayerNorm(256)
        self.fc3 = nn.Linear(256, 256)
        self.bn3 = nn.BatchNorm1d(256)
        self.fc4 = nn.Linear(256, 256)
        self.bn4 = nn.BatchNorm1d(256)
        self.fc5 = nn.Linear(256, 256)  # expect: INIT003 error  (constant weights stay an error under norm)
        self.bn5 = nn.BatchNorm1d(256)
        self.head = nn.Linear(256, 10)
        nn.init.xavier_uniform_(self.fc1.weight)
        nn.init.normal_(self.fc2.weight)
        # fc3 stays on the default: silent under BatchNorm
        nn.init.normal_(self.fc4.weight, 0.0, 0.01)  # fixed std, silent under BatchNorm
        nn.init.ones_(self.fc5.weight)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = F.gelu(self.ln2(self.fc2(x)))
        x = F.relu(self.bn3(self.fc3(x)))
        x = F.relu(self.bn4(self.fc4(x)))
        x = F.relu(self.bn5(self.fc5(x)))
        return self.head(x)


class NormalizedSelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(128, 128),  # expect: INIT004 advice  (default before SELU is an error; LayerNorm between)
            nn.LayerNorm(128),
            nn.SELU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        return self.net(x)


class GroupNormConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1),
            nn.GroupNorm(8, 64),
            nn.SiLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.GroupNorm(8, 64),
            nn.SiLU(),
            nn.Conv2d(64, 128, 3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Conv2d(128, 1, 1)

    def forward(self, x):
        return self.head(self.body(x))
