"""What the Keras frontend may ask about the rest of the project (``initlint.project.view`` answers, SPEC 8.32)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import libcst as cst


@runtime_checkable
class KerasProject(Protocol):
    """The project seen from one linted file."""

    module: str  # the linted file's dotted name
    package: str  # where its relative imports start
    memo: dict[str, object]  # a cache that lives as long as the project: other files' analyses

    def find(self, qualified: str) -> tuple[str, str, str] | None:
        """``(kind, module, name)`` of the project's class or function of that name (re-exports followed), or None."""

    def parse(self, module: str) -> tuple[str, str, cst.Module] | None:
        """``(path, text, parse)`` of a project module (parsed once per run), or None when it cannot be read."""

    def callers(self, qualified: str) -> tuple[str, ...]:
        """The other project modules that may call or construct ``qualified`` (they import or name it)."""

    def other(self, module: str) -> KerasProject | None:
        """The project as seen from another of its modules."""
