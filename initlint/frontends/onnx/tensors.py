"""Reading an ONNX file safely: the protobuf without its weights, then each weight on demand.

``onnx.load(path, load_external_data=False)`` reads only the graph. Embedded tensors are
decoded with ``numpy_helper``; external ones are memory-mapped at their recorded
offset and length, so a model with external data is never read whole. Before any
external file is opened its ``location`` is checked (INIT_REFERENCE 6.4): relative, no
``..`` component, its real path inside the model's folder, not a symbolic link, one hard
link only, and ``offset + length`` inside the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class BadModel(Exception):
    """The input is not a readable ONNX model; the message is one clear line."""


@dataclass(frozen=True)
class External:
    """Where an external tensor's bytes live, once validated."""

    path: str
    offset: int
    length: int


def load(path: str) -> onnx.ModelProto:
    """The model's protobuf without external data; BadModel for anything that is not a model."""
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise BadModel(f"cannot read: {err.strerror or err}") from None
    if size == 0:
        raise BadModel("empty file")
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as err:  # protobuf raises DecodeError, RuntimeWarning-like errors, ValueError
        raise BadModel(f"not an ONNX model, or truncated (cannot parse: {_first_line(err)})") from None
    if not model.HasField("graph") or not (model.graph.node or model.graph.initializer):
        raise BadModel("not an ONNX model (no graph)")
    if not model.opset_import:
        raise BadModel("not an ONNX model (no opset import)")
    _check_complete(model.graph)
    return model


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _check_complete(graph: onnx.GraphProto) -> None:
    """Every node input is produced somewhere: a truncated file that still parses fails here."""
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    known |= {t.name for t in graph.sparse_initializer if t.values.name}
    for node in graph.node:
        for name in node.input:
            if name not in known:
                raise BadModel(
                    f"graph is incomplete: input {name!r} of node {node.name or node.op_type!r} is never produced "
                    "(truncated file?)"
                )
        known.update(node.output)
    for out in graph.output:
        if out.name not in known:
            raise BadModel(f"graph is incomplete: output {out.name!r} is never produced (truncated file?)")


def external_info(tensor: TensorProto) -> dict[str, str]:
    return {entry.key: entry.value for entry in tensor.external_data}


def uses_external(tensor: TensorProto) -> bool:
    return tensor.data_location == TensorProto.EXTERNAL


def validate_external(tensor: TensorProto, model_dir: str) -> External:
    """The checked file, offset and length of an external tensor; BadModel with the reason otherwise."""
    info = external_info(tensor)
    location = info.get("location", "")
    name = tensor.name
    if not location:
        raise BadModel(f"tensor {name!r} is external but names no location")
    if os.path.isabs(location) or location.startswith(("/", "\\")) or (len(location) > 1 and location[1] == ":"):
        raise BadModel(f"external data location {location!r} of tensor {name!r} is not a relative path")
    parts = location.replace("\\", "/").split("/")
    if ".." in parts:
        raise BadModel(f"external data location {location!r} of tensor {name!r} leaves the model folder")
    root = os.path.realpath(model_dir)
    full = os.path.join(model_dir, location)
    if os.path.islink(full):
        raise BadModel(f"external data {location!r} of tensor {name!r} is a symbolic link")
    real = os.path.realpath(full)
    if os.path.commonpath([root, real]) != root:
        raise BadModel(f"external data location {location!r} of tensor {name!r} leaves the model folder")
    try:
        st = os.stat(real)
    except OSError:
        raise BadModel(f"external data file {location!r} of tensor {name!r} is missing") from None
    if not os.path.isfile(real):
        raise BadModel(f"external data {location!r} of tensor {name!r} is not a regular file")
    if st.st_nlink > 1:
        raise BadModel(f"external data {location!r} of tensor {name!r} has several hard links")
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else st.st_size - offset
    except ValueError:
        raise BadModel(f"external data of tensor {name!r} has a malformed offset or length") from None
    expected = _nbytes(tensor)
    if offset < 0 or length < 0 or offset + length > st.st_size:
        raise BadModel(
            f"external data of tensor {name!r} ends past the end of {location!r} "
            f"(offset {offset} + length {length} > {st.st_size} bytes)"
        )
    if expected is not None and length < expected:
        raise BadModel(f"external data of tensor {name!r} holds {length} bytes, its shape needs {expected}")
    return External(real, offset, length)


def _np_dtype(tensor: TensorProto) -> np.dtype[Any]:
    return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))


def _nbytes(tensor: TensorProto) -> int | None:
    try:
        itemsize = _np_dtype(tensor).itemsize
    except (KeyError, TypeError, ValueError):
        return None
    return int(np.prod(tensor.dims, dtype=np.int64)) * itemsize


class Tensors:
    """Constant tensors of a graph by name (initializers and ``Constant`` nodes), read on demand."""

    def __init__(self, model: onnx.ModelProto, model_dir: str) -> None:
        self.model_dir = model_dir
        self.protos: dict[str, TensorProto] = {}
        for tensor in model.graph.initializer:
            self.protos[tensor.name] = tensor
        for node in model.graph.node:
            if node.op_type == "Constant" and node.output:
                value = _constant_value(node)
                if value is not None:
                    self.protos[node.output[0]] = value
        self._external = {
            name: validate_external(t, model_dir) for name, t in self.protos.items() if uses_external(t)
        }

    def __contains__(self, name: str) -> bool:
        return name in self.protos

    def names(self) -> Iterator[str]:
        return iter(self.protos)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(int(d) for d in self.protos[name].dims)

    def array(self, name: str) -> np.ndarray:
        """The tensor's values: a read-only memory map for external data, else decoded in memory."""
        tensor = self.protos[name]
        ext = self._external.get(name)
        if ext is None:
            return numpy_helper.to_array(tensor)
        shape = self.shape(name)
        if int(np.prod(shape, dtype=np.int64)) == 0:
            return np.zeros(shape, dtype=_np_dtype(tensor))
        return np.memmap(ext.path, dtype=_np_dtype(tensor), mode="r", offset=ext.offset, shape=shape)

    def scalar(self, name: str) -> float | None:
        """A small constant's single value (or the mean of a per-channel one), None when it is not constant."""
        if name not in self.protos:
            return None
        try:
            values = np.asarray(self.array(name), dtype=np.float64).reshape(-1)
        except (ValueError, TypeError):
            return None
        return float(values.mean()) if values.size else None


def _constant_value(node: onnx.NodeProto) -> TensorProto | None:
    """The tensor a ``Constant`` node makes (``value`` or one of the scalar/list attributes)."""
    for attr in node.attribute:
        if attr.name == "value":
            return attr.t
        if attr.name in ("value_float", "value_floats", "value_int", "value_ints"):
            data = helper.get_attribute_value(attr)
            arr = np.asarray(data, dtype=np.float32 if "float" in attr.name else np.int64)
            return numpy_helper.from_array(arr, node.output[0])
    return None
