"""Names linked across the project's files: which class or function a qualified name is (SPEC 8.32).

``timm.layers.Mlp`` is found through ``timm/layers/__init__.py``'s ``from .mlp import Mlp``
to the class ``Mlp`` of ``timm.layers.mlp``; aliases (``Block = ResBlock``) and star
imports are followed too, a bounded number of hops.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .index import ClassInfo, FunctionInfo, Summary

MAX_HOPS = 12


@dataclass(frozen=True)
class Found:
    """A project definition: the summary of its file and the class or function."""

    summary: Summary
    cls: ClassInfo | None = None
    function: FunctionInfo | None = None

    @property
    def qualified(self) -> str:
        name = self.cls.name if self.cls is not None else self.function.name if self.function is not None else ""
        return f"{self.summary.module}.{name}"


class Linker:
    """The project's summaries by module name, and name resolution over them."""

    def __init__(self, summaries: Iterable[Summary]) -> None:
        self.modules: dict[str, Summary] = {}
        self.by_path: dict[str, Summary] = {}
        for s in summaries:
            self.modules.setdefault(s.module, s)
            self.by_path[s.path] = s
        self._imports = {m: dict(s.imports) for m, s in self.modules.items()}
        self._aliases = {m: dict(s.aliases) for m, s in self.modules.items()}
        self._memo: dict[str, Found | None] = {}
        self._defined: dict[str, frozenset[str]] = {}  # path -> names of its classes and functions

    def defines(self, summary: Summary, name: str) -> bool:
        """Does the file define a class or function of that name?"""
        names = self._defined.get(summary.path)
        if names is None:
            names = self._defined[summary.path] = frozenset(c.name for c in summary.classes) | \
                frozenset(f.name for f in summary.functions)
        return name in names

    def local(self, summary: Summary, name: str) -> str | None:
        """The qualified name a dotted name of ``summary``'s module refers to (a same-file definition included)."""
        root, _, rest = name.partition(".")
        if self.defines(summary, root):
            q = f"{summary.module}.{root}"
        elif root in self._imports.get(summary.module, {}):
            q = self._imports[summary.module][root]
        elif root in self._aliases.get(summary.module, {}):
            target = self._aliases[summary.module][root]
            if target.partition(".")[0] == root:
                return None
            return self.local(summary, target + (f".{rest}" if rest else ""))
        else:
            return None
        return f"{q}.{rest}" if rest else q

    def resolve(self, qualified: str) -> Found | None:
        """The project class or function a qualified name denotes, or None (outside the project, or unknown)."""
        if qualified in self._memo:
            return self._memo[qualified]
        self._memo[qualified] = None  # cycles end here
        found = self._resolve(qualified, 0)
        self._memo[qualified] = found
        return found

    def _resolve(self, qualified: str, hops: int) -> Found | None:
        if hops > MAX_HOPS:
            return None
        module, name = self._split(qualified)
        if module is None or not name:
            return None
        s = self.modules[module]
        head, _, rest = name.partition(".")
        if rest:  # a class attribute or a submodule reached through a package
            return self._resolve(f"{module}.{head}", hops + 1) if f"{module}.{head}" in self.modules else None
        cls = s.cls(head)
        if cls is not None:
            return Found(s, cls=cls)
        fn = s.function(head)
        if fn is not None:
            return Found(s, function=fn)
        target = self._imports[module].get(head) or self._alias_target(s, head)
        if target is not None and target != qualified:
            return self._resolve(target, hops + 1)
        for star in s.star_imports:
            if star in self.modules:
                found = self._resolve(f"{star}.{head}", hops + 1)
                if found is not None:
                    return found
        return None

    def _alias_target(self, s: Summary, name: str) -> str | None:
        target = self._aliases[s.module].get(name)
        return self.local(s, target) if target else None

    def _split(self, qualified: str) -> tuple[str | None, str]:
        """The longest prefix that is a project module, and the rest."""
        parts = qualified.split(".")
        for i in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:i])
            if module in self.modules:
                return module, ".".join(parts[i:])
        return None, ""

    def in_project(self, qualified: str) -> bool:
        """Does the name start with a project module (so that it is the project's, found or not)?"""
        return self._split(qualified)[0] is not None or qualified in self.modules

    def class_bases(self, found: Found) -> list[str]:
        """The qualified names of a project class's bases (unresolvable ones as written)."""
        assert found.cls is not None
        return [self.local(found.summary, b) or b for b in found.cls.bases]

    def mro(self, qualified: str) -> list[tuple[str, Found | None]]:
        """The class and its ancestors, depth first, as (qualified name, project definition or None)."""
        out: list[tuple[str, Found | None]] = []
        seen: set[str] = set()
        todo = [qualified]
        while todo and len(out) < 64:
            q = todo.pop(0)
            if q in seen:
                continue
            seen.add(q)
            found = self.resolve(q)
            if found is not None and found.cls is not None:
                canonical = found.qualified
                out.append((canonical, found))
                seen.add(canonical)
                todo = self.class_bases(found) + todo
            else:
                out.append((q, None))
        return out
