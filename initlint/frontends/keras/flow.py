"""Reading one unit of Keras code (function, model class, module body) into a graph, by hand.

Statements are walked in order; ``if`` branches meet in ``phi`` nodes; loop
bodies are walked twice so that what one iteration builds is consumed by the
next. Calls become layer constructions, layer applications, activation
functions, residual sums, calls of helpers of the same file, or unknown
operations (whose consumers stay unresolved).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from ...records import Activation, InitSpec
from ...rulebook import activation_family
from ..python.names import Names, dotted
from ..python.syntax import sized
from . import initializers as keras_init
from .graph import (
    MISSING,
    NO_DEPS,
    Application,
    Graph,
    Layer,
    Lit,
    Node,
    Param,
    Shape,
    UnitRef,
    Value,
    fans_of,
    pass_shape,
    scalar,
    string,
)
from .tables import (
    ACTIVATION_LAYERS,
    ACTIVATION_NAMES,
    ACTIVATION_NAMESPACES,
    FUNCTION_SLOPE_DEFAULTS,
    LAYER_ROLES,
    MERGE_FUNCTIONS,
    MODEL_CALLS,
    PASS_FUNCTIONS,
    TOP_LEVEL_ACTIVATIONS,
    WEIGHT_LAYERS,
    WeightLayer,
    namespace,
    qualified_class,
)

if TYPE_CHECKING:
    from .layers import KerasFile


# Loops nested deeper than this are walked once, not twice (see Flow.statement).
_TWICE_DEPTH = 4


# -- one unit's flow --------------------------------------------------------------------------


class Flow:
    """Walks the statements of one unit (function, class, module body) and builds its graph."""

    def __init__(self, file: KerasFile, graph: Graph, names: Names, parent: Flow | None, scope: str) -> None:
        self.file = file
        self.graph = graph
        self.names = names
        self.parent = parent
        self.scope = scope
        self.env: dict[str, Value] = {}
        self.sequentials: list[Layer] = []
        self.stmt: cst.CSTNode | None = None
        self.deps: set[tuple[str, str]] = set()  # parameter defaults read since the last reset
        self.loops = 0  # loops around the statement being walked
        file.graphs.setdefault(graph.unit, graph)

    # -- statements -------------------------------------------------------------------------

    def walk(self, body: object) -> None:
        for stmt in body:  # type: ignore[attr-defined]
            self.statement(stmt)

    def statement(self, stmt: cst.CSTNode) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.stmt = small
                self.small(small)
        elif isinstance(stmt, cst.If):
            self.branches(stmt)
        elif isinstance(stmt, (cst.For, cst.While)):
            self.stmt = stmt
            if isinstance(stmt, cst.For):
                # `for block in self.blocks:` over a list of layers binds each in turn (one object here)
                items = self.value(stmt.iter) if isinstance(stmt.iter, (cst.Name, cst.Attribute)) else None
                self.bind(stmt.target, items if isinstance(items, Layer) and items.role != "sequential" else None)
            # Twice: what one iteration produces is consumed by the next. Once in loops nested
            # deeper than _TWICE_DEPTH, or nested loops would be walked 2**depth times.
            self.loops += 1
            try:
                for _ in range(2 if self.loops <= _TWICE_DEPTH else 1):
                    self.walk(_suite(stmt.body))
            finally:
                self.loops -= 1
        elif isinstance(stmt, cst.With):
            self.walk(_suite(stmt.body))
        elif isinstance(stmt, cst.Try):
            self.walk(_suite(stmt.body))
            if stmt.orelse is not None:
                self.walk(_suite(stmt.orelse.body))
            if stmt.finalbody is not None:
                self.walk(_suite(stmt.finalbody.body))
        elif isinstance(stmt, cst.FunctionDef):
            name = f"{self.scope}.{stmt.name.value}" if self.graph.kind != "module" else stmt.name.value
            function_unit(self.file, stmt, name, self)
            self.env[stmt.name.value] = UnitRef(name)
        elif isinstance(stmt, cst.ClassDef):
            class_unit(self.file, stmt, self)
            self.env[stmt.name.value] = UnitRef(stmt.name.value)

    def branches(self, stmt: cst.If) -> None:
        """Both branches from the same start; names that differ after them meet in a pass node."""
        start = dict(self.env)
        ends = []
        current: cst.If | cst.Else | None = stmt
        while current is not None:
            self.env = dict(start)
            body = _suite(current.body)
            self.walk(body)
            if not (body and _ends_flow(body[-1])):
                ends.append(self.env)
            current = current.orelse if isinstance(current, cst.If) else None
        if not isinstance(stmt.orelse, cst.Else) and not _has_else(stmt):
            ends.append(start)
        self.env = self.merge(ends) if ends else start

    def merge(self, ends: list[dict[str, Value]]) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for key in dict.fromkeys(k for env in ends for k in env):
            values = [env.get(key) for env in ends]
            if any(isinstance(v, int) for v in values):
                # a parameter left untouched on one branch is the same tensor as its node on another
                values = [self.param_node(v.name) if isinstance(v, Param) else v for v in values]
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
        if isinstance(small, cst.Assign):
            value = self.value(small.value)
            for target in small.targets:
                self.bind(target.target, value)
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            self.bind(small.target, self.value(small.value))
        elif isinstance(small, cst.AugAssign):
            left, right = self.value(small.target), self.value(small.value)
            if isinstance(small.operator, cst.AddAssign) and isinstance(left, int) and isinstance(right, int):
                self.bind(small.target, self.graph.add(Node("add", (left, right), self.graph.nodes[left].shape)))
            else:
                self.bind(small.target, self.unknown(small, right, extra=left))
        elif isinstance(small, cst.Expr):
            if not self.sequential_add(small.value):
                self.value(small.value)
        elif isinstance(small, cst.Return) and small.value is not None:
            expr = small.value
            tensors = self.tensors(expr) if isinstance(expr, (cst.Tuple, cst.List, cst.Dict)) else []
            value = self.value(expr) if not tensors else None
            if isinstance(value, int):
                tensors = [value]
            if tensors:
                self.graph.add(Node("return", tuple(tensors)))
            elif isinstance(value, Layer):
                self.graph.returned_layer = value  # a layer factory: def conv(f): return layers.Conv2D(f, 3)
                value.standalone_ok = True
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            self.names.add(small)

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
                _rescope(item, key)
        elif isinstance(value, Layer) and not value.name:
            value.name = key.rpartition(".")[2]
        self.env[key] = value

    def finish(self) -> None:
        """Sequentials never applied in this unit are models of their own: expand them to an output."""
        for seq in self.sequentials:
            if not seq.applied and seq.standalone_ok:
                end = self.chain(seq, None)
                if end is not None:
                    self.graph.add(Node("output", (end,)))

    # -- names and literals -----------------------------------------------------------------

    def lookup(self, key: str) -> Value:
        flow: Flow | None = self
        while flow is not None:
            if key in flow.env:
                value = flow.env[key]
                if flow.graph.kind == "module" and key in self.file.consts and value is None:
                    return MISSING  # type: ignore[return-value]  # a module constant: read its expression
                if isinstance(value, int) and flow.graph is not self.graph:
                    return None  # a tensor of an enclosing unit's graph: not followed across units
                return value
            flow = flow.parent
        if key in self.file.units:
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
        if bound is MISSING and expr.value in self.file.consts:
            return self.resolve(self.file.consts[expr.value], depth + 1)
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

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        return self.names.qualify(expr)

    def keras_name(self, func: cst.BaseExpression) -> str | None:
        bare = func.value if isinstance(func, cst.Name) else None
        if bare is not None and self.lookup(bare) is not MISSING:
            return None  # a local rebinding, not the import
        return qualified_class(self.qualify(func), self.file.star, bare)

    def code(self, expr: cst.CSTNode) -> str:
        text = self.file.source.module.code_for_node(expr).strip()
        return text if len(text) <= 60 else text[:57] + "..."

    # -- expressions ------------------------------------------------------------------------

    def value(self, expr: cst.BaseExpression) -> Value:
        """What an expression evaluates to: a tensor node id, a Layer, a literal, or None (unknown)."""
        if isinstance(expr, cst.Call):
            return self.call(expr)
        if isinstance(expr, (cst.Name, cst.Attribute)):
            key = dotted(expr)
            if key is None:
                return None
            bound = self.lookup(key)
            if isinstance(bound, Param):
                return self.param_node(bound.name)
            if bound is MISSING:
                lit = self.literal(expr)
                return None if lit is MISSING else Lit(lit)
            return bound
        if isinstance(expr, cst.BinaryOperation):
            left, right = self.value(expr.left), self.value(expr.right)
            if isinstance(expr.operator, cst.Add) and isinstance(left, int) and isinstance(right, int):
                return self.graph.add(Node("add", (left, right), self.graph.nodes[left].shape))
            tensors = tuple(v for v in (left, right) if isinstance(v, int))
            if tensors:
                return self.graph.add(Node("unknown", tensors, expr=expr))
            lit = self.literal(expr)
            return None if lit is MISSING else Lit(lit)
        if isinstance(expr, cst.ListComp) and isinstance(expr.elt, cst.Call):
            built = self.construct(expr.elt)  # [Dense(64) for _ in range(3)]: one site, several layers
            return built if built is not None and built.role not in ("sequential", "unit") else None
        if isinstance(expr, cst.IfExp):
            either = [v for v in (self.value(expr.body), self.value(expr.orelse)) if isinstance(v, int)]
            return self.graph.add(Node("phi", tuple(dict.fromkeys(either)))) if either else None
        if isinstance(expr, cst.Subscript):
            base = self.value(expr.value)
            if isinstance(base, int):
                return self.graph.add(Node("pass", (base,)))
            return None
        if isinstance(expr, (cst.Integer, cst.Float, cst.SimpleString, cst.UnaryOperation, cst.Tuple, cst.List,
                             cst.Dict)):
            lit = self.literal(expr)
            if lit is not MISSING:
                return Lit(lit)
        return None

    def param_node(self, name: str) -> int:
        if name not in self.graph.params:
            self.graph.params[name] = self.graph.add(Node("param"))
        return self.graph.params[name]

    def tensors(self, expr: cst.BaseExpression) -> list[int]:
        """Tensor nodes an argument expression holds (lists and tuples are flattened)."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            return [t for el in expr.elements for t in self.tensors(el.value)]
        if isinstance(expr, cst.Dict):
            return [t for el in expr.elements if isinstance(el, cst.DictElement) for t in self.tensors(el.value)]
        if isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.BinaryOperation, cst.Subscript, cst.IfExp)):
            value = self.value(expr)
            return [value] if isinstance(value, int) else []
        return []

    def unknown(self, expr: cst.BaseExpression, value: Value, extra: Value = None) -> int | None:
        """A node for an operation the analysis does not model, on the tensors it uses."""
        tensors = [v for v in (value, extra) if isinstance(v, int)]
        if not tensors:
            return None
        return self.graph.add(Node("unknown", tuple(tensors), expr=expr))

    def call(self, call: cst.Call) -> Value:
        func = call.func
        if isinstance(func, cst.Call):  # Dense(64)(x)
            layer = self.construct(func)
            if isinstance(layer, Layer):
                return self.apply(layer, call)
            return self.unknown_call(call)
        key = dotted(func)
        bound = self.lookup(key) if key is not None else MISSING
        if isinstance(bound, Layer):  # dense(x), self.fc1(x)
            return self.apply(bound, call)
        if isinstance(bound, UnitRef):
            unit = self.file.units.get(bound.name) if bound.name in self.file.units else None
            factory = self.file.graphs.get(bound.name)
            if isinstance(unit, cst.ClassDef) or self.file.unit_kinds.get(bound.name) in ("model", "layer", "other") or (
                factory is not None and factory.returned_layer is not None
            ):
                return self.construct(call)
            return self.unit_call(bound.name, call)
        if _is_super_init(func):
            self.model_outputs(call)
            return None
        cls = self.keras_name(func)
        if cls is None:
            return self.unknown_call(call)
        if cls == "Input":  # keras.Input returns a tensor; InputLayer is a layer (see _construct)
            self.deps = set()
            shape = self.input_shape(call)
            return self.graph.add(Node("input", shape=shape, deps=frozenset(self.deps)))
        if cls in MODEL_CALLS:
            self.model_outputs(call)
            return None
        qualified = self.qualify(func)
        if cls[:1].isupper():
            return self.construct(call)
        space = namespace(qualified)
        if space == "layers" and cls in MERGE_FUNCTIONS:
            inputs = self.tensors(call.args[0].value) if call.args else []
            if not inputs:
                return None
            op = MERGE_FUNCTIONS[cls]
            return self.graph.add(Node(op, tuple(inputs), self.graph.nodes[inputs[0]].shape if op == "add" else None))
        if cls in ACTIVATION_NAMES and (space in ACTIVATION_NAMESPACES or
                                        (qualified or "").split(".")[:1] == ["tensorflow"] and cls in TOP_LEVEL_ACTIVATIONS):
            inputs = self.tensors(call.args[0].value) if call.args else []
            if not inputs:
                return None
            act = self.function_activation(cls, call)
            return self.graph.add(Node("act", (inputs[0],), self.graph.nodes[inputs[0]].shape, act=act))
        if cls in PASS_FUNCTIONS:
            inputs = self.tensors(call.args[0].value) if call.args else []
            return self.graph.add(Node("pass", tuple(inputs))) if inputs else None
        return self.unknown_call(call)

    def unknown_call(self, call: cst.Call) -> Value:
        tensors = [t for arg in call.args for t in self.tensors(arg.value)]
        if not tensors:
            return None
        func = dotted(call.func)
        if func is None:
            return self.graph.add(Node("unknown", tuple(tensors), expr=call))
        return self.graph.add(Node("unknown", tuple(tensors), what=f"consumed by {func}()"))

    def unit_call(self, unit: str, call: cst.Call) -> Value:
        """A call of a helper function of this file: tensors bind to its parameters."""
        inputs: list[int] = []
        names: list[str] = []
        self.file.site_args.setdefault(unit, []).append(self.passed_args(call))
        for i, arg in enumerate(call.args):
            name = arg.keyword.value if arg.keyword is not None else f"#{i}"
            for t in self.tensors(arg.value):
                inputs.append(t)
                names.append(name)
        nid = self.graph.add(Node("unit", tuple(inputs), unit=unit, params=tuple(names)))
        self.file.sites.setdefault(unit, []).append((self.graph, nid))
        return nid

    def passed_args(self, call: cst.Call) -> dict[str, object]:
        """What a call passes, by keyword or position ("#i"), as literals (MISSING when not literal)."""
        out: dict[str, object] = {}
        for i, arg in enumerate(call.args):
            if arg.star:
                out["*"] = MISSING
                continue
            out[arg.keyword.value if arg.keyword is not None else f"#{i}"] = self.literal(arg.value)
        return out

    def model_outputs(self, call: cst.Call) -> None:
        """``keras.Model(inputs, outputs)``: the outputs are the model's heads."""
        outputs = _arg(call, "outputs", 1)
        if outputs is None:
            return
        for t in self.tensors(outputs):
            self.graph.add(Node("output", (t,)))

    def input_shape(self, call: cst.Call) -> Shape:
        shape = self.literal(_arg(call, "shape", 0))
        if shape is MISSING or shape is None:
            batch = self.literal(_arg(call, "batch_shape", -1))
            shape = batch[1:] if isinstance(batch, tuple) else MISSING
        if isinstance(shape, int):
            shape = (shape,)
        if isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape):
            return shape
        return None

    # -- layers -----------------------------------------------------------------------------

    def construct(self, call: cst.Call) -> Layer | None:
        """The layer object a constructor call builds (cached per call site, so loops build one)."""
        cached = self.file.layer_cache.get(id(call))
        if cached is not None:
            return cached
        layer = self._construct(call)
        if layer is not None:
            self.file.layer_cache[id(call)] = layer
            self.file.layers.append(layer)
        return layer

    def _construct(self, call: cst.Call) -> Layer | None:
        func = call.func
        key = dotted(func)
        bound = self.lookup(key) if key is not None else MISSING
        new = lambda role, cls: Layer(role, cls, call, self.stmt, self.scope)  # noqa: E731
        if isinstance(bound, UnitRef):
            factory = self.file.graphs.get(bound.name)
            if factory is not None and factory.returned_layer is not None:
                return factory.returned_layer
            layer = new("unit", bound.name)
            layer.unit = bound.name
            self.file.site_args.setdefault(f"{bound.name}.__init__", []).append(self.passed_args(call))
            return layer
        cls = self.keras_name(func)
        if cls is not None and "initializers" in (self.qualify(func) or "").split("."):
            return None  # keras.initializers.Identity is not keras.layers.Identity
        if cls is None:
            user = key.rpartition(".")[2] if key else ""
            family = activation_family(user, self.file.source.settings.activations) if user else None
            if user and user in self.file.source.settings.activations and family is not None:
                layer = new("act", user)
                layer.activation = Activation(user, family)
                return layer
            return None
        wrapped = _arg(call, "layer", 0) if cls == "TimeDistributed" else None
        if isinstance(wrapped, cst.Call):
            return self.construct(wrapped)  # applies the wrapped layer at every time step: same consumer
        layer = new("unknown", cls)
        layer.name = self.layer_name(call, cls)
        special = {"Activation": self.activation_object, "InputLayer": self.input_layer, "Sequential": self.sequential}
        if cls in WEIGHT_LAYERS:
            self.weight_layer(layer, WEIGHT_LAYERS[cls])
        elif cls in ACTIVATION_LAYERS:
            layer.role, layer.activation = "act", self.activation_layer(cls, call)
        elif cls in special:
            special[cls](layer, call)
        else:
            layer.role = LAYER_ROLES.get(cls, "unknown")
            if layer.role == "pass":
                layer.geometry = self.pass_geometry(call, cls)
        return layer

    def activation_object(self, layer: Layer, call: cst.Call) -> None:
        """``Activation("relu")``; ``Activation("linear")`` / ``Activation(None)`` pass the signal on."""
        arg = _arg(call, "activation", 0)
        self.deps = set()
        layer.activation = self.activation(arg) if arg is not None else "Activation() without argument"
        layer.init_deps = frozenset(self.deps)
        layer.role = "act" if layer.activation is not None else "pass"

    def input_layer(self, layer: Layer, call: cst.Call) -> None:
        layer.role = "input"
        layer.input_shape = self.input_shape(call) or _input_shape_kw(self, call)

    def sequential(self, layer: Layer, call: cst.Call) -> None:
        layer.role, layer.name = "sequential", ""
        layer.standalone_ok = self.graph.kind in ("function", "module")
        items = _arg(call, "layers", 0)
        if items is not None:
            for element in _elements(items):
                layer.items += self.sequential_items(element, layer)
        self.sequentials.append(layer)

    def pass_geometry(self, call: cst.Call, cls: str) -> dict[str, object]:
        """What shape-changing pass layers are given: pool sizes, strides, padding, target shapes."""
        keys = ("target_shape", "keepdims", "pool_size", "strides", "padding", "size", "cropping")
        geometry = {key: self.literal(_arg(call, key, -1)) for key in keys}
        geometry["arg0"] = self.literal(_arg(call, "", 0))
        if cls == "Reshape" and geometry["target_shape"] is MISSING:
            geometry["target_shape"] = geometry["arg0"]
        return geometry

    def layer_name(self, call: cst.Call, cls: str) -> str:
        written = _arg(call, "name", -1)
        name = self.literal(written)
        if isinstance(name, str) and name:
            return name
        if isinstance(written, cst.FormattedString):
            return self.code(written)[2:-1]
        target = self.stmt
        if isinstance(target, cst.Assign) and target.value is call and len(target.targets) == 1:
            key = dotted(target.targets[0].target)
            if key is not None:
                return key.rpartition(".")[2]
        return self.file.auto_name(self.scope, cls)

    def weight_layer(self, layer: Layer, spec: WeightLayer) -> None:
        call = layer.call
        assert call is not None
        layer.role, layer.spec = "weight", spec
        self.deps = set()
        geometry = {p: self.literal(_arg(call, p, i)) for i, p in enumerate(spec.params) if p != "activation"}
        for key in ("groups", "depth_multiplier", "padding", "strides", "data_format", "input_dim", "dilation_rate"):
            if key not in geometry:
                geometry[key] = self.literal(_arg(call, key, -1))
        layer.geometry = geometry
        layer.input_shape = _input_shape_kw(self, call)
        if layer.input_shape is None and isinstance(geometry.get("input_dim"), int) and spec.geometry == "dense":
            layer.input_shape = (geometry["input_dim"],)  # type: ignore[assignment]
        layer.fan_deps = frozenset(self.deps)
        self.deps = set()
        act = _arg(call, "activation", spec.params.index("activation") if "activation" in spec.params else -1)
        init = _arg(call, spec.kernel_arg, -1)
        # `Dense(64, **common)` may set the activation or the initializer: never assume the default.
        unpacked = any(a.star == "**" for a in call.args)
        if act is not None:
            layer.activation = self.activation(act)
        else:
            layer.activation = "activation may come from **kwargs" if unpacked else None
        if init is not None:
            layer.init = self.initializer(init)
        else:
            layer.init = f"{spec.kernel_arg} may come from **kwargs" if unpacked else keras_init.default_spec(spec.kernel_arg)
        layer.init_deps = frozenset(self.deps)

    def sequential_items(self, expr: cst.BaseExpression, seq: Layer) -> list[Layer]:
        """The layers one element of a Sequential list (or ``model.add`` argument) contributes."""
        if isinstance(expr, cst.Call):
            func_cls = self.keras_name(expr.func) if not isinstance(expr.func, cst.Call) else None
            if func_cls == "Input":
                seq.input_shape = self.input_shape(expr)
                return []
        if isinstance(expr, cst.ListComp):
            item = self.sequential_items(expr.elt, seq)
            return item + item  # built several times: each copy feeds the next
        value = self.value(expr) if not isinstance(expr, cst.Call) else self.construct(expr)
        if isinstance(value, Layer):
            if value.role == "input":
                seq.input_shape = value.input_shape
                return []
            if value.role == "sequential":
                value.applied = True
            if value.role == "weight" and not value.name:
                value.name = self.file.auto_name(self.scope, value.cls)
            return [value]
        unknown = Layer("unknown", self.code(expr), None, self.stmt, self.scope)
        return [unknown]

    def sequential_add(self, expr: cst.BaseExpression) -> bool:
        """``model.add(layer)`` on a Sequential: append (returns False when it is something else)."""
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "add"):
            return False
        key = dotted(expr.func.value)
        seq = self.lookup(key) if key is not None else None
        if not (isinstance(seq, Layer) and seq.role == "sequential") or not expr.args:
            return False
        items = self.sequential_items(expr.args[0].value, seq)
        if seq.name and self.graph.kind == "module":
            for item in items:
                _rescope(item, seq.name)
        seq.items += items
        return True

    # -- applying layers --------------------------------------------------------------------

    def apply(self, layer: Layer, call: cst.Call) -> Value:
        if layer.role == "opaque":  # attention takes query, value, key: every tensor meets a projection
            inputs = [t for a in call.args for t in self.tensors(a.value)]
            return self.apply_one(layer, tuple(dict.fromkeys(inputs)))
        arg = _arg(call, "inputs", 0)
        inputs = self.tensors(arg) if arg is not None else []
        if layer.role == "sequential":
            layer.applied = True
            return self.chain(layer, inputs[0] if inputs else None)
        if layer.role == "unit":
            nid = self.graph.add(Node("unit", tuple(inputs[:1]), unit=layer.unit, params=("#0",) * len(inputs[:1])))
            self.file.sites.setdefault(layer.unit, []).append((self.graph, nid))
            return nid
        return self.apply_one(layer, tuple(inputs))

    def chain(self, seq: Layer, start: int | None) -> int | None:
        if start is None:
            first = next((item for item in seq.items if item.role != "input"), None)
            shape = seq.input_shape or (first.input_shape if first is not None else None)
            start = self.graph.add(Node("input", shape=shape))
        current: int | None = start
        for item in seq.items:
            if current is None:
                return None
            if item.role == "sequential":
                item.applied = True
                current = self.chain(item, current)
            elif item.role == "unit":
                current = self.graph.add(Node("unit", (current,), unit=item.unit, params=("#0",)))
                self.file.sites.setdefault(item.unit, []).append((self.graph, current))
            else:
                current = self.apply_one(item, (current,))
        return current

    def apply_one(self, layer: Layer, inputs: tuple[int, ...]) -> int:
        graph = self.graph
        shape = graph.nodes[inputs[0]].shape if inputs else None
        if layer.role == "weight":
            layer.applied = True
            fan_in, fan_out, out = fans_of(layer, shape)
            before = frozenset().union(*(graph.nodes[i].deps or NO_DEPS for i in inputs))
            nid = graph.add(Node("weight", inputs, out, layer=layer, deps=before | layer.fan_deps))
            self.file.applications.append(Application(graph, nid, layer, fan_in, fan_out, before))
            return nid
        if layer.role == "act":
            return graph.add(Node("act", inputs, shape, act=layer.activation, layer=layer))
        if layer.role == "norm":
            return graph.add(Node("norm", inputs, shape))
        if layer.role == "opaque":
            return graph.add(Node("weight", inputs))  # consumes linearly; judged by no rule here
        if layer.role == "dropout":
            self.file.dropouts.append((graph, layer))
            return graph.add(Node("dropout", inputs, shape))
        if layer.role == "add":
            return graph.add(Node("add", inputs, shape))
        if layer.role == "pass":
            return graph.add(Node("pass", inputs, pass_shape(layer, [graph.nodes[i].shape for i in inputs])))
        if layer.role == "input":
            return graph.add(Node("input", shape=layer.input_shape))
        return graph.add(Node("unknown", inputs, what=f"consumed by {layer.cls}"))

    # -- activations and initializers -------------------------------------------------------

    def activation(self, expr: cst.BaseExpression) -> Activation | str | None:
        """An ``activation=`` value: Activation, None for linear, or the reason it is not understood."""
        found = self.resolve(expr)
        if isinstance(found, Lit):
            return self.named_activation(found.value, self.code(expr))
        expr = found
        if isinstance(expr, cst.Name) and expr.value == "None":
            return None
        if isinstance(expr, cst.SimpleString):
            return self.named_activation(string(expr), self.code(expr))
        if isinstance(expr, (cst.Name, cst.Attribute)):
            qualified = self.qualify(expr)
            cls = qualified_class(qualified, False, None)
            if cls in ACTIVATION_NAMES and (namespace(qualified) in ACTIVATION_NAMESPACES or cls in TOP_LEVEL_ACTIVATIONS):
                return self.named_activation(cls, self.code(expr), slope=FUNCTION_SLOPE_DEFAULTS.get(cls, 0.0))
            return f"activation={self.code(expr)} is not resolved"
        if isinstance(expr, cst.Call):
            layer = self.construct(expr)
            if isinstance(layer, Layer) and layer.role in ("act", "pass"):
                return layer.activation
        return f"activation={self.code(expr)} is not resolved"

    def named_activation(self, name: object, written: str, slope: float = 0.0) -> Activation | str | None:
        if name is None or name == "linear":
            return None
        if not isinstance(name, str):
            return f"activation={written} is not resolved"
        extra = self.file.source.settings.activations
        if name in extra:
            family = activation_family(name, extra)
            return Activation(name, family) if family else f"activation {name!r} has no family"
        canonical = ACTIVATION_NAMES.get(name)
        if canonical is None:
            return f"activation {name!r} is not a Keras activation name"
        family = activation_family(canonical, extra)
        if family is None:
            return f"activation {name!r} belongs to no family"
        if canonical == "leaky_relu":
            slope = slope or FUNCTION_SLOPE_DEFAULTS["leaky_relu"]
        return Activation(canonical, family, slope=slope)

    def function_activation(self, name: str, call: cst.Call) -> Activation | str | None:
        """``keras.activations.relu(x, negative_slope=...)``, ``tf.nn.leaky_relu(x, alpha=0.2)``."""
        slope = FUNCTION_SLOPE_DEFAULTS.get(name, 0.0)
        for key in ("negative_slope", "alpha"):
            arg = _arg(call, key, 1 if name == "leaky_relu" and key == "negative_slope" else -1)
            if arg is not None and name in ("relu", "leaky_relu"):
                value = self.literal(arg)
                if not isinstance(value, (int, float)):
                    return f"{key}={self.code(arg)} is not a literal"
                slope = float(value)
        act = self.named_activation(name, name, slope)
        if isinstance(act, Activation) and name == "relu" and slope:
            return replace(act, name="leaky_relu")
        return act

    def activation_layer(self, cls: str, call: cst.Call) -> Activation | str:
        name, key, index, slope = ACTIVATION_LAYERS[cls]
        if key is not None:
            for keyword, position in ((key, index), ("alpha", -1)):
                arg = _arg(call, keyword, position if position is not None else -1)
                if arg is not None:
                    value = self.literal(arg)
                    if not isinstance(value, (int, float)):
                        return f"{cls}({keyword}={self.code(arg)}) is not a literal"
                    slope = float(value)
        if cls == "ReLU":
            top = self.literal(_arg(call, "max_value", 0))
            name = "LeakyReLU" if slope else "ReLU6" if top == 6 else "ReLU"
        family = activation_family(name, self.file.source.settings.activations)
        return Activation(name, family, slope=slope) if family else f"{cls} belongs to no family"

    def initializer(self, expr: cst.BaseExpression, depth: int = 0) -> InitSpec | str:
        """A ``kernel_initializer=`` value as an InitSpec, or the reason it is not understood."""
        written = self.code(expr)
        found = self.resolve(expr)
        if isinstance(found, Lit):
            value = found.value
            if isinstance(value, str):
                return keras_init.from_name(value, {}, written) if keras_init.lookup(value) else (
                    f"{written}: {value!r} is not a Keras initializer name")
            if isinstance(value, dict):
                return self.config_initializer(value, written)
            return f"{written} is not resolved"
        expr = found
        if isinstance(expr, cst.Name) and expr.value == "None":
            return keras_init.default_spec("kernel_initializer")
        if isinstance(expr, cst.SimpleString):
            name = string(expr)
            if not isinstance(name, str) or keras_init.lookup(name) is None:
                return f"{written}: not a Keras initializer name"
            return keras_init.from_name(name, {}, written)
        if isinstance(expr, cst.Dict):
            value = self.literal(expr)
            return self.config_initializer(value, written) if isinstance(value, dict) else f"{written} is not literal"
        if isinstance(expr, (cst.Name, cst.Attribute)):
            name = qualified_class(self.qualify(expr), self.file.star, None)
            if name and keras_init.lookup(name):
                return keras_init.from_name(name, {}, written)
            return f"kernel initializer {written} is not resolved"
        if isinstance(expr, cst.Call):
            name = qualified_class(self.qualify(expr.func), self.file.star,
                                   expr.func.value if isinstance(expr.func, cst.Name) else None)
            if name == "get" and expr.args and depth < 3:
                return self.initializer(expr.args[0].value, depth + 1)
            if name is None or keras_init.lookup(name) is None:
                return f"kernel initializer {written} is not resolved"
            return keras_init.from_name(name, self.init_args(name, expr), written)
        return f"kernel initializer {written} is not resolved"

    def init_args(self, name: str, call: cst.Call) -> dict[str, object]:
        params = keras_init.params(name)
        args: dict[str, object] = {}
        nonliteral: list[str] = []
        for i, arg in enumerate(call.args):
            key = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else f"#{i}")
            value = self.literal(arg.value)
            if value is MISSING:
                nonliteral.append(key)
            else:
                args[key] = value
        args["<nonliteral>"] = tuple(nonliteral)
        return args

    def config_initializer(self, config: dict[str, object], written: str) -> InitSpec | str:
        name = config.get("class_name")
        inner = config.get("config", {})
        if not isinstance(name, str) or not isinstance(inner, dict) or keras_init.lookup(name) is None:
            return f"{written}: not a Keras initializer config"
        return keras_init.from_name(name, inner, written)


# -- units -----------------------------------------------------------------------------------


def _param_names(func: cst.FunctionDef, unit: str) -> list[Param]:
    p = func.params
    return [Param(x.name.value, x.default, unit) for x in (*p.posonly_params, *p.params, *p.kwonly_params)]


def function_unit(file: KerasFile, func: cst.FunctionDef, name: str, parent: Flow | None) -> Graph:
    graph = Graph(name, "function")
    params = _param_names(func, name)
    file.signatures[name] = tuple(params)
    graph.call_params = tuple(p.name for p in params)
    file.unit_kinds[name] = "function"
    flow = Flow(file, graph, (parent.names if parent else file.names).child(), parent, name)
    file.graphs[name] = graph
    for p in params:
        flow.env[p.name] = p
    flow.names.scan(_suite(func.body))
    flow.walk(_suite(func.body))
    flow.finish()
    return graph


def class_unit(file: KerasFile, cls: cst.ClassDef, parent: Flow | None) -> Graph:
    """A subclassed model or layer: layers from ``__init__``/``build``, data flow from ``call``."""
    name = cls.name.value
    names = parent.names if parent else file.names
    kind = file.is_model_class(cls, names)
    file.unit_kinds[name] = kind
    graph = Graph(name, kind)
    file.graphs[name] = graph
    flow = Flow(file, graph, names.child(), parent, name)
    methods = {s.name.value: s for s in _suite(cls.body) if isinstance(s, cst.FunctionDef)}
    for method in ("__init__", "build", "call"):
        func = methods.get(method)
        if func is None:
            continue
        unit = f"{name}.__init__" if method == "__init__" else f"{name}.{method}"
        params = _param_names(func, unit)[1:]  # drop self
        file.signatures[unit] = tuple(params)
        if method == "call":
            graph.call_params = tuple(p.name for p in params)
        saved = {k: v for k, v in flow.env.items() if k.startswith("self.")}
        flow.env = dict(saved)
        for p in params:
            flow.env[p.name] = p
        flow.walk(_suite(func.body))
    flow.env = {k: v for k, v in flow.env.items() if k.startswith("self.")}
    return graph


# -- helpers ---------------------------------------------------------------------------------


def _suite(body: cst.BaseSuite) -> list[cst.CSTNode]:
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return [cst.SimpleStatementLine(body=body.body)]
    return []


def _ends_flow(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, (cst.Return, cst.Raise)) for s in stmt.body)


def _has_else(stmt: cst.If) -> bool:
    current: cst.If | cst.Else | None = stmt
    while isinstance(current, cst.If):
        current = current.orelse
    return isinstance(current, cst.Else)


def _is_super_init(func: cst.BaseExpression) -> bool:
    return (isinstance(func, cst.Attribute) and func.attr.value == "__init__" and isinstance(func.value, cst.Call)
            and isinstance(func.value.func, cst.Name) and func.value.func.value == "super")


def _arg(call: cst.Call, keyword: str, index: int) -> cst.BaseExpression | None:
    """The argument given as ``keyword=`` or at position ``index`` (-1: keyword only)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if 0 <= index < len(positional):
        return positional[index].value
    return None


def _elements(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [e.value for e in expr.elements]
    return [expr]


def _input_shape_kw(flow: Flow, call: cst.Call) -> Shape:
    shape = flow.literal(_arg(call, "input_shape", -1))
    if isinstance(shape, int):
        shape = (shape,)
    if isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape):
        return shape
    return None


def _rescope(layer: Layer, scope: str) -> None:
    """Layers of a module-level Sequential belong to the model variable (``model.dense_1``)."""
    if layer.scope == "<module>":
        layer.scope = scope


def _arith(op: cst.BaseBinaryOp, a: object, b: object) -> object:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b)):
        return MISSING
    x, y = a, b  # type: ignore[assignment]
    table = {cst.Add: lambda: x + y, cst.Subtract: lambda: x - y, cst.Multiply: lambda: x * y,
             cst.Divide: lambda: x / y if y else MISSING, cst.FloorDivide: lambda: x // y if y else MISSING}
    fn = table.get(type(op))
    out = fn() if fn else MISSING
    return MISSING if out is not MISSING and sized(out) is None else out  # past 2**63: no network's size
