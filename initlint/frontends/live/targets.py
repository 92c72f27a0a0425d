"""Live targets: importing user code (``path/to/file.py:Name`` or ``package.module:Name``) and building the model.

This runs user code, explicitly: :func:`import_target` executes the module's top level and
:func:`build_model` its constructor. Anything user code raises becomes one :class:`LiveError` line.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from typing import Any

import torch
from torch import nn


class LiveError(Exception):
    """A target that cannot be imported, built or run: one clear line."""


def first_line(err: BaseException) -> str:
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
        raise LiveError(f"cannot import: {first_line(err)}") from err
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
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "utils"):  # Keras draws from its own seed generators, not torch's
        keras.utils.set_random_seed(seed)
    try:
        model = obj(**kwargs)
    except BaseException as err:  # noqa: BLE001 - user code
        raise LiveError(f"cannot build the model: {first_line(err)}") from err
    if isinstance(model, nn.Module) or is_keras_model(model):
        return model
    raise LiveError(f"the target returned {type(model).__name__}, not a torch.nn.Module")


def is_keras_model(obj: Any) -> bool:
    return any(c.__module__.startswith("keras") and c.__name__ in ("Model", "Sequential", "Functional")
               for c in type(obj).__mro__)


def parse_shape(text: str) -> tuple[int, ...]:
    """``"128,3,32,32"`` -> (128, 3, 32, 32)."""
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise LiveError(f"bad --input-shape {text!r}: expected comma-separated integers") from None
    if not shape or any(d <= 0 for d in shape):
        raise LiveError(f"bad --input-shape {text!r}: expected positive integers")
    return shape


DTYPES = {
    "float": torch.float32, "float32": torch.float32, "double": torch.float64, "float64": torch.float64,
    "half": torch.float16, "float16": torch.float16, "bfloat16": torch.bfloat16,
    "long": torch.int64, "int64": torch.int64, "int": torch.int32, "int32": torch.int32,
}


def parse_dtype(text: str) -> torch.dtype:
    """``"long"`` -> torch.int64 (the names of :data:`DTYPES`)."""
    try:
        return DTYPES[text.strip().lower().removeprefix("torch.")]
    except KeyError:
        raise LiveError(f"bad --input-dtype {text!r}: expected one of {', '.join(DTYPES)}") from None


def class_file(model: nn.Module) -> str:
    """The file defining the model's class; ``<Sequential>`` for torch's own containers."""
    if type(model).__module__.startswith("torch."):
        return f"<{type(model).__name__}>"
    try:
        return inspect.getsourcefile(type(model)) or type(model).__module__
    except (TypeError, OSError):  # built-in or defined in an interactive session
        return type(model).__module__
