"""Stub (not from torchvision): the model files name these only to describe pretrained weights."""

from enum import Enum


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


class ImageClassification:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
