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

from dataclasses import dataclass, replace

import libcst as cst

from ...records import Activation, InitSpec, LayerRecord, Origin
from ..python.source import SourceFile
from .flow import read
from .graph import MISSING, Application, Deps, Graph, Layer, Node, Param, scalar
from .program import TopLevel
from .tables import DROPOUT_LAYERS

NEXT_LAYER = Activation("linear", "linear", reaches_weight=True)  # output feeds the next weight layer directly
HEAD = Activation("linear", "linear", reaches_weight=False)  # model output


def records(source: SourceFile) -> list[LayerRecord]:
    """One record per Keras weight layer (and per Dropout site) of the file."""
    text = source.text
    if "keras" not in text and "tensorflow" not in text:
        return []
    return KerasFile(source).records()


@dataclass(frozen=True)
class Consumer:
    act: Activation | None = None
    normalized: bool = False
    residual: bool = False
    reason: str = ""

    def under(self, normalized: bool, residual: bool) -> Consumer:
        if (normalized and not self.normalized) or (residual and not self.residual):
            return Consumer(self.act, self.normalized or normalized, self.residual or residual, self.reason)
        return self


# -- the file -------------------------------------------------------------------------------


class KerasFile:
    """One module read into graphs (by :func:`.flow.read`), its consumers resolved into records."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.top = TopLevel.scan(source)
        self.program = read(self.top)

    # -- consumers ------------------------------------------------------------------------

    def consumers(self, graph: Graph, nid: int) -> list[Consumer]:
        """Every way the output of node ``nid`` is consumed (all must agree to resolve).

        A search over (graph, node, normalized, residual) states: through normalization
        (marks normalized), transparent ops and residual sums (marks residual), out of a
        unit's return into every call site in this file, and into a helper's body through
        the parameter a tensor is passed as. Each state is visited once, so recursion and
        loops cost nothing extra.
        """
        found: dict[Consumer, None] = {}
        seen: set[tuple[int, int, bool, bool]] = set()
        todo = [(graph, nid, False, False)]
        while todo:
            g, n, normalized, residual = todo.pop()
            state = (id(g), n, normalized, residual)
            if state in seen:
                continue
            seen.add(state)
            users = g.users(n)
            if not users and (g is not graph or n != nid) and g.nodes[n].op == "phi":
                continue  # a name merged after a branch and never used again says nothing
            if not users:
                found[Consumer(reason="its output is not used in this file")] = None
            for uid in users:
                node = g.nodes[uid]
                flags = (normalized or node.op == "norm", residual or node.op == "add")
                for item in self._step(g, uid, node, n):
                    if isinstance(item, Consumer):
                        found[item.under(*flags)] = None
                    else:
                        todo.append((item[0], item[1], *flags))
        return list(found)

    def _step(self, graph: Graph, uid: int, node: Node, nid: int) -> list[Consumer | tuple[Graph, int]]:
        """What one user of a tensor is: a final consumer, or where the search goes on."""
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
        if op in ("norm", "pass", "dropout", "add", "phi"):
            return [(graph, uid)]
        if op == "output":
            return [Consumer(HEAD)]
        if op == "return":
            return self.returned(graph.unit)
        if op == "unit":
            return [step for param, src in zip(node.params, node.inputs) if src == nid
                    for step in self.passed(node.unit, param)]
        if node.expr is not None:
            return [Consumer(reason=f"consumed by {self.top.code(node.expr)}")]
        return [Consumer(reason=node.what or "consumed by code the analysis does not follow")]

    def returned(self, unit: str) -> list[Consumer | tuple[Graph, int]]:
        """What ``unit`` returns is consumed at its call sites in this file."""
        sites = self.program.sites.get(unit, [])
        if sites:
            return list(sites)
        if self.program.unit_kinds.get(unit) == "model":
            return [Consumer(HEAD)]
        return [Consumer(reason=f"returned by {unit}() and not consumed in this file")]

    def passed(self, unit: str, param: str) -> list[Consumer | tuple[Graph, int]]:
        """A tensor passed to ``unit`` as ``param`` is consumed in its body."""
        graph = self.program.graphs.get(unit)
        if graph is not None and param.startswith("#"):
            index = int(param[1:])  # positional: named by the callee's signature, known once it is read
            param = graph.call_params[index] if index < len(graph.call_params) else param
        if graph is None or param not in graph.params:
            return [Consumer(reason=f"passed to {unit}() as {param or 'an argument'}")]
        return [(graph, graph.params[param])]

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
            params = self.program.signatures.get(unit, ())
            index = next((i for i, p in enumerate(params) if p.name == name), None)
            default = next((p for p in params if p.name == name), None)
            if default is None:
                continue
            for args in self.program.site_args.get(unit, []):
                passed = args.get(name, args.get(f"#{index}", MISSING_ARG))
                if passed is not MISSING_ARG and (passed is MISSING or passed != self.default_value(default)):
                    return name
        return ""

    def default_value(self, param: Param) -> object:
        return _plain_literal(param.default)

    # -- records --------------------------------------------------------------------------

    def records(self) -> list[LayerRecord]:
        """One record per weight layer built (applied or not) and per Dropout, one per construction site."""
        program = self.program
        built = [self._record(app) for app in program.applications]
        applied = {id(app.layer) for app in program.applications}
        for layer in program.layers:
            if layer.role == "weight" and id(layer) not in applied:
                built.append(self._unapplied(layer))
        out = _dedupe(built)
        # The network a Dropout belongs to is its scope: the model variable, function or class.
        selu = {r.scope for r in out if r.activation is not None and r.activation.family == "selu"}
        for _, layer in program.dropouts:
            out.append(LayerRecord(
                name=f"{layer.scope}.{layer.name}", kind=DROPOUT_LAYERS[layer.cls], framework="keras",
                origin=self._origin(layer), scope=layer.scope, selu_network=layer.scope in selu,
            ))
        return _dedupe(out)

    def _origin(self, layer: Layer) -> Origin:
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
            kernel_arg=layer.spec.kernel_arg,
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
        act, normalized, residual, reason = combine(self.consumers(app.graph, app.node))
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
    value = scalar(expr)
    if value is not MISSING:
        return value
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

