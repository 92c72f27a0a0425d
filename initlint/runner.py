"""Linting many files: cache lookups first, then the misses in-process or on a process pool.

The result does not depend on how the work was spread: results are collected by path
and :func:`initlint.api.lint_paths` sorts them, so ``--jobs 2`` prints exactly what
``--jobs 1`` prints. A pool is started only when there is enough source to pay for it
(forking workers costs tens of milliseconds; a pre-commit run on one file must not).

Workers are watched (:class:`Workers`): one that crashes or hangs in native code costs
only its file, which gets one error line. Even in one process, a file whose parse may
crash or take seconds (large, or deeply nested: :func:`initlint.limits.scan`) is
parsed in a child process, where ``--timeout`` can stop it.
"""

from __future__ import annotations

import gc
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import limits
from .cache import Cache
from .limits import is_transient
from .lint import analysed, decode, lint_bytes, lint_file, rejudge
from .project.decide import Effects, Uses, decide, fed
from .project.model import ProjectModel
from .project.session import Session
from .records import FileResult
from .settings import Settings

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    import libcst as cst

# How far entries are followed into the files of the classes they pass their input to.
MAX_ENTRY_ROUNDS = 3
# Below this much source, one process finishes before a pool has started.
MIN_PARALLEL_BYTES = 256 * 1024
# Larger files are not read here for the cache key: lint_file applies --max-file-size first.
MAX_CACHED_BYTES = 16 * 1024 * 1024
# Larger files are parsed in a child process even with --jobs 1: libcst needs seconds on them.
ISOLATED_BYTES = 256 * 1024
# A worker still busy this long after its --timeout alarm is stuck in native code: it is killed.
HARD_TIMEOUT_GRACE = 2.0


@dataclass(frozen=True)
class Task:
    """One file to lint: its bytes when the parent already read them (to key the cache), else None.

    ``annotate``: describe its findings' ``--fix`` edits too ("fix", "edits"; see :func:`_annotated`).
    """

    path: str
    size: int
    data: bytes | None = None
    key: str | None = None
    annotate: str | None = None


@dataclass(frozen=True)
class Linted:
    """A task's result, and (when the task asked) the same with its findings' fixes described."""

    result: FileResult  # what the cache keeps
    annotated: FileResult | None = None

    @property
    def reported(self) -> FileResult:
        return self.result if self.annotated is None else self.annotated


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def lint_files(files: Sequence[str], settings: Settings, jobs: int | None = None,
               cache: Cache | None = None, annotate: str | None = None, project: bool = True) -> list[FileResult]:
    """A result for every path of ``files`` (in no particular order).

    ``project``: the ``.py`` files are analysed as part of their project (SPEC 8.32): the rest of
    the project is indexed as context, container files whose init code reaches the linted
    classes are analysed too (not reported), and the containers' inits decide.
    ``annotate`` ("fix", or "edits" for SARIF): also describe each finding's ``--fix`` edit (see
    :func:`initlint.fixes.annotate_result`) once decided. The cache keeps results without it.
    A linted file is annotated where it was linted, on the parse just made; in this process only
    a result from the cache, or one the project's containers changed.
    """
    if cache is not None and not cache.usable:
        cache = None  # no secret to key entries with, or a cache folder that is a symbolic link
    sources = [f for f in files if f.endswith(".py")]
    with _fewer_collections():
        with _Memory() as memory:
            session = Session.open(sources, settings, cache) if project and sources else None
        try:
            return _lint_files(files, sources, session, memory, settings, jobs, cache, annotate)
        finally:
            memory.thaw()


def _lint_files(files: Sequence[str], sources: list[str], session: Session | None, memory: _Memory,
                settings: Settings, jobs: int | None, cache: Cache | None, annotate: str | None) -> list[FileResult]:
    context = session.context_files(sources) if session is not None else []
    jobs = default_jobs() if jobs is None else max(1, jobs)
    linted = set(files)
    results, annotated = _analyse(list(files) + context, settings, jobs, cache, session, memory, annotate, linted)
    if session is not None:
        wanting = [r for r in results if r.path in linted]
        for _round in range(MAX_ENTRY_ROUNDS):  # entries that pass their input on to further classes' files
            more = session.entry_files(wanting, [r.path for r in results])
            if not more:
                break
            wanting = _analyse(more, settings, jobs, cache, session, memory)[0]
            results += wanting
        results = _decide(results, linted, session, settings)  # a result it leaves alone is the same object
    return [r if id(r) in annotated else _annotated(r, settings, annotate) for r in results]


def _analyse(paths: list[str], settings: Settings, jobs: int, cache: Cache | None, session: Session | None,
             memory: _Memory, annotate: str | None = None, linted: set[str] | frozenset[str] = frozenset()
             ) -> tuple[list[FileResult], set[int]]:
    """A result per path: from the cache, else linted (and stored); and the ids of those annotated
    (``annotate``, for the ``linted`` paths) where they were linted."""
    results: list[FileResult] = []
    tasks: list[Task] = []
    for path in paths:
        task = _task(path, cache, session)
        cached = cache.get(task.key, path) if cache is not None and task.key is not None else None
        if cached is not None:
            results.append(cached)
        else:
            tasks.append(replace(task, annotate=annotate) if annotate and path in linted else task)
    done = _run(tasks, settings, jobs, session, memory)
    annotated: set[int] = set()
    for task, linted_task in done:
        if cache is not None and task.key is not None and not is_transient(linted_task.result):
            cache.put(task.key, linted_task.result)
        results.append(linted_task.reported)
        if linted_task.annotated is not None:
            annotated.add(id(linted_task.annotated))
    return results, annotated


def _decide(results: list[FileResult], linted: set[str], session: Session, settings: Settings) -> list[FileResult]:
    """Apply the containers' inits (read from every analysed file) to the linted files' layers."""
    effects = Effects(e for r in results for e in r.effects)
    uses = Uses((e for r in results for e in r.entries), session.model)
    out = []
    for result in results:
        if result.path not in linted:
            continue  # context: analysed for its effects, not reported
        if result.error or not result.records or not result.path.endswith(".py"):
            out.append(result)
            continue
        records, variants = decide(fed(result.records, uses), os.path.abspath(result.path), session.model, effects)
        if records == result.records and not variants:
            out.append(result)
            continue
        data = limits.read_source(result.path, settings.max_file_size)
        try:
            text = decode(data) if isinstance(data, bytes) else None
        except (UnicodeDecodeError, SyntaxError, LookupError):
            text = None
        if text is None:  # changed meanwhile: judged as linted
            out.append(result)
            continue
        out.append(rejudge(result, records, variants, text, settings))
    return out


def _annotated(result: FileResult, settings: Settings, annotate: str | None, data: bytes | None = None) -> FileResult:
    """The result with its findings' fixes described (``data``: the file's bytes, when already read)."""
    if annotate is None or not result.findings:
        return result
    from .fixes import annotate_result  # libcst codemods: only JSON and SARIF runs load them

    return annotate_result(result, settings, edits=annotate == "edits", data=data)


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


@contextmanager
def _collected_after() -> Iterator[None]:
    """No collection while one file is linted, one of the young generation after it.

    The collector would walk the file's trees while they are alive (each object once or twice, a
    tenth of a run); once the file is done they are gone, and the walk meets only what the lint's
    reference cycles left (freed here) and what it keeps.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


class _Memory:
    """What one run keeps, and how the collector sees it.

    The project index is built with the collector off (it makes no reference cycles), then it and
    everything alive (the trees kept for the lint, imported modules) is moved out of the collector's
    reach (``gc.freeze``), as is each file's parse as soon as it is made (libcst trees are acyclic:
    reference counting frees them, and the collection after each file would otherwise walk the ones
    kept for the files that import it); ``thaw`` hands them back at the end. Nothing is frozen when
    someone else froze objects already (``gc.unfreeze`` would hand theirs back too).
    """

    def __init__(self) -> None:
        self.enabled = gc.isenabled()
        self.mine = False

    def __enter__(self) -> _Memory:
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mine = exc[0] is None and gc.get_freeze_count() == 0
        if self.mine:
            gc.freeze()
        if self.enabled:
            gc.enable()

    def keeping(self, into: list[tuple[cst.Module, str]]) -> Callable[[cst.Module, str], None]:
        """What to do with a file's parse (and its text): put it ``into`` the list, out of the collector's reach."""
        def keep(module: cst.Module, text: str) -> None:
            into.append((module, text))
            if self.mine:
                gc.freeze()
        return keep

    def thaw(self) -> None:
        if self.mine:
            gc.unfreeze()


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


def _run(tasks: list[Task], settings: Settings, jobs: int, session: Session | None,
         memory: _Memory) -> list[tuple[Task, Linted]]:
    """(task, what linting it gave) per task."""
    source_bytes = sum(t.size for t in tasks if not t.path.endswith(".onnx"))
    if jobs == 1 or len(tasks) < 2 or source_bytes < MIN_PARALLEL_BYTES:
        return _run_here(tasks, settings, session, memory)
    # Largest first, one file per message: the last worker does not finish long after the others.
    ordered = sorted(tasks, key=lambda t: -t.size)
    with Workers(min(jobs, len(tasks)), settings, session) as workers:
        return list(workers.run(ordered))


def _run_here(tasks: list[Task], settings: Settings, session: Session | None,
              memory: _Memory) -> list[tuple[Task, Linted]]:
    """Lint in this process, except files whose parse could crash or outlast ``--timeout``: those in a child."""
    done: dict[int, tuple[Task, Linted]] = {}  # by the task's index: the results in the tasks' order
    costly: list[tuple[int, Task]] = []
    model = session.model if session is not None else None
    if model is not None:  # the files linted here read each other's parses instead of parsing them again
        model.expect(os.path.abspath(t.path) for t in tasks if t.path.endswith(".py"))
    for i in _imported_first(tasks, model):
        task = tasks[i]
        ready = _read(task, settings)
        parse: list[tuple[cst.Module, str]] = []
        if isinstance(ready, FileResult):
            done[i] = (task, Linted(ready))
        elif _costly(ready, session):
            costly.append((i, ready))
        else:
            done[i] = (ready, _lint(ready, settings, session, memory.keeping(parse)))
        if model is not None and task.path.endswith(".py"):
            model.linted(os.path.abspath(task.path), *(parse[0] if parse else (None, "")))
    out = [done[i] for i in sorted(done)]
    if costly:
        with Workers(1, settings, session) as workers:
            out += workers.run([task for _i, task in sorted(costly, key=lambda pair: pair[0])])
    return out
def _imported_first(tasks: list[Task], model: ProjectModel | None) -> list[int]:
    """The tasks' indices, each file after the files it imports from (where no import cycle prevents it)."""
    if model is None:
        return list(range(len(tasks)))
    at: dict[str, list[int]] = {}
    for i, t in enumerate(tasks):
        at.setdefault(os.path.abspath(t.path), []).append(i)
    out: list[int] = []
    seen: set[str] = set()
    for start in at:
        stack = [(start, False)]
        while stack:
            path, finished = stack.pop()
            if finished:
                out += at[path]
            elif path not in seen:
                seen.add(path)
                stack.append((path, True))
                stack += [(p, False) for p in sorted(model.imports_from(path), reverse=True) if p in at and p not in seen]
    return out




def _read(task: Task, settings: Settings) -> Task | FileResult:
    """The task with its bytes (read within the limits), or the error of a file that cannot be read."""
    if task.data is not None or task.path.endswith(".onnx"):
        return task
    data = limits.read_source(task.path, settings.max_file_size)
    if isinstance(data, str):
        return FileResult(task.path, error=f"{task.path}: {data}")
    return replace(task, size=len(data), data=data)


def _costly(task: Task, session: Session | None = None) -> bool:
    """Whether libcst may need seconds on the file: a large one, or one with deeply nested expressions.

    libcst's native parse cannot be interrupted by ``--timeout`` (the alarm waits for Python
    code) and overflows its stack on nesting the gate of :mod:`initlint.limits` did not foresee.
    A file that is skipped unparsed (:func:`initlint.lint.analysed`) costs nothing.
    """
    if task.data is None:
        return False
    try:
        text = decode(task.data)
    except (UnicodeDecodeError, SyntaxError, LookupError):
        return False  # reported as such, unparsed
    if not analysed(text, session.view(task.path) if session is not None else None):
        return False
    if len(task.data) > ISOLATED_BYTES:
        return True
    cost = session.parse_cost(task.path, text) if session is not None else None
    if cost is None:
        cost = limits.scan(task.data.decode("latin-1")).cost  # tokens are ASCII: no decoding needed
    return cost > limits.COSTLY


class Workers:
    """Worker processes that lint one task at a time, watched: one that dies or overruns is replaced.

    A worker that dies (a native crash, the out-of-memory killer) costs only the file it was
    linting: that file gets one error line and the others go on. With ``--timeout``, a worker
    still busy ``HARD_TIMEOUT_GRACE`` seconds after its own alarm should have fired (a native
    parse, which no alarm interrupts) is killed, and the file reported as timed out.
    """

    def __init__(self, count: int, settings: Settings, session: Session | None = None) -> None:
        self.count = count
        self.settings = settings
        self.session = session
        self.context = _context()
        self.idle: list[_Worker] = []

    def __enter__(self) -> Workers:  # noqa: PYI034 - not meant to be subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self.idle:
            worker.stop()
        self.idle = []

    def _start(self) -> _Worker:
        return _Worker(self.context, self.settings, self.session)

    def run(self, tasks: Sequence[Task]) -> Iterator[tuple[Task, Linted]]:
        from multiprocessing.connection import wait

        todo = list(reversed(tasks))
        busy: dict[Any, tuple[_Worker, Task, float]] = {}
        limit = self.settings.timeout + HARD_TIMEOUT_GRACE if self.settings.timeout > 0 else None
        try:
            while todo or busy:
                while todo and len(busy) < self.count:
                    task = todo.pop()
                    worker = self.idle.pop() if self.idle else self._start()
                    if not worker.send(task):  # died while idle: one more try on a fresh one
                        worker.stop()
                        worker = self._start()
                        if not worker.send(task):
                            worker.stop()
                            yield task, Linted(FileResult(task.path, error=limits.crashed(task.path, worker.exitcode())))
                            continue
                    busy[worker.conn] = (worker, task, time.monotonic())
                if not busy:
                    continue
                timeout = None
                if limit is not None:
                    timeout = max(0.0, min(start + limit for _, _, start in busy.values()) - time.monotonic())
                ready = wait(list(busy), timeout)
                for conn in ready:
                    worker, task, _ = busy.pop(conn)
                    result = worker.receive()
                    if result is None:
                        worker.stop()
                        yield task, Linted(FileResult(task.path, error=limits.crashed(task.path, worker.exitcode())))
                    else:
                        self.idle.append(worker)
                        yield task, result
                if limit is not None:
                    now = time.monotonic()
                    for conn, (worker, task, start) in list(busy.items()):
                        if now - start >= limit:
                            del busy[conn]
                            worker.stop()
                            yield task, Linted(FileResult(task.path, error=limits.timed_out(task.path, self.settings.timeout)))
        finally:
            for worker, _, _ in busy.values():
                worker.stop()


class _Worker:
    """One worker process and the pipe to it."""

    def __init__(self, context: BaseContext, settings: Settings, session: Session | None) -> None:
        here, there = context.Pipe()
        self.conn = here
        self.process = context.Process(target=_serve, args=(there, settings, session), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        there.close()

    def send(self, task: Task) -> bool:
        try:
            self.conn.send(task)
        except (OSError, ValueError):
            return False
        return True

    def receive(self) -> Linted | None:
        """The worker's result, or None when it died."""
        try:
            result = self.conn.recv()
        except (EOFError, OSError):
            return None
        return result if isinstance(result, Linted) else None

    def exitcode(self) -> int | None:
        self.process.join(5)
        return self.process.exitcode

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def _context() -> BaseContext:
    # fork shares the parent's imported modules (libcst, the rulebook) for free; it is
    # only safe while this process runs no other thread. Imported here: multiprocessing
    # costs tens of milliseconds, which a one-file pre-commit run should not pay.
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _lint(task: Task, settings: Settings, session: Session | None = None,
          on_parse: Callable[[cst.Module, str], None] | None = None) -> Linted:
    """Lint one file (in a worker or here) and, when the task asks, annotate it on the parse just made
    (``on_parse``: called with the file's parse)."""
    with _collected_after():
        return _lint_one(task, settings, session, on_parse)


def _lint_one(task: Task, settings: Settings, session: Session | None,
              on_parse: Callable[[cst.Module, str], None] | None) -> Linted:
    if task.path.endswith(".onnx"):
        return Linted(lint_file(task.path, settings))
    data = task.data if task.data is not None else limits.read_source(task.path, settings.max_file_size)
    if isinstance(data, str):
        return Linted(FileResult(task.path, error=f"{task.path}: {data}"))
    view = session.view(task.path) if session is not None and task.path.endswith(".py") else None
    checked = session.checked(task.path) if session is not None and view is not None else None
    result = lint_bytes(task.path, data, settings, view, checked, on_parse)
    return Linted(result, _annotated(result, settings, task.annotate, data) if task.annotate else None)


def _serve(conn: Any, settings: Settings, session: Session | None) -> None:
    """A worker's loop: lint each task received, send its result back; stop when the parent goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the workers
    with _fewer_collections():
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            conn.send(_lint(task, settings, session))
