"""The project as the torch frontend sees it from one file (``frontends.torch.context.Project``)."""

from __future__ import annotations

from ..frontends.torch.context import Definition
from .index import Summary
from .model import ProjectModel


class View:
    """One file's window on the project (the ``Project`` protocol of the torch frontend)."""

    def __init__(self, model: ProjectModel, summary: Summary) -> None:
        self.model = model
        self.summary = summary
        self.module = summary.module
        self.package = summary.package

    def definition(self, qualified: str) -> Definition | None:
        if qualified.startswith(self.module + ".") and qualified.count(".") == self.module.count(".") + 1:
            return None  # the linted file's own classes are interpreted as its own
        return self.model.definition(qualified)

    def is_module_class(self, qualified: str) -> bool:
        return self.model.is_module_class(qualified)

    def subtree(self, qualified: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return self.model.subtree(qualified)

    def ancestors(self, qualified: str) -> tuple[str, ...]:
        return self.model.ancestors(qualified)

    def methods(self, qualified: str) -> frozenset[str]:
        return self.model.methods(qualified)

    def config_default(self, config_class: str, attr: str) -> tuple[object] | None:
        return self.model.config_default(config_class, attr)

    @property
    def builds_modules(self) -> bool:
        """Does the file define module classes (through other files' bases), though it may never name torch?"""
        return any(self.model.is_module_class(f"{self.module}.{c.name}") for c in self.summary.classes)
