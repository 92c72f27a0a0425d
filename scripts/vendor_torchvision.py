"""Copy torchvision's pure-Python model definitions into ``tests/vendor/torchvision_0_28`` (for INIT008's tests).

torchvision's wheel for torch 2.13 (0.28.0) does not import on the CPU-only torch build: its compiled
operators fail to register (``operator torchvision::nms does not exist``). The model definitions do not
need them, so this script copies the files that define ResNet, VGG, MobileNetV3, EfficientNet and ViT
**verbatim** from the wheel, plus what they import (``models/_api.py``, ``_utils.py``, ``_meta.py``,
``ops/misc.py``, ``ops/stochastic_depth.py``, ``utils.py``, ``_utils.py``, ``_internally_replaced_utils.py``).
Exactly two things are not verbatim, and both are written here:

* the package ``__init__.py`` files are empty (torchvision's import the compiled ops and every model);
* ``transforms/_presets.py`` is a stub defining ``ImageClassification`` and ``InterpolationMode``, which the
  model files only use to describe their pretrained weights' preprocessing;
* the one absolute import, ``from torchvision.ops import StochasticDepth`` in ``efficientnet.py``, is made
  relative (``from ..ops.stochastic_depth import StochasticDepth``).

Usage: ``pip download --no-deps -d /tmp/tv torchvision==0.28.0`` then
``python scripts/vendor_torchvision.py /tmp/tv/torchvision-0.28.0-*.whl``.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "tests" / "vendor" / "torchvision_0_28"
FILES = (
    "models/resnet.py", "models/vgg.py", "models/mobilenetv3.py", "models/efficientnet.py",
    "models/vision_transformer.py", "models/_api.py", "models/_utils.py", "models/_meta.py",
    "ops/misc.py", "ops/stochastic_depth.py", "utils.py", "_utils.py", "_internally_replaced_utils.py",
)
REWRITES = {"from torchvision.ops import StochasticDepth": "from ..ops.stochastic_depth import StochasticDepth"}
PRESETS = '''"""Stub (not from torchvision): the model files name these only to describe pretrained weights."""

from enum import Enum


class InterpolationMode(Enum):
    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


class ImageClassification:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
'''
HEADER = "# Vendored verbatim from torchvision {version} (BSD-3-Clause, see LICENSE) by scripts/vendor_torchvision.py.\n"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        version = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA")).split("-")[1].split(".dist")[0]
        license_name = next(n for n in zf.namelist() if n.endswith(".dist-info/LICENSE"))
        for name in FILES:
            text = zf.read(f"torchvision/{name}").decode()
            for old, new in REWRITES.items():
                text = text.replace(old, new)
            out = TARGET / name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(HEADER.format(version=version) + text)
        (TARGET / "LICENSE").write_bytes(zf.read(license_name))
    for package in ("", "models", "ops", "transforms"):
        (TARGET / package / "__init__.py").parent.mkdir(parents=True, exist_ok=True)
        (TARGET / package / "__init__.py").write_text("")
    (TARGET / "transforms" / "_presets.py").write_text(PRESETS)
    print(f"torchvision {version}: {len(FILES)} files -> {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
