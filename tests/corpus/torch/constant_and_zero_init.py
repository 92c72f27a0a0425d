# Constant and zero weights (INIT003). Non-zero constants are always errors (units stay identical);
# zeros are errors only before ReLU or before another zero-initialized layer (SPEC 8.6).
# Deliberate zeros are silent: the last conv of a residual branch (Fixup/ReZero style), an output
# head, LoRA's B matrix, zeros before tanh. Biases are exempt.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ConstantInitMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 64)  # expect: INIT003 error
        self.fc2 = nn.Linear(64, 64)  # expect: INIT003 error
        self.fc3 = nn.Linear(64, 64)  # expect: INIT003 error  (zeros before ReLU: dead, no gradient)
        self.fc4 = nn.Linear(64, 64)  # zeros before tanh: gradient is non-zero, not flagged (8.6)
        self.fc5 = nn.Linear(64, 64)  # expect: INIT003 error
        self.head = nn.Linear(64, 10)
        nn.init.ones_(self.fc1.weight)
        nn.init.constant_(self.fc2.weight, 0.1)
        nn.init.zeros_(self.fc3.weight)
        nn.init.zeros_(self.fc4.weight)
        with torch.no_grad():
            self.fc5.weight.fill_(0.5)
        for layer in (self.fc1, self.fc2, self.fc3, self.fc4, self.fc5):
            nn.init.constant_(layer.bias, 0.01)
        nn.init.xavier_uniform_(self.head.weight)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        x = torch.tanh(self.fc4(x))
        x = F.relu(self.fc5(x))
        return self.head(x)


class FixupBlock(nn.Module):
    """Residual block without normalization: the branch's last conv starts at zero."""

    def __init__(self, channels=64):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        nn.init.kaiming_normal_(self.conv1.weight, nonlinearity="relu")
        nn.init.zeros_(self.conv2.weight)

    def forward(self, x):
        out = F.relu(self.conv1(x))
        out = self.conv2(out)
        return F.relu(out + x)


class FixupNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        nn.init.kaiming_normal_(self.stem.weight, mode="fan_out", nonlinearity="relu")
        self.blocks = nn.Sequential(FixupBlock(), FixupBlock(), FixupBlock())
        self.fc = nn.Linear(64, num_classes)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class LoRALinear(nn.Module):
    """LoRA done right: A random (PyTorch's default formula), B zero."""

    def __init__(self, in_features=512, out_features=512, r=8, alpha=16):
        super().__init__()
        self.base = nn.Linear(in_features, out_features)
        self.lora_A = nn.Linear(in_features, r, bias=False)
        self.lora_B = nn.Linear(r, out_features, bias=False)
        self.scaling = alpha / r
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


class BrokenLoRALinear(nn.Module):
    """Both adapter matrices zero: neither ever receives a gradient."""

    def __init__(self, in_features=512, out_features=512, r=8, alpha=16):
        super().__init__()
        self.base = nn.Linear(in_features, out_features)
        self.lora_A = nn.Linear(in_features, r, bias=False)  # expect: INIT003 error  (zero layer feeding the zero lora_B)
        self.lora_B = nn.Linear(r, out_features, bias=False)
        self.scaling = alpha / r
        nn.init.zeros_(self.lora_A.weight)
        nn.init.zeros_(self.lora_B.weight)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling
