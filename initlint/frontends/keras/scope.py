"""The names one unit of Keras code binds, and the values expressions stand for.

Following a name (:meth:`Scope.follow`) goes through locals, ``self.`` attributes bound in any
method, parameters (their default, or what a call site passes: a :class:`Reading` binds them),
module constants, identity wrappers (``clone_initializer``, ``keras.initializers.get``: the
conventions table, SPEC 8.33) and functions of the file that return one expression
(``def bert_kernel_initializer(stddev=0.02): return TruncatedNormal(stddev=stddev)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Union

import libcst as cst

from ...rulebook import conventions
from ..python.names import Names, dotted
from ..python.syntax import sized
from .graph import MISSING, Alias, Graph, Lit, Node, Opaque, Param, ParamKey, UnitRef, Value, scalar
from .program import Program, TopLevel
from .tables import known_keras, qualified_class

# A parameter's binding in a Reading: its default, an argument read in the caller's scope, or unknown.
DEFAULT = "default"
Binding = Union[str, tuple["Scope", cst.BaseExpression], Opaque]

_MAX_FOLLOW = 12  # names followed into names at most this deep (cycles end here)
_MAX_LITERAL_STEPS = 5000  # sub-expressions one literal evaluation reads at most (``n = n * n`` forty times)
_literal_steps = [0, 0]  # [depth of the evaluation under way, steps it has taken]


@dataclass
class Reading:
    """One evaluation's view of parameters: those bound (by a call site), and those read at their default."""

    bindings: dict[ParamKey, Binding] = field(default_factory=dict)
    deps: set[ParamKey] = field(default_factory=set)  # parameters read unbound (their default)

    def inner(self, extra: dict[ParamKey, Binding]) -> Reading:
        """The same reading with a callee's parameters bound too (unbound reads still reported here)."""
        return Reading({**self.bindings, **extra}, self.deps)


class Place(NamedTuple):
    """Where following an expression ended: the scope and reading to read it in, and what it is."""

    scope: Scope
    expr: cst.BaseExpression | Lit | Opaque
    reading: Reading


class Scope:
    """One unit's bindings (a nested unit sees its parents'), its graph, and the statement being read."""

    def __init__(self, top: TopLevel, graph: Graph, names: Names, parent: Scope | None, name: str,
                 program: Program | None = None) -> None:
        self.top = top
        self.graph = graph
        self.names = names
        self.parent = parent
        self.name = name  # the scope of the layers built here: a unit name or "<module>"
        self.program = program if program is not None else parent.program if parent is not None else Program()
        self.env: dict[str, Value] = {}
        self.stmt: cst.CSTNode | None = None
        self.reading = Reading()  # what reads of this unit record (deps: parameter defaults read since the reset)
        # A class deriving from a class of the project: its base's constructor parameters as the subclass passes
        # them (``super().__init__(...)``), or, without an __init__ of its own, as its own callers do.
        self.base: tuple[Program, str] | None = None  # the base class's program and name
        self.presets: dict[ParamKey, Binding] = {}
        # (module, Base.__init__) -> (module, Sub.__init__, keywords only): who passes the base's parameters
        self.redirects: dict[tuple[str, str], tuple[str, str, bool]] = {}
        self.method = ""  # the method being read (of a class)
        self.star_kwargs = ""  # the ``**kwargs`` parameter of the __init__ being read
        self.defined: frozenset[str] = frozenset()  # a class's own methods

    @property
    def deps(self) -> set[ParamKey]:
        return self.reading.deps

    @deps.setter
    def deps(self, value: set[ParamKey]) -> None:
        self.reading = Reading({}, value)

    def snapshot(self) -> Scope:
        """This scope with its bindings as they are now (later statements do not change it)."""
        copy = Scope.__new__(Scope)
        copy.__dict__.update(self.__dict__)
        copy.env = dict(self.env)
        copy.reading = Reading()
        return copy

    def inherited(self) -> tuple[dict[ParamKey, Binding], dict[tuple[str, str], tuple[str, str, bool]]]:
        """The presets and redirects of the class this scope (or an enclosing one) belongs to."""
        scope: Scope | None = self
        while scope is not None:
            if scope.base is not None:
                return scope.presets, scope.redirects
            scope = scope.parent
        return {}, {}

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

    # -- following names ----------------------------------------------------------------

    def follow(self, expr: cst.BaseExpression, reading: Reading | None = None, depth: int = 0) -> Place:
        """The expression (or literal) a name, attribute, identity call or one-expression function stands for."""
        reading = reading if reading is not None else self.reading
        if depth > _MAX_FOLLOW:
            return Place(self, expr, reading)
        if isinstance(expr, cst.Call):
            inner = self.unwrapped(expr)
            if inner is not None:
                return self.follow(inner, reading, depth + 1)
            returned = self.returned(expr, reading)
            if returned is not None:
                alias, inner_reading = returned
                return alias.scope.follow(alias.expr, inner_reading, depth + 1)
            return Place(self, expr, reading)
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return Place(self, expr, reading)
        key = dotted(expr)
        bound = self.lookup(key) if key is not None else MISSING
        if isinstance(bound, Lit):
            return Place(self, bound, reading)
        if isinstance(bound, Param):
            binding = reading.bindings.get(bound.key)
            if isinstance(binding, Opaque):
                return Place(self, binding, reading)
            if isinstance(binding, tuple):
                caller, arg = binding
                return caller.follow(arg, reading, depth + 1)
            if binding is None:
                reading.deps.add(bound.key)
            if bound.default is None:
                return Place(self, expr, reading)
            return self.follow(bound.default, reading, depth + 1)
        if isinstance(bound, Alias):
            return bound.scope.follow(bound.expr, reading, depth + 1)
        if bound is MISSING and isinstance(expr, cst.Name) and expr.value in self.top.consts:
            return self.follow(self.top.consts[expr.value], reading, depth + 1)
        return Place(self, expr, reading)

    def unwrapped(self, call: cst.Call) -> cst.BaseExpression | None:
        """The argument of an identity wrapper (``clone_initializer(x)``, ``keras.activations.get(x)``), else None."""
        if not call.args or call.args[0].keyword is not None or call.args[0].star:
            return None
        qualified = self.qualify(call.func)
        if qualified is None and isinstance(call.func, cst.Name) and call.func.value in self.top.units:
            qualified = f"{self.top.module or '<file>'}.{call.func.value}"  # a function of this file, by its name
        if qualified is None:
            return None
        table = conventions(self.top.source.settings.conventions)
        if table.is_identity(qualified) or table.activation_registry(qualified) == "function" and len(call.args) == 1:
            return call.args[0].value
        return None

    def returned(self, call: cst.Call, reading: Reading) -> tuple[Alias, Reading] | None:
        """What a function (of this file or the project) returns when it returns one expression, its parameters bound."""
        found = self.function(call.func)
        if found is None:
            return None
        program, unit = found
        graph = program.graphs.get(unit)
        if graph is None or graph.returned_expr is None:
            return None
        return graph.returned_expr, reading.inner(self.bind_args(program.signatures.get(unit, ()), call))

    def function(self, expr: cst.BaseExpression) -> tuple[Program, str] | None:
        """The program and unit of a function (or method) of this file or of another project file ``expr`` names."""
        key = dotted(expr)
        bound = self.lookup(key) if key is not None else MISSING
        if isinstance(bound, UnitRef):
            return (self.program, bound.name) if self.program.unit_kinds.get(bound.name) == "function" else None
        if bound is not MISSING:
            return None
        found = self.definition(expr)
        return found if found is not None and found[0].unit_kinds.get(found[1]) == "function" else None

    def project_name(self, expr: cst.BaseExpression) -> tuple[str, str] | None:
        """``(kind, qualified)`` of the class or function of another project file that ``expr`` names, else None."""
        top = self.top
        qualified = self.qualify(expr)
        found = top.project.find(qualified) if top.project is not None and qualified is not None else None
        if found is None or found[1] == top.module:
            return None
        return found[0], f"{found[1]}.{found[2]}"

    def definition(self, expr: cst.BaseExpression) -> tuple[Program, str] | None:
        """The program and unit name of the project class or function ``expr`` names (another file's included)."""
        top = self.top
        qualified = self.qualify(expr)
        if top.project is None or qualified is None:
            return None
        found = top.project.find(qualified)
        if found is None:
            return None
        _kind, module, name = found
        if module == top.module:
            return self.program, name
        other = top.opener(module) if top.opener is not None else None
        return (other, name) if other is not None else None

    def bind_args(self, params: tuple[Param, ...], call: cst.Call, keywords_only: bool = False) -> dict[ParamKey, Binding]:
        """What one call passes to each parameter: an argument read here, the default, or unknown (``*args``).

        ``keywords_only``: positional arguments bind other parameters (a subclass's own, before its ``**kwargs``).
        """
        out: dict[ParamKey, Binding] = {p.key: DEFAULT for p in params}
        by_name = {p.name: p for p in params}
        position = len(params) if keywords_only else 0
        for arg in call.args:
            if keywords_only and arg.keyword is None and arg.star != "**":
                continue
            if arg.star == "*":
                for p in params[position:]:
                    out[p.key] = Opaque(f"{self.code(call)} passes *{self.code(arg.value)}")
                position = len(params)
            elif arg.star == "**":
                for p in params:
                    if out[p.key] == DEFAULT:
                        out[p.key] = Opaque(f"{self.code(call)} passes **{self.code(arg.value)}")
            elif arg.keyword is not None:
                if arg.keyword.value in by_name:
                    out[by_name[arg.keyword.value].key] = (self, arg.value)
            else:
                if position < len(params):
                    out[params[position].key] = (self, arg.value)
                position += 1
        return out

    def resolve(self, expr: cst.BaseExpression) -> cst.BaseExpression | Lit:
        """Follow a name to the expression or literal it stands for (locals, parameter defaults, module constants)."""
        found = self.follow(expr).expr
        return expr if isinstance(found, Opaque) else found

    def literal(self, expr: cst.BaseExpression | None, reading: Reading | None = None) -> object:
        """The Python value of a literal expression, or MISSING (also past a budget of sub-expressions)."""
        if expr is None:
            return MISSING
        if _literal_steps[0] == 0:
            _literal_steps[1] = 0
        _literal_steps[0] += 1
        _literal_steps[1] += 1
        try:
            return MISSING if _literal_steps[1] > _MAX_LITERAL_STEPS else self._literal(expr, reading)
        finally:
            _literal_steps[0] -= 1

    def _literal(self, expr: cst.BaseExpression, reading: Reading | None) -> object:
        place = self.follow(expr, reading)
        found = place.expr
        if isinstance(found, Lit):
            return found.value
        if isinstance(found, Opaque):
            return MISSING
        return place.scope.literal_of(found, place.reading)

    def literal_of(self, expr: cst.BaseExpression, reading: Reading | None = None) -> object:
        value = scalar(expr)
        if value is not MISSING:
            return value
        literal = lambda e: self.literal(e, reading)  # noqa: E731
        if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
            inner = literal(expr.expression)
            return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else MISSING
        if isinstance(expr, cst.BinaryOperation):
            return _arith(expr.operator, literal(expr.left), literal(expr.right))
        if isinstance(expr, (cst.Tuple, cst.List)):
            items = tuple(literal(e.value) for e in expr.elements if not isinstance(e, cst.StarredElement))
            return MISSING if MISSING in items or len(items) != len(expr.elements) else items
        if isinstance(expr, cst.Dict):
            out = {}
            for el in expr.elements:
                if not isinstance(el, cst.DictElement):
                    return MISSING
                key, val = literal(el.key), literal(el.value)
                if not isinstance(key, str) or val is MISSING:
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
        """The Keras class or function a callee names, unless a local binding shadows the import.

        In a project that is Keras itself, its own definitions are not Keras API (except the names modeled).
        """
        bare = func.value if isinstance(func, cst.Name) else None
        if bare is not None and self.lookup(bare) is not MISSING:
            return None  # a local rebinding, not the import
        name = qualified_class(self.qualify(func), self.top.star, bare)
        if name is not None and not known_keras(name) and self.project_name(func) is not None:
            return None
        return name

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
             cst.Divide: lambda: x / y if y else MISSING, cst.FloorDivide: lambda: x // y if y else MISSING,
             cst.Power: lambda: _power(x, y)}
    fn = table.get(type(op))
    out = fn() if fn else MISSING
    return MISSING if out is not MISSING and sized(out) is None else out  # past 2**63: no network's size


def _power(x: float, y: float) -> object:
    """``x ** y`` for the sizes code computes (``dim ** -0.5``); MISSING when it is not a real number or too big."""
    if abs(y) > 64 or (x == 0 and y < 0) or (x < 0 and not float(y).is_integer()):
        return MISSING
    try:
        return x ** y
    except OverflowError:
        return MISSING

