"""One Keras file as a program: what its top level defines, and what reading its units yields.

:class:`TopLevel` is read once before any unit (imports, star imports, module
constants, top-level functions and classes). :class:`Program` is filled while
the units are read (graphs, signatures, call sites, the layers built and
applied) and read afterwards when consumers are resolved into records.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..python.names import Names, dotted
from ..python.source import SourceFile
from .context import KerasProject
from .graph import Application, Graph, Layer, Param
from .tables import KERAS_ROOTS



@dataclass(frozen=True)
class TopLevel:
    """What every unit of one file sees: its source, imports, star import, constants and units."""

    source: SourceFile
    names: Names  # module-level imports; grows as the module body is read
    star: bool  # ``from keras.layers import *``: bare names count as Keras
    consts: dict[str, cst.BaseExpression]
    units: dict[str, cst.FunctionDef | cst.ClassDef]
    module: str = ""  # the file's dotted name in its project ("" when it stands alone)
    project: KerasProject | None = None
    opener: Callable[[str], Program | None] | None = None  # another project module's program, read on demand

    @classmethod
    def scan(cls, source: SourceFile, project: KerasProject | None = None,
             opener: Callable[[str], Program | None] | None = None) -> TopLevel:
        body = source.module.body
        units = {stmt.name.value: stmt for stmt in body if isinstance(stmt, (cst.FunctionDef, cst.ClassDef))}
        names = Names().scan(body)
        if project is not None:
            names.absolutize(project.package)
        return cls(source, names, _star_keras(body), _module_consts(body), units,
                   project.module if project is not None else "", project, opener)

    def code(self, node: cst.CSTNode) -> str:
        """The source text of ``node`` as a message quotes it (at most 60 characters)."""
        text = self.source.module.code_for_node(node).strip()
        return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Site:
    """One call of a unit (a class constructed, a function called), its arguments read where it is written."""

    scope: Any  # a scope.Scope: a snapshot of the caller's bindings at the call (scope builds on this module)
    call: cst.Call
    where: str  # the caller: its class, function or "<module>"
    overrides: frozenset[str] = frozenset()  # a subclass's ``super().__init__``: the methods it defines itself


@dataclass
class Program:
    """Every unit's graph and what links them, filled while the units are read."""

    top: TopLevel | None = None
    graphs: dict[str, Graph] = field(default_factory=dict)
    unit_kinds: dict[str, str] = field(default_factory=dict)  # function, model, layer, other
    signatures: dict[str, tuple[Param, ...]] = field(default_factory=dict)
    # where each unit's result is used: its unit nodes (a unit of another project file by its qualified name)
    sites: dict[str, list[tuple[Graph, int]]] = field(default_factory=dict)
    # What each call of a unit passes: parameter name (or "#i" by position) -> literal value or MISSING.
    site_args: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    calls: dict[str, list[Site]] = field(default_factory=dict)  # unit ("Block.__init__", "conv") -> its calls
    class_envs: dict[str, dict[str, object]] = field(default_factory=dict)  # class -> what it binds on self
    # base class ("Base", or "mod.Base" of another file) -> the classes of this file deriving from it without an
    # __init__ of their own (their constructions build it): (the subclass's __init__ unit, the methods it defines)
    inherits: dict[str, list[tuple[str, frozenset[str]]]] = field(default_factory=dict)
    applications: list[Application] = field(default_factory=list)
    dropouts: list[tuple[Graph, Layer]] = field(default_factory=list)
    layers: list[Layer] = field(default_factory=list)
    layer_cache: dict[int, Layer] = field(default_factory=dict)  # id(constructor call) -> the layer it built
    counters: dict[tuple[str, str], int] = field(default_factory=dict)

    def auto_name(self, scope: str, cls: str) -> str:
        """Keras' automatic layer name: snake_case of the class, then _1, _2, ... per scope."""
        snake = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower()
        n = self.counters.get((scope, snake), 0)
        self.counters[(scope, snake)] = n + 1
        return snake if n == 0 else f"{snake}_{n}"


def _star_keras(body: Sequence[cst.BaseStatement]) -> bool:
    """``from keras.layers import *`` (or tf.keras): bare names then count as Keras."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    module = dotted(small.module) if small.module is not None else ""
                    if module and module.split(".")[0] in KERAS_ROOTS:
                        return True
    return False


def _module_consts(body: Sequence[cst.BaseStatement]) -> dict[str, cst.BaseExpression]:
    """Top-level ``NAME = expr`` bound exactly once."""
    seen: dict[str, cst.BaseExpression | None] = {}
    for stmt in body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and len(small.targets) == 1:
                target = small.targets[0].target
                if isinstance(target, cst.Name):
                    seen[target.value] = None if target.value in seen else small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                seen[small.target.value] = None if small.target.value in seen else small.value
    return {k: v for k, v in seen.items() if v is not None}
