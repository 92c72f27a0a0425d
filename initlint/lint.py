"""Linting one input: source text, a ``.py`` file's bytes, or an ``.onnx`` graph.

The single-file steps under :mod:`initlint.runner` (many files, pool, cache) and
:mod:`initlint.api` (the public ladder). Reading, decoding and parsing happen here;
frontends turn the parse into records and the engine judges them. onnx is imported
only when a graph is audited.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from dataclasses import replace
from typing import Any

import libcst as cst

from . import config, engine, limits, notebooks, suppressions
from .frontends.keras import layers as keras_layers
from .frontends.python.names import mentions_framework
from .frontends.python.source import SourceFile
from .frontends.torch import layers as torch_layers
from .records import FileResult, LayerRecord
from .settings import Settings


def decode(data: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding cookie and a UTF-8 BOM."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def parse_error(path: str, err: cst.ParserSyntaxError) -> str:
    message = re.sub(r"^parser error: error at \d+:\d+: ", "", err.message)
    return f"{path}:{err.raw_line}:{err.raw_column + 1}: syntax error: {message}"


# The last module parsed here and its text: planning the fixes of the file just linted (JSON/SARIF)
# reuses the parse instead of parsing the file a second time. libcst trees are immutable.
_LAST_PARSE: list[Any] = []


def parsed(text: str) -> cst.Module | None:
    """The module of ``text`` if it is the source this process parsed last, else None."""
    if _LAST_PARSE and _LAST_PARSE[0] == text:
        return _LAST_PARSE[1]
    return None


def records_for_source(source: SourceFile) -> list[LayerRecord]:
    """Every source frontend whose framework the file mentions, on the one parse."""
    records = []
    if "torch" in source.text:
        records += torch_layers.records(source)
    if "keras" in source.text or "tensorflow" in source.text:
        records += keras_layers.records(source)
    return records


def lint_source(text: str, path: str = "<string>", settings: Settings | None = None) -> FileResult:
    """Lint Python source text. Never imports or executes it; never raises (see :mod:`initlint.limits`)."""
    settings = settings or Settings()
    return limits.guarded(path, settings.timeout, lambda: _lint_source(text, path, settings))


def _lint_source(text: str, path: str, settings: Settings) -> FileResult:
    if not mentions_framework(text):
        return FileResult(path, skipped=True)
    hazard, tree = limits.check_source(text)
    if hazard:
        return FileResult(path, error=f"{path}: {hazard}")
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as err:
        return FileResult(path, error=parse_error(path, err))
    except UnicodeEncodeError as err:  # lone surrogates in a str handed to the API
        return FileResult(path, error=f"{path}: not valid Unicode text: {err.reason}")
    _LAST_PARSE[:] = [text, module]
    records = [engine.plausible(r) for r in records_for_source(SourceFile(path, text, module, settings, tree))]
    found = [f for f in engine.findings(records, settings) if not _per_file_ignored(f.code, path, settings)]
    result = FileResult(path, records=tuple(records), findings=tuple(found))
    return suppressions.apply(result, text, lambda code: settings.selected(code) and not _per_file_ignored(code, path, settings))


def _per_file_ignored(code: str, path: str, settings: Settings) -> bool:
    return any(code.startswith(prefix) for prefix in config.ignored_codes(path, settings))


def lint_file(path: str | os.PathLike[str], settings: Settings | None = None) -> FileResult:
    """Lint one ``.py`` or ``.ipynb`` file or audit one ``.onnx`` file; unreadable input gives ``error``, never an exception."""
    name = str(path)
    settings = settings or Settings()
    if name.endswith(".onnx"):
        return audit_onnx(name, settings)
    data = limits.read_source(name, settings.max_file_size)
    if isinstance(data, str):
        return FileResult(name, error=f"{name}: {data}")
    return lint_bytes(name, data, settings)


def lint_bytes(name: str, data: bytes, settings: Settings) -> FileResult:
    """Lint the bytes of one ``.py`` (or ``.ipynb``) file already read (the cache keys on them)."""
    if settings.max_file_size and len(data) > settings.max_file_size:
        return FileResult(name, error=f"{name}: {limits.too_large(len(data), settings.max_file_size)}")
    if name.endswith(".ipynb"):
        return lint_notebook(name, data, settings)
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        return FileResult(name, error=f"{name}: not valid UTF-8 (or declared encoding): {reason}")
    return lint_source(text, name, settings)


def lint_notebook(name: str, data: bytes, settings: Settings) -> FileResult:
    """Lint a notebook's code cells as one module; findings are located in their cells."""
    try:
        notebook = notebooks.parse(data, name)
    except notebooks.NotebookError as err:
        return FileResult(name, error=str(err))
    return notebooks.locate(lint_source(notebook.text, name, settings), notebook)


def audit_onnx(path: str, settings: Settings | None = None) -> FileResult:
    """Audit an ONNX graph: measure its weights and judge them against their consumers."""
    settings = settings or Settings()
    try:
        from .frontends.onnx import (
            graph as onnx_graph,  # lazy: onnx is an optional extra
        )
    except ImportError as err:
        return FileResult(path, error=f"{path}: cannot audit ONNX: {err} (install with: pip install 'initlint[onnx]')")
    return limits.guarded(path, settings.timeout, lambda: _audit_onnx(onnx_graph, path, settings))


def _audit_onnx(onnx_graph: Any, path: str, settings: Settings) -> FileResult:
    result = onnx_graph.audit(path, settings, agree=engine.same_verdicts)
    if result.error:
        return result
    records = tuple(engine.plausible(r) for r in result.records)
    found = [f for f in engine.findings(records, settings) if not _per_file_ignored(f.code, path, settings)]
    return replace(result, records=records, findings=tuple(found))
