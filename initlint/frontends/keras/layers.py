"""Keras source frontend: Keras 3 / tf.keras 2 model code -> LayerRecords, by reading libcst trees by hand.

Every function, model class and the module body is read as a small data-flow
graph: nodes are layer applications (``Dense(64)(x)``, ``self.fc(x)``, the
items of a ``Sequential``), activation functions (``tf.nn.relu(x)``), residual
sums (``layers.Add()([x, y])``, ``x + y``), model outputs and returns. A weight
layer's consumer is found by following its output through normalization
(marks ``normalized``), pooling/dropout/reshape (transparent) and residual sums
(marks ``residual_end``) to the first activation, the next weight layer
(``linear``) or the model output (``linear`` head), into helpers, methods and
block classes (of this file or the project) and back out to their callers
(:mod:`.consumers`). A layer's activation and initializer are read on every
construction path of its unit in the project (:mod:`.paths`, SPEC 8.32).
Anything else is unresolved, with the reason.

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
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace


from ...records import Activation, InitSpec, LayerRecord, Origin
from ...settings import Settings
from ..python.source import SourceFile
from .context import KerasProject
from .consumers import Consumer, Consumers, alternatives, combine
from .dims import dimensional_init
from .flow import read
from .graph import Application, Graph, Layer, Sym
from .paths import Decision, Paths
from .program import Program, TopLevel
from .tables import DROPOUT_LAYERS, may_record


Agreement = Callable[[Sequence[LayerRecord], Settings], bool]  # whether the rules say the same of each record


def records(source: SourceFile, project: KerasProject | None = None, agree: Agreement | None = None) -> list[LayerRecord]:
    """One record per Keras weight layer (and per Dropout site) of the file (``project``: the rest, SPEC 8.32).

    ``agree`` (the engine's :func:`~initlint.engine.same_judgement`): a layer whose output reaches
    consumers of different activations is judged when the rules say the same whichever is taken.
    """
    if not may_record(source.text):
        return []
    return KerasFile(source, project, agree).records()


# -- the file -------------------------------------------------------------------------------


class KerasFile:
    """One module read into graphs (by :func:`.flow.read`), its consumers resolved into records."""

    def __init__(self, source: SourceFile, project: KerasProject | None = None, agree: Agreement | None = None) -> None:
        self.source = source
        self.agree = agree
        opener = (lambda module: other_program(project, source.settings, module)) if project is not None else None
        memo = _programs(project) if project is not None else None
        read_before = memo.get(project.module) if memo is not None and project is not None else None
        if read_before is not None and read_before.top is not None and read_before.top.source.module is source.module:
            self.program = read_before  # read from this very parse as another file's context: read once
            self.top = read_before.top
        else:
            self.top = TopLevel.scan(source, project, opener)
            self.program = read(self.top)
        if memo is not None and memo.get(self.top.module) is None:  # the other files read this one from here on
            _keep(memo, self.top.module, self.program)
        self.paths = Paths(self.program, self.top.module, project, opener)
        self.consumers = Consumers(self.paths)

    # -- records --------------------------------------------------------------------------

    def records(self) -> list[LayerRecord]:
        """One record per weight layer built (applied or not) and per Dropout, one per construction site."""
        program = self.program
        built = [self._record(app) for app in program.applications]
        applied = {id(app.layer) for app in program.applications}
        for layer in program.layers:
            if layer.role == "weight" and id(layer) not in applied:
                built.append(self._unapplied(layer))
        out = _dedupe(built, self._agrees)
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

    def _base(self, layer: Layer, fan_in: int | Sym | None, fan_out: int | Sym | None,
              before: Layer | None = None) -> tuple[LayerRecord, Decision]:
        assert layer.spec is not None
        decision = self.paths.decided(layer)
        if decision.init_only:
            sized = dimensional_init(layer, before)  # std = dim ** -0.5 with dim a fan of the layer
            if sized is not None:
                decision = replace(decision, init=sized, reason="", init_only=False)
        init = decision.init if isinstance(decision.init, InitSpec) else None
        if init is not None and decision.callers and not init.note and init.source != "default":  # SPEC 8.32
            init = replace(init, note=f"as built by {', '.join(decision.callers)}")
        fan_in, fan_out, unit = record_fans(fan_in, fan_out)
        record = LayerRecord(
            name=f"{layer.scope}.{layer.name}", kind=layer.spec.kind, framework="keras",
            origin=self._origin(layer), fan_in=fan_in, fan_out=fan_out, fan_unit=unit, init=init, scope=layer.scope,
            unresolved=decision.reason, kernel_arg=layer.spec.kernel_arg,
        )
        return record, decision

    def _record(self, app: Application) -> LayerRecord:
        layer = app.layer
        before = self.upstream(app.graph, app.node)
        record, decision = self._base(layer, app.fan_in, app.fan_out, before)
        record = replace(record, traced=True, upstream=self._origin(before) if before is not None else None)
        if self.paths.overridden(app.fan_deps | layer.fan_deps):
            record = replace(record, fan_in=None, fan_out=None, fan_unit="")  # a caller passes other sizes
        if layer.spec is not None and layer.spec.kind == "embedding":
            return replace(record, unresolved="")  # exempt from pairing: nothing to resolve
        if record.unresolved:
            return record
        if isinstance(decision.act, Activation):
            act = replace(decision.act, reaches_weight=self.consumers.reaches_weight(app.graph, app.node))
            return replace(record, activation=act)
        found = self.consumers.of(app.graph, app.node)
        act, normalized, residual, reason = combine(found)
        if act is None:
            return self._settled(record, found) or replace(record, unresolved=record.unresolved or reason)
        return replace(record, activation=act, normalized=normalized, residual_end=residual)

    def _settled(self, record: LayerRecord, found: list[Consumer]) -> LayerRecord | None:
        """A layer whose output reaches several consumers, judged as one where every one draws the same verdict."""
        if any(c.act is None for c in found):
            return None
        options = [replace(record, activation=act, normalized=norm, residual_end=res)
                   for act, norm, res in alternatives(found)]
        return options[0] if len(options) > 1 and self._agrees(options) else None

    def _agrees(self, options: Sequence[LayerRecord]) -> bool:
        return self.agree is not None and self.agree(options, self.source.settings)

    def upstream(self, graph: Graph, nid: int) -> Layer | None:
        """The weight layer whose output reaches this one through activations and transparent ops only (SPEC 8.34).

        None at a normalization, a merge of branches, a residual sum, or anything else on the way.
        """
        found: set[int] = set()
        layers: list[Layer] = []
        todo = list(graph.nodes[nid].inputs)
        while todo:
            n = todo.pop()
            if n in found:
                continue
            found.add(n)
            node = graph.nodes[n]
            if node.op == "weight" and node.layer is not None:
                layers.append(node.layer)
            elif node.op in ("act", "pass", "dropout"):
                todo += node.inputs
            else:
                return None
        return layers[0] if len(set(map(id, layers))) == 1 else None

    def _unapplied(self, layer: Layer) -> LayerRecord:
        record, decision = self._base(layer, None, None)
        record = replace(record, traced=True)
        if layer.spec is not None and layer.spec.kind == "embedding":
            return replace(record, unresolved="")
        if record.unresolved:
            return record
        if isinstance(decision.act, Activation):
            return replace(record, activation=decision.act)
        return replace(record, unresolved="the layer is never applied in this file")


MAX_OPEN = 128  # other files' programs kept read per project


def other_program(project: KerasProject, settings: Settings, module: str) -> Program | None:
    """Another project module read into its graphs (once per project; None while it is being read, or unreadable)."""
    memo = _programs(project)
    if module in memo:
        memo.move_to_end(module)
        return memo[module]  # type: ignore[no-any-return]
    memo[module] = None  # a cycle of files reading each other ends here
    view = project.other(module)
    found = project.parse(module) if view is not None else None
    program = None
    if view is not None and found is not None:
        source = SourceFile(*found, settings)
        program = read(TopLevel.scan(source, view, lambda m: other_program(project, settings, m)))
    _keep(memo, module, program)
    return program


def _programs(project: KerasProject) -> OrderedDict[str, Program | None]:
    """The programs of the project's modules read so far (the most recently used last)."""
    memo = project.memo.setdefault("keras-programs", OrderedDict())
    assert isinstance(memo, OrderedDict)
    return memo


def _keep(memo: OrderedDict[str, Program | None], module: str, program: Program | None) -> None:
    memo[module] = program
    if len(memo) > MAX_OPEN:
        memo.popitem(last=False)


def _dedupe(items: list[LayerRecord], agree: Callable[[Sequence[LayerRecord]], bool] | None = None) -> list[LayerRecord]:
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
        if len({(r.fan_in, r.fan_unit) for r in group}) > 1:
            first = replace(first, fan_in=None)  # e.g. a loop: the first iteration's input differs
        if len({(r.fan_out, r.fan_unit) for r in group}) > 1:
            first = replace(first, fan_out=None)
        if first.fan_unit and (first.fan_in is None or first.fan_out is None):
            first = replace(first, fan_in=None, fan_out=None, fan_unit="")  # one multiple alone says nothing
        if len({r.upstream for r in group}) > 1:
            first = replace(first, upstream=None)
        acts = {(r.activation.family, r.activation.slope) if r.activation else None for r in group}
        reasons = [r.unresolved for r in group if r.unresolved]
        if reasons:
            first = replace(first, activation=None, unresolved=reasons[0])
        elif len(acts) > 1:
            first = _agreed(first, group, agree) or replace(
                first, activation=None, unresolved="consumed by different activations on different uses")
        else:
            first = replace(first, normalized=any(r.normalized for r in group),
                            residual_end=any(r.residual_end for r in group),
                            selu_network=any(r.selu_network for r in group))
        out.append(first)
    return out


def _agreed(first: LayerRecord, group: list[LayerRecord],
            agree: Callable[[Sequence[LayerRecord]], bool] | None) -> LayerRecord | None:
    """One site applied several times with different consumers, judged as one where each use draws the same verdict."""
    if agree is None:
        return None
    name = "/".join(sorted({n for r in group if r.activation is not None for n in r.activation.name.split("/")}))
    options = [replace(r, activation=replace(r.activation, name=name), fan_in=first.fan_in, fan_out=first.fan_out,
                       upstream=first.upstream) for r in group if r.activation is not None]
    return options[0] if agree(options) else None


def record_fans(fan_in: int | Sym | None, fan_out: int | Sym | None) -> tuple[int | None, int | None, str]:
    """Fans for a record: numbers; or, both multiples of one parameter ``d``, the integer multiples and ``d``
    (``d/2`` where a multiple is a half); a multiple beside a number or another parameter is unknown."""
    if isinstance(fan_in, Sym) and isinstance(fan_out, Sym) and fan_in.key == fan_out.key:
        den = math.lcm(fan_in.coef.denominator, fan_out.coef.denominator)
        name = fan_in.key[2] if den == 1 else f"{fan_in.key[2]}/{den}"
        return int(fan_in.coef * den), int(fan_out.coef * den), name
    return (fan_in if isinstance(fan_in, int) else None), (fan_out if isinstance(fan_out, int) else None), ""
