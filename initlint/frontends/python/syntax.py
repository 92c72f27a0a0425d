"""libcst readers both source frontends share: statement suites, call arguments, literal values."""

from __future__ import annotations

import math

import libcst as cst
from libcst._nodes.base import CSTNode

_MAX_INT = 2**63


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module`` without re-validating every node the parser built (a fifth of the parse).

    A node validates its fields when constructed (``CSTNode.__post_init__``), for trees built by
    hand; the native parser's nodes are valid by construction, and libcst itself notes the check
    could be skipped "when parsing a file". The tree is the same.
    """
    validate = CSTNode.__dict__["__post_init__"]
    CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        CSTNode.__post_init__ = validate  # type: ignore[method-assign]


def _unchecked(node: CSTNode) -> None:
    return None


def sized(x: object) -> object:
    """A number the interpreter keeps: finite and within a machine integer; None (unknown) otherwise."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, int) and not isinstance(x, bool):
        return x if -_MAX_INT <= x <= _MAX_INT else None
    return x


def literal(e: cst.BaseExpression) -> object:
    """Value of an Integer / Float / SimpleString without ``ast.literal_eval`` (hot path)."""
    v = e.value  # type: ignore[attr-defined]
    t = type(e)  # exact type checks: libcst nodes are ABCs, isinstance on them is slow
    try:
        if t is cst.Integer:
            return sized(int(v, 0) if not (len(v) > 1 and v[0] == "0" and v[1].isdigit()) else int(v))
        if t is cst.Float:
            return sized(float(v.replace("_", "")))
    except ValueError:
        return None
    if t is cst.SimpleString:
        if "\\" in v or not v or v[0] not in "'\"":
            out = e.evaluated_value  # type: ignore[attr-defined]
            return out if isinstance(out, str) else None
        q = 3 if v[:3] in ('"""', "'''") else 1
        return v[q:-q]
    return None


def suite(body: cst.BaseSuite) -> list[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements of a block (an indented block or the small statements after a colon)."""
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    return []


def arguments(call: cst.Call) -> tuple[list[cst.BaseExpression], dict[str, cst.BaseExpression], bool]:
    """(positional, keyword, has_star) argument expressions of a call."""
    pos: list[cst.BaseExpression] = []
    kw: dict[str, cst.BaseExpression] = {}
    star = False
    for arg in call.args:
        if arg.star:
            star = True
            if arg.star == "*":
                pos.append(cst.StarredElement(arg.value))  # type: ignore[arg-type]
        elif arg.keyword is not None:
            kw[arg.keyword.value] = arg.value
        else:
            pos.append(arg.value)
    return pos, kw, star


class Enclosing:
    """Where a statement sits: its function and the innermost ``if`` test around it (statements only, no
    expressions are walked, so it is cheap; built on first use)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._where: dict[int, tuple[cst.FunctionDef | None, cst.If | None]] | None = None

    def of(self, stmt: cst.CSTNode) -> tuple[cst.FunctionDef | None, cst.If | None]:
        if self._where is None:
            self._where = {}
            self._walk(self.module.body, None, None)
        return self._where.get(id(stmt), (None, None))

    def _walk(self, body: object, function: cst.FunctionDef | None, branch: cst.If | None) -> None:
        for stmt in body if isinstance(body, (list, tuple)) else ():
            self._where[id(stmt)] = (function, branch)  # type: ignore[index]
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    self._where[id(small)] = (function, branch)  # type: ignore[index]
            elif isinstance(stmt, cst.FunctionDef):
                self._walk(suite(stmt.body), stmt, None)
            elif isinstance(stmt, cst.If):
                self._walk(suite(stmt.body), function, stmt)
                orelse = stmt.orelse
                if isinstance(orelse, cst.If):
                    self._walk([orelse], function, branch)
                elif orelse is not None:
                    self._walk(suite(orelse.body), function, None)
            elif isinstance(stmt, cst.BaseCompoundStatement):
                for name in ("body", "orelse", "finalbody"):
                    part = getattr(stmt, name, None)
                    if isinstance(part, cst.BaseSuite):
                        self._walk(suite(part), function, branch)
                    elif part is not None and hasattr(part, "body"):
                        self._walk(suite(part.body), function, branch)
                for handler in getattr(stmt, "handlers", ()):
                    self._walk(suite(handler.body), function, branch)
                for case in getattr(stmt, "cases", ()):
                    self._walk(suite(case.body), function, branch)
