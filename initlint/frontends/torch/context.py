"""What one file's interpretation shares: its scopes, functions, constants, layer sites and step budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import libcst as cst

from ..python.names import Names
from ..python.source import SourceFile
from .tree import Layer, Scope
from .values import MAX_ITEMS


@dataclass
class Globals:
    """What a name means inside one module: its imports (absolute) and constants; ``module`` is its dotted name."""

    names: Names
    constants: dict[str, object] = field(default_factory=dict)
    module: str = ""
    path: str = ""


@dataclass(frozen=True)
class Definition:
    """A class or function defined in another file of the project (SPEC 8.32), as the interpreter reads it."""

    qualified: str
    node: cst.ClassDef | cst.FunctionDef
    home: Globals


class Project(Protocol):
    """What the torch frontend may ask about the rest of the project (``initlint.project.view`` answers)."""

    module: str  # the linted file's dotted name
    package: str  # where its relative imports start
    builds_modules: bool  # the file defines module classes (bases from other files), whether or not it names torch

    def definition(self, qualified: str) -> Definition | None:
        """The project's class or function of that name (re-exports followed), or None."""

    def own_parse(self, text: str) -> cst.Module | None:
        """The linted file's parse made when another file read it as context, if kept and a parse of ``text``."""

    def is_module_class(self, qualified: str) -> bool:
        """A project class deriving (through the project) from ``torch.nn.Module`` or a framework model base."""

    def subtree(self, qualified: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The project module classes an instance of the class builds (itself first), each with its torch layer classes."""

    def ancestors(self, qualified: str) -> tuple[str, ...]:
        """The class and its bases, qualified (project bases resolved, others as imported)."""

    def methods(self, qualified: str) -> frozenset[str]:
        """The methods a project class defines or inherits from project bases."""

    def config_default(self, config_class: str, attr: str) -> tuple[object] | None:
        """``(value,)``: the literal default of a config class's constructor parameter; None when unknown."""

    def constructed(self, qualified: str) -> bool:
        """May the class be built itself somewhere in the project (not only as a base of subclasses)?"""

    def subclasses(self, qualified: str) -> tuple[str, ...]:
        """The project's module classes deriving from the class (directly or not)."""

    def outside_calls(self, qualified: str) -> list[tuple[str, int, tuple[str, ...]]]:
        """Its constructions in other project files: ``(where, positional arguments (-1: unknown), keywords)``."""


class BudgetExceeded(Exception):
    """The file needs more interpretation steps (or bigger values) than a lint should spend: give up on it."""


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
        self.side_flows: list[Any] = []  # flows run only to read module classes' entries (project analysis)
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
        self.project: Project | None = None
        self.home = Globals(names, self.constants)  # the linted file's own globals
        self.homes: dict[int, Globals] = {}  # id(node) of code from another project file -> its globals
        self.foreign = False  # running code of another file: its layers are not this file's records
        self.ext_mods: list[Any] = []  # (scope name, ExtMod) built (their probes carry the containers' effects)
        self.generic: dict[str, Any] = {}  # scope name -> its generic probe module (any other file's class)
        self.defined_in: dict[int, str] = {}  # id(method node) -> key of the scope whose class body defines it
        self.constructions: list[tuple[str, str, tuple[object, ...], dict[str, object]]] = []  # builder, class, args
        self.constructed: set[int] = set()  # id(call) of those constructions
        self.envs: dict[str, dict[str, object]] = {}  # class -> the locals of its ``__init__`` when it ended
        self._bases: dict[str, Any] = {}

    def branch_layers(self) -> list[Layer]:
        """The layers whose init states an ``if`` may change: this file's and the probes of other files' classes."""
        probes = [p for _, mod in self.ext_mods for ps in mod.probes.values() for p in ps]
        return self.layers + probes if probes else self.layers

    def qualified(self, scope: Scope) -> str:
        """A scope's class as a qualified name (the linted file's classes under its module)."""
        if scope.external:
            return scope.external
        return f"{self.project.module}.{scope.name}" if self.project is not None else scope.name

    def mro(self, scope: Scope) -> list[Scope]:
        """The class and its bases in this file and other project files, depth first."""
        out: list[Scope] = []
        seen: set[str] = set()
        todo = [scope]
        while todo:
            s = todo.pop(0)
            if s.name in seen:
                continue
            seen.add(s.name)
            out.append(s)
            todo[:0] = [self.scopes[b] for b in s.local_bases if b in self.scopes]
        return out

    def model_base(self, scope: Scope) -> Any:
        """The framework convention (SPEC 8.33) of the first class in the scope's ancestry that has one."""
        if scope.name in self._bases:
            return self._bases[scope.name]
        from ...rulebook import conventions

        table = conventions(self.source.settings.conventions)
        found = None
        for s in self.mro(scope):
            for q in [self.qualified(s)] + s.foreign_bases:
                found = table.model_base(q)
                if found is not None:
                    break
            if found is not None:
                break
        self._bases[scope.name] = found
        return found

    def config_of(self, scope: Scope) -> Any:
        """The model's config (``self.config``): the config class named by its ``config_class`` attribute, or
        by the annotation ``config: LlamaConfig`` (transformers 5)."""
        from .values import ConfigRef

        base = self.model_base(scope)
        attrs = ((base.config_class_attribute if base is not None else "") or "config_class", "config")
        for attr in attrs:
            for s in self.mro(scope):
                if attr in s.class_refs:
                    return ConfigRef(s.class_refs[attr])
        for attr in attrs:
            for s in self.scopes.values():  # a block of a model file: the file's model config
                if not s.external and attr in s.class_refs:
                    return ConfigRef(s.class_refs[attr])
        return None

    def config_value(self, ref: Any, attr: str) -> object:
        """``config.<attr>``: the config class's constructor default, when the class is in the project."""
        if ref is None or self.project is None:
            return None
        found = self.project.config_default(ref.qualified, attr)
        if found is None:
            return None
        value = found[0]
        if value is None:
            from .values import NONE

            return NONE
        return value if isinstance(value, (int, float, str, bool, tuple)) else None

    @contextmanager
    def running(self, node: cst.CSTNode) -> Iterator[None]:
        """Interpret ``node`` with the globals of the file that defines it (a base class or helper elsewhere)."""
        home = self.homes.get(id(node), self.home)
        if home.names is self.names:
            yield
            return
        saved = self.names, self.constants, self.foreign
        self.names, self.constants, self.foreign = home.names, home.constants, home is not self.home
        try:
            yield
        finally:
            self.names, self.constants, self.foreign = saved

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
        """A method of the class or of its bases (same-file ones, and project bases read from their files)."""
        if name in scope.methods:
            return scope.methods[name]
        for base in scope.local_bases:
            if base in self.scopes and base not in seen and not self.framework_base(self.scopes[base]):
                found = self.method(self.scopes[base], name, seen | {scope.name})
                if found is not None:
                    return found
        return None

    def framework_base(self, scope: Scope) -> bool:
        """A project class that is itself a framework model base (``transformers.modeling_utils.PreTrainedModel``
        when transformers is the project): the conventions table says what its methods do, its code is not read."""
        from ...rulebook import conventions

        return bool(scope.external) and conventions(self.source.settings.conventions).model_base(scope.external) is not None


class Host(Protocol):
    """What the interpreter's helpers (the PyTorch library, reflection, the inliner) use of the interpreter.

    A protocol rather than the class itself, so the helpers do not import the interpreter that builds them.
    """

    ctx: FileContext
    scope: Scope
    stmt: cst.CSTNode | None
    repeat: int
    returns: list[object]
    returned_states: list[Any]  # Snapshots of the branches that returned from the running function
    current_fn: str | None
    torch: Any  # the TorchLibrary
    inline: Any  # the Inliner

    def ev(self, e: cst.BaseExpression, env: dict[str, object]) -> object: ...

    def run(self, body: list[Any], env: dict[str, object]) -> bool: ...

    def assign(self, target: cst.BaseExpression, value: object, env: dict[str, object]) -> None: ...

    def args(self, e: cst.Call, env: dict[str, object]) -> tuple[list[object], dict[str, object]]: ...

