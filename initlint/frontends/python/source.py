"""What the source frontends share: the parsed file and how to locate its nodes."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst

from ...records import Origin
from ...settings import Settings
from .positions import Locator


@dataclass
class SourceFile:
    """One parsed ``.py`` file, handed to every source frontend (one parse per file)."""

    path: str
    text: str
    module: cst.Module
    settings: Settings = field(default_factory=Settings)
    tree: ast.Module | None = field(default=None, repr=False)  # CPython's parse of ``text``, if already made
    locator: Locator = field(init=False)

    def __post_init__(self) -> None:
        self.locator = Locator(self.text, self.module, self.tree)

    def origin(self, stmt: cst.CSTNode, call: cst.Call | None = None) -> Origin:
        """The position of ``call`` inside the small statement ``stmt`` (or of ``stmt`` itself)."""
        pos = self.locator.call(stmt, call) if call is not None else self.locator.statement(stmt)
        if pos is None:
            return Origin(self.path)
        return Origin(self.path, pos[0], pos[1])

    def line(self, stmt: cst.CSTNode, call: cst.Call | None = None) -> int | None:
        return self.origin(stmt, call).line
