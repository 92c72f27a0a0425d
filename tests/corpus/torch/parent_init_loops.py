# Init loops in a parent module reaching layers of child module classes defined in the same file (SPEC 8.12).
# Exercises: one parent's `for m in self.modules()` xavier_normal_ loop applied to a child block built twice
# from one construction site (Glorot before ReLU on 256 -> 256: one INIT001 warning for the site, 8.16);
# two parents that initialize the same child class differently (the child's layers are unresolved, silent);
# nested nn.Sequential; xavier with calculate_gain("leaky_relu", 0.2) before LeakyReLU(0.2) (ok), and the same
# loop giving that gain to the linear head (over-scaled head: INIT001 advice).
import torch
import torch.nn as nn
import torch.nn.functional as F


class FeatureBlock(nn.Module):
    def __init__(self, dim=256):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect: INIT001 warning  (the parent's xavier_normal_ loop: 1/256 is 2x below He)

    def forward(self, x):
        return F.relu(self.fc(x))


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(FeatureBlock(), FeatureBlock())
        self.head = nn.Linear(256, 10)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.head(self.blocks(x))


class SharedTrunk(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 256)  # expect-unresolved
        self.fc2 = nn.Linear(256, 256)  # expect-unresolved

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class XavierModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = SharedTrunk()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.trunk(x)


class KaimingModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = SharedTrunk()
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x):
        return self.trunk(x)


class LeakyStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Sequential(nn.Linear(128, 128), nn.LeakyReLU(0.2)),
            nn.Sequential(nn.Linear(128, 128), nn.LeakyReLU(0.2)),
            nn.Linear(128, 1),  # expect: INIT001 advice  (the leaky gain reaches the head too: 1.92x over Glorot 2/129; heads: advice)
        )
        gain = nn.init.calculate_gain("leaky_relu", 0.2)
        for layer in self.net.modules():
            if isinstance(layer, nn.Linear):
                nn.init.xavier_uniform_(layer.weight, gain=gain)

    def forward(self, x):
        return self.net(x)
