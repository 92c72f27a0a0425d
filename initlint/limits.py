"""Resource bounds and the per-file safety net: what keeps one bad input from stopping a run.

* :func:`read_source` reads at most ``max_file_size`` bytes of a regular file (a FIFO,
  a device or a symlink to one is refused before it is opened, so a read can never block
  or fill memory).
* :func:`parse_hazard` asks CPython's parser (about a tenth of a libcst parse) whether
  libcst may be given the text: libcst's native parser overflows its stack (a crash no
  ``except`` can catch) on brackets nested a few thousand deep or on ``a and b and ...``
  chains of ~10 000 operands, and its time grows with the square of expression depth.
* :func:`deadline` bounds one file's time with ``SIGALRM`` in the main thread; the
  signal is delivered when control is back in Python code, so a native parse finishes first.
* :func:`guarded` turns an unexpected exception into a one-line per-file error.
"""

from __future__ import annotations

import ast
import os
import re
import signal
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .records import FileResult

# CPython accepts expressions ~3000 levels deep; libcst needs seconds per statement past
# ~1000 and crashes near 3000, and hand-written tree walks recurse once per level.
MAX_DEPTH = 1000
# CPython's own limit on nested brackets, for text CPython rejects for another reason
# (syntax newer than the running interpreter) and libcst may still parse.
MAX_BRACKETS = 200
# A statement shorter than this cannot nest deeper than the limits that matter below.
_LONG_STATEMENT = 100
TIMED_OUT = "skipped: timed out after"

_T = TypeVar("_T")


class TimedOut(BaseException):
    """Raised by :func:`deadline`; a BaseException so that no ``except Exception`` in a frontend swallows it."""


def read_source(path: str, max_size: int) -> bytes | str:
    """The bytes of a regular file of at most ``max_size`` bytes (0: no limit), else the reason it was not read."""
    try:
        info = os.stat(path)
    except OSError as err:
        return f"cannot read: {err.strerror or err}"
    if not stat.S_ISREG(info.st_mode):
        return "skipped: not a regular file"
    if max_size and info.st_size > max_size:
        return too_large(info.st_size, max_size)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_size + 1 if max_size else -1)
    except OSError as err:
        return f"cannot read: {err.strerror or err}"
    if max_size and len(data) > max_size:  # grew since the stat
        return too_large(len(data), max_size)
    return data


def too_large(size: int, limit: int) -> str:
    return f"skipped: {size} bytes is over the {limit}-byte limit (--max-file-size)"


def parse_hazard(text: str) -> str | None:
    """Why ``text`` must not reach libcst (nesting beyond :data:`MAX_DEPTH` / :data:`MAX_BRACKETS`), or None.

    Syntax errors are left to libcst, which reports them (and accepts syntax newer
    than the running interpreter); only the bracket depth is checked for such text.
    """
    return check_source(text)[0]


def check_source(text: str) -> tuple[str | None, ast.Module | None]:
    """:func:`parse_hazard`, plus CPython's tree of ``text`` when it parses (positions reuse it: one parse)."""
    try:
        with warnings.catch_warnings():  # invalid escapes etc. are the file's business, not the run's output
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (RecursionError, MemoryError):
        return f"skipped: nested too deeply to analyse (over {MAX_DEPTH} levels)", None
    except (SyntaxError, ValueError) as err:
        if "too many nested parentheses" in str(err) or bracket_depth(text) > MAX_BRACKETS:
            return f"skipped: brackets nested over {MAX_BRACKETS} levels deep", None
        return None, None
    depth = max_depth(tree)
    if depth > MAX_DEPTH:
        return f"skipped: expression nested {depth} levels deep (limit {MAX_DEPTH})", None
    return None, tree


def max_depth(tree: ast.Module) -> int:
    """The deepest expression of a module, counted as libcst nests it.

    Only long statements are measured (a short one cannot be deep). ``a and b and c``
    is one flat node for CPython but one level per operand for libcst.
    """
    best = 0
    stack: list[ast.AST] = list(tree.body)
    while stack:
        stmt = stack.pop()
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                stack.extend(value)
            elif _long(stmt) or name not in ("value", "targets"):
                best = max(best, _expression_depth(value))
    return best


def _long(stmt: ast.AST) -> bool:
    start, end = getattr(stmt, "lineno", 0), getattr(stmt, "end_lineno", 0)
    if start != end:
        return True
    return (getattr(stmt, "end_col_offset", 0) or 0) - getattr(stmt, "col_offset", 0) >= _LONG_STATEMENT


def _expression_depth(value: object) -> int:
    roots = value if isinstance(value, list) else [value]
    best = 0
    stack = [(node, 1) for node in roots if isinstance(node, ast.AST)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.BoolOp):
            depth += len(node.values) - 1
        if depth > best:
            best = depth
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return best


# Strings and comments (whose brackets do not count) or a bracket.
_BRACKETS = re.compile(
    r"""\#[^\r\n]*"""
    r"""|[rRbBuUfF]{0,2}(?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\r\n])*"|'(?:\\.|[^'\\\r\n])*')"""
    r"""|[()\[\]{}]""",
    re.S,
)


def bracket_depth(text: str) -> int:
    """The deepest bracket nesting outside strings and comments (an upper bound for broken text)."""
    depth = best = 0
    for match in _BRACKETS.finditer(text):
        char = match.group()
        if char in "([{":
            depth += 1
            best = max(best, depth)
        elif char in ")]}":
            depth = max(0, depth - 1)
    return best


def _raise_timed_out(signum: int, frame: object) -> None:
    raise TimedOut()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`TimedOut` after ``seconds`` of wall time (0: no limit).

    Only in the main thread and where ``signal.setitimer`` exists, and only when no
    other interval timer is running (an enclosing deadline, or a test harness's own).
    """
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timed_out)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:  # even when the alarm fires between the two calls
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


def guarded(path: str, timeout: float, work: Callable[[], FileResult]) -> FileResult:
    """``work()``, with an unexpected exception or a timeout turned into a per-file error line."""
    try:
        with deadline(timeout):
            return work()
    except TimedOut:
        return FileResult(path, error=f"{path}: {TIMED_OUT} {timeout:g} s (--timeout)")
    except RecursionError:
        return FileResult(path, error=f"{path}: skipped: nested too deeply to analyse (RecursionError)")
    except Exception as err:  # the safety net: one file's bug must not stop the run
        return FileResult(path, error=internal_error(path, err))


def internal_error(path: str, err: BaseException) -> str:
    message = " ".join(str(err).split())[:300]
    return f"internal error in {path}: {type(err).__name__}: {message} (please report)"


def is_transient(result: FileResult) -> bool:
    """A result that depends on the machine's load, not on the file (never cached)."""
    return bool(result.error) and TIMED_OUT in (result.error or "")
