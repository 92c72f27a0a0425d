import torch.nn as nn


class ResBlock(nn.Module):
    """Its activation defaults to ReLU6, but its only construction (through ``get_block``) passes the caller's."""

    def __init__(self, cin, cout, act_fn="relu6"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)  # expect-unresolved  # alone: INIT005 advice
        self.act = nn.ReLU6() if act_fn == "relu6" else nn.Tanh()

    def forward(self, x):
        return self.act(self.conv(x))


def get_block(cin, cout, act_fn):
    return ResBlock(cin, cout, act_fn)


class Encoder(nn.Module):
    def __init__(self, act_fn="tanh"):
        super().__init__()
        self.block = get_block(8, 8, act_fn)

    def forward(self, x):
        return self.block(x)
