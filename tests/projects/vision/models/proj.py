import torch.nn as nn


class Proj(nn.Module):
    """Returns its layer's output un-activated: what its containers in other files apply decides (SPEC 8.13).
    Every container applies ReLU (one through a block that hands the output on), so Glorot is too small."""

    def __init__(self, dim=64):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect: INIT001 warning
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)


class Gate(nn.Module):
    """One container applies ReLU to its output, another Tanh: the consumer is not one activation."""

    def __init__(self, dim=64):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect-unresolved
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)


class Lonely(nn.Module):
    """No class of the project builds it: the outermost model, its returned layer the output head."""

    def __init__(self, dim=64):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect: INIT001 advice
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)


class Held(nn.Module):
    """Built by a plain class of another file (not a module) that applies ReLU: not the outermost model, and
    that class's use is not read, so the consumer stays unknown rather than an output head."""

    def __init__(self, dim=64):
        super().__init__()
        self.fc = nn.Linear(dim, dim)  # expect-unresolved
        nn.init.kaiming_normal_(self.fc.weight)

    def forward(self, x):
        return self.fc(x)
