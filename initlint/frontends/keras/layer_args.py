"""What a layer's ``activation=`` and ``kernel_initializer=`` arguments mean, or why that is not known.

Activations come as names (``"relu"``), functions (``tf.nn.relu``,
``keras.activations.leaky_relu(x, negative_slope=0.1)``) or layer objects
(``layers.LeakyReLU(0.2)``); initializers as names, classes, instances,
``get(...)`` calls or config dicts. Each is read into an Activation / InitSpec,
or into the reason it is not resolved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import libcst as cst

from ...records import Activation, InitSpec
from ...rulebook import activation_family
from . import initializers as keras_init
from .graph import MISSING, Layer, Lit, Opaque, argument, string
from .program import Program
from .scope import Reading, Scope
from .tables import (
    ACTIVATION_LAYERS,
    ACTIVATION_NAMES,
    ACTIVATION_NAMESPACES,
    FUNCTION_SLOPE_DEFAULTS,
    TOP_LEVEL_ACTIVATIONS,
    namespace,
    qualified_class,
)

# -- activations ------------------------------------------------------------------------------


def activation(
    scope: Scope, expr: cst.BaseExpression, construct: Callable[[cst.Call], Layer | None], reading: Reading | None = None,
) -> Activation | str | None:
    """An ``activation=`` value: Activation, None for linear, or the reason it is not understood.

    ``construct`` builds the layer object an ``activation=layers.ReLU()`` call passes; ``reading``
    binds the parameters a call site passes (SPEC 8.32).
    """
    written = scope.code(expr)
    scope, found, reading = scope.follow(expr, reading)
    if isinstance(found, Opaque):
        return found.reason
    if isinstance(found, Lit):
        return named_activation(scope, found.value, written)
    expr = found
    if isinstance(expr, cst.Name) and expr.value == "None":
        return None
    if isinstance(expr, cst.SimpleString):
        return named_activation(scope, string(expr), written)
    if isinstance(expr, (cst.Name, cst.Attribute)):
        qualified = scope.qualify(expr)
        cls = qualified_class(qualified, False, None)
        if cls in ACTIVATION_NAMES and (namespace(qualified) in ACTIVATION_NAMESPACES or cls in TOP_LEVEL_ACTIVATIONS):
            return named_activation(scope, cls, written, slope=FUNCTION_SLOPE_DEFAULTS.get(cls, 0.0))
        function = scope.function(expr)
        if function is not None:
            return function_as_activation(*function, written)
        return f"activation={written} is not resolved"
    if isinstance(expr, cst.Call):
        layer = construct(expr)
        if isinstance(layer, Layer) and layer.role in ("act", "pass"):
            return layer.activation
    return f"activation={written} is not resolved"


def function_as_activation(program: Program, unit: str, written: str) -> Activation | str | None:
    """A function used as an activation (``def gelu_approximate(x): return gelu(x, approximate=True)``).

    Its first parameter must meet one activation whose output is all the function returns.
    """
    graph = program.graphs.get(unit)
    if graph is None or not graph.call_params or graph.call_params[0] not in graph.params:
        return f"activation={written} is not resolved"
    users = graph.users(graph.params[graph.call_params[0]])
    if len(users) == 1 and graph.nodes[users[0]].op == "act":
        after = graph.users(users[0])
        if after and all(graph.nodes[u].op == "return" for u in after):
            return graph.nodes[users[0]].act
    return f"activation={written} ({unit}) is not one activation"


def named_activation(scope: Scope, name: object, written: str, slope: float = 0.0) -> Activation | str | None:
    """A Keras activation name (or one the settings add) as an Activation; None for linear."""
    if name is None or name == "linear":
        return None
    if not isinstance(name, str):
        return f"activation={written} is not resolved"
    extra = scope.top.source.settings.activations
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


def function_activation(scope: Scope, name: str, call: cst.Call) -> Activation | str | None:
    """``keras.activations.relu(x, negative_slope=...)``, ``tf.nn.leaky_relu(x, alpha=0.2)``."""
    slope = FUNCTION_SLOPE_DEFAULTS.get(name, 0.0)
    for key in ("negative_slope", "alpha"):
        arg = argument(call, key, 1 if name == "leaky_relu" and key == "negative_slope" else -1)
        if arg is not None and name in ("relu", "leaky_relu"):
            value = scope.literal(arg)
            if not isinstance(value, (int, float)):
                return f"{key}={scope.code(arg)} is not a literal"
            slope = float(value)
    act = named_activation(scope, name, name, slope)
    if isinstance(act, Activation) and name == "relu" and slope:
        return replace(act, name="leaky_relu")
    return act


def activation_layer(scope: Scope, cls: str, call: cst.Call) -> Activation | str:
    """An activation layer (``ReLU(max_value=6)``, ``LeakyReLU(0.2)``, ``ELU()``) as an Activation."""
    name, key, index, slope = ACTIVATION_LAYERS[cls]
    if key is not None:
        for keyword, position in ((key, index), ("alpha", -1)):
            arg = argument(call, keyword, position if position is not None else -1)
            if arg is not None:
                value = scope.literal(arg)
                if not isinstance(value, (int, float)):
                    return f"{cls}({keyword}={scope.code(arg)}) is not a literal"
                slope = float(value)
    if cls == "ReLU":
        top = scope.literal(argument(call, "max_value", 0))
        name = "LeakyReLU" if slope else "ReLU6" if top == 6 else "ReLU"
    family = activation_family(name, scope.top.source.settings.activations)
    return Activation(name, family, slope=slope) if family else f"{cls} belongs to no family"


# -- initializers -----------------------------------------------------------------------------


def initializer(scope: Scope, expr: cst.BaseExpression, reading: Reading | None = None,
                depth: int = 0) -> InitSpec | str:
    """A ``kernel_initializer=`` value as an InitSpec, or the reason it is not understood."""
    written = scope.code(expr)
    scope, found, reading = scope.follow(expr, reading)
    if isinstance(found, Opaque):
        return found.reason
    if isinstance(found, Lit):
        value = found.value
        if isinstance(value, str):
            return keras_init.from_name(value, {}, written) if keras_init.lookup(value) else (
                f"{written}: {value!r} is not a Keras initializer name")
        if isinstance(value, dict):
            return _config_initializer(value, written)
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
        value = scope.literal(expr, reading)
        return _config_initializer(value, written) if isinstance(value, dict) else f"{written} is not literal"
    star = scope.top.star
    if isinstance(expr, (cst.Name, cst.Attribute)):
        name = qualified_class(scope.qualify(expr), star, None)
        if name and keras_init.lookup(name):
            return keras_init.from_name(name, {}, written)
        return f"kernel initializer {written} is not resolved"
    if isinstance(expr, cst.Call):
        name = qualified_class(scope.qualify(expr.func), star,
                               expr.func.value if isinstance(expr.func, cst.Name) else None)
        if name == "get" and expr.args and depth < 3:
            return initializer(scope, expr.args[0].value, reading, depth + 1)
        if name is None or keras_init.lookup(name) is None:
            return f"kernel initializer {written} is not resolved"
        return keras_init.from_name(name, _init_args(scope, name, expr, reading), written)
    return f"kernel initializer {written} is not resolved"


def _init_args(scope: Scope, name: str, call: cst.Call, reading: Reading) -> dict[str, object]:
    """An initializer call's arguments by name; ``<nonliteral>`` lists those that are not literals."""
    params = keras_init.params(name)
    args: dict[str, object] = {}
    nonliteral: list[str] = []
    for i, arg in enumerate(call.args):
        key = arg.keyword.value if arg.keyword is not None else (params[i] if i < len(params) else f"#{i}")
        value = scope.literal(arg.value, reading)
        if value is MISSING:
            nonliteral.append(key)
        else:
            args[key] = value
    args["<nonliteral>"] = tuple(nonliteral)
    return args


def _config_initializer(config: dict[str, object], written: str) -> InitSpec | str:
    """``{"class_name": "HeNormal", "config": {...}}``, the serialized form."""
    name = config.get("class_name")
    inner = config.get("config", {})
    if not isinstance(name, str) or not isinstance(inner, dict) or keras_init.lookup(name) is None:
        return f"{written}: not a Keras initializer config"
    return keras_init.from_name(name, inner, written)
