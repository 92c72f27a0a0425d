"""Which activation consumes each weight layer of a live torch model, and how the signal propagates.

Two tracers share one vocabulary of operations (:func:`classify`):

* :func:`fx_consumers` reads a ``torch.fx`` symbolic trace (no data needed) and
  walks each weight module's users to the first activation;
* :class:`Recorder` runs one real forward pass under a ``TorchFunctionMode``
  plus forward hooks: every weight layer's output is tagged, the tag follows
  view/reshape/flatten/dropout/pooling and bias adds, picks up "normalized" at a
  normalization op and "residual" at an add of two signals, and stops at the first
  activation, weight op or model output. The same pass measures the forward std
  of each weight layer's output, the gradient std from ``sum(output * R)``
  (SPEC 8.18) and the share of exact zeros after relu-family activations.

fx is preferred for consumers; the recorded pass is the fallback when fx cannot
trace (data-dependent control flow) and is always the source of the measurements.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ... import formulas
from ...records import Activation, Family
from ...rulebook import activation_family, default_slope, normalise

WEIGHT_MODULES: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
    nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d,
)

EMBEDDINGS: tuple[type[nn.Module], ...] = (nn.Embedding, nn.EmbeddingBag)

# Operation vocabulary, by function / method / operator name (leading and trailing "_" stripped).
WEIGHT_OPS = frozenset({
    "linear", "bilinear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
    "conv_transpose3d", "matmul", "rmatmul", "mm", "bmm", "einsum", "addmm", "baddbmm",
    "scaled_dot_product_attention",  # q and k meet in a matmul, v is mixed by it: as the explicit matmuls
})
TRANSPARENT_OPS = frozenset({
    "view", "reshape", "flatten", "unflatten", "contiguous", "squeeze", "unsqueeze", "permute", "transpose",
    "clone", "to", "float", "double", "half", "type_as", "getitem", "mean", "sum",
    "cat", "concat", "concatenate", "stack", "chunk", "split", "tensor_split", "unbind", "narrow", "select",
    "expand", "expand_as", "repeat", "flip", "roll", "movedim", "moveaxis", "swapaxes", "swapdims", "t",
    "stochastic_depth", "drop_path", "drop_block_2d", "drop_block_fast_2d",  # off during the pass (SPEC 8.36)
    "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "lp_pool1d", "lp_pool2d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
})
DROPOUT_OPS = frozenset({
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
})
NORM_OPS = frozenset({"batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm"})
ADD_OPS = frozenset({"add", "radd", "iadd", "sub", "rsub", "isub"})
SCALE_OPS = frozenset({"mul", "rmul", "imul", "div", "truediv", "itruediv"})  # by a number: transparent
# Ops whose result is not a tensor (shape queries): no signal flows through them. The recorded
# pass sees this from the result; the fx graph needs the names.
SHAPE_OPS = frozenset({"size", "dim", "numel", "nelement", "ndimension", "getattr", "len", "item", "tolist",
                       "is_contiguous", "type", "get_device", "stride"})

# Comparisons and boolean tests (guards, asserts, masks): what they compute is no activation of the signal.
GUARD_OPS = frozenset({
    "gt", "lt", "ge", "le", "eq", "ne", "greater", "less", "greater_equal", "less_equal", "not_equal", "equal",
    "isfinite", "isnan", "isinf", "isposinf", "isneginf", "isreal", "allclose", "isclose", "all", "any",
    "logical_and", "logical_or", "logical_not", "logical_xor", "assert", "assert_async", "bool", "nonzero",
    "argmax", "argmin", "argsort", "count_nonzero",
})
# Composite functions that hand themselves whole to a TorchFunctionMode; the recorder looks inside them.
COMPOSITE_OPS = frozenset({"multi_head_attention_forward"})
# Stochastic depth is disabled like dropout (SPEC 8.36): these modules run in eval mode during the pass.
STOCHASTIC_DEPTH_MODULES = ("StochasticDepth", "DropPath", "DropBlock2d", "DropBlock3d", "DropBlock", "DropPath2d")

DROPOUT_MODULES = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
NORM_MODULES = (
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LayerNorm", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "LocalResponseNorm",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
)
TRANSPARENT_MODULES = (
    "Identity", "Flatten", "Unflatten", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d",
    "AvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "LPPool1d", "LPPool2d", *DROPOUT_MODULES, *STOCHASTIC_DEPTH_MODULES,
)


def op_name(target: Any) -> str:
    """``F.relu_`` -> ``relu``, ``Tensor.__add__`` -> ``add``, ``"view"`` -> ``view``."""
    name = target if isinstance(target, str) else getattr(target, "__name__", "")
    return name.strip("_")


@dataclass(frozen=True)
class Use:
    """One terminal use of a weight layer's output: what consumed it, and what lay between."""

    kind: str  # "activation", "weight", "output", "unknown"
    activation: Activation | None = None
    normalized: bool = False
    residual: bool = False
    what: str = ""  # op name for "unknown"


# Functional spellings shown under their module names ("leaky_relu" -> "LeakyReLU").
DISPLAY = {normalise(name): name for name in nn.modules.activation.__all__}


def _activation(name: str, slope: float | None, extra: dict[str, str]) -> Activation | None:
    family: Family | None = activation_family(name, extra)
    if family is None or family == "linear" and name in ("linear", "identity"):
        return None
    if slope is None:
        slope = default_slope("torch", name) if family == "relu" else 0.0
    return Activation(name=DISPLAY.get(normalise(name), name), family=family, slope=float(slope))


def _arg(args: Sequence[Any], kwargs: dict[str, Any], index: int, key: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(key, default)


def _mean(value: Any) -> float:
    if isinstance(value, torch.Tensor):
        return float(value.detach().float().mean())
    return float(value) if isinstance(value, (int, float)) else default_slope("torch", "prelu")


def functional_activation(name: str, args: Sequence[Any], kwargs: dict[str, Any],
                          extra: dict[str, str]) -> Activation | None:
    """The activation a functional call applies (slopes from its arguments), or None."""
    if name == "hardtanh" and _arg(args, kwargs, 1, "min_val", -1.0) == 0:
        return _activation("relu6", 0.0, extra)  # nn.ReLU6 is Hardtanh(0, 6)
    slopes: dict[str, Callable[[], float]] = {
        "leaky_relu": lambda: float(_arg(args, kwargs, 1, "negative_slope", 0.01)),
        "prelu": lambda: _mean(_arg(args, kwargs, 1, "weight", 0.25)),
        "rrelu": lambda: formulas.rrelu_slope(float(_arg(args, kwargs, 1, "lower", formulas.RRELU_BOUNDS[0])),
                                              float(_arg(args, kwargs, 2, "upper", formulas.RRELU_BOUNDS[1]))),
    }
    slope = slopes[name]() if name in slopes else None
    return _activation(name, slope, extra)


def module_activation(module: nn.Module, extra: dict[str, str]) -> Activation | None:
    """The activation an activation module applies (its initial slope for leaky rectifiers)."""
    cls = type(module).__name__
    slopes: dict[str, Callable[[], float]] = {
        "LeakyReLU": lambda: float(module.negative_slope),  # type: ignore[arg-type]
        "PReLU": lambda: _mean(module.weight),
        "RReLU": lambda: formulas.rrelu_slope(float(module.lower), float(module.upper)),  # type: ignore[arg-type]
    }
    if cls == "Hardtanh" and float(module.min_val) == 0:  # type: ignore[arg-type]
        return _activation("relu6", 0.0, extra)
    return _activation(cls, slopes[cls]() if cls in slopes else None, extra)


def classify(name: str) -> str:
    """The role of an op in the walk: weight, transparent, dropout, norm, add, scale, or other."""
    for role, names in (("weight", WEIGHT_OPS), ("transparent", TRANSPARENT_OPS), ("dropout", DROPOUT_OPS),
                        ("norm", NORM_OPS), ("add", ADD_OPS), ("scale", SCALE_OPS)):
        if name in names:
            return role
    return "other"


@dataclass(frozen=True)
class Consumer:
    """What a weight layer's output meets, merged over all its uses."""

    activation: Activation | None
    normalized: bool = False
    residual_end: bool = False
    unresolved: str = ""


def merge(uses: Sequence[Use], reaches_weight: bool) -> Consumer:
    """One consumer from every use of a layer: they must agree on the activation family."""
    if not uses:
        return Consumer(None, unresolved="its output is never used")
    unknown = sorted({u.what for u in uses if u.kind == "unknown"})
    if unknown:
        return Consumer(None, unresolved=f"its output goes through {', '.join(unknown)}")
    acts = []
    for use in uses:
        if use.kind == "activation" and use.activation is not None:
            acts.append(replace(use.activation, reaches_weight=reaches_weight))
        else:  # the next weight layer or the model output consumes it directly
            acts.append(Activation("identity", "linear", reaches_weight=use.kind == "weight"))
    families = {(a.family, round(a.slope, 6)) for a in acts}
    if len(families) > 1:
        names = ", ".join(sorted({a.name for a in acts}))
        return Consumer(None, unresolved=f"its output reaches different activations ({names})")
    return Consumer(
        acts[0],
        normalized=any(u.normalized for u in uses),
        residual_end=any(u.residual for u in uses),
    )


# ----------------------------------------------------------------------------------------------
# fx: consumers from the symbolic graph


def fx_consumers(model: nn.Module, layers: Sequence[str], extra: dict[str, str]) -> dict[str, Consumer] | None:
    """Consumers of the named weight modules from a ``torch.fx`` trace; None when fx cannot trace."""
    import torch.fx

    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - any tracing failure means: fall back to the recorded pass
        return None
    modules = dict(model.named_modules())
    wanted = set(layers)
    uses: dict[str, list[Use]] = defaultdict(list)
    reaches: dict[str, bool] = defaultdict(bool)
    starts = [n for n in graph.nodes if n.op == "call_module" and n.target in wanted]
    if {n.target for n in starts} != wanted:
        return None  # a layer fx does not see as a module call (e.g. traced through): use the recorded pass
    for node in starts:
        for user in node.users:
            _fx_walk(user, node, node.target, False, False, modules, wanted, extra, uses, reaches)
    return {name: merge(uses[name], reaches[name]) for name in layers}


def _fx_role(node: Any, modules: dict[str, nn.Module], wanted: set[str], extra: dict[str, str]) -> tuple[str, Activation | None]:
    if node.op == "output":
        return "output", None
    if node.op == "call_module":
        module = modules[node.target]
        cls = type(module).__name__
        if node.target in wanted or isinstance(module, WEIGHT_MODULES):
            return "weight", None
        if cls in NORM_MODULES:
            return "norm", None
        if cls in TRANSPARENT_MODULES:
            return "transparent", None
        act = module_activation(module, extra)
        return ("activation", act) if act else ("other", None)
    name = op_name(node.target)
    role = classify(name)
    if role == "other" and node.op in ("call_function", "call_method"):
        act = functional_activation(name, node.args[1:], dict(node.kwargs), extra)
        if act is not None:
            return "activation", act
    return role, None


def _fx_walk(node: Any, source: Any, layer: str, normalized: bool, residual: bool,
             modules: dict[str, nn.Module], wanted: set[str], extra: dict[str, str],
             uses: dict[str, list[Use]], reaches: dict[str, bool], after: bool = False) -> None:
    """Follow one edge of the graph to the layer's first activation (or, ``after`` it, to a weight)."""
    if node.op in ("call_function", "call_method") and op_name(node.target) in SHAPE_OPS | GUARD_OPS:
        return  # a shape query or a guard (comparison, assert): not a consumer
    role, act = _fx_role(node, modules, wanted, extra)
    if role == "add":
        others = [a for a in node.args if a is not source]
        signal = any(hasattr(a, "op") and a.op != "get_attr" for a in others)
        residual = residual or signal
        role = "transparent"
    if role == "scale":
        others = [a for a in node.args if a is not source]
        role = "transparent" if all(isinstance(a, (int, float)) for a in others) else "other"
    if after:
        if role == "weight":
            reaches[layer] = True
        elif role in ("transparent", "dropout", "norm"):
            for user in node.users:
                _fx_walk(user, node, layer, normalized, residual, modules, wanted, extra, uses, reaches, True)
        return
    if role in ("transparent", "dropout", "norm"):
        for user in node.users:
            _fx_walk(user, node, layer, normalized or role == "norm", residual, modules, wanted, extra, uses, reaches)
    elif role == "activation":
        uses[layer].append(Use("activation", act, normalized, residual))
        for user in node.users:
            _fx_walk(user, node, layer, normalized, residual, modules, wanted, extra, uses, reaches, True)
    elif role in ("weight", "output"):
        uses[layer].append(Use(role, None, normalized, residual))
    else:
        uses[layer].append(Use("unknown", None, normalized, residual, what=op_name(node.target) or str(node.target)))


# ----------------------------------------------------------------------------------------------
# The recorded pass: one real forward/backward


@dataclass(frozen=True)
class Flow:
    """A tag on a tensor: it carries (a view of) this layer's output, from its call ``label``."""

    layer: str
    label: str = ""  # the call: the layer name, "name (call 2)" for a module's second call, ...
    normalized: bool = False
    residual: bool = False
    after: bool = False  # past the activation: only whether it reaches a weight layer matters
    through: str = ""  # an op of unknown effect on the way: a consumer only if the path goes on to one


@dataclass
class Point:
    """Measurements of one call of a weight layer on the batch (SPEC 8.18, 8.36).

    ``forward_std``: std over every element of the output; ``grad_std``: the same for its
    gradient; ``grad_norm``: the gradient's norm per sample, sqrt(sum g² / batch), the
    quantity INIT008 compares across shape changes (see docs/live.md).
    """

    layer: str
    label: str = ""
    forward_std: float | None = None
    grad_std: float | None = None
    grad_norm: float | None = None
    dead_fraction: float | None = None
    shape: tuple[int, ...] | None = None  # output shape without the batch dimension


@dataclass
class Recording:
    """What the recorded pass found: execution order, consumers, raw weights, and the curve.

    ``order`` holds each layer once (its first call), ``points`` its first call's measurements,
    ``calls`` every call in execution order (a module reused 20 times has 20 entries).
    """

    order: list[str] = field(default_factory=list)
    uses: dict[str, list[Use]] = field(default_factory=lambda: defaultdict(list))
    reaches: dict[str, bool] = field(default_factory=lambda: defaultdict(bool))
    dead: dict[str, float] = field(default_factory=dict)  # call label -> dead fraction
    raw: dict[str, tuple[torch.Tensor, int, int]] = field(default_factory=dict)  # name -> (param, fan_in, fan_out)
    points: dict[str, Point] = field(default_factory=dict)
    calls: list[Point] = field(default_factory=list)

    def consumers(self) -> dict[str, Consumer]:
        return {name: merge(self.uses[name], self.reaches[name]) for name in self.order}


def tensors(value: Any) -> Iterator[Any]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)


def call_label(name: str, index: int) -> str:
    """``fc`` for a layer's first call, ``fc (call 3)`` for its third."""
    return name if index == 1 else f"{name} (call {index})"


class Recorder(TorchFunctionMode):
    """Follows tagged layer outputs through torch functions during one forward pass."""

    def __init__(self, model: nn.Module, extra: dict[str, str]) -> None:
        super().__init__()
        self.extra = extra
        self.rec = Recording()
        self.tags: dict[int, tuple[torch.Tensor, tuple[Flow, ...]]] = {}
        self.outputs: list[tuple[str, str, torch.Tensor]] = []  # (layer, call label, output) per call
        self.count: dict[str, int] = defaultdict(int)
        self.started: dict[str, int] = {}  # call label -> its position in the pass
        # weights of weight modules (measured as such) and embedding tables (exempt, even when tied to a head)
        self.module_weights = {
            id(p) for m in model.modules() if isinstance(m, (*WEIGHT_MODULES, *EMBEDDINGS))
            for p in m.parameters(recurse=False)
        }
        # a weight module's weight used by a functional op outside the module's own call
        # (nn.MultiheadAttention calls F.linear(x, out_proj.weight, out_proj.bias)): that op is the module's call
        self.owner = {id(m.weight): name for name, m in model.named_modules()
                      if isinstance(m, WEIGHT_MODULES) and isinstance(getattr(m, "weight", None), torch.Tensor)}
        self.active: dict[str, int] = defaultdict(int)  # weight modules whose forward is running
        self.param_names = {id(p): n for n, p in model.named_parameters()}
        self.views: dict[int, tuple[torch.Tensor, nn.Parameter]] = {}  # permuted/reshaped parameters

    # tags -------------------------------------------------------------------------------------
    def flows(self, value: Any) -> tuple[Flow, ...]:
        out: list[Flow] = []
        for t in tensors(value):
            entry = self.tags.get(id(t))
            if entry is not None and entry[0] is t:
                out.extend(entry[1])
        return tuple(out)

    def tag(self, value: Any, flows: Sequence[Flow]) -> None:
        for t in tensors(value):
            if flows:
                self.tags[id(t)] = (t, tuple(flows))
            else:
                self.tags.pop(id(t), None)

    def start(self, name: str, output: torch.Tensor) -> torch.Tensor:
        """A call of weight layer ``name`` produced ``output``: keep it for the measurements, tag a copy downstream."""
        self.count[name] += 1
        label = call_label(name, self.count[name])
        self.started[label] = len(self.outputs)
        if self.count[name] == 1:
            self.rec.order.append(name)
        self.outputs.append((name, label, output))
        copy = output.clone()  # in-place activations downstream must not touch the measured tensor
        self.tag(copy, [Flow(name, label)])
        return copy

    def pre_hook(self, name: str) -> Callable[[nn.Module, Any], None]:
        def forward_pre_hook(module: nn.Module, inputs: Any) -> None:
            self.active[name] += 1

        return forward_pre_hook

    def hook(self, name: str) -> Callable[[nn.Module, Any, Any], Any]:
        def forward_hook(module: nn.Module, inputs: Any, output: Any) -> Any:
            self.active[name] -= 1
            return self.start(name, output) if isinstance(output, torch.Tensor) else None

        return forward_hook

    # the mode ------------------------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        name = op_name(func)
        role = classify(name)
        if role == "dropout":
            return args[0]  # SPEC 8.18: dropout disabled, the rest in train mode
        if name == "scaled_dot_product_attention":
            args, kwargs = _no_attention_dropout(args, kwargs)
        if name in COMPOSITE_OPS:
            return self._inside(func, args, kwargs)
        flows = self.flows(args) + self.flows(kwargs)
        out = func(*args, **kwargs)
        if role == "transparent" and args and isinstance(out, torch.Tensor):
            base = self._parameter(args[0])
            if base is not None:  # Keras permutes its conv kernel into torch's layout before conv2d
                self.views[id(out)] = (out, base)
        raw = self._weight_call(name, args, kwargs) if role == "weight" else None
        if not flows:
            return self.start(raw, out) if raw else out
        results = list(tensors(out))
        if not results or name in GUARD_OPS or all(t.dtype == torch.bool for t in results):
            return out  # .shape, .item(), comparisons, isfinite(): no signal flows on, and nothing consumes it
        act = functional_activation(name, args[1:], kwargs, self.extra) if role == "other" else None
        if act is not None:
            role = "activation"
        if role == "add":
            role, flows = "transparent", self._added(args, out, flows)
        if role == "scale":
            numbers = all(isinstance(a, (int, float)) for a in args[1:])
            role = "transparent" if numbers else "other"
        self._follow(role, name, act, flows, out)
        return self.start(raw, out) if raw else out

    def _inside(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """Run a composite function with the recorder watching the torch calls it makes.

        ``F.multi_head_attention_forward`` hands itself whole to an active mode (its
        ``has_torch_function`` check); with that check off for the call, its ``linear`` calls on
        ``in_proj_weight`` and ``out_proj.weight`` are seen like any other.
        """
        import torch.nn.functional as F

        saved = F.has_torch_function
        F.has_torch_function = lambda _args: False  # type: ignore[assignment]
        try:
            with self:
                return func(*args, **kwargs)
        finally:
            F.has_torch_function = saved

    def _follow(self, role: str, name: str, act: Activation | None, flows: tuple[Flow, ...], out: Any) -> None:
        before = [f for f in flows if not f.after]
        after = [f for f in flows if f.after]
        for flow in after:
            if role == "weight":
                self.rec.reaches[flow.layer] = True
        carried = [f for f in after if role in ("transparent", "norm")]
        pending = [f for f in before if f.through]
        before = [f for f in before if not f.through]
        if role in ("transparent", "norm", "other"):
            carried += pending  # still unknown whether the path ends in a consumer or in a guard
        else:
            for flow in pending:
                self.rec.uses[flow.layer].append(Use("unknown", None, flow.normalized, flow.residual, what=flow.through))
        if role in ("transparent", "norm"):
            carried += [replace(f, normalized=f.normalized or role == "norm") for f in before]
        elif role == "other":
            carried += [replace(f, through=name) for f in before]
        elif role == "activation":
            assert act is not None
            dead = self._dead(act, out)
            for flow in before:
                self.rec.uses[flow.layer].append(Use("activation", act, flow.normalized, flow.residual))
                if dead is not None:
                    self.rec.dead.setdefault(flow.label, dead)
            carried += [replace(f, after=True) for f in before]
        else:
            kind = "weight" if role == "weight" else "unknown"
            for flow in before:
                self.rec.uses[flow.layer].append(Use(kind, None, flow.normalized, flow.residual, what=name))
        self.tag(out, carried)

    def _added(self, args: Sequence[Any], out: Any, flows: tuple[Flow, ...]) -> tuple[Flow, ...]:
        """A bias add is transparent; an add of two signals of the output's shape is a residual add.

        Of two tagged operands, the one carrying the most recent layer call is the branch: its
        layers end a residual branch; the older operand is the stream (the skip path), whose layers
        do not (a ViT's patch embedding flows down the whole residual stream).
        """
        others = [a for a in args if isinstance(a, torch.Tensor) and not self.flows(a)]
        tagged = [a for a in args if isinstance(a, torch.Tensor) and self.flows(a)]
        signal = len(tagged) > 1 or any(
            not isinstance(a, nn.Parameter) and isinstance(out, torch.Tensor) and a.shape == out.shape for a in others
        )
        if not signal:
            return flows
        if len(tagged) < 2:
            return tuple(replace(f, residual=True) for f in flows)
        latest = max(self.started.get(f.label, -1) for f in flows if not f.after) if any(
            not f.after for f in flows) else -1
        branch = [a for a in tagged if any(self.started.get(f.label, -1) == latest for f in self.flows(a))]
        marked = {f for a in branch for f in self.flows(a)}
        return tuple(replace(f, residual=f.residual or f in marked) for f in flows)

    def _dead(self, act: Activation, out: Any) -> float | None:
        if act.family != "relu" or not isinstance(out, torch.Tensor) or out.numel() == 0:
            return None
        return float((out == 0).float().mean())

    def _parameter(self, value: Any) -> nn.Parameter | None:
        """The parameter ``value`` is, or is a permuted/reshaped view of."""
        if isinstance(value, nn.Parameter):
            return value
        entry = self.views.get(id(value))
        return entry[1] if entry is not None and entry[0] is value else None

    def _weight_call(self, name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str | None:
        """The weight layer a weight op is a call of, when no module hook sees it.

        A weight module's weight used outside that module's forward (``nn.MultiheadAttention``'s
        ``out_proj``) counts as a call of the module; any other parameter of >= 2 dims is a raw
        weight (SPEC 8.9). Fans come from the operand as the op uses it (a view such as ``W.t()``
        or Keras' permuted conv kernel included): ``x @ W`` takes (in, out), ``F.linear`` (out, in),
        convolutions (out, in/groups, k...) as torch's fans assume.
        """
        operands = list(args[:2]) + [kwargs[k] for k in ("weight",) if k in kwargs]
        for position, value in enumerate(operands):
            arg = self._parameter(value)
            if arg is None or arg.dim() < 2:
                continue
            owner = self.owner.get(id(arg))
            if owner is not None:
                return owner if not self.active[owner] else None
            if id(arg) in self.module_weights:
                continue
            pname = self.param_names.get(id(arg))
            if pname is None:
                return None
            if pname not in self.rec.raw:
                self.rec.raw[pname] = (arg, *operand_fans(name, min(position, 1), tuple(value.shape)))
            return pname
        return None

    # end of the pass -----------------------------------------------------------------------------
    def finish(self, output: Any) -> None:
        """Whatever still carries a tag at the model output is consumed by it (an output head)."""
        for flow in self.flows(output):
            if flow.through:
                self.rec.uses[flow.layer].append(Use("unknown", None, flow.normalized, flow.residual, what=flow.through))
            elif not flow.after:
                self.rec.uses[flow.layer].append(Use("output", None, flow.normalized, flow.residual))


def _no_attention_dropout(args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[Sequence[Any], dict[str, Any]]:
    """``scaled_dot_product_attention`` with ``dropout_p`` 0 (SPEC 8.18: dropout disabled)."""
    if len(args) > 4:
        return (*args[:4], 0.0, *args[5:]), kwargs
    return args, {**kwargs, "dropout_p": 0.0} if "dropout_p" in kwargs else kwargs


def operand_fans(op: str, position: int, shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight operand of ``op`` at argument ``position`` with this shape."""
    if op.startswith("conv"):
        return formulas.torch_fans(shape)
    rows, cols = shape[-2], shape[-1]
    transposed = op == "linear" or position == 0  # F.linear(x, W) and W @ x: W is (out, in)
    return (int(cols), int(rows)) if transposed else (int(rows), int(cols))


def _std(t: torch.Tensor | None) -> float | None:
    if t is None or t.numel() < 2:
        return None
    return float(t.detach().double().std())


def _norm(t: torch.Tensor | None, batch: int) -> float | None:
    """The per-sample norm sqrt(sum t² / batch)."""
    if t is None or t.numel() == 0:
        return None
    return float(t.detach().double().pow(2).sum().div(batch).sqrt())


def batch_size(inputs: Sequence[Any], call_kwargs: dict[str, Any] | None) -> int:
    """The batch dimension of the first input tensor (1 when there is none)."""
    first = next(iter(tensors([list(inputs), call_kwargs or {}])), None)
    return int(first.shape[0]) if first is not None and first.dim() > 0 else 1


def stochastic_depth_off(model: nn.Module) -> list[nn.Module]:
    """Put stochastic depth / DropPath / DropBlock modules in eval mode (SPEC 8.36); the ones changed."""
    changed = []
    for module in model.modules():
        if type(module).__name__ in STOCHASTIC_DEPTH_MODULES and module.training:
            module.training = False
            changed.append(module)
    return changed


def record_pass(model: nn.Module, inputs: Sequence[Any], extra: dict[str, str],
                generator: torch.Generator, call_kwargs: dict[str, Any] | None = None) -> Recording:
    """One forward pass under the recorder and one backward from ``sum(output * R)`` (SPEC 8.18, 8.36).

    The caller puts the model in train mode and restores its state; dropout and stochastic depth
    are disabled here. ``call_kwargs`` go to the model call (Keras models take ``training=True``;
    dict inputs are passed as keyword arguments by the caller).
    """
    recorder = Recorder(model, extra)
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, WEIGHT_MODULES):
            handles.append(m.register_forward_pre_hook(recorder.pre_hook(name)))
            handles.append(m.register_forward_hook(recorder.hook(name)))
    quiet = stochastic_depth_off(model)
    try:
        with recorder:
            output = model(*inputs, **(call_kwargs or {}))
            recorder.finish(output)
    finally:
        for handle in handles:
            handle.remove()
        for module in quiet:
            module.training = True
    rec = recorder.rec
    measured = [out for _, _, out in recorder.outputs]
    outs = [t for t in tensors(output) if t.is_floating_point() and t.requires_grad]
    grads: Sequence[torch.Tensor | None] = [None] * len(measured)
    if outs:
        loss = sum((o * torch.randn(o.shape, generator=generator, dtype=o.dtype)).sum() for o in outs)
        wanted = [t for t in measured if t.requires_grad]
        got = torch.autograd.grad(loss, wanted, allow_unused=True) if wanted else ()
        lookup = {id(t): g for t, g in zip(wanted, got)}
        grads = [lookup.get(id(t)) for t in measured]
    batch = batch_size(inputs, call_kwargs)
    for (name, label, out), grad in zip(recorder.outputs, grads):
        if grad is None and out.requires_grad and outs:
            grad = torch.zeros_like(out)  # no path to the output: its gradient is exactly 0
        point = Point(name, label, _std(out), _std(grad), _norm(grad, batch), rec.dead.get(label),
                      tuple(out.shape[1:]))
        rec.calls.append(point)
        rec.points.setdefault(name, point)
    return rec


def finite(value: float | None) -> float | None:
    """A JSON-safe number: None for missing or non-finite values."""
    return value if value is not None and math.isfinite(value) else None
