"""Import aliases without libcst metadata: a local name -> qualified name table.

``import torch.nn as nn``, ``from torch import nn``, ``from torch.nn import Linear``
and ``torch.nn.Linear`` all qualify to ``torch.nn.Linear``. Built from the import
statements of one scope; a child table sees its parent's names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import libcst as cst


def dotted(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of Name/Attribute nodes, else None."""
    parts: list[str] = []
    while type(expr) is cst.Attribute:  # exact types: libcst nodes are ABCs, isinstance on them is slow
        parts.append(expr.attr.value)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
    if type(expr) is not cst.Name:
        return None
    parts.append(expr.value)  # type: ignore[attr-defined]
    return ".".join(reversed(parts))


def _module_name(node: cst.BaseExpression | None) -> str:
    return (dotted(node) if node is not None else "") or ""


class Names:
    """Local names bound by imports, qualified."""

    def __init__(self, parent: Names | None = None) -> None:
        self._parent = parent
        self._aliases: dict[str, str] = {}
        self._shadowed: set[str] = set()

    def child(self) -> Names:
        return Names(self)

    def lookup(self, name: str) -> str | None:
        if name in self._aliases:
            return self._aliases[name]
        if name in self._shadowed:
            return None
        return self._parent.lookup(name) if self._parent else None

    def shadow(self, name: str) -> None:
        """A local assignment rebinds ``name``: it no longer refers to the import."""
        self._aliases.pop(name, None)
        self._shadowed.add(name)

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        """The qualified dotted name of ``expr``, or None if its root is not an import."""
        text = dotted(expr)
        if text is None:
            return None
        root, _, rest = text.partition(".")
        base = self.lookup(root)
        if base is None:
            return None
        return f"{base}.{rest}" if rest else base

    def add(self, stmt: cst.BaseSmallStatement) -> None:
        """Record what an ``import`` / ``from ... import`` statement binds."""
        if isinstance(stmt, cst.Import):
            for alias in stmt.names:
                full = _module_name(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, full)
                else:
                    root = full.partition(".")[0]
                    self._bind(root, root)
        elif isinstance(stmt, cst.ImportFrom):
            module = "." * len(stmt.relative) + _module_name(stmt.module)
            if isinstance(stmt.names, cst.ImportStar):
                return
            for alias in stmt.names:
                name = _module_name(alias.name)
                local = name
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                sep = "" if module.endswith(".") else "."
                self._bind(local, f"{module}{sep}{name}" if module else name)

    def _bind(self, local: str, qualified: str) -> None:
        self._aliases[local] = qualified
        self._shadowed.discard(local)

    def absolutize(self, package: str) -> Names:
        """Relative imports (``.weight_init.trunc_normal_``) as absolute names inside ``package``."""
        for local, q in list(self._aliases.items()):
            level = len(q) - len(q.lstrip("."))
            if level and level <= len(package.split(".")) and package:
                self._aliases[local] = absolute(q[level:], package, level)
        return self

    def define(self, local: str, qualified: str) -> None:
        """Bind a name defined in the module itself (a project file read as context) to its qualified name."""
        self._bind(local, qualified)

    def scan(self, body: Sequence[cst.CSTNode]) -> Names:
        """Add the imports of a block, including those nested in if/try/with at that level."""
        for stmt in _import_statements(body):
            self.add(stmt)
        return self


def absolute(name: str, package: str, level: int) -> str:
    """``from ..x import y`` inside ``package``: the absolute name (``a.b`` + level 2 + ``x.y`` -> ``a.x.y``)."""
    if not level:
        return name
    parts = package.split(".") if package else []
    base = parts[:max(len(parts) - (level - 1), 0)]
    return ".".join(base + ([name] if name else []))


def _import_statements(body: Sequence[cst.CSTNode]) -> Iterable[cst.BaseSmallStatement]:
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small
        elif isinstance(stmt, (cst.If, cst.Try, cst.With)):
            blocks: list[cst.BaseSuite] = [stmt.body]
            if isinstance(stmt, cst.Try):
                blocks += [h.body for h in stmt.handlers]
            orelse = getattr(stmt, "orelse", None)
            if isinstance(orelse, cst.Else):
                blocks.append(orelse.body)
            for block in blocks:
                if isinstance(block, cst.IndentedBlock):
                    yield from _import_statements(block.body)


def mentions_framework(text: str) -> bool:
    """The cheap prefilter: a file that names none of the frameworks is not parsed."""
    return "torch" in text or "keras" in text or "tensorflow" in text
