"""One file's summary for the project model: what other files need to know about it (SPEC 8.32).

Read with CPython's ``ast`` (ten times faster than libcst) and small enough to cache: its
imports (absolute, relative ones resolved), classes (bases, constructor parameters with their
defaults, methods, class attributes, the names the body refers to, whether it re-initializes
submodules), functions, module constants, and the calls that construct a class with other
names as arguments (``ResNet(Bottleneck, ...)``, ``Block(act_layer=nn.GELU)``). Positions are
kept only where a message names them; nothing here depends on other files.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize
import warnings
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace

from ..frontends.python.names import absolute
from ..frontends.python.syntax import sized
from ..limits import check_source

FORMAT = 6  # bump when a summary's (or an index entry's) layout changes

# Calls and attribute uses that run init code over submodules (the containers of SPEC 8.32).
_REINIT_METHODS = frozenset({"apply", "modules", "named_modules", "children", "named_children", "parameters",
                             "named_parameters", "post_init", "init_weights", "_init_weights", "initialize_weights",
                             "reset_parameters", "_reset_parameters", "named_apply"})
_INIT_WORDS = ("init", "reset")


@dataclass(frozen=True)
class ClassInfo:
    """A class of the file."""

    name: str
    line: int
    bases: tuple[str, ...]  # dotted source text of each base
    methods: tuple[str, ...]
    params: tuple[tuple[str, str], ...]  # __init__ parameters (self dropped): name -> default's source ('' none)
    attrs: tuple[tuple[str, str], ...]  # class-level ``name = value`` (value's source text)
    mentions: tuple[str, ...]  # every name the class body refers to (root names of dotted chains too)
    reinit: bool  # a method iterates or applies over submodules, or calls an init helper on them
    method_facts: tuple[tuple[str, bool, tuple[str, ...]], ...] = ()  # method, re-initializes itself, self/super methods it calls
    post_assigned: tuple[str, ...] = ()  # ``self.<x> = ...`` in ``__post_init__`` (a dataclass field it may change)


@dataclass(frozen=True)
class FunctionInfo:
    """A module-level function of the file."""

    name: str
    line: int
    params: tuple[str, ...]
    mentions: tuple[str, ...]
    reinit: bool


@dataclass(frozen=True)
class CallSite:
    """A call whose callee is a plain or dotted name, made with names among its arguments."""

    callee: str  # dotted text as written
    scope: str  # the enclosing class or function ("" at module level)
    line: int
    names: tuple[str, ...]  # dotted names passed (positionally or by keyword), e.g. ("Bottleneck",)
    kwargs: tuple[tuple[str, str], ...]  # keyword -> the value's source text
    args: tuple[str, ...] = ()  # positional arguments' source text ("*x" for a starred one)


@dataclass(frozen=True)
class Summary:
    """What the project model knows about one file."""

    path: str
    module: str  # dotted import name
    package: str  # the package relative imports start from
    imports: tuple[tuple[str, str], ...]  # local name -> absolute qualified name
    star_imports: tuple[str, ...]  # absolute modules imported with *
    classes: tuple[ClassInfo, ...]
    functions: tuple[FunctionInfo, ...]
    constants: tuple[tuple[str, object], ...]  # module-level literals
    aliases: tuple[tuple[str, str], ...]  # module-level ``Name = other.name`` (registries, re-exports)
    calls: tuple[CallSite, ...]
    mentions_torch: bool
    registries: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # string-keyed: name -> (key, class text)
    size: int = 0  # characters of the text summarised
    hazard: str | None = None  # why libcst must not parse the text (:func:`initlint.limits.parse_hazard`)

    def cls(self, name: str) -> ClassInfo | None:
        return next((c for c in self.classes if c.name == name), None)

    def function(self, name: str) -> FunctionInfo | None:
        return next((f for f in self.functions if f.name == name), None)


def decoded(data: bytes) -> str | None:
    """A file's bytes as text (PEP 263 cookie, BOM); None when they do not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def summarise(path: str, text: str, module: str, is_package: bool,
              checked: tuple[str | None, ast.Module | None] | None = None) -> Summary | None:
    """The file's summary; None when it does not parse (the lint reports that, not the index).

    ``checked``: :func:`initlint.limits.check_source` of ``text``, when already made.
    """
    hazard, tree = checked if checked is not None else check_source(text)
    if tree is None or "\0" in text:  # a syntax error, nesting libcst refuses (CPython may read it), or NUL
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    try:
        return replace(_summary(path, text, module, is_package, tree), size=len(text), hazard=hazard)
    except (RecursionError, MemoryError, ValueError):  # a tree too deep to walk, a number too long to print
        return None


def _summary(path: str, text: str, module: str, is_package: bool, tree: ast.Module) -> Summary:
    package = module if is_package else module.rpartition(".")[0]
    imports: dict[str, str] = {}
    stars: list[str] = []
    for node in _import_nodes(tree.body):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    imports[a.asname] = a.name
                else:
                    root = a.name.partition(".")[0]
                    imports[root] = root
        else:
            base = absolute(node.module or "", package, node.level)
            for a in node.names:
                if a.name == "*":
                    stars.append(base)
                else:
                    imports[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
    classes, functions, constants, aliases = [], [], [], []
    registries: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    walk = _Walker()
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            classes.append(_class(stmt, walk))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(FunctionInfo(stmt.name, stmt.lineno, tuple(a.arg for a in _params(stmt.args)),
                                          _mentions(stmt.body, walk), _reinit(walk.nodes(stmt).calls)))
            keyed = _keyed_returns(stmt)
            if keyed:
                registries.append((stmt.name, keyed))
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            keyed = _keyed_dict(stmt.value)
            if keyed:
                registries.append((name, keyed))
            value = _literal(stmt.value)
            if value is not None:
                constants.append((name, value))
            elif _dotted(stmt.value):
                aliases.append((name, _dotted(stmt.value) or ""))
    calls = tuple(_calls(tree, walk))
    return Summary(path, module, package, tuple(imports.items()), tuple(stars), tuple(classes), tuple(functions),
                   tuple(constants), tuple(aliases), calls, "torch" in text, tuple(registries))


def _class_text(e: ast.expr | None) -> str | None:
    """A class named as a value: ``Cls``, ``mod.Cls`` or ``partial(Cls, ...)``."""
    if isinstance(e, ast.Call) and (_dotted(e.func) or "").rsplit(".", 1)[-1] == "partial" and e.args:
        e = e.args[0]
    return _dotted(e) if e is not None else None


def _keyed_dict(e: ast.expr) -> tuple[tuple[str, str], ...]:
    """``{"gc": GlobalContext, ...}``: the string keys and the names they map to."""
    if not isinstance(e, ast.Dict):
        return ()
    out = []
    for k, v in zip(e.keys, e.values):
        text = _class_text(v)
        if isinstance(k, ast.Constant) and isinstance(k.value, str) and text:
            out.append((k.value, text))
    return tuple(out)


def _keyed_returns(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[str, str], ...]:
    """``if name == "gc": cls = GlobalContext`` / ``return GlobalContext``: a function choosing a class by a string."""
    out = []
    for node in _statements(fn):
        if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare) or len(node.test.ops) != 1:
            continue
        test = node.test
        sides = [test.left, test.comparators[0]]
        keys: list[str] = []
        if isinstance(test.ops[0], ast.Eq):
            keys = [x.value for x in sides if isinstance(x, ast.Constant) and isinstance(x.value, str)]
        elif isinstance(test.ops[0], ast.In) and isinstance(sides[1], (ast.Tuple, ast.List, ast.Set)):
            keys = [x.value for x in sides[1].elts if isinstance(x, ast.Constant) and isinstance(x.value, str)]
        for stmt in node.body:
            value = stmt.value if isinstance(stmt, (ast.Assign, ast.Return)) else None
            text = _class_text(value) if value is not None and not isinstance(value, ast.Constant) else None
            out += [(k, text) for k in keys if text]
    return tuple(out)


def _statements(root: ast.AST) -> Iterator[ast.AST]:
    """The statements under ``root`` (with the handlers and cases between them) in ``ast.walk``'s order,
    without walking expressions, which hold no statement."""
    todo: deque[ast.AST] = deque([root])
    while todo:
        node = todo.popleft()
        yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list and value and isinstance(value[0], _BLOCK_ITEMS):
                todo.extend(value)


_BLOCK_ITEMS = (ast.stmt, ast.excepthandler, ast.match_case)


def _import_nodes(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    out: list[ast.Import | ast.ImportFrom] = []
    for stmt in body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            out.append(stmt)
        elif isinstance(stmt, ast.If):
            out += _import_nodes(stmt.body) + _import_nodes(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            out += _import_nodes(stmt.body) + [n for h in stmt.handlers for n in _import_nodes(h.body)] + _import_nodes(stmt.orelse)
        elif isinstance(stmt, ast.With):
            out += _import_nodes(stmt.body)
    return out


def _params(args: ast.arguments) -> list[ast.arg]:
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def _class(node: ast.ClassDef, walk: _Walker) -> ClassInfo:
    bases = tuple(b for b in (_dotted(x) for x in node.bases) if b)
    methods, params, attrs, facts = [], [], [], []
    post: tuple[str, ...] = ()
    reinit = False
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods.append(stmt.name)
            if stmt.name == "__init__":
                params = _defaults(stmt.args)
            elif stmt.name == "__post_init__":
                post = tuple(sorted({t.attr for n in ast.walk(stmt) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))
                                     for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                                     if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"}))
            calls = walk.nodes(stmt).calls
            direct = stmt.name != "forward" and _reinit(calls)
            reinit = reinit or direct
            facts.append((stmt.name, direct, _self_calls(calls)))
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            attrs.append((stmt.targets[0].id, _source(stmt.value)))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            attrs.append((stmt.target.id, _source(stmt.value)))
    return ClassInfo(node.name, node.lineno, bases, tuple(methods), tuple(params), tuple(attrs),
                     _mentions(node.body, walk), reinit, tuple(facts), post)


def _self_calls(calls: list[ast.Call]) -> tuple[str, ...]:
    """Methods a function (given by its calls) calls on ``self`` or ``super()``."""
    out: set[str] = set()
    for node in calls:
        if isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "self" or \
                    isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                out.add(node.func.attr)
    return tuple(sorted(out))


def _defaults(args: ast.arguments) -> list[tuple[str, str]]:
    positional = list(args.posonlyargs) + list(args.args)
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [(a.arg, _source(d) if d is not None else "") for a, d in zip(positional, defaults)]
    out += [(a.arg, _source(d) if d is not None else "") for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return out[1:] if out and out[0][0] in ("self", "cls") else out


def _source(e: ast.expr) -> str:
    dotted = _dotted(e)  # a name or an attribute chain: its text as ``ast.unparse`` writes it, without its cost
    if dotted is not None:
        return dotted
    try:
        if isinstance(e, ast.Constant):
            value = e.value
            if value is None or type(value) in (bool, int) or type(value) is float and math.isfinite(value):
                return repr(value)
            if type(value) is str:
                written = repr(value)
                if "\\" not in written:  # no escape: the quotes ``ast.unparse`` would choose too
                    return written
        return ast.unparse(e)
    except Exception:  # noqa: BLE001 - exotic nodes: an unknown default
        return "?"


def _dotted(e: ast.expr) -> str | None:
    parts = []
    while isinstance(e, ast.Attribute):
        parts.append(e.attr)
        e = e.value
    if not isinstance(e, ast.Name):
        return None
    parts.append(e.id)
    return ".".join(reversed(parts))


def _literal(e: ast.expr) -> object:
    """A constant's value; numbers past 2**63 or not finite are unknown (None), as in the interpreter."""
    if isinstance(e, ast.Constant) and isinstance(e.value, (int, float, str, bool)):
        return sized(e.value)
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub) and isinstance(e.operand, ast.Constant) \
            and isinstance(e.operand.value, (int, float)) and not isinstance(e.operand.value, bool):
        return sized(-e.operand.value)
    return None


def _mentions(body: list[ast.stmt], walk: _Walker) -> tuple[str, ...]:
    names: set[str] = set()
    for stmt in body:
        nodes = walk.nodes(stmt)
        names.update(n.id for n in nodes.names)
        for node in nodes.attributes:
            d = _dotted(node)
            if d and not d.startswith("self."):
                names.add(d)
    return tuple(sorted(names))


def _reinit(calls: list[ast.Call]) -> bool:
    """Does a function (given by its calls) run init code over modules: ``apply``/``modules()``/an init helper on a module?"""
    for node in calls:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _REINIT_METHODS:
            return True
        if any(w in name.lower() for w in _INIT_WORDS) and name != "__init__" and node.args:
            return True
    return False


def _calls(tree: ast.Module, walker: _Walker) -> list[CallSite]:
    """Calls that pass names (classes, factories, activation classes) to a named callee."""
    out: list[CallSite] = []
    _calls_in(tree.body, "", walker, out)
    return out


def _calls_in(stmts: list[ast.stmt], scope: str, walker: _Walker, out: list[CallSite]) -> None:
    for stmt in stmts:
        if isinstance(stmt, ast.ClassDef):
            _calls_in(stmt.body, stmt.name, walker, out)
            continue
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _calls_in(stmt.body, scope or stmt.name, walker, out)
            continue
        for node in walker.nodes(stmt).calls:
            callee = _dotted(node.func)
            if callee is None or not node.args and not node.keywords:
                continue
            names = [d for d in (_dotted(a) for a in node.args) if d]
            names += [d for d in (_dotted(k.value) for k in node.keywords if k.arg) if d]
            kwargs = tuple((k.arg, _source(k.value)) for k in node.keywords if k.arg)
            if any(k.arg is None for k in node.keywords):
                kwargs += (("**", "?"),)  # ``**kw``: any parameter may be set
            args = tuple(f"*{_source(a.value)}" if isinstance(a, ast.Starred) else _source(a) for a in node.args)
            if names or kwargs or args:
                out.append(CallSite(callee, scope, node.lineno, tuple(names), kwargs, args))


@dataclass(frozen=True)
class _Nodes:
    """The calls, names and attributes under a statement (the statement itself included)."""

    calls: list[ast.Call]
    names: list[ast.Name]
    attributes: list[ast.Attribute]


class _Walker:
    """Each statement of one file walked once: a class's mentions, its methods' facts and the file's calls
    all read the same walks (``ast.walk`` over each, three times over, cost more than the parse)."""

    def __init__(self) -> None:
        self._memo: dict[int, _Nodes] = {}

    def nodes(self, stmt: ast.stmt) -> _Nodes:
        """A definition: its header (decorators, bases, parameters) then its body's statements; any other
        statement breadth first, in ``ast.walk``'s order."""
        key = id(stmt)
        if key not in self._memo:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                header = [stmt] + [v for f in stmt._fields if f != "body" for v in _children(getattr(stmt, f, None))]
                found = _breadth_first(header, first_leaf=True)
                for inner in stmt.body:
                    part = self.nodes(inner)
                    found.calls.extend(part.calls)
                    found.names.extend(part.names)
                    found.attributes.extend(part.attributes)
            else:
                found = _breadth_first([stmt])
            self._memo[key] = found
        return self._memo[key]


def _children(value: object) -> list[ast.AST]:
    if isinstance(value, ast.AST):
        return [value]
    return [v for v in value if isinstance(v, ast.AST)] if isinstance(value, list) else []


# Fields that never hold a node with calls or names under it (skipped by the walk).
_LEAF_FIELDS = frozenset({"ctx", "op", "id", "attr", "name", "arg", "asname", "module", "level", "kind", "conversion",
                          "type_comment", "is_async", "simple"})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _breadth_first(roots: list[ast.AST], first_leaf: bool = False) -> _Nodes:
    """The calls, names and attributes of ``roots`` and everything under them, in ``ast.walk``'s order
    (``first_leaf``: the first root is only itself, its children are among the roots already)."""
    calls: list[ast.Call] = []
    names: list[ast.Name] = []
    attributes: list[ast.Attribute] = []
    todo = list(roots)
    i = 0
    while i < len(todo):
        node = todo[i]
        i += 1
        t = type(node)
        if t is ast.Call:
            calls.append(node)  # type: ignore[arg-type]
        elif t is ast.Name:
            names.append(node)  # type: ignore[arg-type]
            continue  # nothing under a name
        elif t is ast.Attribute:
            attributes.append(node)  # type: ignore[arg-type]
        if i == 1 and first_leaf:
            continue
        fields = _FIELDS.get(t)
        if fields is None:
            fields = _FIELDS[t] = tuple(f for f in t._fields if f not in _LEAF_FIELDS)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                todo += [v for v in value if isinstance(v, ast.AST)]
            elif isinstance(value, ast.AST):
                todo.append(value)
    return _Nodes(calls, names, attributes)
