"""What one file's interpretation shares: its scopes, functions, constants, layer sites and step budget."""

from __future__ import annotations

from typing import Any, Protocol

import libcst as cst

from ..python.names import Names
from ..python.source import SourceFile
from .tree import Layer, Scope


class BudgetExceeded(Exception):
    """The file needs more interpretation steps (or bigger values) than a lint should spend: give up on it."""


# The most entries a list or tuple under construction may hold: far more layers than any network
# builds in one list, and each copy of one is charged to the step budget (1 step per 100 entries).
MAX_ITEMS = 10_000
# The most times a loop (or nested loops) may be counted as building a layer; beyond it the count is unknown.
MAX_COUNT = 1_000_000


def check_size(ctx: FileContext, size: int) -> None:
    """Charge building a sequence of ``size`` entries to the budget; give up past :data:`MAX_ITEMS`."""
    if size > MAX_ITEMS:
        raise BudgetExceeded(f"a list or tuple grows past {MAX_ITEMS} entries")
    ctx.steps += size // 100


def checked(ctx: FileContext, value: object) -> object:
    """``value``, a tuple's size charged to the budget first (see :func:`check_size`)."""
    if isinstance(value, tuple):
        check_size(ctx, len(value))
    return value


def times(repeat: int, count: int | None) -> int:
    """``repeat * count`` for a loop nested in loops; an unknown or implausible count counts once."""
    if count is None or count < 0 or repeat * count > MAX_COUNT:
        return repeat
    return repeat * (count or 1)


class FileContext:
    """Everything one file's interpretation shares."""

    def __init__(self, source: SourceFile, names: Names) -> None:
        self.steps = 0
        # statements interpreted per file: generous for real models, bounded for pathological code
        self.budget = 20_000 + 20 * source.text.count("\n")
        self.source = source
        self.names = names
        self.scopes: dict[str, Scope] = {}
        self.functions: dict[str, cst.FunctionDef] = {}
        self.constants: dict[str, object] = {}
        self.children: dict[str, set[str]] = {}
        self.sites: dict[tuple[int, str], Layer] = {}
        self.layers: list[Layer] = []
        self.extra_activations = source.settings.activations
        self.mentions: dict[str, int] = {}
        self.invoked: set[int] = set()  # functions and methods the interpretation ran

    def descendants(self, name: str) -> list[Scope]:
        """The same-file module classes a class builds, transitively (sorted per level)."""
        out, todo, seen = [], [name], {name}
        while todo:
            for child in sorted(self.children.get(todo.pop(), ())):
                if child not in seen and child in self.scopes:
                    seen.add(child)
                    out.append(self.scopes[child])
                    todo.append(child)
        return out

    def foreign_bases(self, scope: Scope, seen: frozenset[str] = frozenset()) -> list[str]:
        """The imported (non-torch.nn) base classes of a class and of its same-file bases, nearest first."""
        out = list(scope.foreign_bases)
        for base in scope.local_bases:
            if base in self.scopes and base not in seen:
                out += [b for b in self.foreign_bases(self.scopes[base], seen | {scope.name}) if b not in out]
        return out

    def method(self, scope: Scope, name: str, seen: frozenset[str] = frozenset()) -> cst.FunctionDef | None:
        """A method of the class or of its same-file bases."""
        if name in scope.methods:
            return scope.methods[name]
        for base in scope.local_bases:
            if base in self.scopes and base not in seen:
                found = self.method(self.scopes[base], name, seen | {scope.name})
                if found is not None:
                    return found
        return None


class Host(Protocol):
    """What the interpreter's helpers (the PyTorch library, reflection, the inliner) use of the interpreter.

    A protocol rather than the class itself, so the helpers do not import the interpreter that builds them.
    """

    ctx: FileContext
    scope: Scope
    stmt: cst.CSTNode | None
    repeat: int
    returns: list[object]
    current_fn: str | None
    torch: Any  # the TorchLibrary
    inline: Any  # the Inliner

    def ev(self, e: cst.BaseExpression, env: dict[str, object]) -> object: ...

    def run(self, body: list[Any], env: dict[str, object]) -> bool: ...

    def assign(self, target: cst.BaseExpression, value: object, env: dict[str, object]) -> None: ...

    def args(self, e: cst.Call, env: dict[str, object]) -> tuple[list[object], dict[str, object]]: ...

