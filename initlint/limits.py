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
import math
import os
import re
import signal
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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
CRASHED = "skipped: the process analysing it died"
# The longest timer setitimer takes everywhere (a larger one is no limit in practice).
MAX_TIMEOUT = 1_000_000.0

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
            # As much as the stat promised and one byte more (never a buffer of the limit's size),
            # then the rest in chunks while the file keeps growing, up to the limit.
            chunks = [fh.read(info.st_size + 1)]
            total = len(chunks[0])
            while total > info.st_size and (not max_size or total <= max_size):
                chunk = fh.read(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
    except OSError as err:
        return f"cannot read: {err.strerror or err}"
    except (OverflowError, MemoryError):
        return "cannot read: the file is too large for this process"
    if max_size and total > max_size:  # grew since the stat
        return too_large(total, max_size)
    return b"".join(chunks) if len(chunks) > 1 else chunks[0]


def too_large(size: int, limit: int) -> str:
    return f"skipped: {size} bytes is over the {limit}-byte limit (--max-file-size)"


def parse_hazard(text: str) -> str | None:
    """Why ``text`` must not reach libcst (nesting beyond :data:`MAX_DEPTH` / :data:`MAX_BRACKETS`), or None."""
    return check_source(text)[0]


# A text and what :func:`check_source` said of it (the project index checks the files it will lint).
Checked = tuple[str, tuple[str | None, ast.Module | None]]


def check_source(text: str) -> tuple[str | None, ast.Module | None]:
    """:func:`parse_hazard`, plus CPython's tree of ``text`` when it parses (positions reuse it: one parse).

    When CPython parses the text, its tree measures the nesting exactly; otherwise (a syntax
    error, or syntax newer than the running interpreter, both of which libcst still parses)
    the token-level :func:`scan` decides, before libcst sees a byte.
    """
    hazard, tree, _cost = inspect_source(text)
    return hazard, tree


def inspect_source(text: str) -> tuple[str | None, ast.Module | None, int]:
    """:func:`check_source` and the estimated cost of libcst's parse (see :data:`COSTLY`): from the tree
    when CPython parses the text, else from :func:`scan`."""
    try:
        with warnings.catch_warnings():  # invalid escapes etc. are the file's business, not the run's output
            warnings.simplefilter("ignore")
            tree = ast.parse(without_nul(text))
    except (RecursionError, MemoryError):
        return f"skipped: nested too deeply to analyse (over {MAX_DEPTH} levels)", None, 0
    except (SyntaxError, ValueError) as err:
        if "too many nested parentheses" in str(err):
            return f"skipped: brackets nested over {MAX_BRACKETS} levels deep", None, 0
        measured = scan(text)
        return measured.hazard(), None, measured.cost
    depth, cost = measure(tree)
    if depth > MAX_DEPTH:
        return f"skipped: expression nested {depth} levels deep (limit {MAX_DEPTH})", None, cost
    return None, tree, cost


def without_nul(text: str) -> str:
    """``text`` for CPython's parser, which refuses NUL anywhere: a space keeps every position.

    libcst accepts a NUL in a string or a comment (and reports one in code as a syntax error),
    so the positions CPython gives must not be lost to it.
    """
    return text.replace("\0", " ") if "\0" in text else text


def max_depth(tree: ast.Module) -> int:
    """The deepest expression of a module, counted as libcst nests it.

    Only long statements are measured: one on a single line shorter than ``_LONG_STATEMENT``
    cannot nest past ``_CHEAP_DEPTH`` levels (each level takes a character at least), which is
    all the gate and the cost estimate ask. ``a and b and c`` is one flat node for CPython but
    one level per operand for libcst.
    """
    return measure(tree)[0]


def measure(tree: ast.Module) -> tuple[int, int]:
    """:func:`max_depth`, and libcst's parse cost estimated like :func:`scan`'s: the sum of depth**2 over
    the statements deeper than ``_CHEAP_DEPTH`` (each statement's own expressions, not its body's)."""
    best = cost = 0
    stack: list[ast.AST] = list(tree.body)
    while stack:
        stmt = stack.pop()
        deepest = 0
        long = _long(stmt)
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody", "handlers", "cases"):
                stack.extend(value)
            elif long:
                deepest = max(deepest, _expression_depth(value))
        best = max(best, deepest)
        cost += deepest**2 if deepest > _CHEAP_DEPTH else 0
    return best, cost


def _long(stmt: ast.AST) -> bool:
    start, end = getattr(stmt, "lineno", None), getattr(stmt, "end_lineno", None)
    if start is None or start != end:  # a ``case`` clause has no position: always measured
        return True
    return (getattr(stmt, "end_col_offset", 0) or 0) - getattr(stmt, "col_offset", 0) >= _LONG_STATEMENT


def _expression_depth(value: object) -> int:
    roots = value if isinstance(value, list) else [value]
    best = 0
    stack = [(node, 1) for node in roots if isinstance(node, ast.AST)]
    while stack:
        node, depth = stack.pop()
        if type(node) is ast.BoolOp:
            depth += len(node.values) - 1
        if depth > best:
            best = depth
        depth += 1
        for field in node._fields:  # ast.iter_child_nodes, without its generators
            child = getattr(node, field, None)
            if isinstance(child, ast.AST):
                stack.append((child, depth))
            elif type(child) is list:
                stack += [(c, depth) for c in child if isinstance(c, ast.AST)]
    return best


# -- the token-level gate: no parse, so it also measures text no parser accepts ------------------

# One token of Python source (or a stray character, which matches nothing and is skipped).
_TOKEN = re.compile(
    r"""(?P<comment>\#[^\r\n]*)"""
    r"""|(?P<string>(?P<prefix>[rRbBuUfF]{1,3})?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\""""
    r"""|'(?:\\.|[^'\\\r\n])*'|"(?:\\.|[^"\\\r\n])*"))"""
    r"""|(?P<name>[^\W\d]\w*)"""
    r"""|(?P<number>\d[\w.]*|\.\d[\w.]*)"""
    r"""|(?P<newline>\r\n|\r|\n)"""
    r"""|(?P<continuation>\\(?:\r\n|\r|\n)?)"""
    r"""|(?P<open>[(\[{])"""
    r"""|(?P<close>[)\]}])"""
    r"""|(?P<separator>[,;])"""
    r"""|(?P<operator>\*\*|//|<<|>>|:=|\.|[-+*/%@&|^~])""",
    re.DOTALL,
)
# Keywords that nest one expression in another (a chain of them nests as deep as it is long).
_NESTING_WORDS = frozenset({"and", "or", "not", "if", "else", "lambda", "await", "in", "is", "yield"})
# Above this estimated parse cost (the sum of the squares of the statements' nesting depths),
# libcst needs about a second; the runner parses such a file in a child process it can stop.
COSTLY = 1_000_000
# Statements shallower than this cost nothing worth counting.
_CHEAP_DEPTH = 100


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` measured: upper bounds on how deeply a parser must recurse, and its likely cost."""

    depth: int = 0  # deepest expression: brackets plus chained operators, attributes, calls and keywords
    brackets: int = 0  # deepest bracket nesting outside strings and comments
    elifs: int = 0  # longest run of ``elif`` clauses (libcst nests each in the one before)
    cost: int = 0  # the sum of depth**2 over statements deeper than _CHEAP_DEPTH

    def hazard(self) -> str | None:
        """The reason a parser must not be given the text, or None."""
        if self.brackets > MAX_BRACKETS:
            return f"skipped: brackets nested over {MAX_BRACKETS} levels deep"
        if self.depth > MAX_DEPTH:
            return f"skipped: expression nested up to {self.depth} levels deep (limit {MAX_DEPTH})"
        if self.elifs > MAX_DEPTH:
            return f"skipped: {self.elifs} elif clauses in a row (limit {MAX_DEPTH})"
        return None


def scan(text: str) -> Scan:
    """Measure ``text`` token by token, without parsing it (so syntax errors do not hide a hazard).

    What makes libcst's native parser recurse is a long chain (``a + b + ...``, ``a.b.c...``,
    ``f()()...``, ``not not ...``, ``a if b else c if ...``) or deep brackets, so an
    expression's depth is estimated from them: each open bracket adds a level, and inside
    each bracket each binary or unary operator, ``.``, call or subscript trailer, nesting
    keyword (``and``, ``not``, ``if``, ``lambda`` ...) and f-string field adds one more,
    until a comma starts the next element. Chains are over-counted (``a.b + c.d`` counts 3,
    libcst nests it 2 deep), which only matters past :data:`MAX_DEPTH`, and only for text
    CPython cannot parse (CPython's tree measures the rest exactly).
    """
    depth = best = brackets = 0
    ops = [0]  # chained operators in the current element of each open bracket
    total = 0  # sum(ops)
    statement_best = 0
    cost = 0
    elifs = elif_best = 0
    after_atom = False  # the previous token ends an operand: a following ( or [ is a call or subscript
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "name":
            word = match.group()
            if word in _NESTING_WORDS:
                ops[-1] += 1
                total += 1
                after_atom = False
            elif word == "elif":
                elifs += 1
                elif_best = max(elif_best, elifs)
                after_atom = False
            else:
                after_atom = True
        elif kind == "operator":
            ops[-1] += 1
            total += 1
            after_atom = False
        elif kind == "open":
            if after_atom and match.group() != "{":
                ops[-1] += 1
                total += 1
            depth += 1
            brackets = max(brackets, depth)
            ops.append(0)
            after_atom = False
        elif kind == "close":
            if depth:
                depth -= 1
                total -= ops.pop()
            after_atom = True
        elif kind == "separator":
            total -= ops[-1]
            ops[-1] = 0
            after_atom = False
            if depth == 0 and match.group() == ";":
                cost += statement_best**2 if statement_best > _CHEAP_DEPTH else 0
                statement_best = 0
        elif kind == "string":
            prefix = match.group("prefix") or ""
            if "f" in prefix or "F" in prefix:
                fields = 1 + match.group().count("{")
                ops[-1] += fields
                total += fields
            after_atom = True
        elif kind == "number":
            after_atom = True
            continue
        elif kind == "newline":
            if depth == 0:  # the end of a logical line
                cost += statement_best**2 if statement_best > _CHEAP_DEPTH else 0
                statement_best = 0
                total = ops[0] = 0
                nxt = text[match.end(): match.end() + 4]
                if nxt[:1].isidentifier() and nxt not in ("elif", "else"):
                    elifs = 0  # a statement at the left margin ends any if/elif chain
                after_atom = False
            continue  # inside brackets a line break changes nothing: `f\n()` is still a call
        else:  # comment, continuation
            continue
        if depth + total > statement_best:
            statement_best = depth + total
            best = max(best, statement_best)
    cost += statement_best**2 if statement_best > _CHEAP_DEPTH else 0
    return Scan(depth=best, brackets=brackets, elifs=elif_best, cost=cost)


def _raise_timed_out(signum: int, frame: object) -> None:
    raise TimedOut()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`TimedOut` after ``seconds`` of wall time (0: no limit).

    Only in the main thread and where ``signal.setitimer`` exists, and only when no
    other interval timer is running (an enclosing deadline, or a test harness's own).
    """
    seconds = 0.0 if math.isnan(seconds) else min(seconds, MAX_TIMEOUT)  # inf: a million seconds; NaN: none
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
        return FileResult(path, error=timed_out(path, timeout))
    except RecursionError:
        return FileResult(path, error=f"{path}: skipped: nested too deeply to analyse (RecursionError)")
    except Exception as err:  # the safety net: one file's bug must not stop the run
        return FileResult(path, error=internal_error(path, err))


def internal_error(path: str, err: BaseException) -> str:
    message = " ".join(str(err).split())[:300]
    return f"internal error in {path}: {type(err).__name__}: {message} (please report)"


def timed_out(path: str, timeout: float) -> str:
    return f"{path}: {TIMED_OUT} {timeout:g} s (--timeout)"


def crashed(path: str, exitcode: int | None) -> str:
    """The error line of a file whose worker process died (a native crash, or killed from outside)."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit status {exitcode}"
    return f"{path}: {CRASHED} ({how}; please report)"


def is_transient(result: FileResult) -> bool:
    """A result that depends on the machine or its load, not only on the file (never cached)."""
    error = result.error or ""
    return TIMED_OUT in error or CRASHED in error
