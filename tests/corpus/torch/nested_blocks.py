# Blocks whose output is returned to a caller in the same file (SPEC 8.13): a returned output is an
# output head only in the outermost model; inside a block built by another module the consumer lies in
# the caller. Here the caller applies ReLU to each block's output, so the block's conv (one construction
# site, two instances, SPEC 8.16) and the encoder's projection are hidden layers on the default (INIT005).
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)  # expect: INIT005 advice  (consumer in the caller: F.relu)

    def forward(self, x):
        return self.conv(x)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(64, 128)  # expect: INIT005 advice  (1/(3*64) is 3x below He fan_out 2/128)

    def forward(self, x):
        return self.proj(x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = ConvBlock(3, 64)
        self.block2 = ConvBlock(64, 64)
        self.encoder = Encoder()
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.block1(x))
        x = F.relu(self.block2(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        x = torch.relu(self.encoder(x))
        return self.head(x)
