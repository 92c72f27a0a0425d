"""Reading the units of one Keras file (functions, model classes, the module body) into graphs, by hand.

Statements are walked in order; ``if`` branches meet in ``phi`` nodes; loop
bodies are walked twice so that what one iteration builds is consumed by the
next. What expressions evaluate to is :mod:`.expressions`' business, what layer
constructors build :mod:`.construct`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from ..python.names import Names, dotted
from ..python.syntax import suite
from .construct import rescope
from .expressions import Values
from .graph import Graph, Layer, Lit, Node, Param, UnitRef, Value
from .program import Program, TopLevel
from .scope import Scope
from .tables import qualified_class

Statement = cst.BaseStatement | cst.BaseSmallStatement  # a one-line suite's statements come bare

# Loops nested deeper than this are walked once, not twice (see Flow.statement).
_TWICE_DEPTH = 4


def read(top: TopLevel) -> Program:
    """Every unit of the file read into its graph, starting from the module body."""
    program = Program()
    module = Flow(top, program, Graph("<module>", "module"), top.names, None, "<module>")
    module.walk(top.source.module.body)
    module.values.finish()
    return program


class Flow:
    """Walks the statements of one unit (function, class, module body) and binds what they compute."""

    def __init__(self, top: TopLevel, program: Program, graph: Graph, names: Names, parent: Flow | None,
                 scope: str) -> None:
        self.top = top
        self.program = program
        self.graph = graph
        self.scope = Scope(top, graph, names, parent.scope if parent is not None else None, scope)
        self.values = Values(self.scope, program)
        self.loops = 0  # loops around the statement being walked
        program.graphs.setdefault(graph.unit, graph)

    def walk(self, body: Sequence[Statement]) -> None:
        for stmt in body:
            self.statement(stmt)

    def statement(self, stmt: Statement) -> None:
        scope = self.scope
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                scope.stmt = small
                self.small(small)
        elif isinstance(stmt, cst.If):
            self.branches(stmt)
        elif isinstance(stmt, (cst.For, cst.While)):
            scope.stmt = stmt
            if isinstance(stmt, cst.For):
                # `for block in self.blocks:` over a list of layers binds each in turn (one object here)
                items = self.values.value(stmt.iter) if isinstance(stmt.iter, (cst.Name, cst.Attribute)) else None
                self.bind(stmt.target, items if isinstance(items, Layer) and items.role != "sequential" else None)
            # Twice: what one iteration produces is consumed by the next. Once in loops nested
            # deeper than _TWICE_DEPTH, or nested loops would be walked 2**depth times.
            self.loops += 1
            try:
                for _ in range(2 if self.loops <= _TWICE_DEPTH else 1):
                    self.walk(suite(stmt.body))
            finally:
                self.loops -= 1
        elif isinstance(stmt, cst.With):
            self.walk(suite(stmt.body))
        elif isinstance(stmt, cst.Try):
            self.walk(suite(stmt.body))
            if stmt.orelse is not None:
                self.walk(suite(stmt.orelse.body))
            if stmt.finalbody is not None:
                self.walk(suite(stmt.finalbody.body))
        elif isinstance(stmt, cst.FunctionDef):
            name = f"{scope.name}.{stmt.name.value}" if self.graph.kind != "module" else stmt.name.value
            function_unit(self.top, self.program, stmt, name, self)
            scope.env[stmt.name.value] = UnitRef(name)
        elif isinstance(stmt, cst.ClassDef):
            class_unit(self.top, self.program, stmt, self)
            scope.env[stmt.name.value] = UnitRef(stmt.name.value)
        elif isinstance(stmt, cst.BaseSmallStatement):  # `if c: x = f(x)`: suite() gives no line around it
            scope.stmt = stmt
            self.small(stmt)

    def branches(self, stmt: cst.If) -> None:
        """Both branches from the same start; names that differ after them meet in a pass node."""
        scope = self.scope
        start = dict(scope.env)
        ends = []
        current: cst.If | cst.Else | None = stmt
        while current is not None:
            scope.env = dict(start)
            body = suite(current.body)
            self.walk(body)
            if not (body and _ends_flow(body)):
                ends.append(scope.env)
            current = current.orelse if isinstance(current, cst.If) else None
        if not isinstance(stmt.orelse, cst.Else) and not _has_else(stmt):
            ends.append(start)
        scope.env = self.merge(ends) if ends else start

    def merge(self, ends: list[dict[str, Value]]) -> dict[str, Value]:
        """One binding per name after branches: the same value, a phi node of tensors, or unknown."""
        out: dict[str, Value] = {}
        for key in dict.fromkeys(k for env in ends for k in env):
            values = [env.get(key) for env in ends]
            if any(isinstance(v, int) for v in values):
                # a parameter left untouched on one branch is the same tensor as its node on another
                values = [self.scope.param_node(v.name) if isinstance(v, Param) else v for v in values]
            first = values[0]
            if all(v is first for v in values):
                out[key] = first
            elif all(isinstance(v, int) for v in values):
                inputs = tuple(dict.fromkeys(v for v in values if isinstance(v, int)))
                shapes = {self.graph.nodes[i].shape for i in inputs}
                out[key] = self.graph.add(Node("phi", inputs, shapes.pop() if len(shapes) == 1 else None))
            elif all(isinstance(v, Lit) for v in values) and len({repr(v) for v in values}) == 1:
                out[key] = first
            else:
                out[key] = None
        return out

    def small(self, small: cst.BaseSmallStatement) -> None:
        values = self.values
        if isinstance(small, cst.Assign):
            value = values.value(small.value)
            for target in small.targets:
                self.bind(target.target, value)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.bind(small.target, values.value(small.value))
        elif isinstance(small, cst.AugAssign):
            left, right = values.value(small.target), values.value(small.value)
            if isinstance(small.operator, cst.AddAssign) and isinstance(left, int) and isinstance(right, int):
                self.bind(small.target, self.graph.add(Node("add", (left, right), self.graph.nodes[left].shape)))
            else:
                self.bind(small.target, values.unknown(small, right, extra=left))
        elif isinstance(small, cst.Expr):
            if not values.layers.sequential_add(small.value):
                values.value(small.value)
        elif isinstance(small, cst.Return) and small.value is not None:
            expr = small.value
            tensors = values.tensors(expr) if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)) else []
            value = values.value(expr) if not tensors else None
            if isinstance(value, int):
                tensors = [value]
            if tensors:
                self.graph.add(Node("return", tuple(tensors)))
            elif isinstance(value, Layer):
                self.graph.returned_layer = value  # a layer factory: def conv(f): return layers.Conv2D(f, 3)
                value.standalone_ok = True
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self.scope.names.add(small)

    def bind(self, target: cst.BaseExpression, value: Value) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind(element.value, value if isinstance(value, int) else None)
            return
        key = dotted(target)
        if key is None:
            return
        if isinstance(value, Layer) and value.role == "sequential" and self.graph.kind == "module" and "." not in key:
            value.name = key
            for item in value.items:
                rescope(item, key)
        elif isinstance(value, Layer) and not value.name:
            value.name = key.rpartition(".")[2]
        self.scope.env[key] = value


# -- units -----------------------------------------------------------------------------------


def _param_names(func: cst.FunctionDef, unit: str) -> list[Param]:
    p = func.params
    return [Param(x.name.value, x.default, unit) for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def function_unit(top: TopLevel, program: Program, func: cst.FunctionDef, name: str, parent: Flow | None) -> Graph:
    """A function: its parameters are the tensors (or literal defaults) callers pass."""
    graph = Graph(name, "function")
    params = _param_names(func, name)
    program.signatures[name] = tuple(params)
    graph.call_params = tuple(p.name for p in params)
    program.unit_kinds[name] = "function"
    flow = Flow(top, program, graph, (parent.scope.names if parent else top.names).child(), parent, name)
    program.graphs[name] = graph
    scope = flow.scope
    for p in params:
        scope.env[p.name] = p
    body = suite(func.body)
    if isinstance(func.body, cst.IndentedBlock):
        scope.names.scan(body)
    else:  # Names.scan reads statement lines; a one-line body's imports are added one by one
        for small in body:
            scope.names.add(small)  # type: ignore[arg-type]
    flow.walk(body)
    flow.values.finish()
    return graph


def class_unit(top: TopLevel, program: Program, cls: cst.ClassDef, parent: Flow | None) -> Graph:
    """A subclassed model or layer: layers from ``__init__``/``build``, data flow from ``call``."""
    name = cls.name.value
    names = parent.scope.names if parent else top.names
    kind = _class_kind(cls, names, top.star)
    program.unit_kinds[name] = kind
    graph = Graph(name, kind)
    program.graphs[name] = graph
    flow = Flow(top, program, graph, names.child(), parent, name)
    scope = flow.scope
    methods = {s.name.value: s for s in suite(cls.body) if isinstance(s, cst.FunctionDef)}
    for method in ("__init__", "build", "call"):
        func = methods.get(method)
        if func is None:
            continue
        unit = f"{name}.__init__" if method == "__init__" else f"{name}.{method}"
        params = _param_names(func, unit)[1:]  # drop self
        program.signatures[unit] = tuple(params)
        if method == "call":
            graph.call_params = tuple(p.name for p in params)
        saved = {k: v for k, v in scope.env.items() if k.startswith("self.")}
        scope.env = dict(saved)
        for p in params:
            scope.env[p.name] = p
        flow.walk(suite(func.body))
    scope.env = {k: v for k, v in scope.env.items() if k.startswith("self.")}
    return graph


def _class_kind(stmt: cst.ClassDef, names: Names, star: bool) -> str:
    """model (a Model, Sequential or Functional subclass), layer (a Layer subclass) or other."""
    for base in stmt.bases:
        name = qualified_class(names.qualify(base.value), star, dotted(base.value))
        if name in ("Model", "Sequential", "Functional"):
            return "model"
        if name == "Layer":
            return "layer"
    return "other"


# -- helpers ---------------------------------------------------------------------------------


def _ends_flow(body: Sequence[Statement]) -> bool:
    """Whether a block ends in ``return`` / ``raise`` (in a one-line suite: any of its statements)."""
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        line: Sequence[Statement] = last.body
    elif isinstance(last, cst.BaseSmallStatement):
        line = body  # `if c: x = f(x); return x`: suite() gives the small statements of the one line
    else:
        return False
    return any(isinstance(s, (cst.Return, cst.Raise)) for s in line)


def _has_else(stmt: cst.If) -> bool:
    current: cst.If | cst.Else | None = stmt
    while isinstance(current, cst.If):
        current = current.orelse
    return isinstance(current, cst.Else)
