"""initlint: a linter and advisor for the weight initialization of deep neural networks.

Entry points: :func:`lint_source`, :func:`lint_file`, :func:`lint_paths`,
:func:`audit_onnx`, and for live torch models :func:`check_model` and
:func:`apply_recommended_init` (those import torch when called).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "lint_source",
    "lint_file",
    "lint_paths",
    "audit_onnx",
    "check_model",
    "apply_recommended_init",
]

_LAZY = {
    "lint_source": "api",
    "lint_file": "api",
    "lint_paths": "api",
    "audit_onnx": "api",
    "check_model": "api",
    "apply_recommended_init": "advisor",
}


def __getattr__(name: str) -> Any:
    """Import the entry points on first use so that ``import initlint`` stays light."""
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'initlint' has no attribute {name!r}")
