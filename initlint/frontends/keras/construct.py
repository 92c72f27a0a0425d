"""Keras layer constructions in one unit: ``Dense(64, activation="relu")`` read into a :class:`Layer`.

A constructor call becomes a weight layer (with its geometry, activation and
initializer), an activation, normalization, pass, dropout, input or merge layer,
a Sequential with its items, an instance of a block class of the same file, or
an unknown layer. One call site builds one layer, however often a loop reads it.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from ...records import Activation
from ...rulebook import activation_family
from ..python.names import dotted
from . import initializers as keras_init
from .dims import width
from .graph import MISSING, Bag, Layer, Opaque, Shape, UnitRef, Value, argument
from .layer_args import activation, activation_layer, initializer
from .program import Program, Site
from .scope import DEFAULT, Scope
from .tables import ACTIVATION_LAYERS, LAYER_ROLES, WEIGHT_LAYERS, WeightLayer


class LayerBuilder:
    """Builds the layer objects one unit constructs, and the Sequentials it assembles."""

    def __init__(self, scope: Scope, program: Program, value: Callable[[cst.BaseExpression], Value]) -> None:
        self.scope = scope
        self.program = program
        self.value = value  # what an expression evaluates to: a Sequential item may be any expression
        self.sequentials: list[Layer] = []

    def construct(self, call: cst.Call) -> Layer | None:
        """The layer object a constructor call builds (cached per call site, so loops build one)."""
        cached = self.program.layer_cache.get(id(call))
        if cached is not None:
            return cached
        if self.program.top is not None and self.scope.top is not self.program.top:
            return None  # another file's code read here (an inherited call): its layers are judged there
        layer = self._build(call)
        if layer is not None:
            self.program.layer_cache[id(call)] = layer
            self.program.layers.append(layer)
        return layer

    def _build(self, call: cst.Call) -> Layer | None:
        scope = self.scope
        func = call.func
        key = dotted(func)
        bound = scope.lookup(key) if key is not None else MISSING
        new = lambda role, cls: Layer(role, cls, call, scope.stmt, scope.name)  # noqa: E731
        if isinstance(bound, UnitRef):
            factory = self.program.graphs.get(bound.name)
            if factory is not None and factory.returned_layer is not None:
                return factory.returned_layer
            if self.program.unit_kinds.get(bound.name) == "function":
                return self.closure(call, bound.name)
            return self.block(call, bound.name)
        cls = scope.keras_name(func)
        if cls is None and bound is MISSING:
            found = scope.project_name(func)
            if found is not None and found[0] == "class":
                return self.block(call, found[1])  # a block class of another project file
        if cls is not None and "initializers" in (scope.qualify(func) or "").split("."):
            return None  # keras.initializers.Identity is not keras.layers.Identity
        if cls is None:
            user = key.rpartition(".")[2] if key else ""
            extra = scope.top.source.settings.activations
            family = activation_family(user, extra) if user else None
            if user and user in extra and family is not None:
                layer = new("act", user)
                layer.activation = Activation(user, family)
                return layer
            return None
        wrapped = argument(call, "layer", 0) if cls == "TimeDistributed" else None
        if isinstance(wrapped, cst.Call):
            return self.construct(wrapped)  # applies the wrapped layer at every time step: same consumer
        layer = new("unknown", cls)
        layer.name = self.layer_name(call, cls)
        special = {"Activation": self.activation_object, "InputLayer": self.input_layer, "Sequential": self.sequential}
        if cls in WEIGHT_LAYERS:
            self.weight_layer(layer, WEIGHT_LAYERS[cls])
        elif cls in ACTIVATION_LAYERS:
            layer.role, layer.activation = "act", activation_layer(scope, cls, call)
        elif cls in special:
            special[cls](layer, call)
        else:
            layer.role = LAYER_ROLES.get(cls, "unknown")
            if layer.role == "pass":
                layer.geometry = self.pass_geometry(call, cls)
        return layer

    def block(self, call: cst.Call, unit: str) -> Layer:
        """An instance of a block class of this file (``unit`` its name) or of the project (qualified)."""
        scope = self.scope
        layer = Layer("unit", unit, call, scope.stmt, scope.name, unit=unit)
        self.program.site_args.setdefault(f"{unit}.__init__", []).append(scope.passed_args(call))
        self.program.calls.setdefault(f"{unit}.__init__", []).append(Site(scope.snapshot(), call, scope.name))
        return layer

    def super_init(self, call: cst.Call) -> None:
        """``super().__init__(...)`` of a class deriving from a project class: its base's parameters as passed.

        They are presets for the subclass's own layers, and the call is a construction of the base's layers
        (unless the subclass overrides the method that builds them). What the subclass's ``**kwargs`` forwards
        is what the subclass's own callers pass by keyword.
        """
        scope = self.scope
        if scope.base is None:
            return
        program, base = scope.base
        signature = program.signatures.get(f"{base}.__init__", ())
        snapshot = scope.snapshot()
        bound = snapshot.bind_args(signature, call)
        forwarded = [a for a in call.args if a.star == "**" and dotted(a.value) == scope.star_kwargs]
        own = {p.name for p in self.program.signatures.get(f"{scope.name}.__init__", ())}
        module = program.top.module if program.top is not None else ""
        for p in signature:
            if forwarded and isinstance(bound[p.key], Opaque):
                if p.name in own:
                    bound[p.key] = DEFAULT  # the subclass takes it itself and does not pass it on
                else:
                    del bound[p.key]  # what the subclass's callers pass by keyword
                    scope.redirects[(module, f"{base}.__init__")] = (self.scope.top.module, f"{scope.name}.__init__",
                                                                     True)
        scope.presets.update(bound)
        key = f"{base}.__init__" if program is self.program else f"{module}.{base}.__init__"
        self.program.calls.setdefault(key, []).append(
            Site(snapshot, call, scope.name, frozenset(scope.defined)))

    def closure(self, call: cst.Call, factory: str) -> Layer | None:
        """``Block(64)(x)`` with ``def Block(filters): def apply(x): ...; return apply``: the nested function.

        The factory call is a call site of the factory, whose parameters the nested function reads.
        """
        graph = self.program.graphs.get(factory)
        alias = graph.returned_expr if graph is not None else None
        inner = alias.scope.lookup(alias.expr.value) if alias is not None and isinstance(alias.expr, cst.Name) else None
        if not isinstance(inner, UnitRef) or self.program.unit_kinds.get(inner.name) != "function":
            return None
        scope = self.scope
        self.program.site_args.setdefault(factory, []).append(scope.passed_args(call))
        self.program.calls.setdefault(factory, []).append(Site(scope.snapshot(), call, scope.name))
        return Layer("unit", inner.name, call, scope.stmt, scope.name, unit=inner.name)

    def activation_object(self, layer: Layer, call: cst.Call) -> None:
        """``Activation("relu")``; ``Activation("linear")`` / ``Activation(None)`` pass the signal on."""
        arg = argument(call, "activation", 0)
        self.scope.deps = set()
        layer.activation = activation(self.scope, arg, self.construct) if arg is not None else (
            "Activation() without argument")
        layer.init_deps = frozenset(self.scope.deps)
        layer.act_expr, layer.where = arg, self.scope.snapshot()
        layer.role = "act" if layer.activation is not None or layer.init_deps else "pass"

    def setting_activation(self, func: cst.BaseExpression) -> Layer | None:
        """``self.activation(x)`` with ``self.activation = keras.activations.get(activation)``: an activation layer.

        None when the setting is not an activation by its default (another callable the analysis does not know).
        """
        self.scope.deps = set()
        found = activation(self.scope, func, self.construct)
        named = "act" in (dotted(func) or "").rpartition(".")[2].lower()
        if isinstance(found, str) and not (self.scope.deps and named):
            return None
        layer = Layer("act", self.scope.code(func), None, self.scope.stmt, self.scope.name)
        layer.activation = found
        layer.init_deps = frozenset(self.scope.deps)
        layer.act_expr, layer.where = func, self.scope.snapshot()
        return layer

    def input_layer(self, layer: Layer, call: cst.Call) -> None:
        layer.role = "input"
        layer.input_shape = input_shape(self.scope, call) or _input_shape_kw(self.scope, call)

    def sequential(self, layer: Layer, call: cst.Call) -> None:
        layer.role, layer.name = "sequential", ""
        layer.standalone_ok = self.scope.graph.kind in ("function", "module")
        items = argument(call, "layers", 0)
        if items is not None:
            for element in _elements(items):
                layer.items += self.sequential_items(element, layer)
        self.sequentials.append(layer)

    def pass_geometry(self, call: cst.Call, cls: str) -> dict[str, object]:
        """What shape-changing pass layers are given: pool sizes, strides, padding, target shapes."""
        literal = self.scope.literal
        keys = ("target_shape", "keepdims", "pool_size", "strides", "padding", "size", "cropping")
        geometry = {key: literal(argument(call, key, -1)) for key in keys}
        geometry["arg0"] = literal(argument(call, "", 0))
        if cls == "Reshape" and geometry["target_shape"] is MISSING:
            geometry["target_shape"] = geometry["arg0"]
        return geometry

    def layer_name(self, call: cst.Call, cls: str) -> str:
        """``name=`` when literal, else the variable assigned, else Keras' automatic name."""
        written = argument(call, "name", -1)
        name = self.scope.literal(written)
        if isinstance(name, str) and name:
            return name
        if isinstance(written, cst.FormattedString):
            return self.scope.code(written)[2:-1]
        target = self.scope.stmt
        if isinstance(target, cst.Assign) and target.value is call and len(target.targets) == 1:
            key = dotted(target.targets[0].target)
            if key is not None:
                return key.rpartition(".")[2]
        return self.program.auto_name(self.scope.name, cls)

    def weight_layer(self, layer: Layer, spec: WeightLayer) -> None:
        """Geometry, activation and initializer of a weight layer, with the parameter defaults each was read from."""
        scope = self.scope
        call = layer.call
        assert call is not None
        layer.role, layer.spec = "weight", spec
        scope.deps = set()
        geometry = {p: scope.literal(argument(call, p, i)) for i, p in enumerate(spec.params) if p != "activation"}
        for i, p in enumerate(spec.params):  # a width in a parameter: known relative to others (Dense(4 * dim))
            if p in ("units", "filters") and geometry.get(p) is MISSING:
                geometry[p] = width(scope, argument(call, p, i)) or MISSING
        for key in ("groups", "depth_multiplier", "padding", "strides", "data_format", "input_dim", "dilation_rate"):
            if key not in geometry:
                geometry[key] = scope.literal(argument(call, key, -1))
        layer.geometry = geometry
        layer.input_shape = _input_shape_kw(scope, call)
        if layer.input_shape is None and isinstance(geometry.get("input_dim"), int) and spec.geometry == "dense":
            layer.input_shape = (geometry["input_dim"],)  # type: ignore[assignment]
        layer.fan_deps = frozenset(scope.deps)
        scope.deps = set()
        act = argument(call, "activation", spec.params.index("activation") if "activation" in spec.params else -1)
        init = argument(call, spec.kernel_arg, -1)
        # `Dense(64, **common)` may set the activation or the initializer: never assume the default.
        unpacked = any(a.star == "**" for a in call.args)
        if act is not None:
            layer.activation = activation(scope, act, self.construct)
        else:
            layer.activation = "activation may come from **kwargs" if unpacked else None
        if init is not None:
            layer.init = initializer(scope, init)
        else:
            layer.init = f"{spec.kernel_arg} may come from **kwargs" if unpacked else keras_init.default_spec(spec.kernel_arg)
        layer.init_deps = frozenset(scope.deps)
        layer.act_expr, layer.init_expr, layer.where = act, init, scope.snapshot()
        layer.method = scope.method

    def sequential_items(self, expr: cst.BaseExpression, seq: Layer) -> list[Layer]:
        """The layers one element of a Sequential list (or ``model.add`` argument) contributes."""
        if isinstance(expr, cst.Call):
            func_cls = self.scope.keras_name(expr.func) if not isinstance(expr.func, cst.Call) else None
            if func_cls == "Input":
                seq.input_shape = input_shape(self.scope, expr)
                return []
        if isinstance(expr, cst.ListComp):
            item = self.sequential_items(expr.elt, seq)
            return item + item  # built several times: each copy feeds the next
        value = self.value(expr) if not isinstance(expr, cst.Call) else self.construct(expr)
        if isinstance(value, Bag):  # Sequential(self.mlp_block) of a list built up before
            return [out for item in value.items if isinstance(item, Layer) for out in self.sequential_item(item, seq)]
        if isinstance(value, Layer):
            return self.sequential_item(value, seq)
        return [Layer("unknown", self.scope.code(expr), None, self.scope.stmt, self.scope.name)]

    def sequential_item(self, value: Layer, seq: Layer) -> list[Layer]:
        if value.role == "input":
            seq.input_shape = value.input_shape
            return []
        if value.role == "sequential":
            value.applied = True
        if value.role == "weight" and not value.name:
            value.name = self.program.auto_name(self.scope.name, value.cls)
        return [value]

    def sequential_add(self, expr: cst.BaseExpression) -> bool:
        """``model.add(layer)`` on a Sequential: append (returns False when it is something else)."""
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "add"):
            return False
        key = dotted(expr.func.value)
        seq = self.scope.lookup(key) if key is not None else None
        if not (isinstance(seq, Layer) and seq.role == "sequential") or not expr.args:
            return False
        items = self.sequential_items(expr.args[0].value, seq)
        if seq.name and self.scope.graph.kind == "module":
            for item in items:
                rescope(item, seq.name)
        seq.items += items
        return True


def input_shape(scope: Scope, call: cst.Call) -> Shape:
    """``keras.Input(shape=...)`` / ``InputLayer(batch_shape=...)``: the shape without the batch dimension."""
    shape = scope.literal(argument(call, "shape", 0))
    if shape is MISSING or shape is None:
        batch = scope.literal(argument(call, "batch_shape", -1))
        shape = batch[1:] if isinstance(batch, tuple) else MISSING
    if isinstance(shape, int):
        shape = (shape,)
    if isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape):
        return shape
    return None


def rescope(layer: Layer, scope: str) -> None:
    """Layers of a module-level Sequential belong to the model variable (``model.dense_1``)."""
    if layer.scope == "<module>":
        layer.scope = scope


def _input_shape_kw(scope: Scope, call: cst.Call) -> Shape:
    shape = scope.literal(argument(call, "input_shape", -1))
    if isinstance(shape, int):
        shape = (shape,)
    if isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape):
        return shape
    return None


def _elements(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(expr, (cst.List, cst.Tuple)):
        return [e.value for e in expr.elements]
    return [expr]
