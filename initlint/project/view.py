"""The project as the torch frontend sees it from one file (``frontends.torch.context.Project``)."""

from __future__ import annotations

import libcst as cst

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
        self._definitions: dict[str, Definition | None] = {}

    def definition(self, qualified: str) -> Definition | None:
        """The other file's class or function (asked for at every use of a name: read once per file)."""
        if qualified not in self._definitions:
            own = qualified.startswith(self.module + ".") and qualified.count(".") == self.module.count(".") + 1
            # the linted file's own classes are interpreted as its own
            self._definitions[qualified] = None if own else self.model.definition(qualified)
        return self._definitions[qualified]

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

    def constructed(self, qualified: str) -> bool:
        return self.model.constructed(qualified)

    def subclasses(self, qualified: str) -> tuple[str, ...]:
        return self.model.subclasses(qualified)

    def outside_calls(self, qualified: str) -> list[tuple[str, int, tuple[str, ...]]]:
        return self.model.outside_calls(qualified)

    # -- what the Keras frontend asks (frontends.keras.context.KerasProject) -----------

    @property
    def memo(self) -> dict[str, object]:
        return self.model.memo

    def find(self, qualified: str) -> tuple[str, str, str] | None:
        found = self.model.linker.resolve(qualified)
        if found is None:
            return None
        if found.cls is not None:
            return "class", found.summary.module, found.cls.name
        assert found.function is not None
        return "function", found.summary.module, found.function.name

    def parse(self, module: str) -> tuple[str, str, cst.Module] | None:
        parsed = self.model.module_parse(module)
        return (parsed.path, parsed.text, parsed.module) if parsed is not None else None

    def own_parse(self, text: str) -> cst.Module | None:
        """This file's parse made as context before its lint, if it was kept and is a parse of ``text``."""
        return self.model.take(self.summary.path, text)

    def callers(self, qualified: str) -> tuple[str, ...]:
        return self.model.callers(qualified)

    def other(self, module: str) -> View | None:
        summary = self.model.linker.modules.get(module)
        return View(self.model, summary) if summary is not None else None

    @property
    def builds_modules(self) -> bool:
        """Does the file define module classes (through other files' bases), though it may never name torch?"""
        return any(self.model.is_module_class(f"{self.module}.{c.name}") for c in self.summary.classes)
