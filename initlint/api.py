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
SUFFIXES = (".py", ".ipynb", ".onnx")


def git_ignored(root: str) -> set[str] | None:
    """Paths under ``root`` that git ignores, relative to it (folders end in ``/``); None outside a git
    work tree or without git. One ``git ls-files`` call per walked folder given on the command line."""
    import subprocess

    try:
        done = subprocess.run(
            ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            cwd=root, capture_output=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return {p.decode("utf-8", "surrogateescape") for p in done.stdout.split(b"\0") if p}


def iter_files(paths: Sequence[str], settings: Settings) -> Iterator[str]:
    """``.py``, ``.ipynb`` and ``.onnx`` files under ``paths`` (files named explicitly are always included).

    Walking a folder skips what git ignores there (``.gitignore``, ``.git/info/exclude``, the global
    excludes file) unless ``respect_gitignore`` is off, besides ``exclude`` and the usual tool folders.
    """
    patterns = settings.exclude + settings.extend_exclude
    seen: set[str] = set()
    for root in paths:
        if not os.path.isdir(root):  # a file, a missing path, a FIFO or device named explicitly
            if root not in seen:
                seen.add(root)
                yield root
            continue
        inside = os.path.realpath(root)
        ignored = (git_ignored(root) if settings.respect_gitignore else None) or set()
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d for d in dirnames
                if d not in SKIP_DIRS and not d.endswith(".egg-info")
                and not _excluded(os.path.join(dirpath, d), patterns, settings.config_root)
                and not _git_skips(os.path.join(dirpath, d), root, ignored, folder=True)
            )
            for filename in sorted(filenames):
                full = os.path.join(dirpath, filename)
                if not filename.endswith(SUFFIXES) or _git_skips(full, root, ignored):
                    continue
                if os.path.islink(full) and not _within(os.path.realpath(full), inside):
                    continue  # found by walking a folder: never read outside it
                if not _excluded(full, patterns, settings.config_root) and full not in seen:
                    seen.add(full)
                    yield full


def _git_skips(path: str, root: str, ignored: set[str], folder: bool = False) -> bool:
    if not ignored:
        return False
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return (rel + "/" if folder else rel) in ignored


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
               cache: Cache | None = None, annotate: str | None = None) -> Report:
    """Lint every file under ``paths``; one bad file never stops the others.

    ``jobs``: worker processes (None: one per core; 1: in this process). ``cache``: where
    results of unchanged files are kept (see :mod:`initlint.cache`). Neither changes the report.
    ``annotate``: "fix" sets each finding's ``fix`` description, "edits" also its edits (SARIF).
    """
    settings = settings or Settings()
    results = lint_files(list(iter_files(paths, settings)), settings, jobs, cache, annotate, project=settings.project)
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
    example_inputs: Any = None,
    input_dtype: Any = None,
) -> LiveResult:
    """Measure, trace and propagate a live torch (or Keras-on-torch) model and judge it like any other input.

    ``threshold``: INIT008's factor (default: the settings'); ``path``: where findings are
    located (default: the file defining the model's class); ``declared``: module path ->
    statically declared initializer, for INIT007. ``example_inputs``: what the pass feeds the
    model instead of a drawn batch (a tensor, a tuple of positional inputs, or a dict of keyword
    inputs); ``input_dtype`` (``"long"`` or a torch dtype): draw token ids of ``input_shape``
    instead of N(0,1). Raises ``LiveError`` with one line when the model cannot be run. Imports torch.
    """
    from .frontends.live import keras_models, torch_models
    from .frontends.live.common import layer_rows
    from .frontends.live.targets import is_keras_model, parse_dtype

    settings = settings or Settings()
    keras = is_keras_model(model)
    frontend = keras_models if keras else torch_models
    dtype = parse_dtype(input_dtype) if isinstance(input_dtype, str) else input_dtype
    measured = frontend.measure(
        model, input_shape, seed=seed, path=path, settings=settings, declared=declared, progress=progress,
        threshold=settings.signal_threshold if threshold is None else threshold, agree=engine.same_verdicts,
        example_inputs=example_inputs, input_dtype=dtype,
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
    example_inputs: Any = None,
    input_dtype: Any = None,
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
    if targets.is_keras_model(model) and path.endswith(".py"):
        declared = _keras_defaults(path, settings, obj)
    elif path.endswith(".py"):
        say("reading declared initializers from the source")
        try:
            declared = torch_models.declared_inits(lint_file(path, settings).records, model)
        except Exception:  # noqa: BLE001 - no static declarations means no INIT007, never a failed check
            declared = {}
    result = check_model(model, input_shape, seed=seed, threshold=threshold, path=path, settings=settings,
                         declared=declared, progress=progress, example_inputs=example_inputs, input_dtype=input_dtype)
    return result, model


def _keras_defaults(path: str, settings: Settings | None, obj: Any) -> dict[str, InitSpec] | None:
    """The target's Glorot kernels are all on Keras' default in the source (statically, within the target's
    own lines): the live check judges them as the default too, as the static lint does."""
    import inspect

    from .frontends.live.keras_models import DEFAULT_GLOROT

    try:
        lines, start = inspect.getsourcelines(obj)
        records = lint_file(path, settings).records
    except Exception:  # noqa: BLE001 - no static view means no change to the measured verdicts
        return None
    inside = range(start, start + len(lines))
    glorot = [r.init for r in records if r.framework == "keras" and r.init is not None and r.init.scheme == "glorot"
              and r.origin.line in inside]
    if glorot and all(spec.source == "default" for spec in glorot):
        return {DEFAULT_GLOROT: glorot[0]}
    return None
