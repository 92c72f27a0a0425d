# Other layer kinds (SPEC 4): an M5-style raw-audio Conv1d net with BatchNorm1d (silent, 8.1), a plain
# Conv1d stack on defaults (INIT005), a 3D-conv video stem with BatchNorm3d (silent), LazyLinear
# (fan_in unknown until the first call: judged by declaration, INIT005), and functional forms
# F.leaky_relu(x, 0.2) and x.relu().
import torch
import torch.nn as nn
import torch.nn.functional as F


class M5(nn.Module):
    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        self.conv1 = nn.Conv1d(n_input, n_channel, kernel_size=80, stride=stride)
        self.bn1 = nn.BatchNorm1d(n_channel)
        self.pool1 = nn.MaxPool1d(4)
        self.conv2 = nn.Conv1d(n_channel, n_channel, kernel_size=3)
        self.bn2 = nn.BatchNorm1d(n_channel)
        self.pool2 = nn.MaxPool1d(4)
        self.fc1 = nn.Linear(n_channel, n_output)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(self.bn1(x))
        x = self.pool1(x)
        x = self.conv2(x)
        x = F.relu(self.bn2(x))
        x = self.pool2(x)
        x = F.avg_pool1d(x, x.shape[-1])
        x = x.permute(0, 2, 1)
        x = self.fc1(x)
        return F.log_softmax(x, dim=2)


class TemporalConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(64, 64, 3, padding=1)  # expect: INIT005 advice
        self.conv2 = nn.Conv1d(64, 64, 3, padding=2, dilation=2)  # expect: INIT005 advice
        self.fc = nn.LazyLinear(256)  # expect: INIT005 advice  (LazyLinear: fan_in unknown, default before leaky_relu)
        self.proj = nn.Linear(256, 256)  # expect: INIT005 advice
        self.out = nn.Linear(256, 5)

    def forward(self, x):
        x = self.conv1(x).relu()
        x = self.conv2(x).relu()
        x = F.leaky_relu(self.fc(x.flatten(1)), 0.2)
        x = F.leaky_relu(self.proj(x), negative_slope=0.2)
        return self.out(x)


class VideoStem(nn.Module):
    def __init__(self, num_classes=400):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, 64, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
            nn.Conv3d(64, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.pool(self.stem(x)).flatten(1)
        return self.fc(x)
