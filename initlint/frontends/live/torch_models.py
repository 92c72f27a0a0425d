"""Live torch models: measure every weight, trace its consumer, propagate one batch (SPEC 2.3, 8.18, 8.19).

:func:`measure` takes a built model (see :mod:`.targets`) and

1. runs one seeded N(0,1) batch forward and ``sum(output * R)`` backward in train
   mode with dropout disabled (:mod:`.trace`), recording per weight layer the
   forward std, the gradient std and the dead fraction after relu-family activations;
2. resolves each layer's consuming activation from a ``torch.fx`` trace, or from the
   recorded pass when fx cannot trace the model;
3. measures each weight tensor with :func:`initlint.measure.infer` (PyTorch fans);
4. builds one :class:`LayerRecord` per weight layer (and one ``network`` record with
   the curve for INIT008), with the statically declared initializer of the defining
   source file for INIT007 (:func:`declared_inits`).

The records are located at the target's source file with ``line`` None and the
module path as name (SPEC 8.23); :func:`initlint.api.check_model` judges them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ... import formulas
from ...measure import Agreement, infer
from ...records import Activation, InitSpec, LayerRecord, Origin, Progress, Signal, SignalPoint
from ...settings import Settings
from .common import DEFAULT_BATCH, Measurement, is_head
from .targets import LiveError, class_file, first_line
from .trace import WEIGHT_MODULES, Consumer, Recording, fx_consumers, record_pass

# Spatial size of an inferred conv input, per number of spatial dims (small enough for CPU).
SPATIAL = {1: (64,), 2: (32, 32), 3: (8, 8, 8)}
TOKENS = 16  # sequence length of an inferred token-id input
KINDS: dict[type[nn.Module], str] = {
    nn.Linear: "linear", nn.Bilinear: "bilinear",
    nn.Conv1d: "conv", nn.Conv2d: "conv", nn.Conv3d: "conv",
    nn.ConvTranspose1d: "conv_transpose", nn.ConvTranspose2d: "conv_transpose", nn.ConvTranspose3d: "conv_transpose",
}

# ----------------------------------------------------------------------------------------------
# Input shape


def weight_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every Linear/Bilinear/Conv*/ConvTranspose* (Lazy ones included) by module path."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, WEIGHT_MODULES)]


def first_leaf(model: nn.Module) -> nn.Module | None:
    """The first registered module that holds parameters itself (usually the one the input meets)."""
    return next((m for m in model.modules() if any(True for _ in m.parameters(recurse=False))), None)


def infer_input_shape(model: nn.Module, batch: int = DEFAULT_BATCH) -> tuple[int, ...]:
    """``(batch, in_features)`` or ``(batch, in_channels, *spatial)`` from the first weight layer.

    A model that starts with an embedding gets ``(batch, TOKENS)`` token ids.
    """
    if isinstance(first_leaf(model), (nn.Embedding, nn.EmbeddingBag)):
        return (batch, TOKENS)
    layers = weight_modules(model)
    if not layers:
        raise LiveError("no Linear/Conv layer to infer the input shape from; pass --input-shape")
    name, first = layers[0]
    if isinstance(first, nn.Linear) and first.in_features > 0:
        return (batch, first.in_features)
    if isinstance(first, (nn.modules.conv._ConvNd,)) and first.in_channels > 0:
        dims = len(first.kernel_size)
        return (batch, first.in_channels, *SPATIAL[dims])
    raise LiveError(f"cannot infer the input shape from {name} ({type(first).__name__}); pass --input-shape")


# ----------------------------------------------------------------------------------------------
# The check


def measure(
    model: nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    threshold: float,
    path: str | None = None,
    settings: Settings,
    declared: dict[str, InitSpec] | None = None,
    progress: Progress | None = None,
    agree: Agreement | None = None,
) -> Measurement:
    """Measure, trace and propagate a live torch model: its records, ready for the engine.

    ``path`` is where findings are located (default: the file defining the model's class);
    ``declared`` maps module paths to statically declared initializers (INIT007; see
    :func:`declared_inits`); ``agree`` decides ambiguous tensor matches (see
    :func:`initlint.measure.infer`). The model's train/eval flags, buffers and gradients are restored.
    """
    say = progress or (lambda _msg: None)
    path = path or class_file(model)
    shape = tuple(input_shape) if input_shape else infer_input_shape(model)
    extra = dict(settings.activations)
    say(f"forward/backward pass on N(0,1) input {shape}")
    try:
        rec = propagate(model, shape, seed, extra)
    except LiveError as err:
        hint = "" if input_shape else " (the input shape was inferred; pass --input-shape)"
        raise LiveError(f"{err}{hint}") from err
    modules = dict(weight_modules(model))  # after the pass: Lazy modules are materialized now
    ordered = [n for n in rec.order if n in modules] + [n for n in modules if n not in rec.order]
    consumers = fx_consumers(model, [n for n in ordered if n in rec.order], extra)
    tracer = "fx" if consumers is not None else "recorded"
    recorded = rec.consumers()
    consumers = {**recorded, **(consumers or {})}
    say(f"measuring {len(ordered) + len(rec.raw)} weight tensors (consumers by {tracer} tracing)")
    scope = type(model).__name__
    records = [
        layer_record(name, modules[name].weight, KINDS.get(_base(modules[name]), "linear"), None, consumers, rec,
                     path, scope, seed, declared, agree)
        for name in ordered
    ]
    records += [
        layer_record(name, param, "parameter", (fi, fo), consumers, rec, path, scope, seed, declared, agree)
        for name, (param, fi, fo) in rec.raw.items()
    ]
    signal = Signal(signal_curve(rec, records), threshold)
    records.append(LayerRecord(name=scope, kind="network", framework="torch", origin=Origin(path), scope=scope,
                               signal=signal))
    return Measurement(path, scope, shape, tracer, tuple(records), signal)


def _base(module: nn.Module) -> type[nn.Module]:
    return next(c for c in type(module).__mro__ if c in KINDS)


def make_input(model: nn.Module, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """N(0,1) in the model's float dtype (requiring grad, so gradients flow even into frozen models),
    or uniform token ids when the model starts with an embedding."""
    first = first_leaf(model)
    if isinstance(first, (nn.Embedding, nn.EmbeddingBag)):
        return torch.randint(first.num_embeddings, shape, generator=generator)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return torch.randn(shape, generator=generator, dtype=dtype).requires_grad_(True)


def propagate(model: nn.Module, shape: tuple[int, ...], seed: int, extra: dict[str, str]) -> Recording:
    """The recorded pass (SPEC 8.18) with the model's state put back afterwards."""
    flags = {name: m.training for name, m in model.named_modules()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    generator = torch.Generator().manual_seed(seed)
    x = make_input(model, shape, generator)
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # Lazy modules materialize with this seed
            return record_pass(model, [x], extra, generator)
    except LiveError:
        raise
    except Exception as err:  # noqa: BLE001 - user forward code
        raise LiveError(f"forward pass on input shape {','.join(map(str, shape))} failed: {first_line(err)}") from err
    finally:
        modules = dict(model.named_modules())
        for name, training in flags.items():
            if name in modules:
                modules[name].training = training
        with torch.no_grad():
            for name, buf in model.named_buffers():
                if name in buffers and buffers[name].shape == buf.shape:
                    buf.copy_(buffers[name])


def layer_record(
    name: str,
    weight: torch.Tensor,
    kind: str,
    fans: tuple[int, int] | None,
    consumers: dict[str, Consumer],
    rec: Recording,
    path: str,
    scope: str,
    seed: int,
    declared: dict[str, InitSpec] | None,
    agree: Agreement | None,
) -> LayerRecord:
    """One weight layer: measured init, consumer, and the measurements of the pass."""
    shape = tuple(int(d) for d in weight.shape)
    fan_in, fan_out = fans or formulas.torch_fans(shape)
    consumer = consumers.get(name) or Consumer(None, unresolved="not called in the forward pass")
    act: Activation | None = consumer.activation
    values = weight.detach().cpu().float().numpy()
    spec = infer(values, fan_in, fan_out, framework="torch", slope=act.slope if act else 0.0,
                 seed=seed, family=act.family if act else None, agree=agree)
    point = rec.points.get(name)
    return LayerRecord(
        name=name, kind=kind, framework="torch", origin=Origin(path), fan_in=fan_in, fan_out=fan_out,
        init=spec, activation=act, normalized=consumer.normalized, residual_end=consumer.residual_end,
        scope=scope, unresolved=consumer.unresolved, shape=shape,
        point=SignalPoint(name, point.forward_std, point.grad_std, point.dead_fraction) if point else None,
        declared=declared.get(name) if declared else None,
        weight_expr=python_path(name) + (".weight" if kind != "parameter" else ""),
    )


def python_path(name: str, root: str = "model") -> str:
    """``features.3.conv`` -> ``model.features[3].conv`` (how the module is reached in Python)."""
    out = root
    for part in name.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def signal_curve(rec: Recording, records: Sequence[LayerRecord]) -> tuple[SignalPoint, ...]:
    """The INIT008 curve in execution order."""
    by_name = {r.name: r for r in records}
    curve = []
    for name in rec.order:
        point = rec.points.get(name)
        if point is None:
            continue
        record = by_name.get(name)
        curve.append(SignalPoint(
            name, point.forward_std, point.grad_std, point.dead_fraction,
            head=bool(record and is_head(record)), residual_end=bool(record and record.residual_end),
            shape=tuple(point.shape) if point.shape is not None else None,
        ))
    return tuple(curve)


# ----------------------------------------------------------------------------------------------
# INIT007: the declared initializers of the defining source file


def declared_inits(static_records: Sequence[LayerRecord], model: nn.Module) -> dict[str, InitSpec]:
    """Module path -> initializer the static analysis of the defining file resolved as declared.

    A live module ``encoder.fc1`` matches the static record ``Encoder.fc1`` (class of the
    parent module + attribute); a child of a Sequential/ModuleList ``blocks.3`` also matches
    ``Owner.blocks[3]``, the comprehension site ``Owner.blocks[i]`` and ``Owner.blocks``.
    """
    static: dict[str, InitSpec] = {}
    for r in static_records:
        if r.init is not None and r.init.source == "declared" and not r.unresolved:
            static.setdefault(r.name, r.init)
    out = {}
    for name, _ in weight_modules(model):
        for candidate in static_names(model, name):
            if candidate in static:
                out[name] = static[candidate]
                break
    return out


def static_names(model: nn.Module, name: str) -> list[str]:
    """The names the static frontend may give the module at ``name``, most specific first."""
    parts = name.split(".")
    parent = model.get_submodule(".".join(parts[:-1])) if len(parts) > 1 else model
    names = [f"{type(parent).__name__}.{parts[-1]}"]
    if parts[-1].isdigit():
        owner = model.get_submodule(".".join(parts[:-2])) if len(parts) > 2 else model
        holder = parts[-2] if len(parts) > 1 else ""
        if holder:
            owner_name = type(owner).__name__
            # a literal index, a comprehension site ("[i]"), or the container as a whole
            names += [f"{owner_name}.{holder}[{parts[-1]}]", f"{owner_name}.{holder}[i]", f"{owner_name}.{holder}"]
    return names


