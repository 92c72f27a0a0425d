# Self-normalizing networks (Klambauer et al. 2017): SELU needs LeCun *normal* weights
# (variance exactly 1/fan_in) and AlphaDropout.
# Exercises: the right recipe (kaiming_normal_ with nonlinearity="linear", AlphaDropout) stays silent;
# the PyTorch gotcha nonlinearity="selu" (gain 3/4, variance 0.5625/fan_in) and the default init
# (1/(3*fan_in)) are INIT004 errors; plain Dropout in a SELU network is INIT009 at the Dropout line;
# F.selu in forward; a `for m in self.modules()` init loop.
import torch
import torch.nn as nn
import torch.nn.functional as F


class SNN(nn.Module):
    """The recipe done right."""

    def __init__(self, in_features=784, hidden=512, n_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, n_classes)
        self.dropout = nn.AlphaDropout(p=0.05)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="linear")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.selu(self.fc1(x))
        x = self.dropout(x)
        x = F.selu(self.fc2(x))
        x = self.dropout(x)
        return self.fc3(x)


class SeluGainNet(nn.Module):
    """Follows calculate_gain('selu') -- which PyTorch's own docs say not to use for SNNs."""

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(256, 256),  # expect: INIT004 error  (nonlinearity="selu" gives 0.5625/fan_in, 1.78x below LeCun)
            nn.SELU(),
            nn.AlphaDropout(0.1),
            nn.Linear(256, 256),  # expect: INIT004 error
            nn.SELU(),
            nn.Linear(256, 10),
        )
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="selu")

    def forward(self, x):
        return self.layers(x)


class SeluDefaults(nn.Module):
    """SELU swapped in for ReLU, nothing else changed: default init and plain Dropout."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(128, 128)  # expect: INIT004 error  (default 1/(3*fan_in) is 3x below LeCun)
        self.drop1 = nn.Dropout(0.2)  # expect: INIT009 advice
        self.fc2 = nn.Linear(128, 64)  # expect: INIT004 error
        self.act = nn.SELU()
        self.out = nn.Linear(64, 2)

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.drop1(x)
        x = self.act(self.fc2(x))
        return self.out(x)
