"""Reading an ONNX file safely: the protobuf without its weights, then each weight on demand.

``onnx.load(path, load_external_data=False)`` reads only the graph. Embedded tensors are
decoded with ``numpy_helper``. External ones are read with ``pread`` at their recorded
offset, never memory-mapped: a tensor of at most :data:`WHOLE_READ` entries is read into
memory, a larger one is a :class:`LazyTensor` whose pieces are read when the statistics
ask for them (``initlint.measure`` reads a bounded sample and a bounded structure check),
so a model with external data is never read whole and its pages are never mapped (a
mapped page-cache folio counts in full towards the resident memory, and reading a
mapped page past the end of a file truncated meanwhile is SIGBUS).

Before any external file is opened its ``location`` is checked (INIT_REFERENCE 6.4):
relative, no ``..`` component, its real path inside the model's folder, not a symbolic
link, one hard link only, and ``offset + length`` inside the file. Every external tensor of
the model is checked, those of ``If``/``Loop``/``Scan`` bodies and sparse initializers
included. Each read opens the file again without following a link and checks that it is
the same file, still long enough; a file truncated or replaced since is an error line
("changed during the audit"), and so is a read that comes back short.

Sparse initializers (``graph.sparse_initializer``) are constants too: densified when
their dense form has at most :data:`MAX_DENSE` entries and their indices are valid, else
:meth:`Tensors.unmeasurable` says why they are not measured.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# A sparse initializer is densified (for measuring) up to this many entries.
MAX_DENSE = 1 << 22
# An external tensor of at most this many entries is read whole (measure's FULL_SCAN), a larger one lazily.
WHOLE_READ = 1 << 22
CHUNK_BYTES = 1 << 24  # a LazyTensor gathers permuted rows this many bytes at a time
# Tensors.scalar reads a constant whole: only small ones (a per-channel slope, a scale) have "a value".
MAX_SCALAR = 1 << 16
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class BadModel(Exception):
    """The input is not a readable ONNX model; the message is one clear line."""


@dataclass(frozen=True)
class External:
    """Where an external tensor's bytes live, once validated (``identity``: the file's device and inode)."""

    path: str
    offset: int
    length: int
    location: str = ""
    identity: tuple[int, int] = (0, 0)


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
    _check_text(model)
    _check_complete(model.graph)
    return model


def _check_text(message: Any) -> None:
    """Every string field is text: protobuf hands back ``bytes`` for one that is not valid UTF-8 (a corrupt file)."""
    for field, value in message.ListFields():
        repeated = field.is_repeated if hasattr(field, "is_repeated") else field.label == field.LABEL_REPEATED
        items = value if repeated else [value]
        if field.type == field.TYPE_STRING:
            if any(isinstance(item, bytes) for item in items):
                raise BadModel(f"corrupt file: field {field.name!r} ({message.DESCRIPTOR.name}) is not UTF-8 text")
        elif field.type == field.TYPE_MESSAGE:
            for item in items:
                _check_text(item)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def _check_complete(graph: onnx.GraphProto) -> None:
    """Every node input is produced somewhere: a truncated file that still parses fails here."""
    known = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    known |= {t.values.name for t in graph.sparse_initializer if t.values.name}
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
    if "\0" in location:
        raise BadModel(f"external data location {location!r} of tensor {name!r} contains a NUL byte")
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
    if not stat.S_ISREG(st.st_mode):
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
    return External(real, offset, length, location, (st.st_dev, st.st_ino))


def _open_checked(ext: External, name: str, needed: int) -> int:
    """A descriptor of the validated file, opened without following a link and checked again.

    Between the validation and the read the file may have been truncated or replaced:
    either is an error that names the tensor and the file.
    """
    changed = f"external data file {ext.location!r} of tensor {name!r} changed during the audit"
    try:
        fd = os.open(ext.path, _OPEN_FLAGS)
    except OSError as err:
        raise BadModel(f"{changed} (cannot open: {err.strerror or err})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != ext.identity:
            raise BadModel(f"{changed} (replaced by another file)")
        if ext.offset + needed > st.st_size:
            raise BadModel(f"{changed} (now {st.st_size} bytes, {ext.offset + needed} needed)")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_external(tensor: TensorProto, ext: External) -> bytes:
    """The tensor's exact byte range, read with ``pread`` (never a mapping: a truncation is an error, not SIGBUS)."""
    needed = _nbytes(tensor)
    if needed is None:
        raise BadModel(f"external tensor {tensor.name!r} has a data type that cannot be stored externally")
    return _pread(ext, tensor.name, 0, needed)


def _pread(ext: External, name: str, start: int, stop: int) -> bytes:
    """Bytes [start, stop) of the tensor's range, from a freshly opened and checked descriptor."""
    fd = _open_checked(ext, name, stop)
    try:
        chunks, done = [], start
        while done < stop:
            chunk = os.pread(fd, min(stop - done, 1 << 26), ext.offset + done)
            if not chunk:
                raise BadModel(f"external data file {ext.location!r} of tensor {name!r} "
                               f"changed during the audit (ends after {ext.offset + done} bytes)")
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise BadModel(f"cannot read external data {ext.location!r} of tensor {name!r}: "
                       f"{err.strerror or err}") from None
    finally:
        os.close(fd)


class LazyTensor:
    """A large external tensor read in pieces with ``pread``: what ``initlint.measure`` asks of an array.

    ``shape``, ``dtype``, ``size``, ``ndim``; ``ravel(order="K")`` is the tensor in storage order
    (a :class:`_LazyFlat` whose slices read just those entries); ``transpose(perm)`` a view in the
    node's layout; ``reshape(rows, -1)`` a :class:`_LazyRows` whose leading rows are read on demand.
    ``np.asarray`` on it reads it whole (nothing in the audit does).
    """

    lazy = True  # initlint.measure reads this object in pieces instead of converting it

    def __init__(self, ext: External, name: str, dtype: np.dtype[Any], shape: tuple[int, ...],
                 perm: tuple[int, ...] | None = None) -> None:
        self.ext, self.name, self.dtype, self.stored = ext, name, dtype, shape
        self.perm = perm
        self.shape = tuple(shape[i] for i in perm) if perm else shape
        self.ndim = len(shape)
        self.size = int(np.prod(shape, dtype=np.int64)) if shape else 1

    def read(self, start: int, stop: int) -> np.ndarray:
        """Entries [start, stop) in storage order."""
        start, stop = max(0, start), min(self.size, stop)
        if stop <= start:
            return np.empty(0, self.dtype)
        item = self.dtype.itemsize
        return np.frombuffer(_pread(self.ext, self.name, start * item, stop * item), dtype=self.dtype)

    def ravel(self, order: str = "K") -> _LazyFlat:
        if order != "K" and self.perm and list(self.perm) != sorted(self.perm):
            raise ValueError("a permuted LazyTensor is flattened in storage order only (order='K')")
        return _LazyFlat(self)

    def reshape(self, *shape: int) -> _LazyRows:
        dims = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        if len(dims) != 2:
            raise ValueError(f"a LazyTensor reshapes to a matrix only, not {dims}")
        rows, cols = dims
        if rows == -1:
            rows = self.size // cols
        elif cols == -1:
            cols = self.size // rows
        if rows * cols != self.size:
            raise ValueError(f"cannot reshape {self.shape} to ({rows}, {cols})")
        return _LazyRows(self, rows, cols)

    def transpose(self, perm: tuple[int, ...]) -> LazyTensor:
        composed = tuple(self.perm[i] for i in perm) if self.perm else tuple(perm)
        return LazyTensor(self.ext, self.name, self.dtype, self.stored,
                          None if list(composed) == sorted(composed) else composed)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self.read(0, self.size).reshape(self.stored)
        whole = whole.transpose(self.perm) if self.perm else whole
        return whole.astype(dtype) if dtype is not None else whole

    def rows(self, count: int, cols: int) -> np.ndarray:
        """The first ``count`` rows of the tensor, in the node's layout, flattened to ``cols`` columns."""
        if not self.perm:
            return self.read(0, count * cols).reshape(count, cols)
        if len(self.stored) != 2:  # a permuted conv kernel: rare enough to be read whole (it is not kept)
            return np.asarray(self).reshape(-1, cols)[:count]
        # Node rows are stored columns: gather the first ``count`` columns, a block of stored rows at a time.
        stored_rows, stored_cols = self.stored
        step = max(1, CHUNK_BYTES // max(1, stored_cols * self.dtype.itemsize))
        parts = [self.read(r * stored_cols, min(stored_rows, r + step) * stored_cols).reshape(-1, stored_cols)[:, :count]
                 for r in range(0, stored_rows, step)]
        return np.concatenate(parts, axis=0).T


class _LazyFlat:
    """A LazyTensor in storage order, one dimension: ``size``, ``dtype`` and slices with step 1."""

    def __init__(self, tensor: LazyTensor) -> None:
        self.tensor, self.size, self.dtype, self.shape, self.ndim = tensor, tensor.size, tensor.dtype, (tensor.size,), 1

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: slice) -> np.ndarray:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("a LazyTensor is read in contiguous slices")
        start, stop, _ = index.indices(self.size)
        return self.tensor.read(start, stop)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self.tensor.read(0, self.size)
        return whole.astype(dtype) if dtype is not None else whole


class _LazyRows:
    """A LazyTensor as a (rows, cols) matrix in the node's layout: leading rows on demand, ``[:, :k]`` refused."""

    def __init__(self, tensor: LazyTensor, rows: int, cols: int) -> None:
        self.tensor, self.shape, self.size, self.dtype, self.ndim = tensor, (rows, cols), rows * cols, tensor.dtype, 2

    def __getitem__(self, index: slice) -> np.ndarray:
        if isinstance(index, slice) and index.start in (None, 0) and index.step in (None, 1):
            count = min(self.shape[0], self.shape[0] if index.stop is None else index.stop)
            return self.tensor.rows(count, self.shape[1])
        raise TypeError("a LazyTensor matrix is read by its leading rows only")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = np.asarray(self.tensor).reshape(self.shape)
        return whole.astype(dtype) if dtype is not None else whole


def all_tensors(graph: onnx.GraphProto) -> Iterator[TensorProto]:
    """Every TensorProto of a graph: initializers, sparse initializers' parts and node attributes, subgraphs included."""
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors
            if attr.HasField("sparse_tensor"):
                yield attr.sparse_tensor.values
                yield attr.sparse_tensor.indices
            for sub in [attr.g] if attr.HasField("g") else []:
                yield from all_tensors(sub)
            for sub in attr.graphs:
                yield from all_tensors(sub)


def _np_dtype(tensor: TensorProto) -> np.dtype[Any]:
    return np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type))


def _nbytes(tensor: TensorProto) -> int | None:
    """Bytes of the tensor's stored values (Python integers: a 2**31 x 2**31 declaration does not overflow)."""
    try:
        itemsize = _np_dtype(tensor).itemsize
    except (KeyError, TypeError, ValueError):
        return None
    if itemsize == 0 or tensor.data_type == TensorProto.STRING:
        return None
    if any(d < 0 for d in tensor.dims):
        return None
    count = 1
    for d in tensor.dims:
        count *= int(d)
    return count * itemsize


def nbytes(tensor: TensorProto) -> int:
    """The tensor's size in bytes by its declared dims (0 when it has none that make sense)."""
    return max(_nbytes(tensor) or 0, 0)


class Tensors:
    """Constant tensors of a graph by name (initializers and ``Constant`` nodes), read on demand."""

    def __init__(self, model: onnx.ModelProto, model_dir: str) -> None:
        self.model_dir = model_dir
        self.protos: dict[str, TensorProto] = {}
        self.sparse: dict[str, onnx.SparseTensorProto] = {}
        for tensor in model.graph.initializer:
            self.protos[tensor.name] = tensor
        for sparse in model.graph.sparse_initializer:
            if sparse.values.name and sparse.values.name not in self.protos:
                self.sparse[sparse.values.name] = sparse
        for node in model.graph.node:
            if node.op_type == "Constant" and node.output:
                value = _constant_value(node)
                if value is not None:
                    self.protos[node.output[0]] = value
        self._external = {
            name: validate_external(t, model_dir) for name, t in self.protos.items() if uses_external(t)
        }
        for tensor in all_tensors(model.graph):  # subgraphs' and sparse tensors' external data: refused alike
            if uses_external(tensor) and tensor.name not in self._external:
                validate_external(tensor, model_dir)

    def __contains__(self, name: str) -> bool:
        return name in self.protos or name in self.sparse

    def names(self) -> Iterator[str]:
        return iter([*self.protos, *self.sparse])

    def shape(self, name: str) -> tuple[int, ...]:
        if name in self.sparse:
            return tuple(int(d) for d in self.sparse[name].dims)
        return tuple(int(d) for d in self.protos[name].dims)

    def unmeasurable(self, name: str) -> str:
        """Why a constant's values cannot be measured ('' when they can): only sparse initializers may say so."""
        if name not in self.sparse:
            return ""
        try:
            self._dense(name, check_only=True)
        except _NotDense as why:
            return str(why)
        return ""

    def array(self, name: str) -> np.ndarray:
        """The tensor's values: decoded in memory, or read from external data (a LazyTensor when it is large)."""
        if name in self.sparse:
            return self._dense(name)
        tensor = self.protos[name]
        ext = self._external.get(name)
        if ext is None:
            return numpy_helper.to_array(tensor)
        shape = self.shape(name)
        dtype = _np_dtype(tensor)
        if int(np.prod(shape, dtype=np.int64)) == 0:
            return np.zeros(shape, dtype=dtype)
        lazy = LazyTensor(ext, name, dtype, shape)
        return lazy if lazy.size > WHOLE_READ else lazy.read(0, lazy.size).reshape(shape)  # type: ignore[return-value]

    def _dense(self, name: str, check_only: bool = False) -> np.ndarray:
        """A sparse initializer as a dense array; _NotDense with the reason when it is too large or malformed."""
        sparse = self.sparse[name]
        shape = tuple(int(d) for d in sparse.dims)
        size = 1
        for d in shape:
            size *= d
        values, indices = sparse.values, sparse.indices
        stored = int(np.prod(values.dims, dtype=np.int64)) if values.dims else 0
        what = f"sparse initializer ({stored} of {size} entries stored)"
        if any(d < 0 for d in shape):
            raise _NotDense(f"{what} has negative dims")
        if size > MAX_DENSE:
            raise _NotDense(f"{what}: over {MAX_DENSE} entries, not measured")
        if uses_external(values) or uses_external(indices):
            raise _NotDense(f"{what} keeps its values in external data: not measured")
        try:
            vals = numpy_helper.to_array(values).reshape(-1)
            idx = numpy_helper.to_array(indices).astype(np.int64)
        except Exception as err:  # noqa: BLE001 - malformed values or indices: onnx raises ValueError, TypeError, ...
            raise _NotDense(f"{what} cannot be decoded ({type(err).__name__})") from None
        if idx.ndim == 2 and idx.shape[1] == len(shape) and len(shape) > 0:
            if np.any(idx < 0) or np.any(idx >= np.asarray(shape, dtype=np.int64)):
                raise _NotDense(f"{what} has indices out of range")
            idx = np.ravel_multi_index(tuple(idx.T), shape) if idx.size else idx.reshape(-1)
        elif idx.ndim != 1:
            raise _NotDense(f"{what} has indices of shape {list(idx.shape)}")
        if idx.size != vals.size:
            raise _NotDense(f"{what} has {idx.size} indices for {vals.size} values")
        if idx.size and (idx.min() < 0 or idx.max() >= size):
            raise _NotDense(f"{what} has indices out of range")
        if check_only:
            return np.empty(0)
        dense = np.zeros(size, dtype=vals.dtype)
        dense[idx] = vals
        return dense.reshape(shape)

    def scalar(self, name: str) -> float | None:
        """A small constant's single value (or the mean of a per-channel one), None when it is not constant."""
        if name not in self or self.unmeasurable(name):
            return None
        size = 1
        for d in self.shape(name):
            size *= d
        if size > MAX_SCALAR:  # not a scale or a slope; reading it whole is not worth it
            return None
        try:
            with np.errstate(all="ignore"):
                values = np.asarray(self.array(name), dtype=np.float64).reshape(-1)
                return float(values.mean()) if values.size else None
        except (ValueError, TypeError):
            return None


class _NotDense(Exception):
    """A sparse initializer that is not densified; the message says why."""


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
