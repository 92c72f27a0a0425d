"""Keras source frontend: Keras 3 / tf.keras 2 model code -> LayerRecords, by reading libcst trees by hand.

Every function, model class and the module body is read as a small data-flow
graph: nodes are layer applications (``Dense(64)(x)``, ``self.fc(x)``, the
items of a ``Sequential``), activation functions (``tf.nn.relu(x)``), residual
sums (``layers.Add()([x, y])``, ``x + y``), model outputs and returns. A weight
layer's consumer is found by following its output through normalization
(marks ``normalized``), pooling/dropout/reshape (transparent) and residual sums
(marks ``residual_end``) to the first activation, the next weight layer
(``linear``) or the model output (``linear`` head). A tensor returned by a
helper function or block class is followed into its callers in the same file,
and a tensor passed to such a helper into its body. Anything else is
unresolved, with the reason.

Fans follow Keras' own ``compute_fans`` on the kernel layout (INIT_REFERENCE
3.1/3.2): Dense fan_in = in, fan_out = units; Conv fan_in = (in/groups)*rf,
fan_out = filters*rf; transposed conv fan_in = filters*rf, fan_out = in*rf;
depthwise fan_in = in*rf, fan_out = depth_multiplier*rf; separable: the
pointwise kernel only, fan_in = in*depth_multiplier, fan_out = filters. ``in``
comes from ``keras.Input(shape=...)``, ``input_shape=`` or the previous
layer's ``units``/``filters`` when they are literals or literal defaults of the
enclosing function's parameters (SPEC 8.14, 8.31).

Never imports keras or tensorflow: the file is only parsed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Union

import libcst as cst

from ..records import Activation, InitSpec, LayerRecord
from ..rulebook import activation_family
from . import keras_init
from .keras_tables import (
    ACTIVATION_LAYERS, ACTIVATION_NAMES, ACTIVATION_NAMESPACES, ADD_LAYERS, DROPOUT_LAYERS,
    FUNCTION_SLOPE_DEFAULTS, GLOBAL_POOLING_PREFIX, INPUT_CALLS, MERGE_FUNCTIONS, MODEL_CALLS, NORM_LAYERS,
    PASS_FUNCTIONS, PASS_LAYERS, SEQUENTIAL, TOP_LEVEL_ACTIVATIONS, WEIGHT_LAYERS, WeightLayer, namespace,
    qualified_class,
)
from .names import Names, dotted
from .source import SourceFile

Shape = Union[tuple[Union[int, None], ...], None]
MISSING = object()
NEXT_LAYER = Activation("linear", "linear", reaches_weight=True)  # output feeds the next weight layer directly
HEAD = Activation("linear", "linear", reaches_weight=False)  # model output


def records(source: SourceFile) -> list[LayerRecord]:
    """One record per Keras weight layer (and per Dropout site) of the file."""
    text = source.text
    if "keras" not in text and "tensorflow" not in text:
        return []
    return KerasFile(source).run()


# -- values a flow binds to names ---------------------------------------------------------


Deps = frozenset[tuple[str, str]]  # (unit, parameter) whose literal default a value was read from
NO_DEPS: Deps = frozenset()


@dataclass(eq=False)
class Layer:
    """A constructed Keras layer object, Sequential, or instance of a block class of this file."""

    role: str  # weight, act, norm, pass, dropout, add, input, sequential, unit, unknown
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


@dataclass(frozen=True)
class Param:
    """A function parameter: a tensor when used as one, its literal default otherwise."""

    name: str
    default: cst.BaseExpression | None
    unit: str = ""



@dataclass(frozen=True)
class Lit:
    value: object


@dataclass(frozen=True)
class UnitRef:
    name: str


Value = Union[int, Layer, Param, Lit, UnitRef, None]


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
    deps: Deps | None = None  # parameter defaults the shape was read from (None: those of the inputs)


@dataclass
class Graph:
    unit: str
    kind: str  # function, model, layer, module
    nodes: list[Node] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)
    call_params: tuple[str, ...] = ()  # parameter names a caller's positional tensors bind to
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
class Consumer:
    act: Activation | None = None
    normalized: bool = False
    residual: bool = False
    reason: str = ""

    def under(self, normalized: bool, residual: bool) -> Consumer:
        return replace(self, normalized=self.normalized or normalized, residual=self.residual or residual)


@dataclass(frozen=True)
class Application:
    graph: Graph
    node: int
    layer: Layer
    fan_in: int | None
    fan_out: int | None
    fan_deps: Deps = NO_DEPS


# -- the file -------------------------------------------------------------------------------


class KerasFile:
    """Reads one module: builds every unit's graph, then resolves consumers into records."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.names = Names().scan(source.module.body)
        self.star = _star_keras(source.module.body)
        self.consts = _module_consts(source.module.body)
        self.units: dict[str, cst.FunctionDef | cst.ClassDef] = {}
        self.unit_kinds: dict[str, str] = {}
        self.graphs: dict[str, Graph] = {}
        self.sites: dict[str, list[tuple[Graph, int]]] = {}
        # What each call of a unit passes: parameter name (or "#i" by position) -> literal value or MISSING.
        self.site_args: dict[str, list[dict[str, object]]] = {}
        self.signatures: dict[str, tuple[Param, ...]] = {}
        self.applications: list[Application] = []
        self.dropouts: list[tuple[Graph, Layer]] = []
        self.layers: list[Layer] = []
        self.layer_cache: dict[int, Layer] = {}
        self.counters: dict[tuple[str, str], int] = {}
        for stmt in source.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.units[stmt.name.value] = stmt

    def run(self) -> list[LayerRecord]:
        module = Flow(self, Graph("<module>", "module"), self.names, None, "<module>")
        module.walk(self.source.module.body)
        module.finish()
        return self.records()

    def is_model_class(self, stmt: cst.ClassDef, names: Names) -> str:
        for base in stmt.bases:
            name = qualified_class(names.qualify(base.value), self.star, dotted(base.value))
            if name in ("Model", "Sequential", "Functional"):
                return "model"
            if name == "Layer":
                return "layer"
        return "other"

    def auto_name(self, scope: str, cls: str) -> str:
        """Keras' automatic layer name: snake_case of the class, then _1, _2, ... per scope."""
        snake = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower()
        n = self.counters.get((scope, snake), 0)
        self.counters[(scope, snake)] = n + 1
        return snake if n == 0 else f"{snake}_{n}"

    # -- consumers ------------------------------------------------------------------------

    def consumers(self, graph: Graph, nid: int, stack: frozenset[tuple[str, ...]]) -> list[Consumer]:
        """Every way the output of node ``nid`` is consumed (all must agree to resolve)."""
        users = graph.users(nid)
        if not users:
            return [Consumer(reason="its output is not used in this file")]
        out: list[Consumer] = []
        for uid in users:
            node = graph.nodes[uid]
            out += self._consumed_by(graph, uid, node, nid, stack)
        return out

    def _consumed_by(
        self, graph: Graph, uid: int, node: Node, nid: int, stack: frozenset[tuple[str, ...]]
    ) -> list[Consumer]:
        op = node.op
        if op == "weight":
            return [Consumer(NEXT_LAYER)]
        if op == "act":
            param = self.overridden(node.layer.init_deps) if node.layer is not None else ""
            if param:
                return [Consumer(reason=f"the activation comes from parameter {param!r}, which callers set")]
            if isinstance(node.act, Activation):
                return [Consumer(replace(node.act, reaches_weight=self.reaches_weight(graph, uid)))]
            return [Consumer(reason=str(node.act))]
        if op == "phi" and not graph.users(uid):
            return []  # a name merged after a branch and never used again says nothing
        if op in ("norm", "pass", "dropout", "add", "phi"):
            below = self.consumers(graph, uid, stack)
            return [c.under(op == "norm", op == "add") for c in below]
        if op == "output":
            return [Consumer(HEAD)]
        if op == "return":
            return self.returned(graph.unit, stack)
        if op == "unit":
            out: list[Consumer] = []
            for param, src in zip(node.params, node.inputs):
                if src == nid:
                    out += self.passed(node.unit, param, stack)
            return out
        return [Consumer(reason=node.what or "consumed by code the analysis does not follow")]

    def returned(self, unit: str, stack: frozenset[tuple[str, ...]]) -> list[Consumer]:
        """Consumers of what ``unit`` returns: followed into its callers in this file."""
        key = ("return", unit)
        if key in stack:
            return []  # a recursive path adds nothing the other paths do not already say
        if len(stack) > 12:
            return [Consumer(reason="call chain too deep to follow")]
        sites = self.sites.get(unit, [])
        if not sites:
            if self.unit_kinds.get(unit) == "model":
                return [Consumer(HEAD)]
            return [Consumer(reason=f"returned by {unit}() and not consumed in this file")]
        out: list[Consumer] = []
        for graph, nid in sites:
            out += self.consumers(graph, nid, stack | {key})
        return out

    def passed(self, unit: str, param: str, stack: frozenset[tuple[str, ...]]) -> list[Consumer]:
        """Consumers of a tensor passed to ``unit`` as ``param``: followed into its body."""
        key = ("param", unit, param)
        if key in stack:
            return []
        graph = self.graphs.get(unit)
        if graph is not None and param.startswith("#"):
            index = int(param[1:])  # positional: named by the callee's signature, known once it is read
            param = graph.call_params[index] if index < len(graph.call_params) else param
        if graph is None or param not in graph.params or len(stack) > 12:
            return [Consumer(reason=f"passed to {unit}() as {param or 'an argument'}")]
        return self.consumers(graph, graph.params[param], stack | {key})

    def reaches_weight(self, graph: Graph, nid: int) -> bool:
        """Whether the output of node ``nid`` visibly reaches another weight layer (SPEC 8.5)."""
        seen, todo = {nid}, [nid]
        while todo:
            for uid in graph.users(todo.pop()):
                node = graph.nodes[uid]
                if node.op == "weight":
                    return True
                if uid not in seen and node.op in ("norm", "pass", "dropout", "add", "act", "phi"):
                    seen.add(uid)
                    todo.append(uid)
        return False

    # -- parameter defaults ---------------------------------------------------------------

    def overridden(self, deps: Deps) -> str:
        """The first parameter whose literal default some caller in this file replaces, else ''."""
        for unit, name in sorted(deps):
            params = self.signatures.get(unit, ())
            index = next((i for i, p in enumerate(params) if p.name == name), None)
            default = next((p for p in params if p.name == name), None)
            if default is None:
                continue
            for args in self.site_args.get(unit, []):
                passed = args.get(name, args.get(f"#{index}", MISSING_ARG))
                if passed is not MISSING_ARG and (passed is MISSING or passed != self.default_value(default)):
                    return name
        return ""

    def default_value(self, param: Param) -> object:
        return _plain_literal(param.default)

    # -- records --------------------------------------------------------------------------

    def records(self) -> list[LayerRecord]:
        built = [self._record(app) for app in self.applications]
        applied = {id(app.layer) for app in self.applications}
        for layer in self.layers:
            if layer.role == "weight" and id(layer) not in applied:
                built.append(self._unapplied(layer))
        out = _dedupe(built)
        # The network a Dropout belongs to is its scope: the model variable, function or class.
        selu = {r.scope for r in out if r.activation is not None and r.activation.family == "selu"}
        for _, layer in self.dropouts:
            out.append(LayerRecord(
                name=f"{layer.scope}.{layer.name}", kind=DROPOUT_LAYERS[layer.cls], framework="keras",
                origin=self._origin(layer), scope=layer.scope, selu_network=layer.scope in selu,
            ))
        return _dedupe(out)

    def _origin(self, layer: Layer):  # type: ignore[no-untyped-def]
        if layer.stmt is None:
            return self.source.origin(self.source.module)
        return self.source.origin(layer.stmt, layer.call)

    def _base(self, layer: Layer, fan_in: int | None, fan_out: int | None) -> LayerRecord:
        assert layer.spec is not None
        init = layer.init if isinstance(layer.init, InitSpec) else None
        return LayerRecord(
            name=f"{layer.scope}.{layer.name}", kind=layer.spec.kind, framework="keras",
            origin=self._origin(layer), fan_in=fan_in, fan_out=fan_out, init=init, scope=layer.scope,
            unresolved=layer.init if isinstance(layer.init, str) else "",
            extra={"kernel_arg": layer.spec.kernel_arg},
        )

    def _record(self, app: Application) -> LayerRecord:
        layer = app.layer
        record = self._base(layer, app.fan_in, app.fan_out)
        if self.overridden(app.fan_deps | layer.fan_deps):
            record = replace(record, fan_in=None, fan_out=None)  # a caller passes other sizes
        param = self.overridden(layer.init_deps)
        if param:
            reason = f"its activation or initializer comes from parameter {param!r}, which callers set"
            record = replace(record, unresolved=record.unresolved or reason)
        if layer.spec is not None and layer.spec.kind == "embedding":
            return replace(record, unresolved="")  # exempt from pairing: nothing to resolve
        if isinstance(layer.activation, str):
            return replace(record, unresolved=record.unresolved or layer.activation)
        if isinstance(layer.activation, Activation):
            act = replace(layer.activation, reaches_weight=self.reaches_weight(app.graph, app.node))
            return replace(record, activation=act)
        act, normalized, residual, reason = combine(self.consumers(app.graph, app.node, frozenset()))
        if act is None:
            return replace(record, unresolved=record.unresolved or reason)
        return replace(record, activation=act, normalized=normalized, residual_end=residual)

    def _unapplied(self, layer: Layer) -> LayerRecord:
        record = self._base(layer, None, None)
        if layer.spec is not None and layer.spec.kind == "embedding":
            return replace(record, unresolved="")
        if isinstance(layer.activation, Activation):
            return replace(record, activation=layer.activation)
        reason = layer.activation if isinstance(layer.activation, str) else "the layer is never applied in this file"
        return replace(record, unresolved=record.unresolved or reason)


MISSING_ARG = object()


def _plain_literal(expr: cst.BaseExpression | None) -> object:
    """A parameter default as a Python value (plain literals only), else MISSING."""
    if expr is None:
        return MISSING
    if isinstance(expr, cst.Integer):
        return int(expr.evaluated_value)
    if isinstance(expr, cst.Float):
        return float(expr.evaluated_value)
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value
    if isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"):
        return {"None": None, "True": True, "False": False}[expr.value]
    if isinstance(expr, (cst.Tuple, cst.List)):
        items = tuple(_plain_literal(e.value) for e in expr.elements)
        return MISSING if MISSING in items else items
    return MISSING


def combine(found: list[Consumer]) -> tuple[Activation | None, bool, bool, str]:
    """All the ways an output is consumed, as one activation (or the reason there is none)."""
    if not found:
        return None, False, False, "consumer not found"
    for c in found:
        if c.act is None:
            return None, False, False, c.reason
    acts = [c.act for c in found if c.act is not None]
    kinds = {(a.family, a.slope) for a in acts}
    if len(kinds) > 1:
        names = sorted({a.name for a in acts})
        return None, False, False, f"consumed by different activations ({', '.join(names)})"
    act = replace(acts[0], reaches_weight=any(a.reaches_weight for a in acts))
    # A normalization on any path lowers the findings: the lenient reading (precision first).
    return act, any(c.normalized for c in found), any(c.residual for c in found), ""


def _dedupe(items: list[LayerRecord]) -> list[LayerRecord]:
    """One record per construction site: a loop or a shared layer applied twice is one layer."""
    groups: dict[tuple[object, ...], list[LayerRecord]] = {}
    for r in items:
        groups.setdefault((r.origin.line, r.origin.column, r.kind, r.name), []).append(r)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        if len({r.fan_in for r in group}) > 1:
            first = replace(first, fan_in=None)  # e.g. a loop: the first iteration's input differs
        if len({r.fan_out for r in group}) > 1:
            first = replace(first, fan_out=None)
        acts = {(r.activation.family, r.activation.slope) if r.activation else None for r in group}
        reasons = [r.unresolved for r in group if r.unresolved]
        if reasons:
            first = replace(first, activation=None, unresolved=reasons[0])
        elif len(acts) > 1:
            first = replace(first, activation=None, unresolved="consumed by different activations on different uses")
        else:
            first = replace(first, normalized=any(r.normalized for r in group),
                            residual_end=any(r.residual_end for r in group),
                            selu_network=any(r.selu_network for r in group))
        out.append(first)
    return out


def _star_keras(body: object) -> bool:
    """``from keras.layers import *`` (or tf.keras): bare names then count as Keras."""
    for stmt in body:  # type: ignore[attr-defined]
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    module = dotted(small.module) if small.module is not None else ""
                    if module and module.split(".")[0] in ("keras", "tensorflow", "tf_keras"):
                        return True
    return False


def _module_consts(body: object) -> dict[str, cst.BaseExpression]:
    """Top-level ``NAME = expr`` bound exactly once."""
    seen: dict[str, cst.BaseExpression | None] = {}
    for stmt in body:  # type: ignore[attr-defined]
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
                self.bind(stmt.target, None)
            for _ in range(2):  # twice: what one iteration produces is consumed by the next
                self.walk(_suite(stmt.body))
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
            value = self.value(small.value)
            tensors = self.tensors(small.value) if not isinstance(value, int) else [value]
            if tensors:
                self.graph.add(Node("return", tuple(tensors)))
            elif isinstance(value, Layer) and value.role == "sequential":
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
                if flow.graph.kind == "module" and key in self.file.consts and flow.env[key] is None:
                    return MISSING  # type: ignore[return-value]  # a module constant: read its expression
                return flow.env[key]
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
        if isinstance(expr, cst.Integer):
            return int(expr.evaluated_value)
        if isinstance(expr, cst.Float):
            return float(expr.evaluated_value)
        if isinstance(expr, cst.SimpleString):
            return expr.evaluated_value
        if isinstance(expr, cst.Name) and expr.value in ("None", "True", "False"):
            return {"None": None, "True": True, "False": False}[expr.value]
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
                return self.graph.add(Node("unknown", tensors, what=f"consumed by {self.code(expr)}"))
            lit = self.literal(expr)
            return None if lit is MISSING else Lit(lit)
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
        if isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.BinaryOperation, cst.Subscript)):
            value = self.value(expr)
            return [value] if isinstance(value, int) else []
        return []

    def unknown(self, expr: cst.BaseExpression, value: Value, extra: Value = None) -> int | None:
        """A node for an operation the analysis does not model, on the tensors it uses."""
        tensors = [v for v in (value, extra) if isinstance(v, int)]
        if not tensors:
            return None
        return self.graph.add(Node("unknown", tuple(tensors), what=f"consumed by {self.code(expr)}"))

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
            if isinstance(unit, cst.ClassDef) or self.file.unit_kinds.get(bound.name) in ("model", "layer", "other"):
                return self.construct(call)
            return self.unit_call(bound.name, call)
        if _is_super_init(func):
            self.model_outputs(call)
            return None
        cls = self.keras_name(func)
        if cls is None:
            return self.unknown_call(call)
        if cls in INPUT_CALLS and cls == "Input":
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
        func = dotted(call.func) or self.code(call.func)
        if not tensors:
            return None
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
        layer = new("unknown", cls)
        layer.name = self.layer_name(call, cls)
        if cls in WEIGHT_LAYERS:
            self.weight_layer(layer, WEIGHT_LAYERS[cls])
        elif cls == "Activation":
            arg = _arg(call, "activation", 0)
            self.deps = set()
            layer.activation = self.activation(arg) if arg is not None else "Activation() without argument"
            layer.init_deps = frozenset(self.deps)
            layer.role = "act" if layer.activation is not None else "pass"
        elif cls in ACTIVATION_LAYERS:
            layer.role, layer.activation = "act", self.activation_layer(cls, call)
        elif cls in NORM_LAYERS:
            layer.role = "norm"
        elif cls in DROPOUT_LAYERS:
            layer.role = "dropout"
        elif cls in ADD_LAYERS:
            layer.role = "add"
        elif cls in PASS_LAYERS:
            layer.role = "pass"
            layer.geometry = {"target_shape": self.literal(_arg(call, "target_shape", 0)),
                              "keepdims": self.literal(_arg(call, "keepdims", -1))}
        elif cls == "InputLayer":
            layer.role = "input"
            layer.input_shape = self.input_shape(call) or _input_shape_kw(self, call)
        elif cls in SEQUENTIAL:
            layer.role = "sequential"
            layer.name = ""
            layer.standalone_ok = self.graph.kind in ("function", "module")
            items = _arg(call, "layers", 0)
            if items is not None:
                for element in _elements(items):
                    layer.items += self.sequential_items(element, layer)
            self.sequentials.append(layer)
        return layer

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
        for key in ("groups", "depth_multiplier", "padding", "strides", "data_format", "input_dim"):
            if key not in geometry:
                geometry[key] = self.literal(_arg(call, key, -1))
        layer.geometry = geometry
        layer.input_shape = _input_shape_kw(self, call)
        if layer.input_shape is None and isinstance(geometry.get("input_dim"), int) and spec.geometry == "dense":
            layer.input_shape = (geometry["input_dim"],)  # type: ignore[assignment]
        layer.fan_deps = frozenset(self.deps)
        self.deps = set()
        act = _arg(call, "activation", spec.params.index("activation") if "activation" in spec.params else -1)
        layer.activation = self.activation(act) if act is not None else None
        init = _arg(call, spec.kernel_arg, -1)
        layer.init = self.initializer(init) if init is not None else keras_init.default_spec(spec.kernel_arg)
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
            fan_in, fan_out, out = _fans(layer, shape)
            before = frozenset().union(*(graph.nodes[i].deps or NO_DEPS for i in inputs))
            nid = graph.add(Node("weight", inputs, out, layer=layer, deps=before | layer.fan_deps))
            self.file.applications.append(Application(graph, nid, layer, fan_in, fan_out, before))
            return nid
        if layer.role == "act":
            return graph.add(Node("act", inputs, shape, act=layer.activation, layer=layer))
        if layer.role == "norm":
            return graph.add(Node("norm", inputs, shape))
        if layer.role == "dropout":
            self.file.dropouts.append((graph, layer))
            return graph.add(Node("dropout", inputs, shape))
        if layer.role == "add":
            return graph.add(Node("add", inputs, shape))
        if layer.role == "pass":
            return graph.add(Node("pass", inputs, _pass_shape(layer, [graph.nodes[i].shape for i in inputs])))
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
            return self.named_activation(expr.evaluated_value, self.code(expr))
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
            name = expr.evaluated_value
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
    return fn() if fn else MISSING


def _ints(value: object, rank: int) -> tuple[int, ...] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * rank
    if isinstance(value, tuple) and len(value) == rank and all(isinstance(v, int) for v in value):
        return value  # type: ignore[return-value]
    return None


def _fans(layer: Layer, shape: Shape) -> tuple[int | None, int | None, Shape]:
    """(fan_in, fan_out, output shape) by Keras' compute_fans on the layer's kernel layout."""
    spec, g = layer.spec, layer.geometry
    assert spec is not None
    if (shape is None or not shape) and layer.input_shape:
        shape = layer.input_shape
    channels_first = g.get("data_format") == "channels_first"
    cin = shape[-1] if shape and not channels_first else None
    lead: tuple[int | None, ...] = tuple(shape[:-1]) if shape else (None,)

    def count(key: str, default: object = MISSING) -> int | None:
        value = g.get(key, MISSING)
        value = default if value in (MISSING, None) else value
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    if spec.geometry == "dense":
        units = count("units")
        return cin, units, lead + (units,)
    if spec.geometry == "embedding":
        return None, None, (shape or (None,)) + (count("output_dim"),)
    if spec.geometry == "einsum":
        return None, None, None
    kernel = _ints(g.get("kernel_size"), spec.rank)
    rf = math.prod(kernel) if kernel else None
    spatial = lead if g.get("padding") == "same" and g.get("strides") in (MISSING, None, 1, (1,) * spec.rank) else (
        tuple(None for _ in lead))
    filters = count("filters")
    if spec.geometry == "conv":
        groups = count("groups", 1)
        fi = cin // groups * rf if cin and groups and rf else None
        fo = filters * rf if filters and rf else None
        return fi, fo, spatial + (filters,)
    if spec.geometry == "transpose":
        fi = filters * rf if filters and rf else None
        fo = cin * rf if cin and rf else None
        return fi, fo, tuple(None for _ in lead) + (filters,)
    dm = count("depth_multiplier", 1)
    if spec.geometry == "depthwise":
        fi = cin * rf if cin and rf else None
        fo = dm * rf if dm and rf else None
        return fi, fo, spatial + (cin * dm if cin and dm else None,)
    # separable: the pointwise (1x1) kernel, (in*dm) -> filters
    fi = cin * dm if cin and dm else None
    return fi, filters, spatial + (filters,)


def _pass_shape(layer: Layer, shapes: list[Shape]) -> Shape:
    shape = shapes[0] if shapes else None
    cls = layer.cls
    if cls == "Concatenate":
        lasts = [s[-1] if s else None for s in shapes]
        if all(isinstance(v, int) for v in lasts) and shape:
            return tuple(None for _ in shape[:-1]) + (sum(lasts),)  # type: ignore[arg-type]
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
    if "Pool" in cls or cls.startswith(("ZeroPadding", "Cropping", "UpSampling")):
        return tuple(None for _ in shape[:-1]) + (shape[-1],)
    if cls == "Permute":
        return None
    return shape
