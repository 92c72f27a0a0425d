"""Linting many files: cache lookups first, then the misses in-process or on a process pool.

The result does not depend on how the work was spread: results are collected by path
and :func:`initlint.api.lint_paths` sorts them, so ``--jobs 2`` prints exactly what
``--jobs 1`` prints. A pool is started only when there is enough source to pay for it
(forking workers costs tens of milliseconds; a pre-commit run on one file must not).
"""

from __future__ import annotations

import gc
import os
import stat
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import limits
from .cache import Cache
from .limits import is_transient
from .lint import decode, lint_bytes, lint_file, rejudge
from .project.decide import Effects, decide
from .project.session import Session
from .records import FileResult
from .settings import Settings

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

# Below this much source, one process finishes before a pool has started.
MIN_PARALLEL_BYTES = 256 * 1024
# Larger files are not read here for the cache key: lint_file applies --max-file-size first.
MAX_CACHED_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Task:
    """One file to lint: its bytes when the parent already read them (to key the cache), else None."""

    path: str
    size: int
    data: bytes | None = None
    key: str | None = None


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def lint_files(files: Sequence[str], settings: Settings, jobs: int | None = None,
               cache: Cache | None = None, project: bool = True) -> list[FileResult]:
    """A result for every path of ``files`` (in no particular order).

    ``project``: the ``.py`` files are analysed as part of their project (SPEC 8.32): the rest of
    the project is indexed as context, container files whose init code reaches the linted
    classes are analysed too (not reported), and the containers' inits decide.
    """
    sources = [f for f in files if f.endswith(".py")]
    session = Session.open(sources, settings, cache) if project and sources else None
    context = session.context_files(sources) if session is not None else []
    results: list[FileResult] = []
    tasks: list[Task] = []
    for path in list(files) + context:
        task = _task(path, cache, session)
        cached = cache.get(task.key) if cache is not None and task.key is not None else None
        if cached is not None:
            results.append(cached)
        else:
            tasks.append(task)
    jobs = default_jobs() if jobs is None else max(1, jobs)
    with _fewer_collections():
        done = _run(tasks, settings, jobs, session)
    for task, result in done:
        if cache is not None and task.key is not None and not is_transient(result):
            cache.put(task.key, result)
        results.append(result)
    if session is None:
        return results
    return _decide(results, set(files), session, settings)


def _decide(results: list[FileResult], linted: set[str], session: Session, settings: Settings) -> list[FileResult]:
    """Apply the containers' inits (read from every analysed file) to the linted files' layers."""
    effects = Effects(e for r in results for e in r.effects)
    out = []
    for result in results:
        if result.path not in linted:
            continue  # context: analysed for its effects, not reported
        if result.error or not result.records:
            out.append(result)
            continue
        records, variants = decide(result.records, os.path.abspath(result.path), session.model, effects)
        if records == result.records and not variants:
            out.append(result)
            continue
        try:
            with open(result.path, "rb") as fh:
                text = decode(fh.read())
        except (OSError, UnicodeDecodeError, SyntaxError, LookupError):
            out.append(result)
            continue
        out.append(rejudge(result, records, variants, text, settings))
    return out


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the young-generation collector every 100 000 allocations instead of every 700.

    A libcst tree is hundreds of thousands of small acyclic objects (freed by reference
    counting); the default thresholds make the collector walk them over and over, about
    a seventh of a lint's CPU time. Cycles are still collected, only less often.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], 100_000), max(before[1], 50), max(before[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _task(path: str, cache: Cache | None, session: Session | None = None) -> Task:
    try:
        info = os.stat(path)
    except OSError:
        return Task(path, 0)  # lint_file reports it
    size = info.st_size
    if cache is None or path.endswith(".onnx") or not stat.S_ISREG(info.st_mode) or size > MAX_CACHED_BYTES:
        return Task(path, size)  # a FIFO would block the read; lint_file reports what it cannot read
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return Task(path, size)
    context = session.context_key(path) if session is not None and path.endswith(".py") else ""
    return Task(path, len(data), data, cache.key(path, data, context))


def _run(tasks: list[Task], settings: Settings, jobs: int, session: Session | None = None) -> list[tuple[Task, FileResult]]:
    source_bytes = sum(t.size for t in tasks if not t.path.endswith(".onnx"))
    if jobs == 1 or len(tasks) < 2 or source_bytes < MIN_PARALLEL_BYTES:
        return [(task, _lint(task, settings, session)) for task in tasks]
    # Largest first, one file per message: the last worker does not finish long after the others.
    ordered = sorted(tasks, key=lambda t: -t.size)
    with _context().Pool(min(jobs, len(tasks)), initializer=_init_worker, initargs=(settings, session)) as pool:
        done = list(pool.imap(_lint_in_worker, ordered, chunksize=1))
    return list(zip(ordered, done))


def _context() -> BaseContext:
    # fork shares the parent's imported modules (libcst, the rulebook) for free; it is
    # only safe while this process runs no other thread. Imported here: multiprocessing
    # costs tens of milliseconds, which a one-file pre-commit run should not pay.
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _lint(task: Task, settings: Settings, session: Session | None = None) -> FileResult:
    view = session.view(task.path) if session is not None and task.path.endswith(".py") else None
    if task.data is None:
        if view is None:
            return lint_file(task.path, settings)
        data = limits.read_source(task.path, settings.max_file_size)
        if isinstance(data, str):
            return FileResult(task.path, error=f"{task.path}: {data}")
        return lint_bytes(task.path, data, settings, view)
    return lint_bytes(task.path, task.data, settings, view)


_WORKER_SETTINGS: Settings | None = None
_WORKER_SESSION: Session | None = None


def _init_worker(settings: Settings, session: Session | None = None) -> None:
    global _WORKER_SETTINGS, _WORKER_SESSION
    _WORKER_SETTINGS = settings
    _WORKER_SESSION = session


def _lint_in_worker(task: Task) -> FileResult:
    assert _WORKER_SETTINGS is not None
    return _lint(task, _WORKER_SETTINGS, _WORKER_SESSION)
