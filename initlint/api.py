"""The entry-point ladder: lint_source -> lint_file -> lint_paths, plus audit_onnx and check_model.

The CLI only composes these functions. Heavy frameworks (onnx, torch) are imported
only by the functions that need them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from fnmatch import fnmatch
from typing import Any

from . import engine
from .cache import Cache
from .lint import audit_onnx, lint_bytes, lint_file, lint_source
from .records import InitSpec, LiveResult, Progress, Report
from .runner import lint_files
from .settings import Settings

__all__ = ["audit_onnx", "check_model", "check_target", "iter_files", "lint_bytes", "lint_file", "lint_paths",
           "lint_source"]

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tox", ".nox", ".venv", "venv", "env", ".env", "build", "dist",
     "site-packages", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache", ".ruff_cache",
     ".initlint_cache", ".eggs"}
)
SUFFIXES = (".py", ".onnx")


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
    settings = settings or Settings()
    results = lint_files(list(iter_files(paths, settings)), settings, jobs, cache, project=settings.project)
    return Report(tuple(sorted(results, key=lambda r: r.path)))


def check_model(
    model: Any,
    input_shape: Sequence[int] | None = None,
    *,
    seed: int = 0,
    threshold: float | None = None,
    path: str | None = None,
    settings: Settings | None = None,
    declared: dict[str, InitSpec] | None = None,
    progress: Progress | None = None,
) -> LiveResult:
    """Measure, trace and propagate a live torch (or Keras-on-torch) model and judge it like any other input.

    ``threshold``: INIT008's factor (default: the settings'); ``path``: where findings are
    located (default: the file defining the model's class); ``declared``: module path ->
    statically declared initializer, for INIT007. Raises ``LiveError`` with one line when
    the model cannot be run. Imports torch.
    """
    from .frontends.live import keras_models, torch_models
    from .frontends.live.common import layer_rows
    from .frontends.live.targets import is_keras_model

    settings = settings or Settings()
    frontend = keras_models if is_keras_model(model) else torch_models
    measured = frontend.measure(
        model, input_shape, seed=seed, path=path, settings=settings, declared=declared, progress=progress,
        threshold=settings.signal_threshold if threshold is None else threshold, agree=engine.same_verdicts,
    )
    found = tuple(engine.findings(measured.records, settings))
    return LiveResult(
        path=measured.path, records=measured.records, findings=found, model=measured.model,
        input_shape=measured.input_shape, tracer=measured.tracer, layers=layer_rows(measured.records, found),
        signal=measured.signal,
    )


def check_target(
    target: str,
    *,
    kwargs: dict[str, Any] | None = None,
    input_shape: Sequence[int] | None = None,
    seed: int = 0,
    threshold: float | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> tuple[LiveResult, Any]:
    """Import, build and check ``path.py:Name`` / ``package.module:Name``; returns the result and the model.

    This runs the target's code. Raises ``LiveError`` with one line when it cannot be
    imported, built or run. A torch model defined in a ``.py`` file is also linted
    statically, so that INIT007 can compare what the source declares with what was measured.
    """
    from .frontends.live import targets, torch_models

    say = progress or (lambda _msg: None)
    say(f"importing {target} (this runs its code)")
    obj, path = targets.import_target(target)
    model = targets.build_model(obj, kwargs or {}, seed)
    declared = None
    if not targets.is_keras_model(model) and path.endswith(".py"):
        say("reading declared initializers from the source")
        try:
            declared = torch_models.declared_inits(lint_file(path, settings).records, model)
        except Exception:  # noqa: BLE001 - no static declarations means no INIT007, never a failed check
            declared = {}
    result = check_model(model, input_shape, seed=seed, threshold=threshold, path=path, settings=settings,
                         declared=declared, progress=progress)
    return result, model
