"""libcst readers both source frontends share: statement suites, call arguments, literal values."""

from __future__ import annotations

import math

import libcst as cst

_MAX_INT = 2**63


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
