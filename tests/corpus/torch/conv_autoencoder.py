# A convolutional autoencoder for MNIST on PyTorch's default init, encoder and decoder as two
# nn.Sequential attributes chained in forward.
# Exercises: ConvTranspose2d fans from PyTorch's (in, out, k, k) storage (fan_in = out*k*k),
# INIT005 before ReLU for convs and transposed convs, the bottleneck conv without activation feeding
# the decoder (linear: silent), and a sigmoid reconstruction head (silent, SPEC 8.5).
import torch
import torch.nn as nn


class ConvAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 3, stride=2, padding=1),  # expect: INIT005 advice  (fans 9/144: 1/27 is 2.7x above He fan_out, 6x below fan_in)
            nn.ReLU(True),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),  # expect: INIT005 advice
            nn.ReLU(True),
            nn.Conv2d(32, 64, 7),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(64, 32, 7),  # expect: INIT005 advice  (fans 32*49=1568 / 64*49=3136)
            nn.ReLU(True),
            nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1),  # expect: INIT005 advice
            nn.ReLU(True),
            nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Sigmoid(),
        )

    def forward(self, x):
        z = self.encoder(x)
        return self.decoder(z)


if __name__ == "__main__":
    model = ConvAutoencoder()
    print(model(torch.zeros(8, 1, 28, 28)).shape)
