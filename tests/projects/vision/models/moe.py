"""Subclasses of banks.py's base classes and the container that fills one of them (SPEC 8.32)."""
import torch
from torch import nn

from .banks import ExpertBank, IdleBank, RouterBank


class Experts(ExpertBank):
    pass


class Router(RouterBank):
    pass


class IdleExperts(IdleBank):
    pass


class Moe(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.experts = Experts()
        self.idle = IdleExperts()
        self.apply(self._init)

    def _init(self, m: nn.Module) -> None:
        if isinstance(m, Experts):
            nn.init.normal_(m.bank, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.idle(self.experts(x))
