"""Line and column numbers for the few libcst nodes that are reported.

libcst's ``PositionProvider`` computes a position for every node of the tree
(about 3x the cost of the parse). initlint needs positions only for layer
constructions and init calls, so it aligns libcst statements with the
statements of Python's own ``ast`` (about a tenth of a libcst parse): the tree
the parse-hazard check already made, else one parsed lazily, only in files
that have something to report. Calls inside a statement
are matched in source order; if the two parsers disagree on a statement, its
own line is used.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterator, Sequence

import libcst as cst

from .syntax import suite

Position = tuple[int, int]  # 1-based line, 1-based column
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def source_lines(text: str) -> list[str]:
    """The lines of a source as Python numbers them.

    Only ``\\n``, ``\\r\\n`` and ``\\r`` end a line; ``str.splitlines`` also splits at form
    feeds, ``\\x1c``-``\\x1e``, ``\\x85`` and U+2028/U+2029, which source text may contain.
    """
    lines = _LINE_BREAK.split(text)
    if lines and not lines[-1]:
        lines.pop()
    return lines


def code_lines(text: str) -> list[str]:
    """:func:`source_lines` with comments and string literals (docstrings) blanked out, so that the words left
    are the code's names. One regex scan (the tokenizer gives the same lines, five times slower)."""
    lines = source_lines(text)
    if "\r" in text.replace("\r\n", ""):
        return lines  # a lone carriage return ends a line for Python, not for a line-based reading
    parts = []
    at = 0
    for m in _LITERAL.finditer(text):
        start, end = m.span()
        if text[start] != "#":
            prefix = _PREFIX.search(text, max(0, start - 3), start)  # r"", rb'', f"""..."""
            start = prefix.start() if prefix is not None else start
        parts.append(text[at:start])
        blanked = text[start:end]
        parts.append(_NOT_BREAK.sub(lambda k: " " * len(k.group()), blanked) if "\n" in blanked or "\r" in blanked
                     else " " * len(blanked))
        at = end
    parts.append(text[at:])
    return source_lines("".join(parts))


_ESCAPE = r"\\(?:\r\n|.)"  # a backslash escapes any character, a line break included
_LITERAL = re.compile("|".join((
    rf"'{{3}}[^'\\]*(?:(?:{_ESCAPE}|'(?!''))[^'\\]*)*'{{3}}",
    rf'"{{3}}[^"\\]*(?:(?:{_ESCAPE}|"(?!""))[^"\\]*)*"{{3}}',
    rf'"[^"\\\r\n]*(?:{_ESCAPE}[^"\\\r\n]*)*"',
    rf"'[^'\\\r\n]*(?:{_ESCAPE}[^'\\\r\n]*)*'",
    r"#[^\r\n]*",
)), re.S)
_PREFIX = re.compile(r"(?<!\w)[rRbBuUfF]{1,2}\Z")
_NOT_BREAK = re.compile(r"[^\r\n]+")


class Locator:
    """Positions of libcst statements and calls of one module."""

    def __init__(self, source: str, module: cst.Module, tree: ast.Module | None = None) -> None:
        self._source = source
        self._module = module
        self._tree = tree  # given when the caller already parsed ``source`` with ast
        self._stmts: dict[int, ast.AST] | None = None
        self._calls: dict[int, dict[int, Position]] = {}
        self._lines: list[str] | None = None

    def statement(self, stmt: cst.CSTNode) -> Position | None:
        """Where a (small or compound) libcst statement starts."""
        node = self._aligned().get(id(stmt))
        return None if node is None else self._position(node)

    def call(self, stmt: cst.CSTNode, call: cst.Call) -> Position | None:
        """Where ``call`` (a node inside the small statement ``stmt``) starts; else the statement's position."""
        node = self._aligned().get(id(stmt))
        if node is None:
            return None
        key = id(stmt)
        if key not in self._calls:
            self._calls[key] = self._match_calls(stmt, node)
        return self._calls[key].get(id(call)) or self._position(node)

    def span(self, stmt: cst.CSTNode) -> tuple[int, int] | None:
        """(first, last) line of a libcst statement, from its aligned ast node."""
        node = self._aligned().get(id(stmt))
        if node is None:
            return None
        line = getattr(node, "lineno", 1)
        return line, getattr(node, "end_lineno", None) or line

    def calls(self, stmt: cst.CSTNode) -> Iterator[tuple[cst.Call, Position]]:
        """Every call inside the small statement ``stmt`` whose position is known, in source order."""
        node = self._aligned().get(id(stmt))
        if node is None:
            return
        key = id(stmt)
        if key not in self._calls:
            self._calls[key] = self._match_calls(stmt, node)
        for call in _cst_calls(stmt):
            where = self._calls[key].get(id(call))
            if where is not None:
                yield call, where

    # -- alignment ---------------------------------------------------------

    def _aligned(self) -> dict[int, ast.AST]:
        if self._stmts is None:
            self._stmts = {}
            tree = self._tree
            if tree is None:
                try:
                    tree = ast.parse(self._source.replace("\0", " "))  # a NUL would hide every position
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    return self._stmts
            _align_block(self._module.body, tree.body, self._stmts)
        return self._stmts

    def _match_calls(self, stmt: cst.CSTNode, node: ast.AST) -> dict[int, Position]:
        theirs = sorted(
            (n for n in ast.walk(node) if isinstance(n, ast.Call)),
            key=lambda n: (n.lineno, n.col_offset, -(n.end_lineno or 0), -(n.end_col_offset or 0)),
        )
        ours = list(_cst_calls(stmt))
        if len(ours) != len(theirs):
            return {}
        return {id(c): self._position(a) for c, a in zip(ours, theirs) if _same_callee(c, a)}

    def _position(self, node: ast.AST) -> Position:
        line = getattr(node, "lineno", 1)
        col = getattr(node, "col_offset", 0)
        if self._lines is None:
            self._lines = source_lines(self._source)
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        # ast columns are UTF-8 byte offsets; report characters.
        return line, len(text.encode("utf-8")[:col].decode("utf-8", "replace")) + 1


def _small_statements(stmt: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if type(stmt) is cst.SimpleStatementLine:  # exact types: libcst nodes are ABCs, isinstance on them is slow
        return stmt.body  # type: ignore[attr-defined]
    return [stmt]


def _align_block(ours: Sequence[cst.CSTNode], theirs: Sequence[ast.AST], out: dict[int, ast.AST]) -> None:
    flat = [small for stmt in ours for small in _small_statements(stmt)]
    if len(flat) != len(theirs):
        return
    for stmt in ours:
        if type(stmt) is cst.SimpleStatementLine:
            out[id(stmt)] = theirs[flat.index(stmt.body[0])] if stmt.body else theirs[0]
    for small, node in zip(flat, theirs):
        out[id(small)] = node
        for cst_block, ast_block in _child_blocks(small, node):
            _align_block(cst_block, ast_block, out)


def _child_blocks(
    stmt: cst.CSTNode, node: ast.AST
) -> Iterator[tuple[Sequence[cst.CSTNode], Sequence[ast.AST]]]:
    """Pairs of (libcst block, ast block) nested in one compound statement."""
    kind = type(stmt)  # exact types: libcst nodes are ABCs, isinstance on them is slow
    if (kind is cst.ClassDef or kind is cst.FunctionDef) and isinstance(
        node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    ):
        yield suite(stmt.body), node.body  # type: ignore[attr-defined]
    elif kind is cst.If and isinstance(node, ast.If):
        yield suite(stmt.body), node.body  # type: ignore[attr-defined]
        if type(stmt.orelse) is cst.If:  # type: ignore[attr-defined]
            yield [stmt.orelse], node.orelse  # type: ignore[attr-defined]
        elif type(stmt.orelse) is cst.Else:  # type: ignore[attr-defined]
            yield suite(stmt.orelse.body), node.orelse  # type: ignore[attr-defined]
    elif (kind is cst.For or kind is cst.While) and isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        yield suite(stmt.body), node.body  # type: ignore[attr-defined]
        if stmt.orelse is not None:  # type: ignore[attr-defined]
            yield suite(stmt.orelse.body), node.orelse  # type: ignore[attr-defined]
    elif kind is cst.With and isinstance(node, (ast.With, ast.AsyncWith)):
        yield suite(stmt.body), node.body  # type: ignore[attr-defined]
    elif (kind is cst.Try or kind is cst.TryStar) and isinstance(node, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        yield suite(stmt.body), node.body
        for handler, ast_handler in zip(stmt.handlers, node.handlers):
            yield suite(handler.body), ast_handler.body
        if stmt.orelse is not None:
            yield suite(stmt.orelse.body), node.orelse
        if stmt.finalbody is not None:
            yield suite(stmt.finalbody.body), node.finalbody


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it in source order (pre-order), without libcst's visitor machinery."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(child_nodes(current)))


def _cst_calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Calls under ``node`` in source order (pre-order, parents before their arguments)."""
    return (n for n in walk(node) if isinstance(n, cst.Call))


# Fields that hold only tokens and whitespace, never a call.
_TOKEN_FIELDS = frozenset({"lpar", "rpar", "comma", "semicolon", "equal", "colon", "dot", "star",
                           "leading_lines", "lines_after_decorators", "trailing_whitespace", "asynchronous"})
# Where the field order of a node is not its source order.
_SOURCE_ORDER: dict[type, tuple[str, ...]] = {
    cst.IfExp: ("body", "test", "orelse"),
    cst.FunctionDef: ("decorators", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "bases", "keywords", "body"),
}
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes of ``node`` in source order, read from its fields.

    libcst's ``children`` property runs a visitor over the node (about 20x slower);
    token and whitespace fields are skipped since no call can hide there.
    """
    kind = type(node)
    names = _FIELDS.get(kind)
    if names is None:
        names = _SOURCE_ORDER.get(kind) or tuple(
            f.name for f in dataclasses.fields(node)
            if f.name not in _TOKEN_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[kind] = names
    out: list[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(v for v in value if isinstance(v, cst.CSTNode))
    return out


def _same_callee(ours: cst.Call, theirs: ast.Call) -> bool:
    """A sanity check on the pairing: the last name of the callee agrees."""
    func = ours.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    other = theirs.func
    their_name = other.attr if isinstance(other, ast.Attribute) else other.id if isinstance(other, ast.Name) else None
    return name == their_name
