"""The Keras source frontend's data: values a flow binds, graph nodes, literal readers and layer geometry.

A unit (function, model class, module body) is read into a :class:`Graph` of
:class:`Node` s; names are bound to tensor node ids, constructed :class:`Layer`
objects, parameters and literals. Geometry follows Keras' ``compute_fans`` on
each kernel layout (INIT_REFERENCE 3.1/3.2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Union

import libcst as cst

from ...records import Activation, InitSpec
from .tables import GLOBAL_POOLING_PREFIX, WeightLayer


Shape = Union[tuple[Union[int, "Sym", None], ...], None]
MISSING = object()


# -- values a flow binds to names ---------------------------------------------------------


ParamKey = tuple[str, str, str]  # (module, unit, parameter): module is "" outside a project
Deps = frozenset[ParamKey]  # parameters whose default a value was read from
NO_DEPS: Deps = frozenset()


@dataclass(eq=False)
class Layer:
    """A constructed Keras layer object, Sequential, or instance of a block class of this file."""

    role: str  # weight, opaque, act, norm, pass, dropout, add, input, sequential, unit, unknown
    cls: str
    call: cst.Call | None
    stmt: cst.CSTNode | None
    scope: str
    name: str = ""
    spec: WeightLayer | None = None
    activation: Activation | str | None = None  # Activation, an unresolved reason, or None (linear)
    init: InitSpec | str | None = None
    geometry: dict[str, object] = field(default_factory=dict)
    items: list[Layer] = field(default_factory=list)  # Sequential
    input_shape: Shape = None
    unit: str = ""  # block class of this file
    fan_deps: Deps = NO_DEPS  # parameter defaults the geometry was read from
    init_deps: Deps = NO_DEPS  # parameter defaults the activation / initializer was read from
    applied: bool = False
    standalone_ok: bool = True  # a Sequential built in a function / module body is a model of its own
    # What the constructor call wrote for the activation and the kernel initializer, and the bindings it
    # was written with: read again for every way the enclosing unit is constructed (SPEC 8.32).
    act_expr: cst.BaseExpression | None = None
    init_expr: cst.BaseExpression | None = None
    where: Any = None  # the scope.Scope it was built in (scope builds on this module: not imported)
    method: str = ""  # the method of its class that builds it (a subclass overriding it does not build it)


@dataclass(frozen=True)
class Param:
    """A function parameter: a tensor when used as one, its literal default otherwise."""

    name: str
    default: cst.BaseExpression | None
    unit: str = ""
    module: str = ""

    @property
    def key(self) -> ParamKey:
        return (self.module, self.unit, self.name)


@dataclass(frozen=True)
class Sym:
    """A width the code writes but does not fix: ``coef`` times a parameter without a default (``4 * dim``).

    Two widths in one parameter are in a known ratio: the fans of a layer between them decide SPEC 8.3
    for fan-scaled initializers, whose variance ratios do not depend on the parameter's value.
    """

    coef: Fraction
    key: ParamKey

    def __mul__(self, other: object) -> Sym:
        if isinstance(other, int) and not isinstance(other, bool) and other > 0:
            return Sym(self.coef * other, self.key)
        return NotImplemented

    __rmul__ = __mul__

    def __floordiv__(self, other: object) -> Sym:  # ``dim // 2``: the ratio, up to the rounding
        if isinstance(other, int) and not isinstance(other, bool) and other > 0:
            return Sym(self.coef / other, self.key)
        return NotImplemented


@dataclass(frozen=True)
class Lit:
    value: object


@dataclass(frozen=True)
class UnitRef:
    name: str


@dataclass(frozen=True)
class Units:
    """A name bound to one function or another on different branches (``act = relu if m else hard_swish``)."""

    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Alias:
    """A name bound to an expression that is not a tensor or layer (``self.init = get(kernel_initializer)``).

    Read where it was written: ``scope`` is a snapshot of the bindings at that statement.
    """

    expr: cst.BaseExpression
    scope: Any  # a scope.Scope (scope builds on this module: not imported)


@dataclass(frozen=True)
class Opaque:
    """A value the analysis cannot see (a call site passes ``**kwargs``), with the reason."""

    reason: str


MAX_BAG = 1024  # items one list keeps


@dataclass(eq=False)
class Bag:
    """A list or tuple of layers and tensors a unit builds up (``self.blocks = []; self.blocks.append(...)``)."""

    items: list[Union[int, Layer]] = field(default_factory=list)
    graph: Graph | None = None  # the graph its tensors belong to (another unit's tensors are not followed)

    def tensors(self, graph: Graph) -> list[int]:
        return list(dict.fromkeys(v for v in self.items if isinstance(v, int))) if graph is self.graph else []

    def add(self, item: Union[int, Layer], graph: Graph) -> None:
        if len(self.items) >= MAX_BAG:
            return  # ``layers += layers`` forty times: what matters is which items, not how many
        if isinstance(item, int):
            if self.graph is None:
                self.graph = graph
            if graph is not self.graph:
                return
        self.items.append(item)


Value = Union[int, Layer, Param, Lit, UnitRef, Units, Alias, Bag, None]


@dataclass
class Node:
    op: str  # input, param, weight, act, norm, pass, dropout, add, unit, unknown, output, return
    inputs: tuple[int, ...] = ()
    shape: Shape = None
    layer: Layer | None = None
    act: Activation | str | None = None
    unit: str = ""
    params: tuple[str, ...] = ()  # unit nodes: the callee parameter each input binds to
    what: str = ""
    expr: cst.CSTNode | None = None  # unknown nodes: the code that consumes (rendered only when reported)
    deps: Deps | None = None  # parameter defaults the shape was read from (None: those of the inputs)
    param: Param | None = None  # unit nodes: calling a parameter (``stack_fn(x)``): the function its callers pass


@dataclass
class Graph:
    unit: str
    kind: str  # function, model, layer, module
    module: str = ""  # the project module of the file it belongs to
    nodes: list[Node] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    call_params: tuple[str, ...] = ()  # parameter names a caller's positional tensors bind to
    returned_layer: Layer | None = None  # the layer a factory function returns
    returned_expr: Alias | None = None  # what a function returns when it is one expression, not a tensor
    _users: dict[int, list[int]] | None = None

    def add(self, node: Node) -> int:
        if node.deps is None:
            node.deps = frozenset().union(*(self.nodes[i].deps or NO_DEPS for i in node.inputs))
        self.nodes.append(node)
        self._users = None
        return len(self.nodes) - 1

    def users(self, nid: int) -> list[int]:
        if self._users is None:
            self._users = {}
            for i, node in enumerate(self.nodes):
                for j in dict.fromkeys(node.inputs):
                    self._users.setdefault(j, []).append(i)
        return self._users.get(nid, [])


@dataclass(frozen=True)
class Application:
    graph: Graph
    node: int
    layer: Layer
    fan_in: int | Sym | None
    fan_out: int | Sym | None
    fan_deps: Deps = NO_DEPS


def number(expr: cst.Integer | cst.Float) -> int | float:
    """The value of a numeric literal without libcst's ``evaluated_value`` (which compiles it)."""
    text = expr.value.replace("_", "")
    if isinstance(expr, cst.Integer):
        return int(text, 0) if not (len(text) > 1 and text[0] == "0" and text[1].isdigit()) else int(text)
    return float(text)


def string(expr: cst.SimpleString) -> object:
    """The value of a string literal; the plain common case without compiling it."""
    prefix, quote = expr.prefix.lower(), expr.quote
    inner = expr.value[len(prefix) + len(quote): -len(quote)]
    if prefix in ("", "r") and ("\\" not in inner or prefix == "r"):
        return inner
    return expr.evaluated_value


_CONSTANTS = {"None": None, "True": True, "False": False}


def scalar(expr: cst.BaseExpression) -> object:
    """A number, string, None/True/False literal as its Python value, else MISSING."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return number(expr)
    if isinstance(expr, cst.SimpleString):
        return string(expr)
    if isinstance(expr, cst.Name) and expr.value in _CONSTANTS:
        return _CONSTANTS[expr.value]
    return MISSING


def plain_literal(expr: cst.BaseExpression | None) -> object:
    """A parameter default as a Python value (plain literals only), else MISSING."""
    if expr is None:
        return MISSING
    value = scalar(expr)
    if value is not MISSING:
        return value
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = tuple(plain_literal(e.value) for e in expr.elements)
        return MISSING if MISSING in items else items
    return MISSING


def argument(call: cst.Call, keyword: str, index: int) -> cst.BaseExpression | None:
    """The argument given as ``keyword=`` or at position ``index`` (-1: keyword only; ``*args`` take no position)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg.value
    positional = [a for a in call.args if a.keyword is None and not a.star]
    if 0 <= index < len(positional):
        return positional[index].value
    return None


def _ints(value: object, rank: int, least: int = 1) -> tuple[int, ...] | None:
    """``value`` as ``rank`` ints of at least ``least`` (sizes and strides are positive), else None."""
    values = (value,) * rank if isinstance(value, int) else value
    if isinstance(values, tuple) and len(values) == rank and all(_int_at_least(v, least) for v in values):
        return values
    return None


def _int_at_least(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _conv_length(n: int | None, k: int, s: int, d: int, padding: object, transpose: bool) -> int | None:
    """Keras' conv_output_length / deconv_output_length for one spatial dim."""
    if n is None:
        return None
    if transpose:
        return n * s if padding == "same" else n * s + max(k - s, 0)
    if padding in ("same", "causal"):
        return -(-n // s)
    span = (k - 1) * d + 1
    return (n - span) // s + 1 if n >= span else None


def spatial_dims(shape: tuple[int | Sym | None, ...]) -> tuple[int | None, ...]:
    """The dims before the channels, as numbers (a width in a parameter is a channel count only)."""
    return tuple(d if isinstance(d, int) else None for d in shape[:-1])


def _spatial(lead: tuple[int | None, ...], g: dict[str, object], rank: int, transpose: bool) -> tuple[int | None, ...]:
    """Output spatial dims of a convolution (unknown where any input is not a literal)."""
    kernel = _ints(g.get("kernel_size"), rank)
    strides = _ints(_given(g.get("strides"), 1), rank)
    dilation = _ints(_given(g.get("dilation_rate"), 1), rank)
    padding = _given(g.get("padding"), "valid")
    if len(lead) != rank or not (kernel and strides and dilation):
        return tuple(None for _ in lead)
    return tuple(_conv_length(n, k, s, d, padding, transpose) for n, k, s, d in zip(lead, kernel, strides, dilation))


def _given(value: object, default: object) -> object:
    return default if value is MISSING or value is None else value


def _first(g: dict[str, object], *keys: str, default: object) -> object:
    """The first of ``keys`` given as a literal (keyword or first positional argument), else ``default``."""
    for key in keys:
        value = g.get(key, MISSING)
        if value is not MISSING and value is not None:
            return value
    return default


def fans_of(layer: Layer, shape: Shape) -> tuple[int | Sym | None, int | Sym | None, Shape]:
    """(fan_in, fan_out, output shape) by Keras' compute_fans on the layer's kernel layout."""
    spec, g = layer.spec, layer.geometry
    assert spec is not None
    if (shape is None or not shape) and layer.input_shape:
        shape = layer.input_shape
    channels_first = g.get("data_format") == "channels_first"
    cin = shape[-1] if shape and not channels_first else None
    lead = spatial_dims(shape) if shape else (None,)

    def count(key: str, default: object = MISSING) -> int | None:
        value = g.get(key, MISSING)
        value = default if value in (MISSING, None) else value
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    def width(key: str) -> int | Sym | None:
        value = g.get(key)
        return value if isinstance(value, Sym) else count(key)

    if spec.geometry == "dense":
        units = width("units")
        return cin, units, lead + (units,)
    if spec.geometry == "embedding":
        return None, None, (shape or (None,)) + (count("output_dim"),)
    if spec.geometry == "einsum":
        return None, None, None
    kernel = _ints(g.get("kernel_size"), spec.rank)
    rf = math.prod(kernel) if kernel else None
    spatial = _spatial(lead, g, spec.rank, spec.geometry == "transpose")
    filters = width("filters")
    if spec.geometry == "conv":
        groups = count("groups", 1)
        fi = cin // groups * rf if cin and groups and rf else None
        fo = filters * rf if filters and rf else None
        return fi, fo, spatial + (filters,)
    if spec.geometry == "transpose":
        fi = filters * rf if filters and rf else None
        fo = cin * rf if cin and rf else None
        return fi, fo, spatial + (filters,)
    dm = count("depth_multiplier", 1)
    if spec.geometry == "depthwise":
        fi = cin * rf if cin and rf else None
        fo = dm * rf if dm and rf else None
        return fi, fo, spatial + (cin * dm if cin and dm else None,)
    # separable: the pointwise (1x1) kernel, (in*dm) -> filters
    fi = cin * dm if cin and dm else None
    return fi, filters, spatial + (filters,)


def pass_shape(layer: Layer, shapes: list[Shape]) -> Shape:
    shape = shapes[0] if shapes else None
    cls = layer.cls
    if cls == "Concatenate":
        lasts = [s[-1] if s else None for s in shapes]
        if all(isinstance(v, int) for v in lasts) and shape:
            same = all(s is not None and s[:-1] == shape[:-1] for s in shapes)
            lead = shape[:-1] if same else tuple(None for _ in shape[:-1])
            return lead + (sum(lasts),)  # type: ignore[arg-type, operator]
        return None
    if shape is None:
        return None
    if cls == "Flatten":
        return (math.prod(shape),) if all(isinstance(v, int) for v in shape) else None  # type: ignore[arg-type]
    if cls == "Reshape":
        target = layer.geometry.get("target_shape")
        return target if isinstance(target, tuple) and all(isinstance(v, int) for v in target) else None
    if cls.startswith(GLOBAL_POOLING_PREFIX):
        if layer.geometry.get("keepdims") is True:
            return tuple(None for _ in shape[:-1]) + (shape[-1],)
        return (shape[-1],)
    lead, rank = spatial_dims(shape), len(shape) - 1
    g = layer.geometry
    if "Pool" in cls:
        size = _ints(_first(g, "pool_size", "arg0", default=2), rank)
        strides = _ints(_given(g.get("strides"), size), rank) if size else None
        padding = _given(g.get("padding"), "valid")
        if size and strides:
            return tuple(_conv_length(n, k, s, 1, padding, False) for n, k, s in zip(lead, size, strides)) + (
                shape[-1],)
    if cls.startswith("UpSampling"):
        size = _ints(_first(g, "size", "arg0", default=2), rank)
        if size:
            return tuple(n * k if n is not None else None for n, k in zip(lead, size)) + (shape[-1],)
    if cls.startswith(("ZeroPadding", "Cropping")):
        pad = _ints(_first(g, "padding", "cropping", "arg0", default=1), rank, least=0)
        sign = 1 if cls.startswith("ZeroPadding") else -1
        if pad:
            sizes = (n + sign * 2 * p if n is not None else None for n, p in zip(lead, pad))
            return tuple(n if n is None or n > 0 else None for n in sizes) + (shape[-1],)
    if "Pool" in cls or cls.startswith(("ZeroPadding", "Cropping", "UpSampling")):
        return tuple(None for _ in lead) + (shape[-1],)
    if cls == "Permute":
        return None
    return shape
