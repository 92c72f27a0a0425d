"""A target whose import fails."""

import torch.nn as nn

raise RuntimeError("this module cannot be imported\nsecond line of the reason")
