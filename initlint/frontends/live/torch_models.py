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
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from ... import formulas
from ...measure import Agreement, as_trained, infer, trained_majority
from ...records import Activation, InitSpec, LayerRecord, Origin, Progress, Signal, SignalPoint
from ...settings import Settings
from .common import DEFAULT_BATCH, Measurement, is_head
from .targets import LiveError, class_file, first_line
from .trace import EMBEDDINGS, WEIGHT_MODULES, Consumer, Recording, fx_consumers, record_pass, tensors

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
    """The first module the forward uses that holds parameters itself (usually the one the input meets).

    From the ``torch.fx`` graph when the model traces, else the first registered submodule with
    parameters. The root module is never it: a learned position table on the root is not where the
    input goes first.
    """
    import torch.fx

    modules = dict(model.named_modules())
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - untraceable models: registration order
        graph = None
    if graph is not None:
        for node in graph.nodes:
            if node.op == "call_module":
                module = modules.get(str(node.target))
                if module is not None and (isinstance(module, EMBEDDINGS)
                                           or any(True for _ in module.parameters(recurse=False))):
                    return module
    return next((m for m in list(model.modules())[1:] if any(True for _ in m.parameters(recurse=False))), None)


def infer_input_shape(model: nn.Module, batch: int = DEFAULT_BATCH, first: nn.Module | None = None) -> tuple[int, ...]:
    """``(batch, in_features)`` or ``(batch, in_channels, *spatial)`` from the first weight layer.

    A model whose forward starts with an embedding gets ``(batch, TOKENS)`` token ids.
    """
    if isinstance(first or first_leaf(model), EMBEDDINGS):
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


@dataclass(frozen=True)
class Inputs:
    """How the pass calls the model: positional tensors, keyword tensors, and how to describe them."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    shape: tuple[int, ...]  # the first tensor's shape (reported as the input shape)
    given: bool  # example inputs or an explicit shape: a failure is not the inferred shape's fault


def _prepared(value: Any) -> Any:
    """A copy of an example input the pass may use: float tensors require grad so gradients flow."""
    if isinstance(value, torch.Tensor):
        copy = value.detach().clone()
        return copy.requires_grad_(True) if copy.is_floating_point() else copy
    if isinstance(value, (list, tuple)):
        return type(value)(_prepared(v) for v in value)
    if isinstance(value, dict):
        return {k: _prepared(v) for k, v in value.items()}
    return value


def example(example_inputs: Any) -> Inputs:
    """``example_inputs`` as the pass uses them: a tensor, a tuple/list of positional inputs, or a dict of keywords."""
    if isinstance(example_inputs, dict):
        args, kwargs = (), {str(k): _prepared(v) for k, v in example_inputs.items()}
    elif isinstance(example_inputs, (tuple, list)):
        args, kwargs = tuple(_prepared(v) for v in example_inputs), {}
    else:
        args, kwargs = (_prepared(example_inputs),), {}
    first = next(iter(tensors([list(args), kwargs])), None)
    if first is None:
        raise LiveError("example_inputs holds no tensor")
    return Inputs(args, kwargs, tuple(int(d) for d in first.shape), True)


def drawn(model: nn.Module, shape: tuple[int, ...] | None, dtype: torch.dtype | None,
          generator: torch.Generator) -> Inputs:
    """One seeded input: N(0,1) in the model's float dtype, or token ids below the first embedding's size.

    Token ids are drawn when ``dtype`` is an integer type or, without a dtype, when the first module
    the forward uses is an Embedding.
    """
    first = first_leaf(model)
    given = shape is not None or dtype is not None
    shape = tuple(shape) if shape else infer_input_shape(model, first=first)
    if dtype is None:
        dtype = torch.int64 if isinstance(first, EMBEDDINGS) else None
    if dtype is not None and not dtype.is_floating_point:
        table = first if isinstance(first, EMBEDDINGS) else next(
            (m for m in model.modules() if isinstance(m, EMBEDDINGS)), None)
        if table is None:
            raise LiveError("integer inputs are drawn as ids below an nn.Embedding's num_embeddings, and the model "
                            "has none; pass the inputs from Python: check_model(model, example_inputs=...)")
        ids = torch.randint(table.num_embeddings, shape, generator=generator).to(dtype)
        return Inputs((ids,), {}, shape, given)
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return Inputs((torch.randn(shape, generator=generator, dtype=dtype).requires_grad_(True),), {}, shape, given)


def failure_hint(err: BaseException, inputs: Inputs) -> str:
    """What could help when the pass failed: another input type or count, integer ids, or a shape."""
    text = str(err)
    if isinstance(err, TypeError) and ("argument" in text or "positional" in text):
        return (" (the forward takes other inputs than one tensor: pass them from Python, "
                "check_model(model, example_inputs=(...) or {...}))")
    if any(word in text for word in ("indices", "Long", "Int", "index out of range")):
        return " (the model expects integer ids: pass --input-dtype long)"
    if not inputs.given:
        return " (the input shape was inferred; pass --input-shape)"
    return ""


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
    example_inputs: Any = None,
    input_dtype: torch.dtype | None = None,
) -> Measurement:
    """Measure, trace and propagate a live torch model: its records, ready for the engine.

    ``path`` is where findings are located (default: the file defining the model's class);
    ``declared`` maps module paths to statically declared initializers (INIT007; see
    :func:`declared_inits`); ``agree`` decides ambiguous tensor matches (see
    :func:`initlint.measure.infer`). ``example_inputs`` (a tensor, a tuple of positional inputs or a
    dict of keyword inputs) replace the drawn batch; ``input_dtype`` (e.g. ``torch.int64``) draws
    token ids. The model's train/eval flags, buffers and gradients are restored.
    """
    say = progress or (lambda _msg: None)
    path = path or class_file(model)
    extra = dict(settings.activations)
    generator = torch.Generator().manual_seed(seed)
    inputs = example(example_inputs) if example_inputs is not None else drawn(
        model, tuple(input_shape) if input_shape else None, input_dtype, generator)
    shape = inputs.shape
    say(f"forward/backward pass on {'the example inputs' if example_inputs is not None else 'input'} {shape}")
    rec = propagate(model, inputs, seed, extra, generator)
    modules = dict(weight_modules(model))  # after the pass: Lazy modules are materialized now
    ordered = [n for n in rec.order if n in modules] + [n for n in modules if n not in rec.order]
    consumers = fx_consumers(model, [n for n in ordered if n in rec.order], extra)
    tracer = "fx" if consumers is not None else "recorded"
    recorded = rec.consumers()
    consumers = {**recorded, **(consumers or {})}
    say(f"measuring {len(ordered) + len(rec.raw)} weight tensors (consumers by {tracer} tracing)")
    scope = type(model).__name__
    tables = embedding_tensors(model)
    records = [
        layer_record(name, modules[name].weight,
                     "embedding" if id(modules[name].weight) in tables else KINDS.get(_base(modules[name]), "linear"),
                     None, consumers, rec, path, scope, seed, declared, agree)
        for name in ordered
    ]
    records += [
        layer_record(name, param, "parameter", (fi, fo), consumers, rec, path, scope, seed, declared, agree)
        for name, (param, fi, fo) in rec.raw.items()
    ]
    signal = Signal(signal_curve(rec, records), threshold)
    why = trained_majority([r.init for r in records])
    if why:  # SPEC 8.37: a trained model is judged as trained, and INIT008 gives no re-init hint
        records = [replace(r, init=as_trained(r.init, why)) for r in records]
    records.append(LayerRecord(name=scope, kind="network", framework="torch", origin=Origin(path), scope=scope,
                               signal=signal,
                               init=InitSpec("trained", source="measured", note=why) if why else None))
    return Measurement(path, scope, shape, tracer, tuple(records), signal)


def embedding_tensors(model: nn.Module) -> set[int]:
    """ids of the tensors of every Embedding/EmbeddingBag (a layer tied to one is exempt like it: SPEC 8.38)."""
    return {id(m.weight) for m in model.modules() if isinstance(m, EMBEDDINGS)}


def shared_tensors(model: nn.Module) -> set[int]:
    """ids of parameters registered under more than one module (tied or shared weights, SPEC 8.38)."""
    owners: dict[int, int] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            owners[id(param)] = owners.get(id(param), 0) + 1
    return {key for key, count in owners.items() if count > 1}


def _base(module: nn.Module) -> type[nn.Module]:
    return next(c for c in type(module).__mro__ if c in KINDS)


def propagate(model: nn.Module, inputs: Inputs, seed: int, extra: dict[str, str],
              generator: torch.Generator) -> Recording:
    """The recorded pass (SPEC 8.18) with the model's state put back afterwards."""
    flags = {name: m.training for name, m in model.named_modules()}
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)  # Lazy modules materialize with this seed
            return record_pass(model, inputs.args, extra, generator, call_kwargs=inputs.kwargs)
    except LiveError:
        raise
    except Exception as err:  # noqa: BLE001 - user forward code
        raise LiveError(f"forward pass on input shape {','.join(map(str, inputs.shape))} failed: "
                        f"{first_line(err)}{failure_hint(err, inputs)}") from err
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
        point=SignalPoint(name, point.forward_std, point.grad_std, point.dead_fraction,
                          grad_norm=point.grad_norm) if point else None,
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
    """The INIT008 curve: every call of every weight layer, in execution order (SPEC 8.36)."""
    by_name = {r.name: r for r in records}
    curve = []
    for point in rec.calls:
        record = by_name.get(point.layer)
        curve.append(SignalPoint(
            point.label, point.forward_std, point.grad_std, point.dead_fraction,
            head=bool(record and is_head(record)), residual_end=bool(record and record.residual_end),
            shape=tuple(point.shape) if point.shape is not None else None, grad_norm=point.grad_norm,
            normalized=bool(record and record.normalized),
        ))
    return tuple(curve)


# ----------------------------------------------------------------------------------------------
# INIT007: the declared initializers of the defining source file


def declared_inits(static_records: Sequence[LayerRecord], model: nn.Module) -> dict[str, InitSpec]:
    """Module path -> initializer the static analysis of the defining file resolved as declared
    (or as the framework default, with the reason it sees no init: carried into the live INIT005).

    A live module ``encoder.fc1`` matches the static record ``Encoder.fc1`` (class of the
    parent module + attribute); a child of a Sequential/ModuleList ``blocks.3`` also matches
    ``Owner.blocks[3]``, the comprehension site ``Owner.blocks[i]`` and ``Owner.blocks``.
    """
    static: dict[str, InitSpec] = {}
    for r in static_records:
        if r.init is None or r.unresolved:
            continue
        # declared inits (INIT007), and defaults the analysis can explain (SPEC 8.19: "... is never applied")
        if r.init.source == "declared" or r.init.source == "default" and r.init.note:
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


