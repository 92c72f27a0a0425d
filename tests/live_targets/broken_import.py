"""A target whose import fails."""

import torch.nn as nn  # noqa: F401  (the import runs before the failure)

raise RuntimeError("this module cannot be imported\nsecond line of the reason")
