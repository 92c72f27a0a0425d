"""The names one unit of Keras code binds, and the literal values expressions stand for."""

from __future__ import annotations

import libcst as cst

from ..python.names import Names
from ..python.syntax import sized
from .graph import MISSING, Graph, Lit, Node, Param, UnitRef, Value, scalar
from .program import TopLevel
from .tables import qualified_class


class Scope:
    """One unit's bindings (a nested unit sees its parents'), its graph, and the statement being read."""

    def __init__(self, top: TopLevel, graph: Graph, names: Names, parent: Scope | None, name: str) -> None:
        self.top = top
        self.graph = graph
        self.names = names
        self.parent = parent
        self.name = name  # the scope of the layers built here: a unit name or "<module>"
        self.env: dict[str, Value] = {}
        self.stmt: cst.CSTNode | None = None
        self.deps: set[tuple[str, str]] = set()  # parameter defaults read since the last reset

    def lookup(self, key: str) -> Value:
        scope: Scope | None = self
        while scope is not None:
            if key in scope.env:
                value = scope.env[key]
                if scope.graph.kind == "module" and key in self.top.consts and value is None:
                    return MISSING  # type: ignore[return-value]  # a module constant: read its expression
                if isinstance(value, int) and scope.graph is not self.graph:
                    return None  # a tensor of an enclosing unit's graph: not followed across units
                return value
            scope = scope.parent
        if key in self.top.units:
            return UnitRef(key)
        return MISSING  # type: ignore[return-value]

    def resolve(self, expr: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression | Lit:
        """Follow a name to the expression or literal it stands for (locals, parameter defaults, module constants)."""
        if not isinstance(expr, cst.Name) or depth > 5:
            return expr
        bound = self.lookup(expr.value)
        if isinstance(bound, Lit):
            return bound
        if isinstance(bound, Param) and bound.default is not None:
            self.deps.add((bound.unit, bound.name))
            return self.resolve(bound.default, depth + 1)
        if bound is MISSING and expr.value in self.top.consts:
            return self.resolve(self.top.consts[expr.value], depth + 1)
        return expr

    def literal(self, expr: cst.BaseExpression | None) -> object:
        """The Python value of a literal expression, or MISSING."""
        if expr is None:
            return MISSING
        found = self.resolve(expr)
        if isinstance(found, Lit):
            return found.value
        expr = found
        value = scalar(expr)
        if value is not MISSING:
            return value
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            inner = self.literal(expr.expression)
            return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else MISSING
        if isinstance(expr, cst.BinaryOperation):
            return _arith(expr.operator, self.literal(expr.left), self.literal(expr.right))
        if isinstance(expr, (cst.Tuple, cst.List)):
            items = tuple(self.literal(e.value) for e in expr.elements if not isinstance(e, cst.StarredElement))
            return MISSING if MISSING in items or len(items) != len(expr.elements) else items
        if isinstance(expr, cst.Dict):
            out = {}
            for el in expr.elements:
                if not isinstance(el, cst.DictElement):
                    return MISSING
                key, val = self.literal(el.key), self.literal(el.value)
                if not isinstance(key, str):
                    return MISSING
                out[key] = val
            return out
        return MISSING

    def passed_args(self, call: cst.Call) -> dict[str, object]:
        """What a call passes, by keyword or position ("#i"), as literals (MISSING when not literal)."""
        out: dict[str, object] = {}
        for i, arg in enumerate(call.args):
            if arg.star:
                out["*"] = MISSING
                continue
            out[arg.keyword.value if arg.keyword is not None else f"#{i}"] = self.literal(arg.value)
        return out

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.names.qualify(expr)

    def keras_name(self, func: cst.BaseExpression) -> str | None:
        """The Keras class or function a callee names, unless a local binding shadows the import."""
        bare = func.value if isinstance(func, cst.Name) else None
        if bare is not None and self.lookup(bare) is not MISSING:
            return None  # a local rebinding, not the import
        return qualified_class(self.qualify(func), self.top.star, bare)

    def code(self, expr: cst.CSTNode) -> str:
        return self.top.code(expr)

    def param_node(self, name: str) -> int:
        """The graph node a parameter stands for once it is used as a tensor."""
        if name not in self.graph.params:
            self.graph.params[name] = self.graph.add(Node("param"))
        return self.graph.params[name]


def _arith(op: cst.BaseBinaryOp, a: object, b: object) -> object:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        return MISSING
    x, y = a, b  # type: ignore[assignment]
    table = {cst.Add: lambda: x + y, cst.Subtract: lambda: x - y, cst.Multiply: lambda: x * y,
             cst.Divide: lambda: x / y if y else MISSING, cst.FloorDivide: lambda: x // y if y else MISSING}
    fn = table.get(type(op))
    out = fn() if fn else MISSING
    return MISSING if out is not MISSING and sized(out) is None else out  # past 2**63: no network's size
