"""The ONNX frontend: weight layers of a graph, their measured initializers and consumers.

Weight layers are ``Gemm`` (``transB`` respected), ``MatMul`` with a 2-D constant operand
(also through ``Transpose``/``Cast``/``Identity``), ``Conv`` and ``ConvTranspose``. Fans use
the PyTorch-compatible convention on the stored tensor (INIT_REFERENCE 6.1):

* Gemm weight B: ``transB=1`` (N, K) gives fan_in = K, fan_out = N; ``transB=0`` (K, N) the reverse;
* MatMul ``x @ W`` with W (K, N): fan_in = K, fan_out = N (``W @ x`` with W (M, K): fan_in = K);
* Conv W (M, C/group, k...): fan_in = C/group * prod(k), fan_out = M * prod(k);
* ConvTranspose W (C, M/group, k...): fan_in = M/group * prod(k), fan_out = C * prod(k),
  as PyTorch computes it from the same storage.

Each layer's output is followed through bias ``Add``, reshapes, transposes, dropout,
identity, casts, pooling and normalization (marked ``normalized``) to the first
activation op or exporter pattern (SiLU = x*Sigmoid(x), erf and tanh GELU, Mish,
softsign); the next weight layer or a graph output means ``linear``. Branches that
disagree, a constant factor before the activation (or ``Gemm`` ``alpha != 1``), a quantized
weight, an inconclusive measurement and weight ops inside ``If``/``Loop``/``Scan`` bodies
leave the layer unresolved, with the reason. The weights are measured (``initlint.measure``)
on a bounded sample, so the time grows with the number of layers, not parameters.
"""

from __future__ import annotations

import os
import warnings
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import onnx

from ...formulas import torch_fans
from ...measure import Agreement, as_trained, infer, trained_majority
from ...records import Activation, FileResult, GraphNode, InitSpec, LayerRecord, Origin, Signal
from ...rulebook import activation_family
from ...settings import Settings
from .tensors import BadModel, Tensors, load

WEIGHT_OPS = {"Gemm": "linear", "MatMul": "linear", "Conv": "conv", "ConvTranspose": "conv_transpose"}
# Ops a weight passes through on its way into a layer (the value is unchanged up to layout/dtype).
WEIGHT_PATH = frozenset({"Identity", "Cast", "CastLike", "Transpose"})
QUANTIZED = frozenset({"DequantizeLinear", "DynamicQuantizeLinear", "QuantizeLinear"})
# Ops between a layer and its activation that do not change which activation consumes it.
TRANSPARENT = frozenset({
    "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Dropout", "Identity", "Cast",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool", "Pad", "Concat",
    "Upsample", "Resize", "DepthToSpace", "SpaceToDepth", "CastLike",
})
# Ops that pass on part of their first input (a class token, a slice of the sequence): transparent for it.
SELECTING = frozenset({"Gather", "Slice", "Split"})
NORMALIZATION = frozenset({
    "BatchNormalization", "LayerNormalization", "InstanceNormalization", "GroupNormalization",
    "RMSNormalization", "SimplifiedLayerNormalization", "LpNormalization", "MeanVarianceNormalization",
})
# Ops that read only a tensor's shape: they do not consume its values.
SHAPE_ONLY = frozenset({"Shape", "Size"})
# Generated names that say nothing: dynamo's node_Gemm_26 / val_128, the legacy exporter's onnx::Conv_12.
GENERIC_NAME = re.compile(r"^(node_)?[A-Z][A-Za-z]*(_\d+)?$|^val_\d+$|^onnx::[A-Za-z]+_\d+$")
# ONNX activation op -> activation name as the rulebook knows it.
ACTIVATIONS = {
    "Relu": "ReLU", "LeakyRelu": "LeakyReLU", "PRelu": "PReLU", "Elu": "ELU", "Celu": "CELU",
    "Selu": "SELU", "Gelu": "GELU", "Sigmoid": "Sigmoid", "HardSigmoid": "Hardsigmoid", "Tanh": "Tanh",
    "Softmax": "Softmax", "LogSoftmax": "LogSoftmax", "Softsign": "Softsign", "HardSwish": "Hardswish",
    "Mish": "Mish", "ThresholdedRelu": "ThresholdedReLU", "Swish": "SiLU",
}
# Clip(min, max) bounds that are a known activation.
CLIPS = {(0.0, 6.0): "ReLU6", (-1.0, 1.0): "Hardtanh", (0.0, None): "ReLU"}
MAX_STEPS = 64


@dataclass(frozen=True)
class Consumer:
    """Where a layer's output goes: an activation, or why it is unknown."""

    activation: Activation | None
    normalized: bool = False
    residual: bool = False
    reason: str = ""
    out: str = ""  # the activation op's output tensor (dead-unit counting under --propagate)


# Exporters whose models carry one framework's initializers (torch.onnx; tf2onnx/keras2onnx convert Keras/TF).
EXPORTERS = {"pytorch": "torch", "tf2onnx": "keras", "keras2onnx": "keras"}


@dataclass
class Graph:
    """Indexes of one ONNX graph."""

    model: onnx.ModelProto
    tensors: Tensors
    producer: dict[str, onnx.NodeProto] = field(default_factory=dict)
    consumers: dict[str, list[onnx.NodeProto]] = field(default_factory=lambda: defaultdict(list))
    outputs: frozenset[str] = frozenset()
    resolved: dict[tuple[str, bool, bool], Consumer] = field(default_factory=dict)
    layers: dict[int, WeightLayer | None] = field(default_factory=dict)

    def layer(self, node: onnx.NodeProto) -> WeightLayer | None:
        """The weight layer a node is (memoized: the consumer walks ask often)."""
        if id(node) not in self.layers:
            self.layers[id(node)] = weight_layer(self, node)
        return self.layers[id(node)]

    @classmethod
    def build(cls, model: onnx.ModelProto, tensors: Tensors) -> Graph:
        g = cls(model, tensors, outputs=frozenset(o.name for o in model.graph.output))
        for node in model.graph.node:
            for name in node.output:
                g.producer[name] = node
            for name in node.input:
                if name:
                    g.consumers[name].append(node)
        return g

    @property
    def framework(self) -> str:
        """Whose initializers to test the weights against: the exporter's (``producer_name``), else both."""
        return EXPORTERS.get(self.model.producer_name.lower(), "onnx")

    def is_const(self, name: str) -> bool:
        return name in self.tensors

    def attr(self, node: onnx.NodeProto, name: str, default: object = None) -> object:
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def constant(self, name: str) -> float | None:
        """A constant input's value, looking through Cast/Identity."""
        node = self.producer.get(name)
        while node is not None and node.op_type in ("Cast", "Identity") and name not in self.tensors:
            name = node.input[0]
            node = self.producer.get(name)
        return self.tensors.scalar(name)


# --------------------------------------------------------------------------- weight layers


@dataclass(frozen=True)
class WeightLayer:
    node: onnx.NodeProto
    weight: str  # the constant tensor holding the weights
    operand: str  # the node input the weight arrives through
    fan_in: int
    fan_out: int
    shape: tuple[int, ...]  # as the node sees it (after any Transpose on the way)
    perm: tuple[int, ...] | None = None  # stored tensor -> operand axes, when a Transpose sits between
    unresolved: str = ""


Perm = tuple[int, ...]


def weight_source(g: Graph, name: str) -> tuple[str | None, Perm | None, str]:
    """Follow a weight operand back to its constant: (tensor name, axes permutation on the way, problem).

    The operand equals ``stored.transpose(perm)``; walking back through Transpose(p) turns
    perm into ``[p[i] for i in perm]``.
    """
    perm: Perm | None = None
    for _ in range(8):
        if g.is_const(name):
            return name, perm, ""
        node = g.producer.get(name)
        if node is None:
            return None, perm, ""
        if node.op_type in QUANTIZED:
            return None, perm, f"quantized weight ({node.op_type})"
        if node.op_type not in WEIGHT_PATH:
            return None, perm, ""
        if node.op_type == "Transpose":
            given = g.attr(node, "perm")
            rank = len(g.tensors.shape(node.input[0])) if g.is_const(node.input[0]) else len(perm or given or ())
            p = tuple(given) if given else tuple(reversed(range(rank)))  # type: ignore[arg-type]
            perm = tuple(p[i] for i in perm) if perm else p
        name = node.input[0]
    return None, perm, ""


def _operand_shape(g: Graph, name: str, perm: Perm | None) -> tuple[int, ...] | None:
    shape = g.tensors.shape(name)
    if perm is None:
        return shape
    if sorted(perm) != list(range(len(shape))):
        return None
    return tuple(shape[i] for i in perm)


def _dense_fans(shape: tuple[int, ...], weight_is_right: bool) -> tuple[int, int]:
    """(fan_in, fan_out) of a 2-D matrix used as x @ W (right) or W @ x (left)."""
    return (shape[0], shape[1]) if weight_is_right else (shape[1], shape[0])


def computed(g: Graph, name: str) -> str:
    """Why a weight operand holds no stored tensor: a graph input or a computing op ("" otherwise)."""
    for _ in range(8):
        node = g.producer.get(name)
        if node is None:
            inputs = {i.name for i in g.model.graph.input}
            return "its weight is a graph input (not stored in the file)" if name in inputs else ""
        if node.op_type not in WEIGHT_PATH:
            return f"its weight is computed in the graph ({node.op_type})" if node.op_type in WEIGHT_MAKERS else ""
        name = node.input[0]
    return ""


# Ops that make a weight tensor inside the graph (rather than a stored initializer).
WEIGHT_MAKERS = frozenset({"ConstantOfShape", "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                           "Expand", "Tile", "EyeLike"})


def weight_layer(g: Graph, node: onnx.NodeProto) -> WeightLayer | None:
    """The weight layer a node is, or None (a data-only MatMul).

    A weight that is not stored (a graph input, a ``ConstantOfShape``) still makes a layer, unresolved with the reason.
    """
    op = node.op_type
    if op in ("Conv", "ConvTranspose"):
        if len(node.input) < 2:
            return None
        name, perm, problem = weight_source(g, node.input[1])
        if name is None:
            problem = problem or computed(g, node.input[1]) or "its weight is computed in the graph"
            return _unresolved(node, node.input[1], problem)
        shape = _operand_shape(g, name, perm)
        if shape is None or len(shape) < 3:
            return None
        fi, fo = torch_fans(shape)
        return WeightLayer(node, name, node.input[1], fi, fo, shape, perm)
    if op not in ("Gemm", "MatMul") or len(node.input) < 2:
        return None
    for index in (1, 0):  # the weight is usually the right operand
        name, perm, problem = weight_source(g, node.input[index])
        if problem:
            return _unresolved(node, node.input[index], problem)
        shape = _operand_shape(g, name, perm) if name is not None else None
        if name is None or shape is None or len(shape) != 2:
            continue
        alpha = float(g.attr(node, "alpha", 1.0)) if op == "Gemm" else 1.0  # type: ignore[arg-type]
        if alpha != 1.0:
            return _unresolved(node, name, f"Gemm alpha={alpha:g} scales the weight")
        flag = g.attr(node, "transB" if index == 1 else "transA", 0) if op == "Gemm" else 0
        fi, fo = _dense_fans(shape, (index == 1) != bool(flag))
        return WeightLayer(node, name, node.input[index], fi, fo, shape, perm)
    reason = computed(g, node.input[1])  # weights fed as graph inputs or made by ConstantOfShape
    return _unresolved(node, node.input[1], reason) if reason else None


def _unresolved(node: onnx.NodeProto, name: str, reason: str) -> WeightLayer:
    return WeightLayer(node, name, name, 0, 0, (), unresolved=reason)


# --------------------------------------------------------------------------- consumers


def _other(node: onnx.NodeProto, name: str) -> str | None:
    rest = [i for i in node.input if i and i != name]
    return rest[0] if len(rest) == 1 else None


def _is_weight_input(g: Graph, node: onnx.NodeProto, name: str) -> bool:
    """The tensor enters a weight layer as its data (not as its weight or bias)."""
    if node.op_type not in WEIGHT_OPS:
        return False
    layer = g.layer(node)
    data = [i for i in node.input[:2] if i != (layer.operand if layer else None)]
    return layer is not None and name in data


def _clip(g: Graph, node: onnx.NodeProto) -> str | None:
    lo = g.constant(node.input[1]) if len(node.input) > 1 and node.input[1] else g.attr(node, "min")
    hi = g.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else g.attr(node, "max")
    key = (None if lo is None else float(lo), None if hi is None else float(hi))  # type: ignore[arg-type]
    return CLIPS.get(key)


def _activation(g: Graph, node: onnx.NodeProto, name: str, settings: Settings) -> Activation | None:
    """An activation op as a rulebook Activation (slope from its attribute or PRelu's initializer)."""
    op = node.op_type
    label = _clip(g, node) if op == "Clip" else ACTIVATIONS.get(op)
    if label is None:
        return None
    if op == "Gelu" and g.attr(node, "approximate", b"none") in (b"tanh", "tanh"):
        label = "GELU(tanh)"
    family = activation_family(label.split("(")[0], settings.activations)
    if family is None:
        return None
    slope = 0.0
    if op == "LeakyRelu":
        slope = float(g.attr(node, "alpha", 0.01))  # type: ignore[arg-type]
    elif op == "PRelu" and len(node.input) > 1:
        slope = g.constant(node.input[1]) or 0.0
    reaches = reaches_weight(g, node.output[0]) if node.output else False
    return Activation(label if not slope else f"{label}({slope:.3g})", family, slope, reaches)


def _pattern(g: Graph, name: str, users: list[onnx.NodeProto]) -> str | None:
    """Exporter subgraphs that compute an activation of ``name`` (INIT_REFERENCE 4.4)."""
    ops = {u.op_type for u in users}
    muls = [u for u in users if u.op_type == "Mul"]
    for u in users:
        follow = [n.op_type for n in g.consumers.get(u.output[0], [])] if u.output else []
        if u.op_type == "Sigmoid" and any(u.output[0] in m.input for m in muls):
            return "SiLU"
        if u.op_type == "Softplus" and "Tanh" in follow:
            return "Mish"
        if u.op_type == "Abs" and "Div" in ops:
            return "Softsign"
        if u.op_type in ("Div", "Mul") and "Erf" in follow:
            return "GELU"
    cubes = [u for u in users if u.op_type == "Pow" or (u.op_type == "Mul" and list(u.input).count(name) == 2)]
    if cubes and ops <= {"Mul", "Pow", "Add", "Div"} and any(n.op_type == "Tanh" for n in _downstream(g, name, 5)):
        return "GELU(tanh)"  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return None


def _downstream(g: Graph, name: str, depth: int) -> list[onnx.NodeProto]:
    out: list[onnx.NodeProto] = []
    frontier = [name]
    for _ in range(depth):
        nxt = []
        for t in frontier:
            for n in g.consumers.get(t, []):
                out.append(n)
                nxt.extend(n.output)
        frontier = nxt
    return out


def reaches_weight(g: Graph, name: str, limit: int = 200) -> bool:
    """Whether a tensor flows into another weight layer (bounded search)."""
    return bool(_next_layers(g, name, limit))


def resolve(g: Graph, name: str, settings: Settings, steps: int = 0, normalized: bool = False,
            residual: bool = False) -> Consumer:
    """The activation that consumes tensor ``name`` (SPEC 5), memoized per graph."""
    key = (name, normalized, residual)
    if key not in g.resolved:
        g.resolved[key] = _resolve(g, name, settings, steps, normalized, residual)
    return g.resolved[key]


def _resolve(g: Graph, name: str, settings: Settings, steps: int, normalized: bool, residual: bool) -> Consumer:
    if steps > MAX_STEPS:
        return Consumer(None, reason="graph too deep to follow")
    users = [u for u in g.consumers.get(name, []) if u.op_type not in SHAPE_ONLY
             and not (u.op_type == "CastLike" and name not in u.input[:1])]  # CastLike's 2nd input: a type only
    here = dict(normalized=normalized, residual=residual)
    pattern = _pattern(g, name, users)
    if pattern is not None:
        family = activation_family(pattern.split("(")[0], settings.activations)
        act = Activation(pattern, family or "smooth", 0.0, reaches_weight(g, name))  # type: ignore[arg-type]
        return Consumer(act, **here)  # type: ignore[arg-type]
    branches: list[Consumer] = []
    if name in g.outputs:
        branches.append(Consumer(Activation("identity", "linear", reaches_weight=False), **here))
    for node in users:
        branches.append(_step(g, node, name, settings, steps, normalized, residual))
    if not branches:
        return Consumer(None, reason="output is never used")
    return _merge(branches)


def _step(g: Graph, node: onnx.NodeProto, name: str, settings: Settings, steps: int,
          normalized: bool, residual: bool) -> Consumer:
    """Where one consumer node leads: an activation, the next layer, through it, or nowhere known."""
    op = node.op_type
    here = dict(normalized=normalized, residual=residual)
    act = _activation(g, node, name, settings)
    if act is not None:
        return Consumer(act, out=node.output[0] if node.output else "", **here)
    if _is_weight_input(g, node, name):
        return Consumer(Activation("identity", "linear", reaches_weight=True), **here)
    nxt = node.output[0] if node.output else ""
    affine = normalized and op in ("Mul", "Add") and (other := _other(node, name)) is not None and g.is_const(other)
    selecting = op in SELECTING and node.input and node.input[0] == name  # a class token, a slice
    if affine or selecting:  # the affine part of a normalization, or part of the same signal
        return resolve(g, nxt, settings, steps + 1, normalized, residual)
    if op in ("Mul", "Div") and _other_const(g, node, name):
        factor = g.constant(_other(node, name) or "") or 0.0
        if abs(factor) != 1.0 and not normalized:  # the activation sees factor * W x: the weight scale alone no longer says
            return Consumer(None, reason=f"output is scaled by a constant ({op} {factor:.4g}) before its activation", **here)
        return resolve(g, nxt, settings, steps + 1, normalized, residual)
    if op in TRANSPARENT:
        return resolve(g, nxt, settings, steps + 1, normalized, residual)
    if op in NORMALIZATION:
        if residual:  # the residual stream is linear; past its next normalization it feeds weight layers
            return Consumer(Activation("identity", "linear", reaches_weight=True), normalized=True, residual=True)
        return resolve(g, nxt, settings, steps + 1, True, residual)
    if op in ("Add", "Sub"):
        other = _other(node, name)
        if other is not None and (g.is_const(other) or g.constant(other) is not None):
            return resolve(g, nxt, settings, steps + 1, normalized, residual)
        if op == "Add" and other is not None and residual:  # the next block's add: the stream itself is linear
            return Consumer(Activation("identity", "linear", reaches_weight=reaches_weight(g, nxt)), **here)
        if op == "Add" and other is not None:  # a skip connection: the sum's activation consumes both paths
            return resolve(g, nxt, settings, steps + 1, normalized, True)
    return Consumer(None, reason=f"output goes to {op} ({node.name or op}), which is not an activation", **here)


def _other_const(g: Graph, node: onnx.NodeProto, name: str) -> bool:
    other = _other(node, name)
    return other is not None and g.constant(other) is not None


def _merge(branches: list[Consumer]) -> Consumer:
    """One consumer for several branches: they must agree, else unresolved."""
    resolved = [b for b in branches if b.activation is not None]
    if len(resolved) < len(branches):
        failed = next(b for b in branches if b.activation is None)
        return failed if len(branches) == 1 else replace(failed, reason=f"one branch: {failed.reason}")
    kinds = {(b.activation.name, b.activation.family, b.activation.slope) for b in resolved if b.activation}
    if len(kinds) > 1:
        names = " vs ".join(sorted({k[0] for k in kinds}))
        return Consumer(None, reason=f"branches disagree: {names}")
    first = resolved[0]
    return replace(
        first,
        normalized=all(b.normalized for b in resolved),
        residual=any(b.residual for b in resolved),
        activation=replace(first.activation, reaches_weight=any(  # type: ignore[arg-type]
            b.activation.reaches_weight for b in resolved if b.activation)),
    )


# --------------------------------------------------------------------------- records


def _layer_name(layer: WeightLayer) -> str:
    """The node's name, or the weight's when the node's is generated (``node_Gemm_26``) and the weight's is not."""
    node = layer.node.name
    if node and not GENERIC_NAME.match(node):
        return node
    if layer.weight and not GENERIC_NAME.match(layer.weight):
        return layer.weight
    return node or layer.weight


def records(g: Graph, path: str, settings: Settings, sample: int = 65536,
            agree: Agreement | None = None) -> list[LayerRecord]:
    """One record per weight layer, in graph order."""
    scope = g.model.graph.name or "graph"
    layers = [wl for node in g.model.graph.node if (wl := g.layer(node)) is not None]
    out = []
    for layer in layers:
        out.append(_record(g, layer, path, scope, settings, sample, agree))
    return trained_file(chains(g, layers, _zero_chains(g, layers, out), scope)) + _subgraph_layers(g, path, scope)


def _sequential_next(g: Graph, name: str, limit: int = 200) -> set[int] | None:
    """ids of the weight layers a tensor reaches along one sequential path; None when a normalization,
    a residual merge or a graph output lies on the way (no chain through those: SPEC 8.34)."""
    found: set[int] = set()
    seen: set[str] = set()
    frontier = [name]
    while frontier and len(seen) < limit:
        t = frontier.pop()
        if t in seen:
            continue
        seen.add(t)
        if t in g.outputs:
            return None
        for n in g.consumers.get(t, []):
            if n.op_type in SHAPE_ONLY:
                continue
            if n.op_type in WEIGHT_OPS and g.layer(n) is not None:
                found.add(id(n))
            elif n.op_type in NORMALIZATION:
                return None
            elif n.op_type in ("Add", "Sub") and (other := _other(n, t)) is not None and not g.is_const(other) \
                    and g.constant(other) is None:
                return None
            else:
                frontier.extend(n.output)
    return found


def chains(g: Graph, layers: list[WeightLayer], recs: list[LayerRecord], scope: str) -> list[LayerRecord]:
    """Give the layers of one sequential chain a common scope, so compounded factors follow data flow (SPEC 8.34).

    Layer A links to layer B when A's output (through its activation, no normalization and no residual
    merge on the way) reaches B and only B, and B is reached that way from A only. Parallel branches and
    residual branches therefore never share a chain.
    """
    index = {id(layer.node): i for i, layer in enumerate(layers)}
    successor: dict[int, int] = {}
    for i, (layer, rec) in enumerate(zip(layers, recs)):
        if rec.normalized or rec.residual_end or not layer.node.output:
            continue
        nxt = _sequential_next(g, layer.node.output[0])
        if nxt is not None and len(nxt) == 1 and (j := index.get(next(iter(nxt)))) is not None:
            successor[i] = j
    preds: dict[int, list[int]] = defaultdict(list)
    for i, j in successor.items():
        preds[j].append(i)
    root = list(range(len(layers)))
    for j, sources in preds.items():
        if len(sources) == 1:
            root[j] = sources[0]

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    return [replace(rec, scope=f"{scope} (the chain from {recs[find(i)].name})") for i, rec in enumerate(recs)]


def trained_file(recs: list[LayerRecord]) -> list[LayerRecord]:
    """SPEC 8.37: a file most of whose measurable layers look trained is trained as a whole.

    Every layer is then listed as trained (no pairing finding: a trained tensor that happens to have
    an initializer's scale is no initializer), and an inconclusive one is no longer unresolved for it.
    """
    why = trained_majority([r.init for r in recs])
    if not why:
        return recs
    out = []
    for r in recs:
        if r.init is None:
            out.append(r)
            continue
        inconclusive = r.init.scheme == "inconclusive"
        out.append(replace(r, init=as_trained(r.init, why),
                           unresolved="" if inconclusive and r.activation is not None else r.unresolved))
    return out


def _subgraph_layers(g: Graph, path: str, scope: str) -> list[LayerRecord]:
    """Weight ops inside If/Loop/Scan bodies: counted as layers, but not analysed (unresolved)."""
    out = []
    for node in g.model.graph.node:
        for owner, (constants, nodes) in _bodies(node, set(g.tensors.names())):
            for inner in nodes:
                if inner.op_type in WEIGHT_OPS and len(inner.input) > 1 and inner.input[1] in constants:
                    out.append(LayerRecord(
                        name=inner.name or inner.input[1], kind=WEIGHT_OPS[inner.op_type], framework="onnx",
                        origin=Origin(path), scope=scope, node=GraphNode(inner.op_type, inner.input[1]),
                        unresolved=f"inside the body of {owner}: subgraphs are not analysed",
                    ))
    return out


def _bodies(node: onnx.NodeProto, outer: set[str]) -> list[tuple[str, tuple[set[str], list[onnx.NodeProto]]]]:
    """(owner, (constant names visible, nodes)) for every subgraph under a node, nested ones included."""
    found = []
    for attr in node.attribute:
        graphs = [attr.g] if attr.type == onnx.AttributeProto.GRAPH else list(attr.graphs)
        for sub in graphs:
            visible = outer | {t.name for t in sub.initializer} | {
                n.output[0] for n in sub.node if n.op_type == "Constant" and n.output}
            found.append((f"{node.op_type} {node.name or ''}".strip(), (visible, list(sub.node))))
            for inner in sub.node:
                found += _bodies(inner, visible)
    return found


def _record(g: Graph, layer: WeightLayer, path: str, scope: str, settings: Settings, sample: int,
            agree: Agreement | None) -> LayerRecord:
    node = layer.node
    base = LayerRecord(
        name=_layer_name(layer), kind=WEIGHT_OPS[node.op_type], framework="onnx", origin=Origin(path),
        scope=scope, node=GraphNode(node.op_type, layer.weight), weight_expr=layer.weight,
    )
    if layer.unresolved:
        return replace(base, unresolved=layer.unresolved)
    unmeasurable = g.tensors.unmeasurable(layer.weight)  # a sparse initializer too large or malformed to densify
    if unmeasurable:
        return replace(base, unresolved=unmeasurable)
    consumer = resolve(g, node.output[0], settings) if node.output else Consumer(None, reason="no output")
    act = consumer.activation
    values = g.tensors.array(layer.weight)
    if layer.perm is not None:
        values = values.transpose(layer.perm)  # a view: the node's layout, for the structure checks
    spec = infer(values, layer.fan_in, layer.fan_out, framework=g.framework, slope=act.slope if act else 0.0,
                 sample=sample, family=act.family if act else None, agree=agree)
    record = replace(
        base, fan_in=layer.fan_in, fan_out=layer.fan_out, init=spec, activation=act, shape=layer.shape,
        normalized=consumer.normalized, residual_end=consumer.residual,
        unresolved=consumer.reason if act is None else _inconclusive(spec.note) if spec.scheme == "inconclusive" else "",
    )
    group = int(g.attr(node, "group", 1)) if node.op_type.startswith("Conv") else 1  # type: ignore[arg-type]
    folded = node.op_type == "Conv" and layer.weight.startswith("onnx::Conv")
    return replace(record, node=GraphNode(
        node.op_type, layer.weight, output=node.output[0], act_output=consumer.out,
        head=not reaches_weight(g, node.output[0]), group=group,
        note="weight renamed by constant folding: a BatchNorm may be folded into it" if folded else "",
    ))


def _inconclusive(note: str) -> str:
    """An initializer the statistics cannot pin down leaves the layer unresolved (it is judged by nothing)."""
    return f"measured initializer is inconclusive: {note}"


def _zero_chains(g: Graph, layers: list[WeightLayer], recs: list[LayerRecord]) -> list[LayerRecord]:
    """Mark zero-initialized layers whose output reaches another zero-initialized layer (SPEC 8.6)."""
    zero = {id(layer.node) for layer, rec in zip(layers, recs) if rec.init and rec.init.scheme == "zero"}
    out = []
    for layer, rec in zip(layers, recs):
        if id(layer.node) in zero and layer.node.output and _next_layers(g, layer.node.output[0]) & zero:
            rec = replace(rec, feeds_zero_layer=True)
        out.append(rec)
    return out


def _next_layers(g: Graph, name: str, limit: int = 200) -> set[int]:
    """ids of the first weight-layer nodes downstream of a tensor."""
    found: set[int] = set()
    seen: set[str] = set()
    frontier = [name]
    while frontier and len(seen) < limit:
        t = frontier.pop()
        if t in seen:
            continue
        seen.add(t)
        for n in g.consumers.get(t, []):
            if n.op_type in WEIGHT_OPS and g.layer(n) is not None:
                found.add(id(n))
            else:
                frontier.extend(n.output)
    return found


# --------------------------------------------------------------------------- entry point


def open_graph(path: str) -> Graph:
    """Load and index a model; BadModel with a one-line reason when it cannot be read."""
    model = load(path)
    tensors = Tensors(model, os.path.dirname(os.path.abspath(path)))
    return Graph.build(model, tensors)


def audit(path: str, settings: Settings | None = None, sample: int = 65536,
          agree: Agreement | None = None) -> FileResult:
    """Records for every weight layer of an ONNX file; ``error`` (never an exception) for bad input.

    ``agree`` decides ambiguous tensor matches (see :func:`initlint.measure.infer`).
    """
    settings = settings or Settings()
    with quiet_numerics():
        try:
            recs = records(open_graph(path), path, settings, sample, agree)
        except BadModel as err:
            return FileResult(path, error=f"{path}: {err}")
        except (OSError, ValueError) as err:
            return FileResult(path, error=f"{path}: cannot read weights: {_one_line(err)}")
        except MemoryError:
            return FileResult(path, error=f"{path}: cannot read weights: out of memory")
        except Exception as err:  # a graph that parses but breaks the ONNX spec in a way not checked above
            return FileResult(path, error=f"{path}: malformed graph ({type(err).__name__}: {_one_line(err)})")
        if settings.propagate:
            network = _network(path, recs, settings)
            why = trained_majority([r.init for r in recs])
            if why:  # INIT008 on trained weights: no hint to re-initialize them (SPEC 8.37)
                network = replace(network, init=InitSpec("trained", source="measured", note=why))
            recs.append(network)
    return FileResult(path, records=tuple(recs))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:300]


@contextmanager
def quiet_numerics() -> Iterator[None]:
    """NumPy's overflow/invalid-value RuntimeWarnings on hostile weights are not the run's output."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _network(path: str, recs: list[LayerRecord], settings: Settings) -> LayerRecord:
    """INIT008's record from onnxruntime, or one that says why propagation was skipped."""
    from .runtime import NoRuntime, propagate

    try:
        return propagate(path, recs, settings)
    except NoRuntime as err:
        return LayerRecord(os.path.basename(path), "network", "onnx", Origin(path), signal=Signal((), settings.signal_threshold, skipped=str(err)))
