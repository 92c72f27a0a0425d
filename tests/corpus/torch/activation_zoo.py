# The less common activation modules of SPEC 1 and 4, each after a 128 -> 128 Linear.
# relu family: ReLU6 on the default (INIT005), PReLU (initial slope 0.25, 8.26) after xavier (1.88x below
# He(a=0.25): INIT001 warning), ELU and RReLU (slope 11/48) after kaiming relu (ok); smooth: Hardswish on the
# default (INIT005); tanh family: Hardtanh on the default feeding the next layer (INIT005), Softsign after
# kaiming relu (He before tanh: INIT001 advice); sigmoid family: Hardsigmoid on the default feeding the next
# layer (INIT005). Softplus and GLU are in no family: their layers are unresolved and silent.
import torch
import torch.nn as nn


class ActivationZoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.l_relu6 = nn.Linear(128, 128)  # expect: INIT005 advice
        self.l_prelu = nn.Linear(128, 128)  # expect: INIT001 warning
        self.l_elu = nn.Linear(128, 128)
        self.l_rrelu = nn.Linear(128, 128)
        self.l_hswish = nn.Linear(128, 128)  # expect: INIT005 advice
        self.l_htanh = nn.Linear(128, 128)  # expect: INIT005 advice
        self.l_softsign = nn.Linear(128, 128)  # expect: INIT001 advice
        self.l_hsigmoid = nn.Linear(128, 128)  # expect: INIT005 advice  (hard-sigmoid output feeds l_softplus)
        self.l_softplus = nn.Linear(128, 128)  # expect-unresolved
        self.l_glu = nn.Linear(128, 256)  # expect-unresolved
        self.head = nn.Linear(128, 10)

        self.relu6 = nn.ReLU6(inplace=True)
        self.prelu = nn.PReLU()
        self.elu = nn.ELU()
        self.rrelu = nn.RReLU()
        self.hswish = nn.Hardswish()
        self.htanh = nn.Hardtanh()
        self.softsign = nn.Softsign()
        self.hsigmoid = nn.Hardsigmoid()
        self.softplus = nn.Softplus()
        self.glu = nn.GLU(dim=-1)
        self.log_softmax = nn.LogSoftmax(dim=-1)

        nn.init.xavier_uniform_(self.l_prelu.weight)
        for layer in (self.l_elu, self.l_rrelu, self.l_softsign):
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")

    def forward(self, x):
        x = self.relu6(self.l_relu6(x))
        x = self.prelu(self.l_prelu(x))
        x = self.elu(self.l_elu(x))
        x = self.rrelu(self.l_rrelu(x))
        x = self.hswish(self.l_hswish(x))
        x = self.htanh(self.l_htanh(x))
        x = self.softsign(self.l_softsign(x))
        x = self.hsigmoid(self.l_hsigmoid(x))
        x = self.softplus(self.l_softplus(x))
        x = self.glu(self.l_glu(x))
        return self.log_softmax(self.head(x))


if __name__ == "__main__":
    print(ActivationZoo()(torch.randn(4, 128)).shape)
