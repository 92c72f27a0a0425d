"""The linked summaries of one project: definitions, module classes, subtrees, containers (SPEC 8.32).

Definitions of other files are read with libcst when first needed (base classes, helpers)
and kept in a small per-process cache; everything else comes from the summaries.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from collections.abc import Iterable

import libcst as cst

from ..frontends.python.names import Names
from ..frontends.python.syntax import parse_module
from ..frontends.torch.context import Definition, Globals
from ..frontends.torch.tables import WEIGHT_LAYERS, torch_nn_class
from ..limits import parse_hazard, read_source
from ..rulebook import Conventions
from .index import CallSite, ClassInfo, Summary, decoded
from .link import Found, Linker

_CONSUMER_WORDS = frozenset({"act", "norm", "nonlin", "nonlinearity", "activation", "normalization", "gate"})
_SETTING_WORDS = frozenset({"eps", "epsilon", "groups", "momentum", "affine", "dim", "channels", "size"})  # norm_groups
MAX_PARSED = 48  # files of context kept parsed per process
MAX_AHEAD = 4 * 1024 * 1024  # characters of source parsed as context and kept for the files' own lint (~30x in memory)
MAX_SUBTREE = 200  # project classes followed into one module's subtree


class Parsed:
    """A context file parsed once: its text and tree, its top-level definitions and its globals."""

    def __init__(self, summary: Summary, module: cst.Module, text: str) -> None:
        self.path = summary.path
        self.module = module
        self.text = text
        names = Names().scan(module.body).absolutize(summary.package)
        self.defs: dict[str, cst.ClassDef | cst.FunctionDef] = {}
        for stmt in module.body:
            if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
                self.defs[stmt.name.value] = stmt
                names.define(stmt.name.value, f"{summary.module}.{stmt.name.value}")
        self.home = Globals(names, dict(summary.constants), summary.module, summary.path)


class ProjectModel:
    """The linked summaries of one project, shared by every file's view."""

    def __init__(self, root: str, summaries: list[Summary], conventions: Conventions) -> None:
        self.root = root
        self.linker = Linker(summaries)
        self.conventions = conventions
        self._parsed: OrderedDict[str, Parsed | None] = OrderedDict()
        self._kept: dict[str, Parsed | tuple[cst.Module, str]] = {}  # linted files' parses and texts, for the files
        # still to lint that import them
        self._waiting: dict[str, set[str]] = {}  # file -> files still to lint (in this process) that import from it
        self._to_lint: set[str] = set()  # files still to lint in this process
        self._ahead: OrderedDict[str, Parsed] = OrderedDict()  # their parses made as context, for their own lint
        self._ahead_size = 0  # characters of source in ``_ahead``
        self._sources: dict[str, set[str]] = {}
        self._subtrees: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._module_class: dict[str, bool] = {}
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._parents: dict[str, set[str]] | None = None
        self._call_sites: dict[str, list[tuple[Summary, CallSite]]] = {}
        self._handed: dict[str, str] = {}  # module class -> where it is handed as a value to a function
        self._any_reinit: bool | None = None
        self._callers: dict[str, set[str]] | None = None
        self._used: set[str] | None = None
        self._subclasses: dict[str, tuple[str, ...]] | None = None
        self._named_by: dict[str, set[str]] | None = None
        self.memo: dict[str, object] = {}  # what frontends keep for the project's lifetime (other files' analyses)

    # -- reading other files ------------------------------------------------------

    def parsed(self, summary: Summary) -> Parsed | None:
        """A project file parsed as context (once per process while it is kept; a file still to lint keeps it
        for its own lint, see :meth:`take`)."""
        kept = self._kept.get(summary.path) or self._ahead.get(summary.path)
        if kept is not None:
            if isinstance(kept, tuple):
                kept = self._kept[summary.path] = Parsed(summary, *kept)  # read when first asked for
            return kept
        if summary.path in self._parsed:
            self._parsed.move_to_end(summary.path)
            return self._parsed[summary.path]
        data = read_source(summary.path, 0)
        text = decoded(data) if isinstance(data, bytes) else None
        parsed: Parsed | None = None
        # The gate linted files pass (the index's verdict on this text): libcst's parser crashes on nesting it refuses.
        if text is not None and (summary.hazard if len(text) == summary.size else parse_hazard(text)) is None:
            try:
                parsed = Parsed(summary, parse_module(text), text)
            except (cst.ParserSyntaxError, RecursionError, UnicodeEncodeError):
                parsed = None
        if parsed is not None and summary.path in self._to_lint:
            self._ahead[summary.path] = parsed
            self._ahead_size += len(text or "")
            while self._ahead_size > MAX_AHEAD:
                self._ahead_size -= len(self._ahead.popitem(last=False)[1].text)
            return parsed
        self._parsed[summary.path] = parsed
        if len(self._parsed) > MAX_PARSED:
            self._parsed.popitem(last=False)
        return parsed

    def take(self, path: str, text: str) -> cst.Module | None:
        """The parse of ``text`` made when the file ``path`` was read as context before its lint, if kept."""
        found = self._ahead.pop(path, None)
        if found is None:
            return None
        self._ahead_size -= len(found.text)
        return found.module if found.text == text else None

    def expect(self, paths: Iterable[str]) -> None:
        """These files are linted next in this process: the files they import from keep their own lint's parse
        until then, and their parses made as context are kept for their own lint (a whole-project run parses each
        file once, not again as context)."""
        for path in paths:
            self._to_lint.add(path)
            for source in self.imports_from(path):
                self._waiting.setdefault(source, set()).add(path)

    def linted(self, path: str, module: cst.Module | None, text: str = "") -> None:
        """``path`` was linted (``module``: its parse of ``text``, None when it was not parsed): kept for the files
        still to lint that import from it; the parses no file waits for any more are dropped."""
        self._to_lint.discard(path)
        ahead = self._ahead.pop(path, None)
        if ahead is not None:
            self._ahead_size -= len(ahead.text)
        for source in self.imports_from(path):
            waiting = self._waiting.get(source)
            if waiting is not None:
                waiting.discard(path)
                if not waiting:
                    del self._waiting[source]
                    self._kept.pop(source, None)
        if module is not None and path in self.linker.by_path and self._waiting.get(path):
            self._kept[path] = (module, text)

    def imports_from(self, path: str) -> set[str]:
        """The other project files the file imports names (or modules) from."""
        if path not in self._sources:
            out: set[str] = set()
            summary = self.linker.by_path.get(path)
            for _local, q in summary.imports if summary is not None else ():
                found = self.linker.resolve(q)
                if found is not None:
                    out.add(found.summary.path)
                elif q in self.linker.modules:
                    out.add(self.linker.modules[q].path)
            out.discard(path)
            self._sources[path] = out
        return self._sources[path]

    def definition(self, qualified: str) -> Definition | None:
        found = self.linker.resolve(qualified)
        if found is None:
            return None
        parsed = self.parsed(found.summary)
        name = found.cls.name if found.cls is not None else found.function.name if found.function else ""
        node = parsed.defs.get(name) if parsed is not None else None
        if node is None:
            return None
        return Definition(found.qualified, node, parsed.home)  # type: ignore[union-attr]

    # -- classes ---------------------------------------------------------------------

    def ancestors(self, qualified: str) -> tuple[str, ...]:
        if qualified not in self._ancestors:
            self._ancestors[qualified] = tuple(q for q, _ in self.linker.mro(qualified))
        return self._ancestors[qualified]

    def subclasses(self, qualified: str) -> tuple[str, ...]:
        """The project's module classes deriving from the class (directly or not)."""
        if self._subclasses is None:
            index: dict[str, set[str]] = {}
            for summary in self.linker.modules.values():
                for cls in summary.classes if summary.mentions_torch else ():
                    q = f"{summary.module}.{cls.name}"
                    for ancestor in self.ancestors(q)[1:]:
                        index.setdefault(ancestor, set()).add(q)
            self._subclasses = {k: tuple(sorted(v)) for k, v in index.items()}
        return self._subclasses.get(qualified, ())

    def builders(self, qualified: str) -> tuple[str, ...]:
        """The project classes that may build the class: its containers, and any other class whose body names
        it (a class the model does not take for a module may still build it), its own subclasses aside."""
        if self._named_by is None:
            index: dict[str, set[str]] = {}
            for summary in self.linker.modules.values():
                for cls in summary.classes:  # every class: one that does not look like torch code may build it too
                    for name in cls.mentions:
                        target = self.linker.local(summary, name)
                        found = self.linker.resolve(target) if target and self.linker.in_project(target) else None
                        if found is not None and found.cls is not None:
                            index.setdefault(found.qualified, set()).add(f"{summary.module}.{cls.name}")
            self._named_by = index
        out = self.parents().get(qualified, set()) | self._named_by.get(qualified, set())
        return tuple(sorted(out - {qualified} - set(self.subclasses(qualified))))

    def is_module_class(self, qualified: str) -> bool:
        if qualified not in self._module_class:
            ancestors = self.ancestors(qualified)
            bases = [self.conventions.model_base(q) for q in ancestors]
            self._module_class[qualified] = not any(b is not None and not b.module for b in bases) and any(
                torch_nn_class(q) is not None or b is not None for q, b in zip(ancestors, bases))
        return self._module_class[qualified]

    def methods(self, qualified: str) -> frozenset[str]:
        out: set[str] = set()
        for _q, found in self.linker.mro(qualified):
            if found is not None and found.cls is not None:
                out.update(found.cls.methods)
        return frozenset(out)

    def layer_classes(self, found: Found) -> tuple[str, ...]:
        """The torch weight-layer classes a class builds itself (its body and its project bases' bodies)."""
        out: set[str] = set()
        for q, anc in self.linker.mro(found.qualified):
            cls = torch_nn_class(q)
            if cls in WEIGHT_LAYERS:
                out.add(cls)  # the class is itself a layer (a Conv2d subclass)
            if anc is None or anc.cls is None:
                continue
            for name in anc.cls.mentions:
                target = self.linker.local(anc.summary, name)
                if target is None:
                    continue
                cls = torch_nn_class(target)
                if cls in WEIGHT_LAYERS:
                    out.add(cls)
                elif target in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
                    out.add("Parameter")
        return tuple(sorted(out))

    def children(self, found: Found) -> list[str]:
        """Project module classes the class's body (or its project bases' bodies) names."""
        own = set(self.ancestors(found.qualified))
        out: list[str] = []
        for _q, anc in self.linker.mro(found.qualified):
            if anc is None or anc.cls is None:
                continue
            for name in anc.cls.mentions:
                target = self.linker.local(anc.summary, name)
                if target is None or torch_nn_class(target) is not None:
                    continue
                child = self.linker.resolve(target)
                if child is None or child.cls is None or child.qualified in own:
                    continue
                if self.is_module_class(child.qualified) and child.qualified not in out:
                    out.append(child.qualified)
        return out

    def subtree(self, qualified: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if qualified in self._subtrees:
            return self._subtrees[qualified]
        out: list[tuple[str, tuple[str, ...]]] = []
        seen: set[str] = set()
        todo = [qualified]
        while todo and len(out) < MAX_SUBTREE:
            q = todo.pop(0)
            found = self.linker.resolve(q)
            if found is None or found.cls is None or found.qualified in seen:
                continue
            seen.add(found.qualified)
            out.append((found.qualified, self.layer_classes(found)))
            todo += self.children(found)
        self._subtrees[qualified] = tuple(out)
        return self._subtrees[qualified]

    def config_default(self, config_class: str, attr: str) -> tuple[object] | None:
        for _q, found in self.linker.mro(config_class):
            if found is None or found.cls is None:
                continue
            value = _param_default(found.cls, attr)
            if value is not None:
                return value
        return None

    def module_parse(self, module: str) -> Parsed | None:
        """A project module parsed (:meth:`parsed`), or None."""
        summary = self.linker.modules.get(module)
        return self.parsed(summary) if summary is not None else None

    def callers(self, qualified: str) -> tuple[str, ...]:
        """The other modules that import, call or name the project definition ``qualified``."""
        if self._callers is None:
            index: dict[str, set[str]] = {}
            linker = self.linker
            for summary in linker.modules.values():
                names = [q for _local, q in summary.imports]
                names += [q for q in (linker.local(summary, c.callee) for c in summary.calls) if q]
                for unit in (*summary.classes, *summary.functions):
                    names += [q for q in (linker.local(summary, m) for m in unit.mentions) if q]
                for q in dict.fromkeys(names):
                    found = linker.resolve(q) if linker.in_project(q) else None
                    if found is not None and found.summary.module != summary.module:
                        index.setdefault(found.qualified, set()).add(summary.module)
            self._callers = index
        return tuple(sorted(self._callers.get(qualified, ())))

    def constructed(self, qualified: str) -> bool:
        """May the class be built itself somewhere in the project (not only as the base of subclasses)?

        True when a container builds it, it is handed to a function, or a class or function body (its own
        excepted), a call or an alias of any project file names it; a module-level call without arguments is not seen.
        """
        if qualified in self.parents() or qualified in self._handed or qualified in self._call_sites:
            return True
        if self._used is None:
            used: set[str] = set()
            linker = self.linker
            for summary in linker.modules.values():
                for unit in (*summary.classes, *summary.functions):
                    own = f"{summary.module}.{unit.name}"
                    for m in unit.mentions:
                        found = self._found(summary, m)
                        if found is not None and found != own:
                            used.add(found)
                names = [c.callee for c in summary.calls] + [n for c in summary.calls for n in c.names]
                names += [target for _name, target in summary.aliases]
                used.update(q for q in (self._found(summary, n) for n in names) if q is not None)
            self._used = used
        return qualified in self._used

    def _found(self, summary: Summary, name: str) -> str | None:
        q = self.linker.local(summary, name)
        found = self.linker.resolve(q) if q else None
        return found.qualified if found is not None and found.cls is not None else None

    def built_as(self, qualified: str) -> list[str]:
        """The classes whose construction builds the class's own layers: the class itself; for a class never
        constructed itself, its subclasses in other files that are constructed, or that nothing derives from.

        Subclasses in the class's own file are left out: their records judge the layers there.
        """
        home = qualified.rpartition(".")[0]
        if self.constructed(qualified):
            return [qualified]
        subs = [q for q in self.subclasses(qualified) if q.rpartition(".")[0] != home]
        if not subs:
            return [qualified]
        return [q for q in subs if self.constructed(q) or
                not any(s.rpartition(".")[0] != home for s in self.subclasses(q))]

    def own_init_code(self, qualified: str, base: str) -> bool:
        """Does the class, or a project class between it and ``base``, define ``__init__`` or an init method?"""
        for q, found in self.linker.mro(qualified):
            if q == base:
                return False
            if found is not None and found.cls is not None and any(
                    m == "__init__" or "init" in m or "reset" in m for m in found.cls.methods):
                return True
        return False

    # -- containers ------------------------------------------------------------------

    def parents(self) -> dict[str, set[str]]:
        """Project class -> the project module classes that build it (their bodies name it, or ``K(C, ...)`` calls)."""
        if self._parents is not None:
            return self._parents
        parents: dict[str, set[str]] = {}
        for summary in self.linker.modules.values():
            if not summary.mentions_torch:
                continue
            for cls in summary.classes:
                found = Found(summary, cls=cls)
                if not self.is_module_class(found.qualified):
                    continue
                for child in self.children(found):
                    parents.setdefault(child, set()).add(found.qualified)
            for call in summary.calls:
                target = self.linker.local(summary, call.callee)
                container = self.linker.resolve(target) if target else None
                if container is None or container.cls is None or not self.is_module_class(container.qualified):
                    self._note_handed(summary, call)
                    continue
                self._call_sites.setdefault(container.qualified, []).append((summary, call))
                for name in call.names:
                    q = self.linker.local(summary, name)
                    child = self.linker.resolve(q) if q else None
                    if child is not None and child.cls is not None and child.qualified != container.qualified \
                            and self.is_module_class(child.qualified):
                        parents.setdefault(child.qualified, set()).add(container.qualified)
        self._registries(parents)
        self._parents = parents
        return parents

    def _registries(self, parents: dict[str, set[str]]) -> None:
        """String-keyed registries (``get_attn("gc")``, ``{"gc": GlobalContext}``): a call with a literal key
        inside a module class builds that key's class there; any other use hands the classes to containers
        the analysis cannot see."""
        linker = self.linker
        keyed: dict[str, tuple[Summary, list[tuple[str, str]]]] = {}
        for summary in linker.modules.values():
            for name, pairs in summary.registries:
                classes = []
                for key, text in pairs:
                    q = linker.local(summary, text)
                    found = linker.resolve(q) if q else None
                    if found is not None and found.cls is not None and self.is_module_class(found.qualified):
                        classes.append((key, found.qualified))
                if classes:
                    keyed[f"{summary.module}.{name}"] = (summary, classes)
        if not keyed:
            return
        literal: dict[str, list[tuple[str, str]]] = {}  # registry -> (key, building class)
        opaque = {q for q, (s, _c) in keyed.items() if s.function(q.rsplit(".", 1)[-1]) is None}  # dicts: subscripted
        for summary in linker.modules.values():
            for call in summary.calls:
                target = linker.local(summary, call.callee)
                found = linker.resolve(target) if target else None
                q = found.qualified if found is not None else ""
                if q not in keyed or q in opaque:
                    continue
                key = call.args[0] if call.args else ""
                builder = f"{summary.module}.{call.scope}"
                if len(key) > 1 and key[0] == key[-1] and key[0] in "'\"" and summary.cls(call.scope) is not None \
                        and self.is_module_class(builder):
                    literal.setdefault(q, []).append((key[1:-1], builder))
                else:
                    opaque.add(q)
        for q, (summary, classes) in keyed.items():
            where = f"{q.rsplit('.', 1)[-1]}(...) in {summary.path.rsplit('/', 1)[-1]}"
            for key, cls in classes:
                if q in opaque:
                    self._handed.setdefault(cls, where)
                for k, builder in literal.get(q, []):
                    if k == key and builder != cls:
                        parents.setdefault(cls, set()).add(builder)

    def _note_handed(self, summary: Summary, call: CallSite) -> None:
        """Module classes passed by keyword to a function (``_swin_transformer(block=SwinTransformerBlockV2)``):
        whatever that function builds them into is not a container the analysis can see. (Positional
        arguments are left alone: ``build_model_with_cfg(VisionTransformer, ...)`` builds the model itself.)"""
        for name in [value for _kw, value in call.kwargs]:  # as a keyword (``block=``): a part, not the model
            q = self.linker.local(summary, name)
            found = self.linker.resolve(q) if q else None
            if found is not None and found.cls is not None and self.is_module_class(found.qualified):
                self._handed.setdefault(found.qualified, f"{call.callee}(...) in {summary.path.rsplit('/', 1)[-1]}")

    def handed(self, qualified: str) -> str:
        """Where the class is handed as a value to a function ("" if nowhere)."""
        self.parents()
        return self._handed.get(qualified, "")

    def outside_calls(self, qualified: str) -> list[tuple[str, int, tuple[str, ...]]]:
        """Constructions of the class in other modules: ``(where, positional arguments (-1: unknown), keywords)``;
        one with everything unknown when the class is handed to containers the analysis cannot see."""
        module = qualified.rpartition(".")[0]
        out = []
        for summary, call in self._call_sites.get(qualified, []):
            if summary.module == module:
                continue
            starred = any(a.startswith("*") for a in call.args) or any(k == "**" for k, _v in call.kwargs)
            where = f"{call.scope or summary.module.rsplit('.', 1)[-1]} ({summary.path.rsplit('/', 1)[-1]})"
            out.append((where, -1 if starred else len(call.args), tuple(k for k, _v in call.kwargs if k != "**")))
        if self.handed(qualified):
            out.append((f"what it is handed to ({self._handed[qualified]})", -1, ()))
        return out

    def any_reinitializes(self) -> bool:
        """Whether some module class of the project re-initializes submodules when constructed."""
        if self._any_reinit is None:
            self._any_reinit = any(self.reinitializes(f"{s.module}.{c.name}") for s in self.linker.modules.values()
                                   if s.mentions_torch for c in s.classes)
        return self._any_reinit

    def consumer_arguments(self, owner: str) -> list[str]:
        """Call sites that pass the class an activation or normalization (``act_layer=nn.ReLU``) other than its default.

        Returned as ``"Container(act_layer=nn.ReLU)"`` texts; empty when every call site keeps the defaults.
        """
        self.parents()
        found = self.linker.resolve(owner)
        if found is None or found.cls is None:
            return []
        defaults = dict(found.cls.params)
        out: list[str] = []
        for summary, call in self._call_sites.get(owner, []):
            for kw, value in passed(found.cls, call):
                default, words = defaults.get(kw), kw.lower().split("_")
                if default is None or not _CONSUMER_WORDS.intersection(words) or words[-1] in _SETTING_WORDS \
                        or _number(default):
                    continue  # ``act_layer``, ``norm_type``; not ``expansion_factor``, ``norm_groups``, ``layer_norm_eps``
                same = value == default or (self.linker.local(summary, value) or value) == \
                    (self.linker.local(found.summary, default) or default)
                if not same:
                    where = call.scope or summary.module.rsplit(".", 1)[-1]
                    out.append(f"{where}({kw}={value})")
        return sorted(set(out))

    def paths(self, owner: str, max_depth: int, max_paths: int) -> list[list[str]]:
        """Chains of containers from the class up to a class nothing builds (``[owner, parent, ...]``)."""
        parents = self.parents()
        out: list[list[str]] = []
        stack = [[owner]]
        while stack and len(out) < max_paths:
            path = stack.pop()
            ups = sorted(p for p in parents.get(path[-1], ()) if p not in path)
            if not ups or len(path) > max_depth:
                out.append(path)
                continue
            for p in reversed(ups):
                stack.append(path + [p])
        return out

    def reinitializes(self, qualified: str) -> bool:
        """Does constructing the class run code that re-initializes submodules?

        From ``__init__``, the methods it calls on ``self`` (and ``super()``) are followed through the
        class and its project bases; a method that iterates or applies over modules, or calls an init
        helper with arguments, re-initializes. A model base's init methods (``post_init``) count too.
        """
        direct: dict[str, bool] = {}
        calls: dict[str, set[str]] = {}
        for q, found in self.linker.mro(qualified):
            base = self.conventions.model_base(q)
            if base is not None:
                for m in base.init_methods:
                    direct[m] = direct.get(m, False) or bool(base.apply)
            if found is None or found.cls is None:
                continue
            for m, is_direct, called in found.cls.method_facts:
                direct[m] = direct.get(m, False) or is_direct
                calls.setdefault(m, set()).update(called)
        seen: set[str] = set()
        todo = ["__init__"]
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            if direct.get(m):
                return True
            todo += sorted(calls.get(m, ()))
        return False


def passed(cls: ClassInfo, call: CallSite) -> list[tuple[str, str]]:
    """The call's arguments by the class's parameter names (positional ones mapped in order, up to a ``*x``)."""
    out = []
    for (name, _default), value in zip(cls.params, call.args):
        if value.startswith("*"):
            break
        out.append((name, value))
    return out + list(call.kwargs)


def _number(text: str) -> bool:
    """Is a default's source text a number (a size or epsilon, not a choice of activation or normalization)?"""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _param_default(cls: ClassInfo, attr: str) -> tuple[object] | None:
    """``(value,)``: the literal default of a constructor parameter; for a class without ``__init__`` (a dataclass,
    transformers 5's configs), of a class-level field ``__post_init__`` does not assign."""
    for name, default in cls.params:
        if name == attr and default:
            return _literal(default)
    if "__init__" in cls.methods or attr in cls.post_assigned:
        return None
    return next((_field_default(value) for name, value in cls.attrs if name == attr), None)


def _field_default(text: str) -> tuple[object] | None:
    """A field's default: a literal, or the literal ``default=`` of a call (``field(default=0.02)``, a validated
    field ``interval(min=0.0, max=1.0)(default=0.02)``)."""
    found = _literal(text)
    if found is not None:
        return found
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    default = next((k.value for k in node.keywords if k.arg == "default"), None) if isinstance(node, ast.Call) else None
    return _literal(ast.unparse(default)) if default is not None else None


def _literal(text: str) -> tuple[object] | None:
    try:
        return (ast.literal_eval(text),)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
