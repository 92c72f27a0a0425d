# An MLP GAN on MNIST with LeakyReLU(0.2) (PyTorch-GAN style).
# Exercises: the generator on PyTorch defaults (INIT005 before LeakyReLU, with the slope-adjusted He
# variance 2/((1+0.2^2)*fan) as the requirement), a Tanh output head (silent), a discriminator whose
# weights all go through `for p in self.parameters(): if p.dim() > 1: xavier_uniform_(p)` (SPEC 8.12):
# Glorot before LeakyReLU is an INIT001 warning unless the variance is within 1.5x of He (8.3, 8.10),
# and a critic using kaiming with a=0.2 / nonlinearity="relu" (both fine).
import numpy as np
import torch
import torch.nn as nn

img_shape = (1, 28, 28)


class Generator(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(latent_dim, 256),  # expect: INIT005 advice  (1/(3*100) is 2.3x below He(a=0.2) fan_out)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(256, 512),  # expect: INIT005 advice
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 1024),  # expect: INIT005 advice
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(1024, int(np.prod(img_shape))),
            nn.Tanh(),
        )

    def forward(self, z):
        img = self.model(z)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 512),  # expect: INIT001 warning  (Glorot 2/1296 is 1.59x below He(a=0.2) 2/(1.04*784))
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 512),  # expect: INIT001 warning
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(512, 256),  # Glorot 2/768 vs He(a=0.2) 2/(1.04*512): 1.44x, within 1.5x -> silent (8.3, 8.10)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(256, 1),
        )
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def forward(self, img):
        img_flat = img.view(img.size(0), -1)
        validity = self.model(img_flat)
        return validity


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 256)
        self.act = nn.LeakyReLU(negative_slope=0.2)
        self.out = nn.Linear(256, 1)
        nn.init.kaiming_normal_(self.fc1.weight, a=0.2, nonlinearity="leaky_relu")
        nn.init.kaiming_normal_(self.fc2.weight, nonlinearity="relu")
        nn.init.xavier_uniform_(self.out.weight)

    def forward(self, x):
        x = self.act(self.fc1(x.flatten(1)))
        x = self.act(self.fc2(x))
        return self.out(x)
