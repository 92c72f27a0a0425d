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
from .graph import Alias, Bag, Graph, Layer, Lit, Node, Param, UnitRef, Units, Value
from .program import Program, TopLevel
from .scope import Scope
from .tables import qualified_class

Statement = cst.BaseStatement | cst.BaseSmallStatement  # a one-line suite's statements come bare

# Loops nested deeper than this are walked once, not twice (see Flow.statement).
_TWICE_DEPTH = 4
_MAX_UNROLLED = 16  # a loop over a list of different layers walks each in turn, up to this many
# Methods that describe a layer rather than compute with it: not read.
_NOT_READ = frozenset({"get_config", "from_config", "compute_output_shape", "compute_output_spec", "compute_mask",
                       "get_build_config", "build_from_config", "load_own_variables", "save_own_variables"})


def read(top: TopLevel) -> Program:
    """Every unit of the file read into its graph, starting from the module body."""
    program = Program(top=top)
    module = Flow(top, program, Graph("<module>", "module"), top.names, None, "<module>")
    module.walk(top.source.module.body)
    module.values.finish()
    return program


class Flow:
    """Walks the statements of one unit (function, class, module body) and binds what they compute."""

    def __init__(self, top: TopLevel, program: Program, graph: Graph, names: Names, parent: Flow | None,
                 scope: str, owner: Scope | None = None) -> None:
        self.top = top
        self.program = program
        self.graph = graph
        graph.module = top.module
        self.scope = Scope(top, graph, names, parent.scope if parent is not None else None, scope, program)
        self.owner = owner or self.scope  # where ``self.x = ...`` binds: the class, for a method's flow
        self.values = Values(self.scope, program)
        self.loops = 0  # loops around the statement being walked
        self.returns: dict[int, Value | Alias] = {}  # return statements: what each returns
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
            order = self.iteration(stmt) if isinstance(stmt, cst.For) else None
            self.loops += 1
            try:
                if order is not None:  # a list of different layers, one after another: each in turn, once
                    for item in order:
                        self.bind(stmt.target, item, element=True)
                        self.walk(suite(stmt.body))
                else:
                    # Twice: what one iteration produces is consumed by the next. Once in loops nested
                    # deeper than _TWICE_DEPTH, or nested loops would be walked 2**depth times.
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

    def iteration(self, stmt: cst.For) -> list[Value] | None:
        """Bind a for loop's target to what it iterates over; the items to walk one by one, when that is exact.

        ``for block in self.blocks`` over a list of different layers walks the body once per layer, in
        order (a chain); over one layer built several times, or tensors, the target is bound to it (or
        to their merge) and the body is walked twice. ``enumerate(...)`` and ``zip(...)`` are looked through.
        """
        target, source = stmt.target, stmt.iter
        if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and not source.args and (
                source.func.attr.value in ("values", "items")):  # for name, layer in layers.items()
            if source.func.attr.value == "items" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                self.bind(target.elements[0].value, None)
                target = target.elements[1].value
            source = source.func.value
        if isinstance(source, cst.Call) and dotted(source.func) in ("enumerate", "zip") and source.args:
            if dotted(source.func) == "enumerate" and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                self.bind(target.elements[0].value, None)
                target, source = target.elements[1].value, source.args[0].value
            else:
                bags = [self.values.value(a.value) for a in source.args]
                if isinstance(target, cst.Tuple) and len(target.elements) == len(bags):
                    for el, bag in zip(target.elements, bags):
                        self.bind(el.value, self.values.pick(bag) if isinstance(bag, Bag) else None)
                else:
                    self.bind(target, None)
                return None
        items = self.values.value(source) if isinstance(source, (cst.Name, cst.Attribute, cst.List, cst.Tuple)) else None
        if isinstance(items, Bag):
            layers = [v for v in items.items if isinstance(v, Layer)]
            if len(set(map(id, layers))) > 1 and len(layers) == len(items.items) and len(layers) <= _MAX_UNROLLED:
                return list(layers)
            self.bind(target, self.values.pick(items))
            return None
        self.bind(target, items if isinstance(items, Layer) and items.role != "sequential" else None)
        return None

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
        """One binding per name after branches: the same value, a phi node of tensors, a choice of layers, or unknown.

        A name bound on some branches only is, wherever it is used later, what those branches bound.
        """
        out: dict[str, Value] = {}
        for key in dict.fromkeys(k for env in ends for k in env):
            values = [env[key] for env in ends if key in env]
            local = "." not in key  # ``self.x`` may hold another method's tensors (class envs): left as they were
            if local and any(isinstance(v, int) for v in values):  # None on one branch, a tensor on another: the tensor
                values = [v for v in values if v != Lit(None)]
            if any(isinstance(v, int) for v in values):
                # a parameter left untouched on one branch is the same tensor as its node on another
                values = [self.scope.param_node(v.name) if isinstance(v, Param) else v for v in values]
            if any(isinstance(v, int) for v in values) and all(isinstance(v, (int, Bag)) for v in values):
                values = [self.values.pick(v) if isinstance(v, Bag) else v for v in values]  # a dict or a tensor
            first = values[0]
            if all(v is first for v in values):
                out[key] = first
            elif all(isinstance(v, int) for v in values):
                inputs = tuple(dict.fromkeys(v for v in values if isinstance(v, int)))
                shapes = {self.graph.nodes[i].shape for i in inputs}
                out[key] = self.graph.add(Node("phi", inputs, shapes.pop() if len(shapes) == 1 else None))
            elif all(isinstance(v, Lit) for v in values) and len({repr(v) for v in values}) == 1:
                out[key] = first
            elif all(isinstance(v, (UnitRef, Units)) for v in values):  # one function or another: either is called
                out[key] = Units(tuple(dict.fromkeys(
                    n for v in values for n in (v.names if isinstance(v, Units) else (v.name,)))))  # type: ignore[union-attr]
            elif all(isinstance(v, Layer) for v in values):  # built one way or another: either is applied
                items = [i for v in values for i in (v.items if v.role == "choice" else [v])]  # type: ignore[union-attr]
                out[key] = Layer("choice", "", None, self.scope.stmt, self.scope.name, items=list(dict.fromkeys(items)))
            else:
                out[key] = None
                tensors = tuple(dict.fromkeys(v for v in values if isinstance(v, int)))
                if tensors and local:  # a tensor on one branch, what the analysis does not follow on another
                    self.graph.add(Node("lost", tensors, what=f"{key} is, after a branch, this tensor or a value "
                                                              "the analysis does not follow"))
        return out

    def small(self, small: cst.BaseSmallStatement) -> None:
        values = self.values
        if isinstance(small, cst.Assign):
            value = self.kept(small.value, values.value(small.value))
            for target in small.targets:
                self.bind(target.target, value)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.bind(small.target, self.kept(small.value, values.value(small.value)))
        elif isinstance(small, cst.AugAssign):
            left = values.value(small.target)
            if isinstance(left, Bag) and isinstance(small.operator, cst.AddAssign):
                values.extend(left, small.value, one=False)
                return
            right = values.value(small.value)
            if isinstance(small.operator, cst.AddAssign) and isinstance(left, int) and isinstance(right, int):
                self.bind(small.target, self.graph.add(Node("add", (left, right), self.graph.nodes[left].shape)))
            else:
                self.bind(small.target, values.unknown(small, right, extra=left))
        elif isinstance(small, cst.Expr):
            if not values.layers.sequential_add(small.value) and not self.bag_method(small.value):
                values.value(small.value)
        elif isinstance(small, cst.Return) and small.value is not None:
            expr = small.value
            tensors = values.tensors(expr) if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)) else []
            value = values.value(expr) if not tensors else None
            if isinstance(value, int):
                tensors = [value]
            if tensors:
                self.graph.add(Node("return", tuple(tensors)))
                self.returns[id(small)] = None
            elif isinstance(value, Layer):
                self.graph.returned_layer = value  # a layer factory: def conv(f): return layers.Conv2D(f, 3)
                value.standalone_ok = True
                self.returns[id(small)] = value
            else:
                self.returns[id(small)] = Alias(expr, self.scope.snapshot())
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self.scope.names.add(small)

    def bag_method(self, expr: cst.BaseExpression) -> bool:
        """``blocks.append(layer)`` / ``extend`` / ``insert`` on a list of layers or tensors (False: something else)."""
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.args):
            return False
        method = expr.func.attr.value
        if method not in ("append", "extend", "insert"):
            return False
        bag = self.values.value(expr.func.value)
        if not isinstance(bag, Bag):
            return False
        arg = expr.args[1 if method == "insert" and len(expr.args) > 1 else 0].value
        self.values.extend(bag, arg, one=method != "extend")
        return True

    def bind(self, target: cst.BaseExpression, value: Value, element: bool = False) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            items = value.items if isinstance(value, Bag) and len(value.items) == len(target.elements) and (
                value.graph in (None, self.graph)) else None
            if isinstance(value, Bag) and items is None:
                value = self.values.pick(value)  # q, k, v = [f(x) for ...]: each is any of them
            for i, el in enumerate(target.elements):
                self.bind(el.value, items[i] if items is not None else value if isinstance(value, (int, Layer)) else None)
            return
        if isinstance(target, cst.Subscript):  # layers[name] = Conv2D(...): one more item
            bag = self.values.value(target.value)
            if isinstance(bag, Bag) and isinstance(value, (int, Layer)):
                bag.add(value, self.graph)
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
        (self.owner if key.startswith("self.") else self.scope).env[key] = value

    def kept(self, expr: cst.BaseExpression, value: Value) -> Value:
        """What a name is bound to: the value, or (for what is no tensor or layer) the parameter or expression.

        ``self.init = keras.initializers.get(kernel_initializer)`` binds the parameter itself, so that
        what a call site passes for it is seen through the attribute; an expression the flow does not
        evaluate (``TruncatedNormal(stddev=std)``) is kept to be read where it was written.
        """
        if isinstance(value, (Layer, Lit, UnitRef, Units, Bag)):
            return value
        if isinstance(value, int) and self.graph.nodes[value].op == "unit" and not self.graph.nodes[value].inputs:
            value = None  # ``init = make_initializer(0.02)``: a call given no tensor returns a setting
        inner: cst.BaseExpression | None = expr
        while isinstance(inner, cst.Call):
            inner = self.scope.unwrapped(inner)
        if isinstance(inner, cst.Name):
            bound = self.scope.lookup(inner.value)
            if isinstance(bound, (Param, Alias)):
                return bound
        return Alias(expr, self.scope.snapshot()) if value is None else value

    def returned_expr(self) -> Alias | None:
        """The one expression a function returns (no tensor, no layer), else None."""
        if len(self.returns) != 1:
            return None
        only = next(iter(self.returns.values()))
        return only if isinstance(only, Alias) else None


# -- units -----------------------------------------------------------------------------------


def _param_names(func: cst.FunctionDef, unit: str, module: str) -> list[Param]:
    p = func.params
    return [Param(x.name.value, x.default, unit, module) for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def function_unit(top: TopLevel, program: Program, func: cst.FunctionDef, name: str, parent: Flow | None) -> Graph:
    """A function: its parameters are the tensors (or literal defaults) callers pass."""
    return _function(top, program, func, name, parent, name, None, _param_names(func, name, top.module))


def _function(top: TopLevel, program: Program, func: cst.FunctionDef, name: str, parent: Flow | None,
              scope_name: str, owner: Scope | None, params: list[Param], method: str = "") -> Graph:
    graph = Graph(name, "function")
    program.signatures[name] = tuple(params)
    graph.call_params = tuple(p.name for p in params)
    program.unit_kinds[name] = "function"
    flow = Flow(top, program, graph, (parent.scope.names if parent else top.names).child(), parent, scope_name, owner)
    program.graphs[name] = graph
    scope = flow.scope
    scope.method = method or (parent.scope.method if parent is not None else "")
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
    graph.returned_expr = flow.returned_expr()
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
    scope.defined = frozenset(methods)
    _inherit(top, program, cls, scope, "__init__" in methods)
    # Other methods are units of their own (``self._attention(q, k, v)`` is a call of one); what they
    # bind on ``self`` is the class's. They are read after __init__/build and before call.
    helpers = [m for m in methods if m not in ("__init__", "build", "call") and m not in _NOT_READ
               and not m.startswith("__")]
    for method in helpers:
        scope.env[f"self.{method}"] = UnitRef(f"{name}.{method}")
    for method in ("__init__", "build", *helpers, "call"):
        func = methods.get(method)
        if func is None:
            continue
        unit = f"{name}.{method}"
        params = _param_names(func, unit, top.module)
        params = params if _decorated(func, "staticmethod") else params[1:]  # drop self
        saved = {k: v for k, v in scope.env.items() if k.startswith("self.")}
        scope.env = dict(saved)
        scope.method = method
        if method in helpers:
            _function(top, program, func, unit, flow, name, scope, params, method)
            continue
        program.signatures[unit] = tuple(params)
        if method == "call":
            graph.call_params = tuple(p.name for p in params)
        if method == "__init__":
            star = func.params.star_kwarg
            scope.star_kwargs = star.name.value if star is not None else ""
        for p in params:
            scope.env[p.name] = p
        flow.walk(suite(func.body))
    if "call" not in methods:
        _inherited_call(top, program, flow)
    scope.env = {k: v for k, v in scope.env.items() if k.startswith("self.")}
    program.class_envs[name] = dict(scope.env)
    return graph


def _inherited_call(top: TopLevel, program: Program, flow: Flow) -> None:
    """A class without ``call`` runs its base's (a class of the project) on the layers it builds itself.

    The base's code is read with its own file's names; it builds no layers here (they would be another file's).
    """
    scope = flow.scope
    if scope.base is None or scope.base[0].top is None:
        return
    other, name = scope.base
    cls = other.top.units.get(name)  # type: ignore[union-attr]
    func = next((s for s in suite(cls.body) if isinstance(s, cst.FunctionDef) and s.name.value == "call"), None) \
        if isinstance(cls, cst.ClassDef) else None
    if func is None:
        return
    base_top = other.top
    assert base_top is not None
    reader = flow if base_top is top else Flow(base_top, program, flow.graph, base_top.names.child(), flow,
                                                scope.name, scope)
    flow.graph.module = top.module
    params = _param_names(func, f"{scope.name}.call", top.module)[1:]
    flow.graph.call_params = tuple(p.name for p in params)
    reader.scope.env = {k: v for k, v in scope.env.items() if k.startswith("self.")} if reader is flow else {}
    for p in params:
        reader.scope.env[p.name] = p
    reader.scope.method = "call"
    reader.walk(suite(func.body))


def _inherit(top: TopLevel, program: Program, cls: cst.ClassDef, scope: Scope, has_init: bool) -> None:
    """A class deriving from a class of this file or of the project starts with what its base binds on ``self``.

    (Another file's layers and methods are left out: they are judged in their own file.) Without an
    ``__init__`` of its own, its constructions pass its base's parameters.
    """
    for base in cls.bases:
        found = _base_class(top, program, base.value, scope)
        if found is None:
            continue
        other, name = found
        scope.base = found
        foreign = other is not program
        for key, value in other.class_envs.get(name, {}).items():
            if not (foreign and isinstance(value, (Layer, UnitRef, Bag))):  # a base's tensors are of its graph
                scope.env.setdefault(key, None if isinstance(value, int) and not isinstance(value, bool) else value)
        if not has_init:
            module = other.top.module if other.top is not None else ""
            program.signatures[f"{cls.name.value}.__init__"] = other.signatures.get(f"{name}.__init__", ())
            scope.redirects[(module, f"{name}.__init__")] = (top.module, f"{cls.name.value}.__init__", False)
            program.inherits.setdefault(f"{module}.{name}" if foreign else name, []).append(
                (f"{cls.name.value}.__init__", scope.defined))
        return


def _base_class(top: TopLevel, program: Program, expr: cst.BaseExpression, scope: Scope) -> tuple[Program, str] | None:
    """The program and name of a base class that is a class of this file or of the project."""
    key = dotted(expr)
    bound = scope.lookup(key) if key is not None else None
    if isinstance(bound, UnitRef) and bound.name in program.class_envs:
        return program, bound.name
    found = scope.project_name(expr)
    if found is None or found[0] != "class" or top.opener is None:
        return None
    module, _, name = found[1].rpartition(".")
    other = top.opener(module)
    return (other, name) if other is not None and name in other.class_envs else None


def _decorated(func: cst.FunctionDef, name: str) -> bool:
    return any(dotted(d.decorator) == name for d in func.decorators)


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
