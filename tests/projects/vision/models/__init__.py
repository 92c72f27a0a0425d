from .blocks import Bottleneck, Classifier, Mlp
from .net import Net

__all__ = ["Bottleneck", "Classifier", "Mlp", "Net"]
