"""Live torch models: measure every weight, trace its consumer, propagate one batch (SPEC 2.3, 8.18, 8.19).

``initlint check TARGET`` imports user code (explicitly: this runs it), builds the
model on CPU with a fixed seed and hands it to :func:`check_model`, which

1. runs one seeded N(0,1) batch forward and ``sum(output * R)`` backward in train
   mode with dropout disabled (:mod:`.live_trace`), recording per weight layer the
   forward std, the gradient std and the dead fraction after relu-family activations;
2. resolves each layer's consuming activation from a ``torch.fx`` trace, or from the
   recorded pass when fx cannot trace the model;
3. measures each weight tensor with :func:`initlint.measure.infer` (PyTorch fans);
4. builds one :class:`LayerRecord` per weight layer (and one ``network`` record with
   the curve for INIT008), attaches the statically declared initializer of the
   defining source file for INIT007, and runs the engine.

Findings are located at the target's source file with ``line`` None and ``layer``
the module path (SPEC 8.23). torch is imported only by this module and its helpers.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from ... import engine, formulas
from ...records import Activation, FileResult, InitSpec, LayerRecord, Origin
from ...settings import Settings
from .trace import (
    WEIGHT_MODULES,
    Consumer,
    Recording,
    finite,
    fx_consumers,
    record_pass,
)

DEFAULT_BATCH = 128
# Spatial size of an inferred conv input, per number of spatial dims (small enough for CPU).
SPATIAL = {1: (64,), 2: (32, 32), 3: (8, 8, 8)}
TOKENS = 16  # sequence length of an inferred token-id input
KINDS: dict[type[nn.Module], str] = {
    nn.Linear: "linear", nn.Bilinear: "bilinear",
    nn.Conv1d: "conv", nn.Conv2d: "conv", nn.Conv3d: "conv",
    nn.ConvTranspose1d: "conv_transpose", nn.ConvTranspose2d: "conv_transpose", nn.ConvTranspose3d: "conv_transpose",
}

Progress = Callable[[str], None]


class LiveError(Exception):
    """A target that cannot be imported, built or run: one clear line."""


@dataclass(frozen=True)
class LiveResult(FileResult):
    """A :class:`FileResult` plus what a live check measured.

    ``layers``: one table row per weight layer (see :func:`layer_row`); ``signal``: the
    INIT008 curve and its threshold; ``tracer``: "fx" or "recorded" (which found the consumers).
    """

    model: str = ""
    input_shape: tuple[int, ...] = ()
    tracer: str = ""
    layers: tuple[dict[str, Any], ...] = ()
    signal: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# Targets: importing and building user code


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def import_target(target: str) -> tuple[Any, str]:
    """The object named by ``path/to/file.py:Name`` or ``package.module:Name``, and its source file.

    Runs the module's top-level code. ``Name`` may be dotted (``Outer.build``).
    """
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise LiveError("expected path/to/file.py:Name or package.module:Name")
    try:
        if where.endswith(".py") or os.sep in where or "/" in where:
            module, path = _import_file(where)
        else:
            module = _import_module(where)
            path = getattr(module, "__file__", None) or where
    except LiveError:
        raise
    except BaseException as err:  # noqa: BLE001 - user code may raise anything, even SystemExit
        raise LiveError(f"cannot import: {_first_line(err)}") from err
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise LiveError(f"{where} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj, str(path)


def _import_module(name: str) -> Any:
    """Import ``package.module`` with the current directory importable, as ``python -m`` would."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def _import_file(path: str) -> tuple[Any, str]:
    if not os.path.isfile(path):
        raise LiveError(f"no such file: {path}")
    full = os.path.abspath(path)
    name = "initlint_target_" + hashlib.sha1(full.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise LiveError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = os.path.dirname(full)
    sys.path.insert(0, folder)  # sibling imports of the target file
    try:
        spec.loader.exec_module(module)
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module, path


def build_model(obj: Any, kwargs: dict[str, Any], seed: int) -> Any:
    """Instantiate a class or call a factory with ``kwargs`` under ``torch.manual_seed(seed)``."""
    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise LiveError(f"{obj!r} is neither a model class nor a factory")
    torch.manual_seed(seed)
    try:
        model = obj(**kwargs)
    except BaseException as err:  # noqa: BLE001 - user code
        raise LiveError(f"cannot build the model: {_first_line(err)}") from err
    if isinstance(model, nn.Module) or _is_keras_model(model):
        return model
    raise LiveError(f"the target returned {type(model).__name__}, not a torch.nn.Module")


def _is_keras_model(obj: Any) -> bool:
    return any(c.__module__.startswith("keras") and c.__name__ in ("Model", "Sequential", "Functional")
               for c in type(obj).__mro__)


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


def parse_shape(text: str) -> tuple[int, ...]:
    """``"128,3,32,32"`` -> (128, 3, 32, 32)."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise LiveError(f"bad --input-shape {text!r}: expected comma-separated integers") from None
    if not shape or any(d <= 0 for d in shape):
        raise LiveError(f"bad --input-shape {text!r}: expected positive integers")
    return shape


# ----------------------------------------------------------------------------------------------
# The check


def check_model(
    model: nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    threshold: float = 10.0,
    path: str | None = None,
    settings: Settings | None = None,
    declared: dict[str, InitSpec] | None = None,
    progress: Progress | None = None,
) -> LiveResult:
    """Measure, trace and propagate a live torch model; judge it like any other input.

    ``path`` is where findings are located (default: the file defining the model's class);
    ``declared`` maps module paths to statically declared initializers (INIT007; see
    :func:`declared_inits`). The model's train/eval flags, buffers and gradients are restored.
    """
    settings = settings or Settings()
    say = progress or (lambda _msg: None)
    path = path or _class_file(model)
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
    records = [
        layer_record(name, modules[name].weight, KINDS.get(_base(modules[name]), "linear"), None, consumers, rec,
                     path, type(model).__name__, seed, declared)
        for name in ordered
    ]
    records += [
        layer_record(name, param, "parameter", (fi, fo), consumers, rec, path, type(model).__name__, seed, declared)
        for name, (param, fi, fo) in rec.raw.items()
    ]
    curve = signal_curve(rec, records)
    network = LayerRecord(
        name=type(model).__name__, kind="network", framework="torch", origin=Origin(path),
        scope=type(model).__name__, extra={"curve": curve, "threshold": threshold},
    )
    records.append(network)
    found = tuple(engine.findings(records, settings))
    result = LiveResult(
        path=path, records=tuple(records), findings=found, model=type(model).__name__,
        input_shape=shape, tracer=tracer, signal={"threshold": threshold, "curve": curve},
    )
    rows = tuple(layer_row(r, found) for r in records if r.kind != "network")
    return replace(result, layers=rows)


def _base(module: nn.Module) -> type[nn.Module]:
    return next(c for c in type(module).__mro__ if c in KINDS)


def _class_file(model: nn.Module) -> str:
    """The file defining the model's class; ``<Sequential>`` for torch's own containers."""
    if type(model).__module__.startswith("torch."):
        return f"<{type(model).__name__}>"
    try:
        return inspect.getsourcefile(type(model)) or type(model).__module__
    except (TypeError, OSError):  # built-in or defined in an interactive session
        return type(model).__module__


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
        raise LiveError(f"forward pass on input shape {','.join(map(str, shape))} failed: {_first_line(err)}") from err
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
) -> LayerRecord:
    """One weight layer: measured init, consumer, and the measurements of the pass."""
    from ... import measure

    shape = tuple(int(d) for d in weight.shape)
    fan_in, fan_out = fans or formulas.torch_fans(shape)
    consumer = consumers.get(name) or Consumer(None, unresolved="not called in the forward pass")
    act: Activation | None = consumer.activation
    values = weight.detach().cpu().float().numpy()
    spec = measure.infer(values, fan_in, fan_out, framework="torch", slope=act.slope if act else 0.0,
                         seed=seed, family=act.family if act else None)
    point = rec.points.get(name)
    extra: dict[str, object] = {
        "forward_std": point.forward_std if point else None,
        "grad_std": point.grad_std if point else None,
        "dead_fraction": point.dead_fraction if point else None,
    }
    if declared and name in declared:
        extra["declared"] = declared[name]
    return LayerRecord(
        name=name, kind=kind, framework="torch", origin=Origin(path), fan_in=fan_in, fan_out=fan_out,
        init=spec, activation=act, normalized=consumer.normalized, residual_end=consumer.residual_end,
        scope=scope, unresolved=consumer.unresolved, shape=shape, extra=extra,
        weight_expr=python_path(name) + (".weight" if kind != "parameter" else ""),
    )


def python_path(name: str, root: str = "model") -> str:
    """``features.3.conv`` -> ``model.features[3].conv`` (how the module is reached in Python)."""
    out = root
    for part in name.split("."):
        out += f"[{part}]" if part.isdigit() else f".{part}"
    return out


def is_head(record: LayerRecord) -> bool:
    """An output head: its output (or its activation's) reaches the model output, not another weight layer."""
    return record.activation is not None and not record.activation.reaches_weight


def signal_curve(rec: Recording, records: Sequence[LayerRecord]) -> list[dict[str, Any]]:
    """The INIT008 curve in execution order (the format ``init008_unstable_signal`` documents)."""
    by_name = {r.name: r for r in records}
    curve = []
    for name in rec.order:
        point = rec.points.get(name)
        if point is None:
            continue
        record = by_name.get(name)
        curve.append({
            "layer": name,
            "forward_std": point.forward_std,
            "grad_std": point.grad_std,
            "dead_fraction": point.dead_fraction,
            "head": bool(record and is_head(record)),
            "residual_end": bool(record and record.residual_end),
            "shape": list(point.shape) if point.shape is not None else None,
        })
    return curve


# ----------------------------------------------------------------------------------------------
# The per-layer table


def required_std(record: LayerRecord) -> float | None:
    """The std of the consumer family's ``ok`` formula nearest to the measured tensor."""
    act, spec = record.activation, record.init
    if act is None or spec is None:
        return None
    required = formulas.requirements(act.family, record.fan_in, record.fan_out, act.slope)
    measured = spec.measured_std
    if not required:
        return None
    if measured is None or measured <= 0:
        return required[0][1] ** 0.5
    nearest = formulas.nearest(measured**2, required)
    return nearest[1] ** 0.5 if nearest else None


def layer_row(record: LayerRecord, found: Sequence[Any]) -> dict[str, Any]:
    """One row of the live table (also the ``layers`` entries of the JSON output)."""
    spec, act = record.init, record.activation
    need = required_std(record)
    measured = spec.measured_std if spec else None
    codes = sorted({f.code for f in found if record.name in f.layer.split(", ")})
    verdict = ", ".join(codes) if codes else ("unresolved" if record.unresolved else "ok")
    return {
        "layer": record.name,
        "type": record.kind,
        "shape": list(record.shape or ()),
        "fan_in": record.fan_in,
        "fan_out": record.fan_out,
        "measured_std": finite(measured),
        "scheme": spec.scheme if spec else None,
        "consumer": act.name if act else None,
        "family": act.family if act else None,
        "normalized": record.normalized,
        "required_std": finite(need),
        "ratio": finite(measured / need) if measured is not None and need else None,
        "forward_std": finite(record.extra.get("forward_std")),  # type: ignore[arg-type]
        "grad_std": finite(record.extra.get("grad_std")),  # type: ignore[arg-type]
        "dead_fraction": record.extra.get("dead_fraction"),
        "verdict": verdict,
        "unresolved": record.unresolved or None,
    }


# ----------------------------------------------------------------------------------------------
# INIT007: the declared initializers of the defining source file


def declared_inits(path: str, model: nn.Module, settings: Settings | None = None) -> dict[str, InitSpec]:
    """Module path -> initializer the static analysis of ``path`` resolved as declared.

    A live module ``encoder.fc1`` matches the static record ``Encoder.fc1`` (class of the
    parent module + attribute); a child of a Sequential/ModuleList ``blocks.3`` also matches
    ``Owner.blocks[3]``, the comprehension site ``Owner.blocks[i]`` and ``Owner.blocks``.
    """
    from ...api import lint_file

    result = lint_file(path, settings)
    static: dict[str, InitSpec] = {}
    for r in result.records:
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


def check_target(
    target: str,
    *,
    kwargs: dict[str, Any] | None = None,
    input_shape: Sequence[int] | None = None,
    seed: int = 0,
    threshold: float = 10.0,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> tuple[LiveResult, Any]:
    """Import, build and check ``path.py:Name`` / ``package.module:Name``; returns the result and the model.

    Raises :class:`LiveError` with one line when the target cannot be imported, built or run.
    """
    say = progress or (lambda _msg: None)
    say(f"importing {target} (this runs its code)")
    obj, path = import_target(target)
    model = build_model(obj, kwargs or {}, seed)
    if _is_keras_model(model):
        from .keras_models import check_keras_model

        return check_keras_model(model, input_shape, seed=seed, threshold=threshold, path=path,
                                 settings=settings, progress=progress), model
    say("reading declared initializers from the source")
    try:
        declared = declared_inits(path, model, settings) if path.endswith(".py") else {}
    except Exception:  # noqa: BLE001 - no static declarations means no INIT007, never a failed check
        declared = {}
    result = check_model(model, input_shape, seed=seed, threshold=threshold, path=path, settings=settings,
                         declared=declared, progress=progress)
    return result, model
