import torch.nn as nn
import torch.nn.functional as F


class Wide(nn.Module):
    """Its default sizes (64 -> 512) would clear the finding (within 1.5x of He(fan_out)); Block (another file)
    builds it with sizes the analysis does not evaluate there: not judged on the defaults, it is unresolved."""

    def __init__(self, dim=64, hidden=512):
        super().__init__()
        self.fc = nn.Linear(dim, hidden)  # expect-unresolved

    def forward(self, x):
        return F.relu(self.fc(x))
