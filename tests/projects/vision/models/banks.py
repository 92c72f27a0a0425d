"""Expert weight banks: base classes the project builds only through subclasses in other files (SPEC 8.32)."""
import torch
from torch import nn


class ExpertBank(nn.Module):
    """Built only as ``Experts`` (moe.py), whose container there fills the bank."""

    def __init__(self, n: int = 4, dim: int = 32) -> None:
        super().__init__()
        self.bank = nn.Parameter(torch.empty(n, dim, dim))  # alone: INIT010 error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.bank[0]


class RouterBank(nn.Module):
    """Built only as ``Router`` (moe.py), built by ``MoeStack`` (stack.py), whose init code names its ``table``
    (unresolved: the analysis does not follow an attribute of another file's class there)."""

    def __init__(self, n: int = 4, dim: int = 32) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.empty(n, dim, dim))  # alone: INIT010 error  # expect-unresolved

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.table[0]


class IdleBank(nn.Module):
    """Built only as ``IdleExperts`` (moe.py), whose container leaves it empty."""

    def __init__(self, n: int = 4, dim: int = 32) -> None:
        super().__init__()
        self.slots = nn.Parameter(torch.empty(n, dim, dim))  # expect: INIT010 error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.slots[0]
