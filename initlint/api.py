"""The entry-point ladder: lint_source -> lint_file -> lint_paths, plus audit_onnx and check_model.

Reading files and dispatching to frontends happens here; the CLI only composes
these functions. Heavy frameworks (onnx, torch) are imported only by the
functions that need them.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from typing import Any

import libcst as cst

from . import config, engine, limits, suppressions
from .cache import Cache
from .frontends.keras import layers as keras_source
from .frontends.python.names import mentions_framework
from .frontends.python.source import SourceFile
from .frontends.torch import layers as torch_source
from .records import FileResult, LayerRecord
from .settings import Settings

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", ".env", "build", "dist",
     "site-packages", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".initlint_cache", ".eggs"}
)
SUFFIXES = (".py", ".onnx")


@dataclass(frozen=True)
class Summary:
    files: int
    layers: int
    resolved: int
    unresolved: int
    errors: int
    warnings: int
    advice: int


@dataclass(frozen=True)
class Report:
    """The result of a run: one FileResult per input file, in path order."""

    results: tuple[FileResult, ...]

    @property
    def findings(self) -> list[Any]:
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.results if r.error]

    def summary(self) -> Summary:
        layers = [rec for r in self.results for rec in r.records if is_layer(rec)]
        sev = [f.severity for f in self.findings]
        return Summary(
            files=len(self.results),
            layers=sum(rec.count for rec in layers),
            resolved=sum(rec.count for rec in layers if not rec.unresolved),
            unresolved=sum(rec.count for rec in layers if rec.unresolved),
            errors=sev.count("error"),
            warnings=sev.count("warning"),
            advice=sev.count("advice"),
        )


def is_layer(record: LayerRecord) -> bool:
    """Weight layers count in the summary; dropout sites and network-level records do not."""
    return record.kind not in ("dropout", "alpha_dropout", "network")


def decode(data: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding cookie and a UTF-8 BOM."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def parse_error(path: str, err: cst.ParserSyntaxError) -> str:
    message = re.sub(r"^parser error: error at \d+:\d+: ", "", err.message)
    return f"{path}:{err.raw_line}:{err.raw_column + 1}: syntax error: {message}"


def records_for_source(source: SourceFile) -> list[LayerRecord]:
    """Every source frontend whose framework the file mentions, on the one parse."""
    records = []
    if "torch" in source.text:
        records += torch_source.records(source)
    if "keras" in source.text or "tensorflow" in source.text:
        records += keras_source.records(source)
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
    records = [engine.plausible(r) for r in records_for_source(SourceFile(path, text, module, settings, tree))]
    found = [f for f in engine.findings(records, settings) if not _per_file_ignored(f.code, path, settings)]
    return suppressions.apply(FileResult(path, records=tuple(records), findings=tuple(found)), text)


def _per_file_ignored(code: str, path: str, settings: Settings) -> bool:
    return any(code.startswith(prefix) for prefix in config.ignored_codes(path, settings))


def lint_file(path: str | os.PathLike[str], settings: Settings | None = None) -> FileResult:
    """Lint one ``.py`` or audit one ``.onnx`` file; unreadable input gives ``error``, never an exception."""
    name = str(path)
    settings = settings or Settings()
    if name.endswith(".onnx"):
        return audit_onnx(name, settings)
    data = limits.read_source(name, settings.max_file_size)
    if isinstance(data, str):
        return FileResult(name, error=f"{name}: {data}")
    return lint_bytes(name, data, settings)


def lint_bytes(name: str, data: bytes, settings: Settings) -> FileResult:
    """Lint the bytes of one ``.py`` file already read (the cache keys on them)."""
    if settings.max_file_size and len(data) > settings.max_file_size:
        return FileResult(name, error=f"{name}: {limits.too_large(len(data), settings.max_file_size)}")
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        return FileResult(name, error=f"{name}: not valid UTF-8 (or declared encoding): {reason}")
    return lint_source(text, name, settings)


def iter_files(paths: Sequence[str], settings: Settings) -> Iterator[str]:
    """``.py`` and ``.onnx`` files under ``paths`` (files named explicitly are always included)."""
    patterns = settings.exclude + settings.extend_exclude
    seen: set[str] = set()
    for root in paths:
        if not os.path.isdir(root):  # a file, a missing path, a FIFO or device named explicitly
            if root not in seen:
                seen.add(root)
                yield root
            continue
        inside = os.path.realpath(root)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not d.endswith(".egg-info")
                and not _excluded(os.path.join(dirpath, d), patterns, settings.config_root)
            )
            for filename in sorted(filenames):
                full = os.path.join(dirpath, filename)
                if not filename.endswith(SUFFIXES):
                    continue
                if os.path.islink(full) and not _within(os.path.realpath(full), inside):
                    continue  # found by walking a folder: never read outside it
                if not _excluded(full, patterns, settings.config_root) and full not in seen:
                    seen.add(full)
                    yield full


def _within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives
        return False


def _excluded(path: str, patterns: Iterable[str], root: str | None = None) -> bool:
    norm = os.path.normpath(path)
    names = [norm, os.path.basename(norm)]
    if root is not None:  # config patterns are relative to the config file's folder
        names.append(os.path.relpath(os.path.abspath(norm), root).replace(os.sep, "/"))
    return any(fnmatch(name, p.rstrip("/")) for p in patterns for name in names)


def lint_paths(paths: Sequence[str] = (".",), settings: Settings | None = None, jobs: int | None = 1,
               cache: Cache | None = None) -> Report:
    """Lint every file under ``paths``; one bad file never stops the others.

    ``jobs``: worker processes (None: one per core; 1: in this process). ``cache``: where
    results of unchanged files are kept (see :mod:`initlint.cache`). Neither changes the report.
    """
    from .runner import lint_files

    settings = settings or Settings()
    results = lint_files(list(iter_files(paths, settings)), settings, jobs, cache)
    return Report(tuple(sorted(results, key=lambda r: r.path)))


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
    result = onnx_graph.audit(path, settings)
    if result.error:
        return result
    records = tuple(engine.plausible(r) for r in result.records)
    found = [f for f in engine.findings(records, settings) if not _per_file_ignored(f.code, path, settings)]
    return replace(result, records=records, findings=tuple(found))
