"""Source edits on one parsed module, applied in one libcst pass so formatting and comments stay.

An edit names a node of the original tree (by identity) and the code to put
there: replace a call, set a keyword argument of a call, insert a statement
after a statement of a block, or add a top-level import. Several fixes may
edit one file; they are applied together.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst._nodes.internal import CodegenState  # what Module.code_for_node renders with, given an indentation
from libcst.metadata import (
    CodeRange,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
)

from ..frontends.python.names import dotted
from ..frontends.python.positions import Locator
from ..frontends.python.syntax import parse_module, suite

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # where CPython's line numbers change


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
    """A parsed module and the lookups the fixers find nodes by.

    Positions come from aligning libcst statements with CPython's ``ast`` (see
    :class:`~initlint.frontends.python.positions.Locator`), computed only for the statements
    a fix looks at; the statement skeleton (which block and function holds a statement) is
    one walk over statements, never expressions. libcst's ``PositionProvider`` and
    ``ParentNodeProvider`` over the whole tree (~3x a parse) are built only when the cheap
    lookup cannot find a call (the two parsers disagree on a statement).
    """

    text: str
    module: cst.Module
    _locator: Locator = field(init=False, repr=False)
    _smalls: list[tuple[cst.BaseSmallStatement, cst.SimpleStatementLine]] = field(init=False, repr=False)
    _block: dict[int, cst.CSTNode] = field(init=False, repr=False)  # statement -> the block or module holding it
    _function: dict[int, cst.FunctionDef | None] = field(init=False, repr=False)
    _calls: dict[int, list[tuple[tuple[int, int], cst.Call]]] = field(init=False, repr=False)
    _owner: dict[int, tuple[cst.SimpleStatementLine, cst.BaseSmallStatement]] = field(init=False, repr=False)
    _top: dict[int, cst.CSTNode] = field(init=False, repr=False)  # statement -> the top-level statement holding it
    _parent: dict[int, cst.CSTNode | None] = field(init=False, repr=False)  # statement -> the compound one holding it
    _full: _FullMetadata | None = field(init=False, repr=False, default=None)
    _rendered: str | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._locator = Locator(self.text, self.module)
        self._smalls, self._block, self._function = [], {}, {}
        self._calls, self._owner, self._top, self._parent = {}, {}, {}, {}
        self._walk(self.module.body, self.module, None)

    def _walk(self, body: Sequence[cst.CSTNode], block: cst.CSTNode, function: cst.FunctionDef | None,
              top: cst.CSTNode | None = None, parent: cst.CSTNode | None = None) -> None:
        for stmt in body:
            self._block[id(stmt)] = block
            self._top[id(stmt)] = top or stmt
            self._parent[id(stmt)] = parent
            self._function[id(stmt)] = function
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._smalls.append((small, stmt))
                    self._function[id(small)] = function
                continue
            inner = function if not isinstance(stmt, cst.FunctionDef) else stmt
            for child_block in _blocks(stmt):
                self._walk(suite(child_block) if isinstance(child_block, cst.BaseSuite) else child_block,
                           child_block, inner, top or stmt, stmt)

    @classmethod
    def parse(cls, text: str) -> Tree:
        return cls(text, parse_module(text))

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def rendered(self) -> str:
        """libcst's code of the whole module (computed once): the text but for what libcst does not keep."""
        if self._rendered is None:
            self._rendered = self.module.code
        return self._rendered

    def _calls_of(self, small: cst.BaseSmallStatement, line_stmt: cst.SimpleStatementLine) -> list[tuple[tuple[int, int], cst.Call]]:
        """The calls of one small statement with their (line, column), computed once."""
        key = id(small)
        if key not in self._calls:
            self._calls[key] = []
            for call, where in self._locator.calls(small):
                self._calls[key].append((where, call))
                self._owner[id(call)] = (line_stmt, small)
        return self._calls[key]

    def _spanning(self, line: int) -> list[tuple[cst.BaseSmallStatement, cst.SimpleStatementLine]]:
        out = []
        for small, line_stmt in self._smalls:
            span = self._locator.span(small)
            if span is not None and span[0] <= line <= span[1]:
                out.append((small, line_stmt))
        return out

    def calls_on_line(self, line: int) -> list[cst.Call]:
        cheap = [call for small, stmt in self._spanning(line) for (ln, _), call in self._calls_of(small, stmt) if ln == line]
        return cheap or self._metadata().calls_on_line(line)

    def call_at(self, line: int, column: int | None) -> cst.Call | None:
        """The call starting at (line, 1-based column); the only call on the line when no column."""
        if column is None:
            on_line = self.calls_on_line(line)
            return on_line[0] if len(on_line) == 1 else None
        here = [call for small, stmt in self._spanning(line) for where, call in self._calls_of(small, stmt)
                if where == (line, column)]
        if not here:
            return self._metadata().call_at(line, column)
        # ``Dense(64)(x)``: two calls start here; the construction is the one whose callee is not a call.
        found = [c for c in here if not isinstance(c.func, cst.Call)]
        return found[0] if len(found) == 1 else None

    def statement_of(self, node: cst.CSTNode) -> tuple[cst.SimpleStatementLine, cst.BaseSmallStatement] | None:
        """The statement line holding ``node`` (a call found by :meth:`call_at`) and the small statement inside it."""
        if id(node) in self._owner:
            return self._owner[id(node)]
        return self._metadata().statement_of(node)

    def in_block(self, stmt: cst.CSTNode) -> bool:
        """Whether ``stmt`` sits in a block new statements can follow it in."""
        return isinstance(self._block.get(id(stmt)), (cst.IndentedBlock, cst.Module))

    def enclosing_function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        return self._function.get(id(node))

    def top_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The top-level statement holding a statement, or a call found by :meth:`call_at` (None: not known)."""
        owner = self._owner.get(id(node))
        return self._top.get(id(owner[0] if owner else node))

    def splice_lines(self, text: str, edits: Sequence[Edit]) -> str | None:
        """``text`` (the source of the tree) with the edits of calls made, only the statement lines holding them
        regenerated and put where their old code is; None when an edit is not a call's, or a line's old code is
        not exactly the lines its statement spans (the caller then regenerates whole statements)."""
        lines: dict[int, tuple[cst.SimpleStatementLine, list[Edit]]] = {}
        for edit in edits:
            owner = self._owner.get(id(edit.call)) if isinstance(edit, (ReplaceCall, SetKeyword)) else None
            if owner is None:
                return None
            lines.setdefault(id(owner[0]), (owner[0], []))[1].append(edit)
        starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
        spliced: list[tuple[int, int, str]] = []
        for line, its in lines.values():
            spans = [self._locator.span(small) for small in line.body]
            if not spans or any(span is None for span in spans):
                return None
            first, last = spans[0][0], spans[-1][1]  # type: ignore[index]
            if not 0 < first <= last < len(starts):
                return None
            region = text[starts[first - 1]:starts[last]]
            indent = region[:len(region) - len(region.lstrip(" \t"))]  # its block's, for its continuation lines too
            if self._code(line.with_changes(leading_lines=()), indent) != region:
                return None
            spliced.append((starts[first - 1], starts[last], self._code(line.visit(_Apply(its)).with_changes(leading_lines=()), indent)))
        out = text
        for start, end, code in sorted(spliced, reverse=True):  # distinct statements: disjoint line ranges
            out = out[:start] + code + out[end:]
        return out

    def _code(self, node: cst.CSTNode, indent: str) -> str:
        """The code of a statement of a block indented by ``indent`` (:meth:`cst.Module.code_for_node` with that
        block's indentation, which its first line and its continuation lines carry)."""
        state = CodegenState(self.module.default_indent, self.module.default_newline,
                             indent_tokens=[indent] if indent else [])
        node._codegen(state)
        return "".join(state.tokens)

    def holding(self, edits: Iterable[Edit]) -> set[int] | None:
        """Ids of the statements that hold the edited nodes, from each one's own up to the top level
        (None when one is not known): a transform need not enter any other statement."""
        out: set[int] = set()
        stmt: cst.CSTNode | None
        for edit in edits:
            if isinstance(edit, AddImport):
                continue
            if isinstance(edit, InsertAfter):  # made by the block holding the statement
                if id(edit.stmt) not in self._top:
                    return None
                stmt = self._parent[id(edit.stmt)]
            else:
                owner = self._owner.get(id(edit.call))
                if owner is None:
                    return None
                stmt = owner[0]
            while stmt is not None:
                out.add(id(stmt))
                stmt = self._parent[id(stmt)]
        return out

    def end_line(self, stmt: cst.SimpleStatementLine) -> int:
        """The last line of a statement line."""
        span = self._locator.span(stmt.body[-1]) if stmt.body else None
        return span[1] if span is not None else self._metadata().positions[stmt].end.line

    def _metadata(self) -> _FullMetadata:
        if self._full is None:
            self._full = _FullMetadata(self.module)
        return self._full

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


def _blocks(stmt: cst.CSTNode) -> list[cst.CSTNode]:
    """The blocks nested in a compound statement (bodies, else, except, finally, match cases)."""
    out: list[cst.CSTNode] = []
    for name in ("body", "orelse", "finalbody"):
        part = getattr(stmt, name, None)
        if isinstance(part, cst.If):
            out.append(cst.IndentedBlock(body=[part]))  # elif: a block of one If, for the walk only
            continue
        if part is not None and not isinstance(part, cst.BaseSuite):
            part = getattr(part, "body", None)
        if isinstance(part, cst.BaseSuite):
            out.append(part)
    for handler in getattr(stmt, "handlers", ()):
        out.append(handler.body)
    for case in getattr(stmt, "cases", ()):
        out.append(case.body)
    return out


class _FullMetadata:
    """libcst's positions and parents of every node: the fallback when the ast alignment fails."""

    def __init__(self, module: cst.Module) -> None:
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.positions: dict[cst.CSTNode, CodeRange] = dict(wrapper.resolve(PositionProvider))
        self.parents: dict[cst.CSTNode, cst.CSTNode] = dict(wrapper.resolve(ParentNodeProvider))
        self.calls_at: dict[tuple[int, int], list[cst.Call]] = defaultdict(list)
        for node, where in self.positions.items():
            if isinstance(node, cst.Call):
                self.calls_at[(where.start.line, where.start.column + 1)].append(node)

    def calls_on_line(self, line: int) -> list[cst.Call]:
        return [c for (ln, _), calls in self.calls_at.items() if ln == line for c in calls]

    def call_at(self, line: int, column: int) -> cst.Call | None:
        found = [c for c in self.calls_at.get((line, column), []) if not isinstance(c.func, cst.Call)]
        return found[0] if len(found) == 1 else None

    def statement_of(self, node: cst.CSTNode) -> tuple[cst.SimpleStatementLine, cst.BaseSmallStatement] | None:
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


def quote_style(call: cst.Call) -> str:
    """The quote character the call's own string arguments use (double by default)."""
    for arg in call.args:
        if isinstance(arg.value, cst.SimpleString):
            return arg.value.quote[-1]
    return '"'


class _Apply(cst.CSTTransformer):
    """Makes the edits. ``within`` (see :meth:`Tree.holding`): the only statements it enters (a transform
    rebuilds every node it enters; the others are kept as they are)."""

    def __init__(self, edits: Iterable[Edit], within: set[int] | None = None) -> None:
        super().__init__()
        self.within = within
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

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self.within is None or not isinstance(node, cst.BaseStatement) or id(node) in self.within

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


def apply(module: cst.Module, edits: Iterable[Edit], tree: Tree | None = None) -> str:
    """The whole module's code with the edits made (libcst's code of it: see :func:`spliced` for the file's own)."""
    return edited(module, edits, tree).code


def edited(module: cst.Module, edits: Iterable[Edit], tree: Tree | None = None) -> cst.Module:
    """The module with the edits made.

    With the module's ``tree``, only the top-level statements holding an edited node are transformed,
    and in them only the statements that do.
    """
    edits = list(edits)
    touched = _tops(edits, tree.top_of) if tree is not None else None
    if tree is None or touched is None:
        return module.visit(_Apply(edits))
    transformer = _Apply(edits, tree.holding(edits))
    new = {key: stmt.visit(transformer) for key, stmt in touched.items()}
    body = [new.get(id(stmt), stmt) for stmt in module.body]
    return transformer.leave_Module(module, module.with_changes(body=body))


def spliced(tree: Tree, edits: Iterable[Edit], text: str) -> tuple[str, cst.Module] | None:
    """``text`` (the source of ``tree``) with the edits made, only the edited statements regenerated, and
    the module edited alike.

    The new code of each top-level statement holding an edit is put where its old code is in
    ``text``, so every other byte stays. None when that cannot be done: an import to add, a
    statement to insert at the top level, a statement whose top-level statement is not known or
    whose code is not found exactly once.
    """
    edits = list(edits)
    touched = _tops(edits, tree.top_of)
    if touched is None or any(isinstance(e, AddImport) or isinstance(e, InsertAfter) and id(e.stmt) in touched
                              for e in edits):
        return None
    transformer = _Apply(edits, tree.holding(edits))
    new = {key: stmt.visit(transformer) for key, stmt in touched.items()}
    new_text = tree.splice_lines(text, edits)
    new_text = new_text if new_text is not None else _splice(tree.module, text, touched, new)
    if new_text is None:
        return None
    return new_text, tree.module.with_changes(body=[new.get(id(stmt), stmt) for stmt in tree.module.body])


def _tops(edits: Sequence[Edit], top: Callable[[cst.CSTNode], cst.CSTNode | None]) -> dict[int, cst.CSTNode] | None:
    """The top-level statements the edits change, by id (None when one is not known)."""
    targets = [e.call if isinstance(e, (ReplaceCall, SetKeyword)) else e.stmt for e in edits if not isinstance(e, AddImport)]
    tops = [top(node) for node in targets]
    return None if any(t is None for t in tops) else {id(t): t for t in tops if t is not None}


def _splice(module: cst.Module, text: str, old: dict[int, cst.CSTNode], new: dict[int, cst.CSTNode]) -> str | None:
    """``text`` with each changed top-level statement's code replaced (None when one cannot be found once)."""
    out = text
    for key, stmt in old.items():
        before, after = module.code_for_node(stmt), module.code_for_node(new[key])
        at = out.find(before)
        if at < 0 or out.find(before, at + 1) >= 0:
            return None
        out = out[:at] + after + out[at + len(before):]
    return out
