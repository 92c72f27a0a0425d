"""Source edits on one parsed module, applied in one libcst pass so formatting and comments stay.

An edit names a node of the original tree (by identity) and the code to put
there: replace a call, set a keyword argument of a call, insert a statement
after a statement of a block, or add a top-level import. Several fixes may
edit one file; they are applied together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
)

from ..frontends.python.names import dotted


@dataclass(frozen=True)
class ReplaceCall:
    """Put the expression ``code`` where ``call`` is."""

    call: cst.Call
    code: str


@dataclass(frozen=True)
class SetKeyword:
    """Give ``call`` the keyword argument ``keyword=code`` (replacing its value if present)."""

    call: cst.Call
    keyword: str
    code: str


@dataclass(frozen=True)
class InsertAfter:
    """Insert the statement ``code`` right after ``stmt`` (a statement of an indented block or the module)."""

    stmt: cst.CSTNode
    code: str


@dataclass(frozen=True)
class AddImport:
    """Add ``code`` (an import statement) to the module's top-level imports.

    Standard-library imports (``stdlib=True``) go first, as isort orders them; others after the last import.
    """

    code: str
    stdlib: bool = False


Edit = ReplaceCall | SetKeyword | InsertAfter | AddImport


@dataclass
class Tree:
    """A parsed module with the positions and parents the fixers look nodes up by."""

    text: str
    module: cst.Module
    positions: dict[cst.CSTNode, CodeRange] = field(init=False)
    parents: dict[cst.CSTNode, cst.CSTNode] = field(init=False)
    calls_at: dict[tuple[int, int], list[cst.Call]] = field(init=False)

    def __post_init__(self) -> None:
        wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
        self.positions = dict(wrapper.resolve(PositionProvider))
        self.parents = dict(wrapper.resolve(ParentNodeProvider))
        self.calls_at = defaultdict(list)
        for node, where in self.positions.items():
            if isinstance(node, cst.Call):
                self.calls_at[(where.start.line, where.start.column + 1)].append(node)

    @classmethod
    def parse(cls, text: str) -> Tree:
        return cls(text, cst.parse_module(text))

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def calls_on_line(self, line: int) -> list[cst.Call]:
        return [c for (ln, _), calls in self.calls_at.items() if ln == line for c in calls]

    def call_at(self, line: int, column: int | None) -> cst.Call | None:
        """The call starting at (line, 1-based column); the only call on the line when no column."""
        if column is not None:
            # ``Dense(64)(x)``: two calls start here; the construction is the one whose callee is not a call.
            found = [c for c in self.calls_at.get((line, column), []) if not isinstance(c.func, cst.Call)]
            return found[0] if len(found) == 1 else None
        on_line = self.calls_on_line(line)
        return on_line[0] if len(on_line) == 1 else None

    def statement_of(self, node: cst.CSTNode) -> tuple[cst.SimpleStatementLine, cst.BaseSmallStatement] | None:
        """The statement line holding ``node`` and the small statement inside it."""
        small: cst.CSTNode | None = None
        current: cst.CSTNode | None = node
        while current is not None:
            if isinstance(current, cst.BaseSmallStatement):
                small = current
            if isinstance(current, cst.SimpleStatementLine):
                return (current, small) if isinstance(small, cst.BaseSmallStatement) else None
            if isinstance(current, (cst.BaseCompoundStatement, cst.SimpleStatementSuite)):
                return None
            current = self.parents.get(current)
        return None

    def in_block(self, stmt: cst.CSTNode) -> bool:
        """Whether ``stmt`` sits in a block new statements can follow it in."""
        return isinstance(self.parents.get(stmt), (cst.IndentedBlock, cst.Module))

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        current = self.parents.get(node)
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self.parents.get(current)
        return current

    def bindings(self) -> dict[str, str]:
        """Top-level import bindings: local name -> qualified name."""
        out: dict[str, str] = {}
        for stmt in self.module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = dotted(alias.name) or ""
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            out[alias.asname.name.value] = full
                        else:
                            out[full.partition(".")[0]] = full.partition(".")[0]
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    module = dotted(small.module) if small.module is not None and not small.relative else None
                    if module is None:
                        continue
                    for alias in small.names:
                        name = dotted(alias.name) or ""
                        local = name
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            local = alias.asname.name.value
                        out[local] = f"{module}.{name}"
        return out


def quote_style(call: cst.Call) -> str:
    """The quote character the call's own string arguments use (double by default)."""
    for arg in call.args:
        if isinstance(arg.value, cst.SimpleString):
            return arg.value.quote[-1]
    return '"'


class _Apply(cst.CSTTransformer):
    def __init__(self, edits: Iterable[Edit]) -> None:
        super().__init__()
        self.replace: dict[int, str] = {}
        self.keywords: dict[int, list[SetKeyword]] = defaultdict(list)
        self.inserts: dict[int, list[str]] = defaultdict(list)
        self.imports: list[AddImport] = []
        for edit in edits:
            if isinstance(edit, ReplaceCall):
                self.replace[id(edit.call)] = edit.code
            elif isinstance(edit, SetKeyword):
                self.keywords[id(edit.call)].append(edit)
            elif isinstance(edit, InsertAfter):
                if edit.code not in self.inserts[id(edit.stmt)]:
                    self.inserts[id(edit.stmt)].append(edit.code)
            elif edit not in self.imports:
                self.imports.append(edit)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if id(original_node) in self.replace:
            return cst.parse_expression(self.replace[id(original_node)])
        for edit in self.keywords.get(id(original_node), []):
            updated_node = _set_keyword(updated_node, edit.keyword, edit.code)
        return updated_node

    def _extend(self, original: Sequence[cst.CSTNode], updated: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
        out: list[cst.CSTNode] = []
        for old, new in zip(original, updated):
            out.append(new)
            out += [cst.parse_statement(code) for code in self.inserts.get(id(old), [])]
        return out

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self.inserts for s in original_node.body):
            return updated_node
        return updated_node.with_changes(body=self._extend(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body = self._extend(original_node.body, updated_node.body)
        for edit in sorted(self.imports, key=lambda e: e.stdlib):
            at = _import_position(body, first=edit.stdlib)
            new = cst.parse_statement(edit.code)
            following = body[at] if at < len(body) else None
            if edit.stdlib and isinstance(following, cst.SimpleStatementLine) and following.leading_lines:
                # The blank line that separated the block above now comes before the new first import.
                new = new.with_changes(leading_lines=following.leading_lines)
                body[at] = following.with_changes(leading_lines=())
            body.insert(at, new)
        return updated_node.with_changes(body=body)


def _set_keyword(call: cst.Call, keyword: str, code: str) -> cst.Call:
    value = cst.parse_expression(code)
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == keyword:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        keyword=cst.Name(keyword),
        value=value,
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    if args:
        last = args[-1]
        if isinstance(last.comma, cst.Comma):
            # A trailing comma (usually one argument per line): the new argument follows the same layout.
            previous = args[-2].comma if len(args) >= 2 else None
            sep = previous if isinstance(previous, cst.Comma) else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            new = new.with_changes(comma=last.comma)
            args[-1] = last.with_changes(comma=sep)
        else:
            # Whatever followed the last argument (a newline before the closing paren) now follows the new one.
            new = new.with_changes(whitespace_after_arg=last.whitespace_after_arg)
            args[-1] = last.with_changes(
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
    args.append(new)
    return call.with_changes(args=args)


def _is_import(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_future(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, cst.ImportFrom) and dotted(s.module or cst.Name("_")) == "__future__" for s in stmt.body
    )


def _import_position(body: Sequence[cst.CSTNode], first: bool = False) -> int:
    """Where a new top-level import goes: the start of the imports (``first``) or after the last one.

    Never before the docstring or a ``from __future__`` import.
    """
    start = 1 if body and _is_docstring(body[0]) else 0
    while start < len(body) and _is_future(body[start]):
        start += 1
    imports = [i for i, stmt in enumerate(body) if _is_import(stmt) and i >= start]
    if not imports:
        return start
    return imports[0] if first else imports[-1] + 1


def apply(module: cst.Module, edits: Iterable[Edit]) -> str:
    """The module's code with the edits made."""
    edits = list(edits)
    if not edits:
        return module.code
    return module.visit(_Apply(edits)).code
