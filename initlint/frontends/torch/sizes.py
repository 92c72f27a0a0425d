"""Layer sizes per container (SPEC 8.32: a layer is judged per container).

A class whose layer sizes come from its constructor parameters is interpreted once on its own
(parameters at their defaults, or symbolic). Its containers build it with other sizes: every
construction of a same-file class is recorded with its evaluated arguments, and the class's
``__init__`` is run again with them in a separate context, so the sizes of each of its layers are
known per container. Constructions made inside such a run are followed the same way (``Net`` builds
``Block(dim=64)``, which builds ``Mlp(64, 256)``), up to ``MAX_DEPTH``. Other files' constructions
run it with the parameters they set unknown. A class not run for every container within
``MAX_RUNS`` keeps its own sizes.
"""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from ..python.positions import child_nodes, walk
from ..python.syntax import suite
from .context import BudgetExceeded, FileContext
from .interpreter import Interpreter
from .tree import Scope
from .values import NONE, ActClass, ActFunction, ClassRef, ConfigRef, LocalClass, Scale, Sym

MAX_RUNS = 64  # constructions run again per file
MAX_DEPTH = 4  # containers followed down (Net -> Block -> Mlp ...)
RUN_BUDGET = 4_000  # interpretation steps per run
_PLAIN = (int, float, str, bool, ClassRef, ActClass, ActFunction, LocalClass, Sym, Scale, ConfigRef)

Fans = tuple[int | None, int | None]


def per_container(ctx: FileContext) -> dict[int, list[tuple[str, Fans]]]:
    """``id(layer)`` -> ``[(container, (fan_in, fan_out)), ...]`` for the weight layers of classes built by the
    file's classes or by other project files; a class nothing builds keeps its own sizes (no entry)."""
    try:
        made = ctx.constructions + _untaken(ctx)
    except RecursionError:  # code nested too deeply to walk: only the constructions the interpretation took
        made = list(ctx.constructions)
    built = {cls for _builder, cls, _pos, _kw in made}
    outside = _outside(ctx)
    todo = [(cls, pos, kw, builder, 0) for builder, cls, pos, kw in made
            if builder not in built and builder not in outside]  # a root's constructions are real ones
    todo += [(cls, (), kw, where, 0) for cls, runs in outside.items() for where, kw in runs]
    out: dict[int, list[tuple[str, Fans]]] = {}
    runs = 0
    while todo and runs < MAX_RUNS:
        cls, pos, kw, label, depth = todo.pop(0)
        scope = ctx.scopes.get(cls)
        if scope is None or scope.external or not scope.is_module:
            continue
        runs += 1
        box = _run(ctx, scope, pos, kw)
        for key, layer in ctx.sites.items():
            if layer.owner != cls or layer.is_param or layer.is_dropout or layer.foreign:
                continue
            other = box.sites.get(key) if box is not None else None
            fans = (other.fan_in, other.fan_out) if other is not None else (None, None)
            out.setdefault(id(layer), []).append((label, fans))
        if box is not None and depth < MAX_DEPTH:
            todo += [(c, p, k, label, depth + 1) for _b, c, p, k in box.constructions]
    cut = {item[0] for item in todo}  # classes not run for every container within the bound: their own sizes
    owners = {id(layer): layer.owner for layer in ctx.layers}
    return {k: v for k, v in out.items() if owners.get(k) not in cut}


def _outside(ctx: FileContext) -> dict[str, list[tuple[str, dict[str, object]]]]:
    """Per class of the file that other project files build with arguments: one run per way they call it, with
    the parameters they set unknown (``Sym``) and the others at their defaults."""
    project = ctx.project
    out: dict[str, list[tuple[str, dict[str, object]]]] = {}
    if project is None:
        return out
    for scope in ctx.scopes.values():
        fn = scope.methods.get("__init__") if scope.is_module and not scope.external else None
        calls = project.outside_calls(f"{project.module}.{scope.name}") if fn is not None else []
        if fn is None or not calls:
            continue
        params = [p.name.value for p in [*fn.params.posonly_params, *fn.params.params] if p.name.value not in ("self", "cls")]
        names = [p.name.value for p in fn.params.kwonly_params]
        seen: set[frozenset[str]] = set()
        for where, npos, keywords in calls:
            chosen = frozenset(params + names) if npos < 0 else frozenset(params[:npos]) | frozenset(keywords)
            if chosen not in seen:
                seen.add(chosen)
                out.setdefault(scope.name, []).append((where, {n: Sym(n) for n in sorted(chosen)}))
    return out


def _untaken(ctx: FileContext) -> list[tuple[str, str, tuple[object, ...], dict[str, object]]]:
    """Constructions of same-file classes in a class's ``__init__`` that the interpretation did not take (under
    ``if has_image_proj`` with the default ``False``): their arguments read with the locals ``__init__`` ended
    with, when no name in them is assigned twice (else unknown)."""
    classes = {s.name for s in ctx.scopes.values() if s.is_module and not s.external}
    out: list[tuple[str, str, tuple[object, ...], dict[str, object]]] = []
    for name in sorted(classes):
        fn = ctx.scopes[name].methods.get("__init__")
        env = ctx.envs.get(name)
        if fn is None or env is None or not ctx.children.get(name):
            continue  # (a class that names no other same-file class builds none)
        calls = [c for c in _calls(fn) if isinstance(c.func, cst.Name) and c.func.value in classes - {name}
                 and id(c) not in ctx.constructed]
        if not calls:
            continue
        unstable = _reassigned(fn)
        box = _box(ctx)
        reader = Interpreter(box, box.scopes[name])
        for call in calls:
            used = {n for a in call.args for n in _names(a.value)}
            try:
                pos, kw = reader.args(call, dict(env)) if not used & unstable else ([], {})
            except (BudgetExceeded, RecursionError):
                pos, kw = [], {}
            if not pos and not kw and call.args:  # not readable: every argument unknown
                pos = [None] * sum(1 for a in call.args if a.keyword is None)
                kw = {a.keyword.value: None for a in call.args if a.keyword is not None}
            out.append((name, call.func.value, tuple(pos), dict(kw)))
    return out


def _calls(node: cst.CSTNode) -> list[cst.Call]:
    return [n for n in walk(node) if type(n) is cst.Call]  # exact type: isinstance on libcst's ABCs is slow


def _names(node: cst.CSTNode) -> list[str]:
    """The variables an expression reads (``self.dim`` reads ``self``, not ``dim``)."""
    found: list[str] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name):
            found.append(current.value)
        elif isinstance(current, cst.Attribute):
            stack.append(current.value)
        else:
            stack.extend(reversed(child_nodes(current)))
    return found


def _bound(target: cst.BaseExpression) -> list[str]:
    """The variables an assignment target binds (attributes and items bind none)."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _bound(e.value)]
    if isinstance(target, cst.StarredElement):
        return _bound(target.value)
    return []


def _reassigned(fn: cst.FunctionDef) -> set[str]:
    """Variables a function binds more than once, or in a loop or comprehension (their last value is not the one used)."""
    seen: dict[str, int] = {p.name.value: 1 for p in [*fn.params.params, *fn.params.kwonly_params, *fn.params.posonly_params]}
    looped: set[str] = set()

    for node in walk(fn.body):
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign)):
            for n in _bound(node.target):
                seen[n] = seen.get(n, 0) + 1
        elif isinstance(node, (cst.AugAssign, cst.For, cst.CompFor)):
            looped.update(_bound(node.target))
    return looped | {n for n, count in seen.items() if count > 1}


def _box(ctx: FileContext) -> FileContext:
    """A context of its own for another run over the file's classes (nothing it builds reaches ``ctx``)."""
    box = FileContext(ctx.source, ctx.names)
    box.budget = RUN_BUDGET
    for attr in ("project", "mentions", "functions", "constants", "children", "homes", "defined_in"):
        setattr(box, attr, getattr(ctx, attr))
    box.home = ctx.home
    box.scopes = {k: replace(s, attrs={}, layers=[], seq=None) for k, s in ctx.scopes.items()}
    return box


def _run(ctx: FileContext, scope: Scope, pos: tuple[object, ...], kw: dict[str, object]) -> FileContext | None:
    """The class's ``__init__`` run again with these arguments, in a context of its own (None: it did not finish)."""
    fn = ctx.method(scope, "__init__")
    if fn is None:
        return None
    box = _box(ctx)
    own = box.scopes[scope.name]
    builder = Interpreter(box, own)
    builder.current_fn = "__init__"
    try:
        env = builder.inline.bind_params(fn, [_plain(v) for v in pos], {k: _plain(v) for k, v in kw.items()}, own)
        builder.inline.stack.append(id(fn))
        builder.run(suite(fn.body), env)
    except (BudgetExceeded, RecursionError):
        return None
    return box


def _plain(v: object) -> object:
    """A value safe to hand to another run (numbers, strings, classes); modules and tensors become unknown."""
    if v is NONE or isinstance(v, _PLAIN):
        return v
    if isinstance(v, tuple) and all(x is NONE or isinstance(x, _PLAIN) for x in v):
        return v
    return None

