"""Models that take token ids, several inputs or a dict, and one with a tied LM head (SPEC 8.38)."""

import torch
from torch import nn


class TiedLM(nn.Module):
    """A small transformer LM whose head shares the Embedding's table (weight tying)."""

    def __init__(self, vocab: int = 100, width: int = 32, layers: int = 2) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, 16, width))  # a learned position table on the root module
        self.embed = nn.Embedding(vocab, width)
        layer = nn.TransformerEncoderLayer(width, 4, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(width, vocab, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(ids) + self.pos[:, : ids.shape[1]]))


class TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 16)
        self.b = nn.Linear(4, 16)
        self.out = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.out(torch.relu(self.a(x) + self.b(y)))


class DictInput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.fc = nn.Linear(16 + 3, 16)
        self.out = nn.Linear(16, 2)

    def forward(self, batch: dict) -> torch.Tensor:
        h = torch.cat([self.embed(batch["ids"]).mean(1), batch["extra"]], dim=-1)
        return self.out(torch.relu(self.fc(h)))
