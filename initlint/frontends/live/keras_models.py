"""Live Keras models on the torch backend (``KERAS_BACKEND=torch``; tensorflow is never needed).

A Keras 3 model on the torch backend is a ``torch.nn.Module`` whose kernels are torch
parameters, so the recorded pass of :mod:`.trace` measures it as it measures a
torch model (the kernel's matmul/conv output is the layer's pre-activation output).
Consumers come from the Keras graph instead of the ops: the layer's own
``activation`` config, else the next layers (``Activation``, ``ReLU``, ``LeakyReLU``,
``ELU``, ``PReLU``, ``Softmax``; normalization layers mark it normalized; dropout,
reshaping and pooling layers are transparent; ``Add`` marks a residual end). Fans use
Keras' convention (``keras_fans``: kernel ``(k..., in, out)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import torch

from ... import formulas
from ...measure import Agreement, infer
from ...records import Activation, InitSpec, LayerRecord, Origin, Progress, Signal, SignalPoint
from ...rulebook import activation_family, default_slope
from ...settings import Settings
from .common import DEFAULT_BATCH, Measurement, is_head
from .targets import LiveError
from .trace import Consumer, Recording, record_pass

NORMALIZATION = frozenset({"BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"})
TRANSPARENT = frozenset({
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "AlphaDropout", "GaussianDropout",
    "Flatten", "Reshape", "Permute", "Identity", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "InputLayer",
})
ACTIVATION_LAYERS = frozenset({"Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax"})
RESIDUAL = frozenset({"Add"})
CONV_PREFIX = ("Conv", "SeparableConv", "DepthwiseConv")


def flat_layers(model: Any) -> list[Any]:
    """Every layer of the model, nested models expanded, in graph order."""
    return list(model._flatten_layers(include_self=False, recursive=True))


def kernel_layers(model: Any) -> list[Any]:
    """Layers with a single ``kernel`` (Dense, Conv*, Conv*Transpose); separable/depthwise are left out."""
    return [layer for layer in flat_layers(model) if getattr(layer, "kernel", None) is not None]


def children(layers: Sequence[Any]) -> dict[int, list[Any]]:
    """id(layer) -> the layers that take its output (from the functional graph)."""
    out: dict[int, list[Any]] = {id(layer): [] for layer in layers}
    for layer in layers:
        for node in getattr(layer, "_inbound_nodes", [])[:1]:
            for parent in node.parent_nodes:
                out.setdefault(id(parent.operation), []).append(layer)
    return out


def config_activation(name: str | None, layer_type: str = "", config: dict[str, Any] | None = None) -> Activation | None:
    """The activation a config names (``"relu"``, ``"leaky_relu"``) or an activation layer applies."""
    config = config or {}
    if layer_type == "LeakyReLU":
        return Activation("LeakyReLU", "relu", float(config.get("negative_slope", default_slope("keras", "leakyrelu"))))
    if layer_type == "ReLU":
        slope = float(config.get("negative_slope", 0.0) or 0.0)
        return Activation("ReLU", "relu", slope)
    if layer_type in ("ELU", "PReLU", "Softmax"):
        return Activation(layer_type, activation_family(layer_type) or "relu")
    if not name or name == "linear":
        return None
    family = activation_family(name)
    if family is None:
        return None
    slope = default_slope("keras", "leakyrelufunction") if name == "leaky_relu" else 0.0
    return Activation(name, family, slope)


def _act_name(layer: Any) -> str | None:
    act = layer.get_config().get("activation")
    if isinstance(act, dict):  # serialized function
        act = act.get("config", act.get("class_name"))
    return act if isinstance(act, str) else getattr(act, "__name__", None)


def consumer(layer: Any, kids: dict[int, list[Any]], graph: bool) -> Consumer:
    """The activation consuming a kernel layer: its own ``activation``, else the next layers."""
    own = config_activation(_act_name(layer))
    reaches = _reaches_weight(layer, kids)
    if own is not None:
        return Consumer(replace(own, reaches_weight=reaches))
    if not graph:
        return Consumer(None, unresolved="subclassed Keras model: the layers after it are not known")
    normalized = residual = False
    current = layer
    while True:
        nxt = kids.get(id(current), [])
        if not nxt:
            return Consumer(Activation("identity", "linear", reaches_weight=False), normalized, residual)
        if len(nxt) > 1:
            return Consumer(None, unresolved=f"its output goes to {len(nxt)} layers")
        current = nxt[0]
        kind = type(current).__name__
        if kind in ACTIVATION_LAYERS:
            act = config_activation(_act_name(current) if kind == "Activation" else None, kind, current.get_config())
            if act is None:
                return Consumer(None, unresolved=f"unknown activation in {current.name}")
            return Consumer(replace(act, reaches_weight=_reaches_weight(current, kids)), normalized, residual)
        if getattr(current, "kernel", None) is not None:
            return Consumer(Activation("identity", "linear"), normalized, residual)
        if kind in NORMALIZATION:
            normalized = True
        elif kind in RESIDUAL:
            residual = True
        elif kind not in TRANSPARENT:
            return Consumer(None, unresolved=f"its output goes through {kind}")


def _reaches_weight(layer: Any, kids: dict[int, list[Any]]) -> bool:
    """Whether the output reaches another kernel layer through transparent/normalization layers."""
    todo, seen = list(kids.get(id(layer), [])), set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "kernel", None) is not None:
            return True
        if type(current).__name__ in TRANSPARENT | NORMALIZATION | RESIDUAL | ACTIVATION_LAYERS:
            todo.extend(kids.get(id(current), []))
    return False


DEFAULT_GLOROT = "<keras default glorot_uniform>"  # key of ``declared``: the source leaves Glorot kernels on the default


def as_default(layer: Any, spec: InitSpec) -> InitSpec:
    """A measured Glorot from a kernel configured ``GlorotUniform`` (Keras' default) is judged as the default.

    At run time a written-out ``"glorot_uniform"`` looks the same as the default, so the caller decides
    from the static lint of the defining source (:func:`initlint.api.check_target`): when the source
    leaves its Glorot kernels on the default, the live check agrees with the static INIT005 advice.
    """
    config = layer.get_config().get("kernel_initializer")
    name = config.get("class_name") if isinstance(config, dict) else config
    if spec.scheme == "glorot" and name in ("GlorotUniform", "glorot_uniform"):
        return replace(spec, source="default")
    return spec


def input_shape_of(model: Any, batch: int = DEFAULT_BATCH) -> tuple[int, ...]:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise LiveError("cannot infer the input shape of this Keras model; pass --input-shape")
    dims = tuple(inputs[0].shape[1:])
    if any(d is None for d in dims):
        raise LiveError(f"the Keras input shape {dims} has unknown dims; pass --input-shape")
    return (batch, *(int(d) for d in dims))


def propagate(model: Any, shape: tuple[int, ...], seed: int, given: torch.Tensor | None = None) -> Recording:
    """The recorded pass with ``training=True`` (batch statistics) and every dropout rate at 0 (SPEC 8.18)."""
    layers = flat_layers(model)
    rates = {id(layer): layer.rate for layer in layers if hasattr(layer, "rate")}
    moving = [(v, v.value.detach().clone()) for v in model.non_trainable_variables]
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator) if given is None else given.detach().clone().float()
    x.requires_grad_(True)
    for layer in layers:
        if id(layer) in rates:
            layer.rate = 0.0
    try:
        return record_pass(model, [x], {}, generator, call_kwargs={"training": True})
    except Exception as err:  # noqa: BLE001 - user model code
        raise LiveError(f"forward pass on input shape {','.join(map(str, shape))} failed: {err}") from err
    finally:
        for layer in layers:
            if id(layer) in rates:
                layer.rate = rates[id(layer)]
        for variable, value in moving:
            variable.assign(value)


def measure(
    model: Any,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    threshold: float,
    path: str | None = None,
    settings: Settings,
    declared: dict[str, InitSpec] | None = None,
    progress: Progress | None = None,
    agree: Agreement | None = None,
    example_inputs: Any = None,
    input_dtype: Any = None,
) -> Measurement:
    """Measure, trace and propagate a Keras model on the torch backend (see the module docstring).

    ``declared`` may hold :data:`DEFAULT_GLOROT`: the source leaves its Glorot kernels on Keras' default.
    ``example_inputs`` (one tensor) replaces the drawn N(0,1) batch; ``input_dtype`` is not supported.
    """
    path = path or "<keras model>"
    say = progress or (lambda _msg: None)
    if input_dtype is not None and input_dtype.is_floating_point is False:
        raise LiveError("--input-dtype with integer ids is supported for torch models only")
    if example_inputs is not None and not isinstance(example_inputs, torch.Tensor):
        raise LiveError("example_inputs of a Keras model must be one tensor")
    shape = tuple(example_inputs.shape) if example_inputs is not None else (
        tuple(input_shape) if input_shape else input_shape_of(model))
    say(f"forward/backward pass on input {shape} (Keras, torch backend)")
    rec = propagate(model, shape, seed, example_inputs)
    layers = flat_layers(model)
    kids = children(layers)
    graph = any(getattr(layer, "_inbound_nodes", None) for layer in layers)
    by_param = {id(param): name for name, (param, _, _) in rec.raw.items()}
    records = []
    points = {}
    layer_of: dict[str, str] = {}  # recorded weight name -> Keras layer name
    for layer in kernel_layers(model):
        value = layer.kernel.value
        shape_k = tuple(int(d) for d in value.shape)
        fan_in, fan_out = formulas.keras_fans(shape_k)
        found = consumer(layer, kids, graph)
        act = found.activation
        spec = infer(value.detach().cpu().float().numpy(), fan_in, fan_out, framework="keras",
                     slope=act.slope if act else 0.0, seed=seed, family=act.family if act else None, agree=agree)
        if declared and declared.get(DEFAULT_GLOROT) is not None:
            spec = as_default(layer, spec)
        raw = by_param.get(id(value))
        point = rec.points.get(raw) if raw else None
        if raw and point is not None:
            layer_of[raw] = layer.name
            points[layer.name] = point
        kind = "conv" if type(layer).__name__.startswith(CONV_PREFIX) else "linear"
        records.append(LayerRecord(
            name=layer.name, kind=kind, framework="keras", origin=Origin(path), fan_in=fan_in, fan_out=fan_out,
            init=spec, activation=act, normalized=found.normalized, residual_end=found.residual_end,
            scope=model.name, unresolved=found.unresolved, shape=shape_k,
            point=SignalPoint(layer.name, point.forward_std, point.grad_std, point.dead_fraction,
                              grad_norm=point.grad_norm) if point else None,
        ))
    by_name = {r.name: r for r in records}
    curve = tuple(
        SignalPoint(call.label.replace(call.layer, layer_of[call.layer], 1), call.forward_std, call.grad_std,
                    call.dead_fraction, head=is_head(by_name[layer_of[call.layer]]),
                    residual_end=by_name[layer_of[call.layer]].residual_end,
                    shape=tuple(call.shape) if call.shape is not None else None, grad_norm=call.grad_norm,
                    normalized=by_name[layer_of[call.layer]].normalized)
        for call in rec.calls if call.layer in layer_of
    )
    signal = Signal(curve, threshold)
    records.append(LayerRecord(name=model.name, kind="network", framework="keras", origin=Origin(path),
                               scope=model.name, signal=signal))
    return Measurement(path, model.name, shape, "keras graph", tuple(records), signal)
