"""PyTorch source frontend (placeholder until the real frontend lands)."""

from __future__ import annotations

from ..records import LayerRecord
from .source import SourceFile


def records(source: SourceFile) -> list[LayerRecord]:
    return []
