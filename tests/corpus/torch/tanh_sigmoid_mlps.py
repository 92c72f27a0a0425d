# Tanh / sigmoid MLPs without recurrence (a PINN, a small regressor, an autoencoder with a sigmoid code).
# Exercises: INIT005 before tanh/sigmoid only when the output visibly reaches another weight layer (SPEC 8.5);
# a tanh/sigmoid head on defaults is silent; the 1.5x rule (10 -> 64 default is 1.23x of Glorot);
# He before tanh is INIT001 advice; gains computed for tanh are ok (xavier with calculate_gain("tanh"),
# kaiming with nonlinearity="tanh"); `from torch.nn import ...` and `init` imported by name.
import torch
from torch.nn import Linear, Module, Sequential, Sigmoid, Tanh, init


class PINN(Module):
    """u(x, t) for Burgers' equation."""

    def __init__(self):
        super().__init__()
        self.net = Sequential(
            Linear(2, 64),  # expect: INIT005 advice  (1/(3*2) is 3x below LeCun 1/2, 5.5x above Glorot)
            Tanh(),
            Linear(64, 64),  # expect: INIT005 advice
            Tanh(),
            Linear(64, 64),  # expect: INIT005 advice
            Tanh(),
            Linear(64, 1),
        )

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


class HeTanhRegressor(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Linear(128, 128)  # expect: INIT001 advice  (He 2/128 is 2x Glorot before tanh)
        self.fc2 = Linear(128, 128)  # expect: INIT001 advice
        self.fc3 = Linear(128, 1)
        for layer in (self.fc1, self.fc2):
            init.kaiming_normal_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        x = self.fc2(x).tanh()
        return self.fc3(x)


class GainTanhRegressor(Module):
    def __init__(self):
        super().__init__()
        self.fc1 = Linear(10, 64)  # 1/(3*10) is within 1.23x of Glorot 2/74: silent even on the default
        self.fc2 = Linear(64, 64)
        self.fc3 = Linear(64, 64)
        self.out = Linear(64, 1)
        init.xavier_normal_(self.fc2.weight, gain=init.calculate_gain("tanh"))
        init.kaiming_uniform_(self.fc3.weight, nonlinearity="tanh")

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        h = torch.tanh(self.fc2(h))
        h = torch.tanh(self.fc3(h))
        return torch.sigmoid(self.out(h))


class SigmoidCodeAE(Module):
    def __init__(self):
        super().__init__()
        self.enc = Linear(256, 256)  # expect: INIT005 advice  (sigmoid output feeds self.dec)
        self.dec = Linear(256, 256)
        self.act = Sigmoid()

    def forward(self, x):
        code = self.act(self.enc(x))
        return self.act(self.dec(code))
