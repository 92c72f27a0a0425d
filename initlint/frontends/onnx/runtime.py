"""Signal propagation through an ONNX graph with onnxruntime (``--propagate``, INIT008).

One seeded N(0, 1) batch (``--input-shape``, batch 128 where the graph leaves it open)
goes through the graph with every weight layer's output and its relu-family activation's
output added as graph outputs. Per SPEC 8.18 BatchNormalization runs on batch statistics
(``training_mode=1``, as in the first training step) and dropout is off (inference).
onnxruntime has no backward pass, so only the forward std is measured. The result is one
record of kind ``network`` whose ``signal`` the INIT008 check reads.

A graph is data, and a hostile one can ask for anything: the run is bounded before it
starts and while it runs, and each bound that stops it says so in the record
("propagation skipped: ..."):

* the fed batch has at most :data:`MAX_INPUT_ELEMENTS` entries (a declared
  ``[1048576, 64]`` input is refused, ``--input-shape`` chooses a smaller one);
* the weights, which onnxruntime holds in memory, are at most :data:`MAX_WEIGHT_BYTES`;
* the graph's tensors, as ONNX shape inference sizes them for that batch, add up to at
  most :data:`MAX_TENSOR_BYTES` (unknown sizes are not counted: the memory cap below
  still holds them);
* a ``Loop`` with a constant trip count, or a ``Scan`` over a known length, runs at
  most :data:`MAX_TRIPS` iterations (nested loops multiply);
* onnxruntime runs in a forked child (:mod:`.isolation`) with its address space capped
  at :data:`MEMORY_CAP` beyond the parent's, killed when the file's ``--timeout`` is
  nearly spent, so the audit's own records are still reported.

External data, of subgraphs too, is read through the audit's checks (inside the model's
folder, no links, exact byte ranges with ``pread``), never by ``onnx.load``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ...records import GraphNode, LayerRecord, Origin, Signal, SignalPoint
from ...settings import Settings
from . import isolation
from .tensors import BadModel, all_tensors, load, nbytes, read_external, uses_external, validate_external

DEFAULT_BATCH = 128
SEED = 0
HOW_TO_ENABLE = "pip install onnxruntime"
MAX_INPUT_ELEMENTS = 1 << 25  # 32 Mi entries: 128 x 3 x 224 x 224 fits
MAX_WEIGHT_BYTES = 1 << 30
MAX_TENSOR_BYTES = 1 << 31
MAX_TRIPS = 10_000
MEMORY_CAP = 6 << 30  # address space the child may add to what it inherits
MAX_PROTO_BYTES = (1 << 31) - (1 << 20)  # protobuf cannot serialize a message of 2 GiB


class NoRuntime(Exception):
    """Propagation could not run; the message says why (and how to enable it)."""


def _input_shape(model: onnx.ModelProto, initializers: set[str], given: tuple[int, ...] | None) -> tuple[str, tuple[int, ...]]:
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise NoRuntime(f"the graph has {len(inputs)} data inputs; propagation feeds exactly one")
    first = inputs[0]
    if first.type.tensor_type.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE):
        raise NoRuntime(f"input {first.name!r} is not a float tensor")
    if given is not None:
        return first.name, given
    dims = first.type.tensor_type.shape.dim
    shape = []
    for index, dim in enumerate(dims):
        if dim.HasField("dim_value") and dim.dim_value > 0:
            shape.append(int(dim.dim_value))
        elif index == 0:
            shape.append(DEFAULT_BATCH)
        else:
            raise NoRuntime(f"input {first.name!r} has a dynamic dimension {index}; pass --input-shape")
    return first.name, tuple(shape)


def _dtype(model: onnx.ModelProto, name: str) -> Any:
    elem = next(i for i in model.graph.input if i.name == name).type.tensor_type.elem_type
    return helper.tensor_dtype_to_np_dtype(elem)


def _train_batchnorm(model: onnx.ModelProto) -> None:
    """BatchNormalization on batch statistics, as torch in train mode (SPEC 8.18)."""
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < 14:
        return
    for node in model.graph.node:
        if node.op_type == "BatchNormalization":
            attrs = [a for a in node.attribute if a.name != "training_mode"]
            del node.attribute[:]
            node.attribute.extend(attrs + [helper.make_attribute("training_mode", 1)])
            del node.output[1:]  # training mode has exactly three outputs; the running statistics go unused
            node.output.extend([f"{node.output[0]}__running_mean", f"{node.output[0]}__running_var"])


def propagate(path: str, records: list[LayerRecord], settings: Settings) -> LayerRecord:
    """The ``network`` record with the per-layer forward std curve; NoRuntime when it cannot run."""
    try:
        import onnxruntime  # noqa: F401 - imported here once, so that every forked run finds it loaded
    except ImportError:
        raise NoRuntime(f"onnxruntime is not installed ({HOW_TO_ENABLE})") from None
    layers = [r for r in records if r.kind != "network" and r.node is not None and r.node.output]
    if not layers:
        raise NoRuntime("no weight layer to measure")
    wanted = list(dict.fromkeys(n for r in layers if r.node for n in (r.node.output, r.node.act_output) if n))
    limit = _time_budget(settings)
    try:
        shape, stats = isolation.run(lambda: _measure(path, wanted, settings.input_shape), limit)
    except isolation.Overran as err:
        raise NoRuntime(f"onnxruntime did not finish within {err.seconds:.3g} s (--timeout)") from None
    except isolation.ChildFailed as err:
        raise NoRuntime(f"onnxruntime's process {err}{' (out of memory?)' if 'SIGKILL' in str(err) else ''}") from None
    except BadModel as err:
        raise NoRuntime(str(err)) from None
    except MemoryError:
        raise NoRuntime("onnxruntime ran out of memory") from None
    except NoRuntime:
        raise
    except Exception as err:  # noqa: BLE001 - a graph that breaks shape inference or the loader in a new way
        raise NoRuntime(f"propagation failed ({type(err).__name__}: {_first_line(err)})") from None
    signal = Signal(tuple(_point(r, r.node, stats) for r in layers if r.node), settings.signal_threshold,
                    shape, backward=False)
    return LayerRecord(name=os.path.basename(path), kind="network", framework="onnx", origin=Origin(path),
                       signal=signal)


def _time_budget(settings: Settings) -> float | None:
    """Seconds onnxruntime may take: what the file's deadline leaves, less a margin to report the rest."""
    left = isolation.remaining_deadline()
    if left is None:
        return settings.timeout or None
    return max(0.05, left - max(1.5, 0.1 * left))


def _measure(path: str, wanted: list[str], given: tuple[int, ...] | None) -> tuple[tuple[int, ...], dict[str, float]]:
    """In the child: check the bounds, load the weights, run once; the statistics of ``wanted`` by name.

    ``name`` -> std of a layer output, ``name + "/zeros"`` -> share of exact zeros of an activation output.
    """
    cap = _cap_memory()
    try:
        return _run(path, wanted, given)
    except MemoryError:
        capped = f" (its address space is capped at {_size(cap)})" if cap else ""
        raise NoRuntime(f"onnxruntime ran out of memory{capped}") from None


def _run(path: str, wanted: list[str], given: tuple[int, ...] | None) -> tuple[tuple[int, ...], dict[str, float]]:
    """The bounds first (nothing is allocated for a graph that breaks one), then the weights, then one run."""
    model = load(path)
    initializers = {t.name for t in model.graph.initializer}
    name, shape = _input_shape(model, initializers, given)
    _check_bounds(model, name, shape)
    if given is not None:
        _set_input_shape(model, name, shape)
    _inline_external(model, os.path.dirname(os.path.abspath(path)))
    _train_batchnorm(model)
    existing = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in wanted if n not in existing)
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every named tensor
    options.log_severity_level = 4  # fatal only: a refused graph is one line in the record, not a log
    try:
        data = model.SerializeToString()
        dtype = _dtype(model, name)
        del model
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        del data
        batch = np.random.default_rng(SEED).standard_normal(shape).astype(dtype)
        names = [o.name for o in session.get_outputs()]
        outputs = dict(zip(names, session.run(names, {name: batch})))
    except MemoryError:
        raise
    except Exception as err:  # noqa: BLE001 - onnxruntime raises its own exception types for bad shapes and ops
        if "bad_alloc" in str(err) or "Failed to allocate" in str(err):
            raise MemoryError from None
        raise NoRuntime(f"onnxruntime could not run the graph: {_first_line(err)}") from None
    stats: dict[str, float] = {}
    with np.errstate(all="ignore"):
        for key in wanted:
            value = outputs.get(key)
            if value is None or not isinstance(value, np.ndarray) or value.dtype.kind not in "fiub":
                continue
            if value.size:
                stats[key] = float(np.asarray(value, dtype=np.float64).std())
                stats[key + "/zeros"] = float(np.mean(value == 0))
    return shape, stats


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:200]


def _cap_memory() -> int:
    """RLIMIT_AS of the child: what it inherited plus MEMORY_CAP (for sizes shape inference cannot see); the cap."""
    try:
        import resource

        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = used + MEMORY_CAP
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft == resource.RLIM_INFINITY or cap < soft:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
            return cap
        return soft
    except (ImportError, OSError, ValueError):  # not Linux: the time limit still holds
        return 0


def _check_bounds(model: onnx.ModelProto, name: str, shape: tuple[int, ...]) -> None:
    """NoRuntime when the run would exceed a bound (module docstring), checked before anything is allocated."""
    elements = 1
    for d in shape:
        elements *= d
    if elements > MAX_INPUT_ELEMENTS:
        raise NoRuntime(f"input {name!r} of shape {list(shape)} has {elements:,} entries, over the "
                        f"{MAX_INPUT_ELEMENTS:,} a propagation feeds (pass a smaller --input-shape)")
    weights = sum(nbytes(t) if uses_external(t) else t.ByteSize() for t in all_tensors(model.graph))
    if weights > MAX_WEIGHT_BYTES:
        raise NoRuntime(f"the weights take {_size(weights)}, over the {_size(MAX_WEIGHT_BYTES)} a propagation "
                        "holds in memory")
    sized = _inferred(model, name, shape)
    total = sum(_bytes(vi) for vi in sized.values())
    if total > MAX_TENSOR_BYTES:
        raise NoRuntime(f"the graph's tensors on input {list(shape)} would take {_size(total)}, over the "
                        f"{_size(MAX_TENSOR_BYTES)} a propagation allows")
    _check_trips(model.graph, _constants(model.graph), sized, 1)


def _size(n: int) -> str:
    return f"{n / (1 << 30):.3g} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.3g} MiB"


def _inferred(model: onnx.ModelProto, name: str, shape: tuple[int, ...]) -> dict[str, onnx.ValueInfoProto]:
    """Tensor name -> its type as shape inference sees it with the input fixed to ``shape`` ({} when it fails)."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    _set_input_shape(probe, name, shape)
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, strict_mode=False, data_prop=True)
    except Exception:  # noqa: BLE001 - a graph shape inference rejects: its sizes are simply unknown
        return {}
    graph = inferred.graph
    return {v.name: v for v in [*graph.input, *graph.value_info, *graph.output] if v.name not in
            {t.name for t in graph.initializer}}


def _set_input_shape(model: onnx.ModelProto, name: str, shape: tuple[int, ...]) -> None:
    """Declare the fed shape on the graph input (onnxruntime refuses a batch that contradicts a declared dim)."""
    for value in model.graph.input:
        if value.name == name:
            dims = value.type.tensor_type.shape.dim
            del dims[:]
            for d in shape:
                dims.add().dim_value = d


def _bytes(value: onnx.ValueInfoProto) -> int:
    """The tensor's size when its type and every dim are known, else 0."""
    tensor = value.type.tensor_type
    dims = tensor.shape.dim if tensor.HasField("shape") else None
    if not dims or not all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
        return 0
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.elem_type)).itemsize
    except (KeyError, TypeError, ValueError):
        return 0
    count = 1
    for d in dims:
        count *= d.dim_value
    return count * itemsize


def _constants(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    """Small integer constants by name, from every graph (a Loop's trip count may be one)."""
    found: dict[str, onnx.TensorProto] = {}
    for tensor in graph.initializer:
        if not uses_external(tensor) and len(tensor.dims) <= 1 and nbytes(tensor) <= 64:
            found[tensor.name] = tensor
    for node in graph.node:
        if node.op_type == "Constant" and node.output:
            for attr in node.attribute:
                if attr.name == "value" and nbytes(attr.t) <= 64:
                    found[node.output[0]] = attr.t
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                found.update(_constants(sub))
    return found


def _int_value(name: str, constants: dict[str, onnx.TensorProto]) -> int | None:
    tensor = constants.get(name)
    if tensor is None:
        return None
    try:
        values = numpy_helper.to_array(tensor).reshape(-1)
    except Exception:  # noqa: BLE001 - a malformed constant: the count is unknown
        return None
    return int(values[0]) if values.size == 1 and values.dtype.kind in "iu" else None


def _check_trips(graph: onnx.GraphProto, constants: dict[str, onnx.TensorProto],
                 sized: dict[str, onnx.ValueInfoProto], outer: int) -> None:
    """NoRuntime when a Loop or Scan (times the loops around it) would run over MAX_TRIPS iterations."""
    for node in graph.node:
        trips = 1
        if node.op_type == "Loop" and node.input and node.input[0]:
            trips = max(_int_value(node.input[0], constants) or 1, 1)
        elif node.op_type == "Scan":
            trips = _scan_length(node, sized)
        total = outer * trips
        if total > MAX_TRIPS:
            what = f"{node.op_type} {node.name!r}" if node.name else node.op_type
            around = " (with the loops around it)" if outer > 1 else ""
            raise NoRuntime(f"{what} runs {total:,} iterations{around}, over the {MAX_TRIPS:,} a propagation allows")
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                _check_trips(sub, constants, sized, total)


def _scan_length(node: onnx.NodeProto, sized: dict[str, onnx.ValueInfoProto]) -> int:
    count = next((a.i for a in node.attribute if a.name == "num_scan_inputs"), 0)
    axes = next((list(a.ints) for a in node.attribute if a.name == "scan_input_axes"), [])
    inputs = list(node.input)[len(node.input) - count:] if 0 < count <= len(node.input) else []
    for index, name in enumerate(inputs):
        value = sized.get(name)
        if value is None:
            continue
        dims = value.type.tensor_type.shape.dim
        axis = axes[index] if index < len(axes) else 0
        axis = axis + len(dims) if axis < 0 else axis
        if 0 <= axis < len(dims) and dims[axis].HasField("dim_value"):
            return max(int(dims[axis].dim_value), 1)
    return 1


def _inline_external(model: onnx.ModelProto, model_dir: str) -> None:
    """Every external tensor's bytes, read through the audit's checks, stored in the model itself."""
    for tensor in all_tensors(model.graph):
        if uses_external(tensor):
            raw = read_external(tensor, validate_external(tensor, model_dir))
            del tensor.external_data[:]
            tensor.data_location = onnx.TensorProto.DEFAULT
            tensor.raw_data = raw


def _point(record: LayerRecord, node: GraphNode, stats: dict[str, float]) -> SignalPoint:
    relu = record.activation is not None and record.activation.family == "relu"
    return SignalPoint(
        layer=record.name,
        forward_std=stats.get(node.output),
        dead_fraction=stats.get(node.act_output + "/zeros") if relu and node.act_output else None,
        head=node.head,
    )
