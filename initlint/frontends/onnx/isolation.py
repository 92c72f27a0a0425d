"""One step of an ONNX audit in a forked child process: a crash or an overrun ends the child, not the run.

Two steps need it. Reading memory-mapped external data: a weight file truncated by
another process while it is mapped makes the next read of a page past its new end a
SIGBUS, which no ``except`` can catch. And ``--propagate``: onnxruntime's native run can
neither be interrupted by the per-file ``SIGALRM`` deadline nor be trusted with a hostile
graph's memory. In the child the work runs as it would in-process; its result (or the
exception it raised) comes back pickled through a pipe. The parent waits at most
``limit`` seconds, then kills the child; a child that dies by a signal is reported by
:class:`ChildFailed` with the signal's name.

``fork`` is cheap here (the parent's imported modules are shared, nothing is
re-imported). Where ``os.fork`` does not exist the work runs in-process.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import time
import warnings
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


class ChildFailed(Exception):
    """The child died without an answer; the message names the signal or exit status."""

    def __init__(self, message: str, signum: int | None = None) -> None:
        super().__init__(message)
        self.signum = signum


class Overran(Exception):
    """The child did not answer within the limit and was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not finish within {seconds:g} s")
        self.seconds = seconds


def available() -> bool:
    return hasattr(os, "fork")


def remaining_deadline() -> float | None:
    """Seconds left on the running ``ITIMER_REAL`` deadline (the per-file ``--timeout``), None when none runs."""
    if not hasattr(signal, "getitimer"):
        return None
    left = signal.getitimer(signal.ITIMER_REAL)[0]
    return left if left > 0 else None


def run(work: Callable[[], _T], limit: float | None = None, quiet: bool = True) -> _T:
    """``work()`` in a forked child: its value, or the exception it raised, re-raised here.

    ChildFailed when the child dies without answering (a signal, an exit), Overran after ``limit``
    seconds. ``quiet`` sends the child's stdout and stderr to /dev/null (native libraries print there).
    """
    if not available():
        return work()
    _reap_exited()
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about fork() in a process with threads (numpy's BLAS pool)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        _child(work, read_end, write_end, quiet)
    os.close(write_end)
    try:
        data = _collect(read_end, limit)
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_end)
    if data:  # answered: its exit (a large child takes a while to free its memory) is not waited for
        _EXITING.append(pid)
        _reap_exited()
        ok, value = pickle.loads(data)
        if ok:
            return value  # type: ignore[no-any-return]
        raise value
    try:
        status = _reap(pid)
    except BaseException:  # the deadline fired while the child was exiting
        _kill(pid)
        raise
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        raise ChildFailed(f"killed by {_signal_name(signum)}", signum)
    raise ChildFailed(f"exited with status {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status}")


# Children killed or done but maybe not yet gone: reaped without waiting, now or at the next run.
_EXITING: list[int] = []


def _child(work: Callable[[], object], read_end: int, write_end: int, quiet: bool) -> None:
    code = 0
    try:
        os.close(read_end)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child at once; the parent reports it
        faulthandler.disable()  # a crash is reported by the parent, in one line, not as a dump on stderr
        if quiet:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)
        try:
            payload = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
            payload = _pickled_error(err)
        view = memoryview(payload)
        while view:
            view = view[os.write(write_end, view):]
    except BaseException:  # noqa: BLE001 - nothing may escape the child
        code = 70
    finally:
        os._exit(code)


def _pickled_error(err: BaseException) -> bytes:
    try:
        payload = pickle.dumps((False, err), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(payload)  # some exceptions pickle but cannot be rebuilt
        return payload
    except Exception:  # noqa: BLE001
        message = " ".join(str(err).split())[:300]
        return pickle.dumps((False, RuntimeError(f"{type(err).__name__}: {message}")))


def _collect(fd: int, limit: float | None) -> bytes:
    """Everything the child writes until it closes the pipe; Overran after ``limit`` seconds."""
    end = None if limit is None else time.monotonic() + limit
    chunks = []
    while True:
        timeout = None if end is None else max(0.0, end - time.monotonic())
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise Overran(limit or 0.0)
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    """SIGKILL, without waiting for the child to free its memory (``_reap_exited`` collects it later)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _EXITING.append(pid)
    _reap_exited()


def _reap_exited() -> None:
    for pid in list(_EXITING):
        try:
            done = os.waitpid(pid, os.WNOHANG)[0]
        except ChildProcessError:
            done = pid
        if done:
            _EXITING.remove(pid)


def _reap(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return 0
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for clarity
            continue


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
