"""Signal propagation through an ONNX graph with onnxruntime (``--propagate``, INIT008).

One seeded N(0, 1) batch (``--input-shape``, batch 128 where the graph leaves it open)
goes through the graph with every weight layer's output and its relu-family activation's
output added as graph outputs. Per SPEC 8.18 BatchNormalization runs on batch statistics
(``training_mode=1``, as in the first training step) and dropout is off (inference).
onnxruntime has no backward pass, so only the forward std is measured. The result is one
record of kind ``network`` whose ``signal`` the INIT008 check reads.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import onnx
from onnx import helper

from ...records import GraphNode, LayerRecord, Origin, Signal, SignalPoint
from ...settings import Settings

DEFAULT_BATCH = 128
SEED = 0
HOW_TO_ENABLE = "pip install onnxruntime"


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
        import onnxruntime as ort
    except ImportError:
        raise NoRuntime(f"onnxruntime is not installed ({HOW_TO_ENABLE})") from None
    layers = [r for r in records if r.kind != "network" and r.node is not None and r.node.output]
    if not layers:
        raise NoRuntime("no weight layer to measure")
    model = onnx.load(path, load_external_data=True)  # locations were validated by the audit
    initializers = {t.name for t in model.graph.initializer}
    name, shape = _input_shape(model, initializers, settings.input_shape)
    _train_batchnorm(model)
    wanted = list(dict.fromkeys(
        n for r in layers if r.node for n in (r.node.output, r.node.act_output) if n
    ))
    existing = {o.name for o in model.graph.output}
    model.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in wanted if n not in existing)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep every named tensor
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        batch = np.random.default_rng(SEED).standard_normal(shape).astype(_dtype(model, name))
        names = [o.name for o in session.get_outputs()]
        values = dict(zip(names, session.run(names, {name: batch})))
    except Exception as err:  # onnxruntime raises its own exception types for bad shapes and ops
        raise NoRuntime(f"onnxruntime could not run the graph: {str(err).splitlines()[0][:200]}") from None
    signal = Signal(tuple(_point(r, r.node, values) for r in layers if r.node), settings.signal_threshold,
                    shape, backward=False)
    return LayerRecord(name=os.path.basename(path), kind="network", framework="onnx", origin=Origin(path),
                       signal=signal)


def _point(record: LayerRecord, node: GraphNode, values: dict[str, np.ndarray]) -> SignalPoint:
    out = values.get(node.output)
    act = values.get(node.act_output) if node.act_output else None
    relu = record.activation is not None and record.activation.family == "relu"
    return SignalPoint(
        layer=record.name,
        forward_std=None if out is None else float(np.asarray(out, dtype=np.float64).std()),
        dead_fraction=float(np.mean(act == 0)) if relu and act is not None and act.size else None,
        head=node.head,
    )
