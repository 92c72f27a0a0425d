# Activations chosen at run time from a config: the consumer cannot be resolved statically,
# so these layers must be silent and counted as unresolved (SPEC 3, "Precision first").
# Exercises: an activation registry dict indexed by a config value, getattr(nn, name)(),
# an `act_layer` passed in without a default, and a hydra-style cfg object.
import torch
import torch.nn as nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "selu": nn.SELU,
}


class ConfigMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        act = ACTIVATIONS[cfg["activation"]]
        self.fc1 = nn.Linear(cfg["in_dim"], 256)  # expect-unresolved
        self.act1 = act()
        self.fc2 = nn.Linear(256, 256)  # expect-unresolved
        self.act2 = act()
        self.head = nn.Linear(256, cfg["n_classes"])

    def forward(self, x):
        x = self.act1(self.fc1(x))
        x = self.act2(self.fc2(x))
        return self.head(x)


class GetattrConvNet(nn.Module):
    def __init__(self, activation: str, width: int = 64):
        super().__init__()
        Act = getattr(nn, activation)
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),  # expect-unresolved
            Act(),
            nn.Conv2d(width, width, 3, padding=1),  # expect-unresolved
            Act(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(width, 10)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class InjectedActivation(nn.Module):
    def __init__(self, dim, act_layer):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)  # expect-unresolved
        self.act = act_layer()
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class HydraMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        layers = [nn.Linear(cfg.model.in_dim, cfg.model.hidden)]  # expect-unresolved
        layers.append(ACTIVATIONS[cfg.model.act]())
        layers.append(nn.Linear(cfg.model.hidden, cfg.model.out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(torch.flatten(x, 1))
