# Init code reached in the ways SPEC 4 lists: `self.apply(self._init_weights)` with isinstance
# dispatch, `for m in self.modules()`, and an `_init_weights` method that is defined but never
# applied (then the layers are on the default, SPEC 8.19).
# Exercises: xavier before ReLU (INIT001 warning), fixed std 0.01 on a 512x512 layer before ReLU
# (INIT006: 39x below He), fixed std 0.05 on a 64->64 3x3 conv (1.4x off He: silent).
import torch
import torch.nn as nn
import torch.nn.functional as F


class CaffeLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5, 1)
        self.conv2 = nn.Conv2d(20, 50, 5, 1)
        self.fc1 = nn.Linear(4 * 4 * 50, 500)  # expect: INIT001 warning  (Glorot 2/1300 is 1.63x below He 2/800)
        self.fc2 = nn.Linear(500, 10)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(x, 2, 2)
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2, 2)
        x = x.view(-1, 4 * 4 * 50)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class SmallStdNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(64, 64, kernel_size=3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(512, 512)  # expect: INIT006 advice
        self.fc2 = nn.Linear(512, 512)  # expect: INIT006 advice
        self.fc3 = nn.Linear(512, 10)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.data.normal_(0, 0.05)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()

    def forward(self, x, feats):
        x = F.relu(self.conv(x))
        x = self.pool(x).flatten(1)
        h = F.relu(self.fc1(feats))
        h = F.relu(self.fc2(h))
        return self.fc3(h), x


class ForgottenInit(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(256, 256)  # expect: INIT005 advice  (_init_weights is never applied: the default stays)
        self.fc2 = nn.Linear(256, 256)  # expect: INIT005 advice
        self.out = nn.Linear(256, 1)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.out(x)
