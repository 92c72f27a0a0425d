"""PyTorch source frontend: ``.py`` text -> LayerRecords (SPEC 4 "PyTorch", 8.9, 8.12, 8.13, 8.16, 8.19).

Three passes over one libcst parse, walked by hand:

1. collect the file's classes, functions and constants, and which module
   classes build which (a same-file class named in another's body);
2. interpret every constructor (``interpreter``): layers, containers, and the
   init code that reaches them, children before parents so that a parent's
   ``self.modules()`` loop sees its children's layers;
3. follow ``forward`` of the outermost models into their children
   (``flow``) to find each layer's consuming activation.

Never imports torch; anything it cannot resolve becomes ``unresolved``.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import replace

import libcst as cst

from ... import formulas
from ...records import Activation, Effect, Entry, InitSpec, LayerRecord
from ..python.names import Names, dotted
from ..python.positions import code_lines
from ..python.source import SourceFile
from ..python.syntax import Enclosing, suite
from .context import BudgetExceeded, FileContext, Globals, Project
from .branches import rejoin
from .consumers import Event
from .flow import Flow
from .forms import tied_keys
from .interpreter import Interpreter
from .reflection import ANY_CLASS, Reflection
from .sizes import Fans, per_container
from .tables import torch_nn_class
from .tree import (
    ActMod,
    InitState,
    Layer,
    LayerMod,
    Mod,
    Scope,
    SeqMod,
    mods_under,
    name_mod,
)

MODULE_SCOPE = "<module>"
NOT_FOLLOWED = "consumer not visible: not used in a forward the analysis follows"
LOST = "consumer not visible: forward applies it, but its output passes through code the analysis does not follow"


def records(source: SourceFile) -> list[LayerRecord]:
    """Every weight layer, raw parameter and dropout site of the file's PyTorch models."""
    return analyse(source)[0]


def analyse(source: SourceFile, project: Project | None = None) -> tuple[list[LayerRecord], list[Effect], list[Entry]]:
    """The file's records, what its init code does to module classes of other project files, and what its
    module classes do first with their input (SPEC 8.32).

    With a ``project``, base classes, helpers and module classes of other files are read
    (their code runs with their own imports); without, the file stands alone.
    """
    module = source.module
    related = project is not None and project.builds_modules
    if not related and not _names_modules(source.text):
        return [], [], []
    names = Names().scan(module.body)
    if project is not None:
        names.absolutize(project.package)
    ctx = FileContext(source, names)
    ctx.project = project
    ctx.mentions = Counter(_WORD.findall(source.text))
    _collect(ctx, module)
    if not any(s.is_module for s in ctx.scopes.values()) and not _mentions_layers(source.text) and not related:
        return [], [], []
    _relate(ctx, module)
    flow = Flow(ctx)
    try:
        _interpret(ctx, module, flow)
    except BudgetExceeded as err:
        return _give_up(ctx, f"the file needs more analysis than the budget allows{f' ({err})' if str(err) else ''}"), [], []
    except RecursionError:
        return _give_up(ctx, "constructs nested too deeply to follow"), [], []
    _notes(ctx)
    return _assemble(ctx, flow, per_container(ctx)), _effects(ctx), _entries(ctx, flow)


def _entries(ctx: FileContext, flow: Flow) -> list[Entry]:
    """Per module class run on a stand-in input, what consumes that input, when every path agrees on it."""
    out = []
    runs = [(name, probe, f) for f in [flow, *ctx.side_flows] for name, probe in f.inputs.items()]
    for name, probe, flow in runs:
        events = flow.out.events.get(probe, set())
        if not events or any(e.kind == "head" for e in events):
            continue  # the input reaches the output
        into, provisional, normalized, residual = _into(probe, flow)
        if into:  # first passed to other files' classes: their entries decide (with what else consumes it)
            out.append(Entry(ctx.qualified(ctx.scopes[name]), provisional, normalized, residual, into))
            continue
        activation, normalized, residual, reason = _consumer(probe, flow, ctx.source.settings.activations)
        if activation is not None and not reason:
            out.append(Entry(ctx.qualified(ctx.scopes[name]), activation, normalized, residual))
    return out + _exits(ctx, flow)


def _exits(ctx: FileContext, flow: Flow) -> list[Entry]:
    """Per other file's module class applied in a class's forward, what consumes the instance's output there
    (SPEC 8.13); an exit without activation or ``into`` says the container's use is not known. From the main
    run only, where each class's output reaches the same-file class that uses it (a side run returns it)."""
    out = []
    for (name, cls), stand_in in flow.outputs.items():
        if name not in ctx.scopes:
            continue  # applied outside a class (a module-level Sequential): no container class to name
        container = ctx.qualified(ctx.scopes[name])
        into, provisional, normalized, residual = _into(stand_in, flow)
        if into:
            out.append(Entry(cls, provisional, normalized, residual, into, container=container))
            continue
        activation, normalized, residual, reason = _consumer(stand_in, flow, ctx.source.settings.activations)
        out.append(Entry(cls, None if reason else activation, normalized, residual, container=container))
    return out


def _into(layer: Layer, flow: Flow) -> tuple[tuple[str, ...], Activation | None, bool, bool]:
    """When every use the analysis could not follow passes the output to another file's module class: those
    classes, what the other uses consume (None: no other use), and whether a normalization or residual add
    sits on the way; else ``()``."""
    events = flow.out.events.get(layer, set())
    unresolved = {e for e in events if e.kind == "unresolved"}
    targets = {e.into for e in unresolved}
    if not unresolved or "" in targets:
        return (), None, False, False
    others = events - unresolved
    provisional = _judged(others, layer in flow.out.reach)[0] if others else None
    if others and provisional is None:
        return (), None, False, False  # the other uses already disagree
    return tuple(sorted(targets)), provisional, any(e.normalized for e in events), any(e.residual for e in events)


def _effects(ctx: FileContext) -> list[Effect]:
    """What each class's init code did to the probes of module classes built from other files.

    An untouched probe gives an Effect without init or reason: the container was read and leaves those layers alone.
    """
    out: dict[tuple[str, str, str, InitSpec | None, str], Effect] = {}
    own = [s for s in ctx.scopes.values() if not s.external and s.is_module]
    holders = {s.name: {s.name} | {d.name for d in ctx.descendants(s.name)} for s in own}
    if ctx.project is None:
        return []
    for scope in own:
        if scope.name not in ctx.generic:  # its init code never iterated its modules: it touches no other file's layers
            out[(scope.name, ANY_CLASS, "", None, "")] = Effect(ctx.qualified(scope), ANY_CLASS, "", None, "", "", ctx.source.path)
    for built_in, mod in ctx.ext_mods:
        if not mod.probes:
            Reflection.make_probes(ctx, mod)  # never visited by init code: its layers are left alone
        containers = [s for s in own if built_in in holders[s.name]]
        for cls, probes in mod.probes.items():
            for probe in probes:
                for scope in containers:
                    state = probe.overrides.get(scope.name)
                    spec, reason, via = (state.spec, state.reason, state.via) if state is not None else (None, "", "")
                    if spec is not None and state is not None and state.stmt is not None:
                        pos = ctx.source.origin(state.stmt, state.call)
                        spec = replace(spec, line=pos.line, column=pos.column)
                    key = (scope.name, cls, probe.cls, spec, reason)
                    out.setdefault(key, Effect(ctx.qualified(scope), cls, probe.cls, spec, reason, via, ctx.source.path))
    return list(out.values()) + _inherited_effects(ctx, own, holders)


def _inherited_effects(ctx: FileContext, own: list[Scope], holders: dict[str, set[str]]) -> list[Effect]:
    """The file's classes' layers built by another file's base class (its statements: that file's records), per
    class that holds them (the class itself first: its own init code): the state each leaves them in."""
    out: list[Effect] = []
    for layer in ctx.layers:
        if layer.stmt is None or not layer.in_class or layer.owner not in holders or layer.is_dropout \
                or ctx.source.origin(layer.stmt, layer.call).line is not None:
            continue
        target = ctx.qualified(ctx.scopes[layer.owner])
        attr = (layer.path or "").lstrip("~")
        for scope in own:
            if layer.owner not in holders[scope.name]:
                continue
            state = layer.state if scope.name == layer.owner else layer.overrides.get(scope.name)
            spec, reason, via = (state.spec, state.reason, state.via) if state is not None else (None, "", "")
            out.append(Effect(ctx.qualified(scope), target, layer.cls, spec, reason, via, ctx.source.path, attr))
    return out


def _interpret(ctx: FileContext, module: cst.Module, flow: Flow) -> None:
    order = _build_order(ctx)
    for scope in order:
        _build_class(ctx, scope)
    roots = _build_module(ctx, module)
    classes = [s for s in ctx.scopes.values() if s.is_module and not s.external]
    built = {c for children in ctx.children.values() for c in children}
    for scope in classes:
        if scope.name not in built:
            flow.run_root(scope, root=True)
    for scope in reversed(order):  # containers before what they build: a block is entered with its caller's value
        if scope.is_module and scope.name not in flow.entered:
            flow.run_root(scope, root=False)
    for mod, scope in roots:
        flow.run_module(mod, scope)
    _ties(ctx)
    if ctx.project is not None:  # classes entered only from containers: their own entry, on a side run
        for scope in classes:
            if scope.name not in flow.inputs:
                side = Flow(ctx)
                side.run_root(scope, root=False)
                ctx.side_flows.append(side)


def _ties(ctx: FileContext) -> None:
    """A framework's tied output layer (Hugging Face ``get_output_embeddings``): its weight is the embedding's."""
    for scope in [s for s in ctx.scopes.values() if s.is_module and not s.external]:
        base = ctx.model_base(scope)
        if base is None or not base.tied_output:
            continue
        if base.tie_attribute and ctx.config_value(ctx.config_of(scope), base.tie_attribute) is False:
            continue
        tied: dict[str, str] = {name: base.tied_keys for name in tied_keys(scope.node, base.tied_keys)}
        fn = ctx.method(scope, base.tied_output)
        for stmt in (suite(fn.body) if fn is not None else [])[:3]:
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) and stmt.body else None
            if isinstance(small, cst.Return) and small.value is not None:
                text = dotted(small.value) or ""
                if text.startswith("self.") and text.count(".") == 1:
                    tied[text[5:]] = base.tied_output
        for name, how in tied.items():
            mod = scope.attrs.get(name)
            if isinstance(mod, LayerMod):
                mod.layer.tied = f"weight tied to the input embedding ({how}, {base.tie_attribute})"


def _give_up(ctx: FileContext, reason: str) -> list[LayerRecord]:
    """Every layer found so far, unresolved: a partial interpretation must not produce findings."""
    out = []
    for layer in ctx.layers:
        if layer.is_dropout or layer.is_param or layer.foreign or layer.stmt is None:
            continue
        origin = ctx.source.origin(layer.stmt, layer.call)
        path = (layer.path or "").lstrip("~") or f"<{layer.cls} at line {origin.line}>"
        name = member(layer.owner, path) if layer.in_class else path
        out.append(LayerRecord(name=name, kind=layer.kind, framework="torch", origin=origin,
                               count=layer.count, scope=layer.owner, unresolved=reason))
    return out


def member(owner: str, path: str) -> str:
    """``Net.fc1``, and ``Head[2]`` for an entry of a Sequential subclass (its path is ``[2]``)."""
    return f"{owner}{path}" if path.startswith("[") else f"{owner}.{path}"


def reads(text: str, project: Project | None) -> bool:
    """The files the frontend reads: those that name torch, and those defining module classes (through other files)."""
    return "torch" in text or project is not None and project.builds_modules


def may_record(text: str, tree: ast.Module, project: Project | None) -> bool:
    """Whether :func:`analyse` may find anything in a file, told from its text and CPython's tree without the
    libcst parse: it defines module classes (through other files), or it names torch and modules, and it
    names a layer class or defines a class with a base (which may be a module)."""
    if not reads(text, project):
        return False
    if project is not None and project.builds_modules:
        return True
    if not _names_modules(text):
        return False
    return _mentions_layers(text) or any(
        isinstance(s, ast.ClassDef) and any(not (isinstance(b, ast.Name) and b.id == "object") for b in s.bases)
        for s in tree.body)


def _names_modules(text: str) -> bool:
    return "nn" in text or "Parameter" in text


def _mentions_layers(text: str) -> bool:
    return "Sequential" in text or "Linear" in text or "Conv" in text or "Parameter" in text


# -- pass 1: what the file defines ------------------------------------------------


def _collect(ctx: FileContext, module: cst.Module) -> None:
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            ctx.scopes[stmt.name.value] = _scope(ctx, stmt)
        elif isinstance(stmt, cst.FunctionDef):
            ctx.functions[stmt.name.value] = stmt
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    value = _literal(small.value)
                    if value is not None:
                        ctx.constants[small.targets[0].target.value] = value
    changed = True
    while changed:  # a class deriving from a same-file module class is a module too
        changed = False
        for scope in ctx.scopes.values():
            if not scope.is_module and any(ctx.scopes[b].is_module for b in scope.local_bases if b in ctx.scopes):
                scope.is_module = changed = True
            if not scope.sequential_base and any(ctx.scopes[b].sequential_base for b in scope.local_bases if b in ctx.scopes):
                scope.sequential_base = changed = True


def _literal(e: cst.BaseExpression) -> object:
    """A class- or module-level constant: a number (also negated), string or bool, as Python evaluates it.

    Not ``syntax.literal``: that one keeps numbers within machine range and reads neither ``-x`` nor booleans.
    """
    if isinstance(e, (cst.Integer, cst.Float)):
        return e.evaluated_value
    if isinstance(e, cst.UnaryOperation) and isinstance(e.operator, cst.Minus) and isinstance(e.expression, (cst.Integer, cst.Float)):
        return -e.expression.evaluated_value
    if isinstance(e, cst.SimpleString):
        v = e.evaluated_value
        return v if isinstance(v, str) else None
    if isinstance(e, cst.Name) and e.value in ("True", "False"):
        return e.value == "True"
    return None


def _scope(ctx: FileContext, node: cst.ClassDef, home: Globals | None = None, external: str = "") -> Scope:
    scope = Scope(external or node.name.value, node, external=external)
    names = home.names if home is not None else ctx.names
    for arg in node.bases:
        text = dotted(arg.value)
        if text is None:
            continue
        q = names.qualify(arg.value)
        if q is None:
            scope.local_bases.append(text)
            continue
        cls = torch_nn_class(q)
        if cls is not None:
            scope.is_module = True
            scope.sequential_base = cls == "Sequential"
            scope.torch_base = scope.torch_base or cls
            continue
        base = _project_base(ctx, q)
        if base is not None:
            scope.local_bases.append(base.name)
            scope.is_module = scope.is_module or base.is_module
            scope.sequential_base = scope.sequential_base or base.sequential_base
        elif q not in ("object", "abc.ABC"):
            scope.foreign_bases.append(q)
            scope.is_module = True
    for stmt in suite(node.body):
        if isinstance(stmt, cst.FunctionDef):
            scope.methods[stmt.name.value] = stmt
            ctx.defined_in[id(stmt)] = scope.name
            if home is not None:
                ctx.homes[id(stmt)] = home
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    attr = small.targets[0].target.value
                    value = _literal(small.value)
                    if value is not None:
                        scope.constants[attr] = value
                    elif ctx.project is not None and dotted(small.value) is not None:
                        ref = _qualify_ref(ctx, small.value, names, home)
                        if ref:
                            scope.class_refs[attr] = ref
                elif (isinstance(small, cst.AnnAssign) and small.value is None and isinstance(small.target, cst.Name)
                      and ctx.project is not None and dotted(small.annotation.annotation) is not None):
                    ref = _qualify_ref(ctx, small.annotation.annotation, names, home)  # ``config: LlamaConfig``
                    if ref:
                        scope.class_refs[small.target.value] = ref
    return scope


def _qualify_ref(ctx: FileContext, e: cst.BaseExpression, names: Names, home: Globals | None) -> str | None:
    """A class attribute naming a class (``config_class = BertConfig``) as a qualified name."""
    q = names.qualify(e)
    if q is not None:
        return q
    text = dotted(e)
    if home is None and text is not None and ctx.project is not None:
        return f"{ctx.project.module}.{text}"  # a class of the linted file itself
    return None


def _project_base(ctx: FileContext, q: str) -> Scope | None:
    """A base class defined in another project file, read into a context scope (its bases too)."""
    project = ctx.project
    if project is None:
        return None
    definition = project.definition(q)
    if definition is None or not isinstance(definition.node, cst.ClassDef):
        return None
    key = definition.qualified
    if key in ctx.scopes:
        return ctx.scopes[key]
    placeholder = Scope(key, definition.node, external=key)  # a base cycle ends here
    ctx.scopes[key] = placeholder
    scope = _scope(ctx, definition.node, definition.home, key)
    ctx.scopes[key] = scope
    return scope


def _relate(ctx: FileContext, module: cst.Module) -> None:
    """Which same-file module classes each class builds (its body names them; or ``Y(X, ...)`` elsewhere)."""
    classes = [s for s in ctx.scopes.values() if s.is_module and not s.external]
    if len(classes) < 2:
        return
    lines = code_lines(ctx.source.text)  # names in docstrings and comments build nothing
    spans: dict[str, tuple[int, int]] = {}
    starts = []
    for stmt in module.body:
        pos = ctx.source.locator.statement(stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else stmt)
        starts.append((pos[0] if pos else None, stmt))
    for i, (start, stmt) in enumerate(starts):
        if isinstance(stmt, cst.ClassDef) and start is not None:
            end = next((s for s, _ in starts[i + 1:] if s is not None), len(lines) + 1)
            spans[stmt.name.value] = (start, end)
    # One pass over the words of each text (not one regex per class pair): linear in the file.
    names = {s.name for s in classes}
    # Module-level registries (``ATTENTION_CLASSES = {"eager": SelfAttention, ...}``) stand for the classes they name.
    registries: dict[str, set[str]] = {}
    for start, stmt in starts:
        if isinstance(stmt, cst.SimpleStatementLine) and start is not None:
            for small in stmt.body:
                if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, (cst.Dict, cst.List, cst.Tuple)):
                    target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
                    if isinstance(target, cst.Name):
                        named = names.intersection(_WORD.findall(cst.Module(body=[]).code_for_node(small.value)))
                        if named:
                            registries[target.value] = named
    inside = [False] * (len(lines) + 2)
    for parent, (start, end) in spans.items():
        for n in range(start, min(end, len(lines) + 1)):
            inside[n] = True
        body = "\n".join(lines[start:end - 1])  # the header line names bases, not children
        if parent in names:
            words = set(_WORD.findall(body))
            for registry in words.intersection(registries):
                words |= registries[registry]
            for child in names.intersection(words) - {parent}:
                ctx.children.setdefault(parent, set()).add(child)
    for n, line in enumerate(lines, start=1):
        if inside[n] or "(" not in line:
            continue
        seen: set[str] = set()
        for m in _CALLED.finditer(line):
            parent = m.group(1)
            if parent not in names or parent in seen:
                continue
            seen.add(parent)  # the first call of a class on the line, as before
            for child in names.intersection(_WORD.findall(line[m.end():])) - {parent}:
                ctx.children.setdefault(parent, set()).add(child)


_WORD = re.compile(r"\w+")
_CALLED = re.compile(r"\b(\w+)\s*\(")


def _build_order(ctx: FileContext) -> list[Scope]:
    """Children before parents (so a parent's init loop sees the children's layers)."""
    order: list[Scope] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name):
            return
        state[name] = 1
        for child in sorted(ctx.children.get(name, ())):
            visit(child)
        for base in ctx.scopes[name].local_bases:
            if base in ctx.scopes:
                visit(base)
        state[name] = 2
        order.append(ctx.scopes[name])

    for name, scope in ctx.scopes.items():
        if scope.is_module:
            visit(name)
    return [s for s in order if not s.external]


# -- pass 2: constructors ---------------------------------------------------------


def _build_class(ctx: FileContext, scope: Scope) -> None:
    fn = ctx.method(scope, "__init__")
    if fn is None:
        return
    builder = Interpreter(ctx, scope)
    builder.current_fn = "__init__"
    env = builder.inline.bind_params(fn, [], {}, scope)
    builder.inline.stack.append(id(fn))
    builder.run(suite(fn.body), env)
    for exit_ in builder.returned_states:
        rejoin(exit_)
    ctx.envs[scope.name] = env


def _build_module(ctx: FileContext, module: cst.Module) -> list[tuple[Mod, Scope]]:
    """Module-level code and unreferenced functions: Sequentials built there are models of their own."""
    roots: list[tuple[Mod, Scope]] = []
    scope = Scope(MODULE_SCOPE, None)
    ctx.scopes.setdefault(MODULE_SCOPE, scope)
    builder = Interpreter(ctx, scope)
    env: dict[str, object] = {}
    builder.run(list(module.body), env)
    roots += _root_mods(env, [], scope)
    for name, fn in ctx.functions.items():
        if ctx.mentions[name] > 1:
            continue  # called somewhere: analysed where it is called
        fscope = Scope(name, None)
        fbuilder = Interpreter(ctx, fscope)
        fenv = fbuilder.inline.bind_params(fn, [], {}, None)
        fbuilder.current_fn = name
        fbuilder.inline.stack.append(id(fn))
        fbuilder.run(suite(fn.body), fenv)
        roots += _root_mods(fenv, fbuilder.returns, fscope, name)
    return roots


def _root_mods(env: dict[str, object], returns: list[object], scope: Scope, fn: str = "") -> list[tuple[Mod, Scope]]:
    out: list[tuple[Mod, Scope]] = []
    used: set[int] = set()
    candidates = [(k, v) for k, v in env.items()] + [(fn, r) for r in returns]
    for key, value in candidates:
        # a Sequential is a model of its own; a bare layer returned by a helper is not
        if (isinstance(value, SeqMod) or isinstance(value, LayerMod) and key != fn) and id(value) not in used:
            used.add(id(value))
            name_mod(value, key)
            for m in mods_under(value):
                if isinstance(m, ActMod) and m.family == "selu":
                    scope.uses_selu = True
            out.append((value, Scope(key, None)))
    return out


# -- assembly ---------------------------------------------------------------------


def _notes(ctx: FileContext) -> None:
    """SPEC 8.19: say why a layer is on the default when init code exists but never runs."""
    unused: list[tuple[str, list[Layer]]] = []
    for scope in ctx.scopes.values():
        if scope.external:
            continue
        for name, fn in scope.methods.items():
            if "init" in name and name != "__init__" and id(fn) not in ctx.invoked:
                unused.append((name, scope.layers))
    for name, fn in ctx.functions.items():
        if "init" in name and id(fn) not in ctx.invoked and ctx.mentions[name] == 1:
            unused.append((name, ctx.layers))
    for name, layers in unused:
        for layer in layers:
            spec = layer.state.spec
            if spec is not None and spec.source == "default" and not layer.note:
                layer.note = f"{name} is defined but never applied"


def _inherited_sites(ctx: FileContext) -> set[tuple[str, int, int]]:
    """(base class, statement, call) of the layers a base class builds that its same-file subclasses build too,
    for bases never constructed themselves (SPEC 8.32: their subclasses' construction paths are the only ones).

    A base named anywhere in the file but its own body and its subclasses' headers, built or named in another
    project file, or with subclasses in other files, keeps its own records.
    """
    subclasses: dict[str, list[Scope]] = {}
    for scope in ctx.scopes.values():
        if scope.is_module and not scope.external:
            for base in ctx.mro(scope)[1:]:
                if not base.external:
                    subclasses.setdefault(base.name, []).append(scope)
    out: set[tuple[str, int, int]] = set()
    for name, subs in subclasses.items():
        if not _only_a_base(ctx, ctx.scopes[name], subs):
            continue
        names = {s.name for s in subs}
        shared = {(id(layer.stmt), id(layer.call)) for layer in ctx.layers if layer.owner in names}
        out |= {(name, *site) for site in shared}
    return out


def _only_a_base(ctx: FileContext, base: Scope, subs: list[Scope]) -> bool:
    """Is the class named in the file only by its own body and its subclasses' headers, and in the project
    only as the base of this file's classes?"""
    if base.node is None:
        return False
    own = _WORD.findall(cst.Module(body=[]).code_for_node(base.node)).count(base.name)
    headers = sum(1 for s in subs if s.node is not None for arg in s.node.bases if dotted(arg.value) == base.name)
    if ctx.mentions[base.name] != own + headers:
        return False
    project = ctx.project
    if project is None:
        return True
    qualified = ctx.qualified(base)
    home = project.module + "."
    return not project.constructed(qualified) and all(
        q.startswith(home) and q.count(".") == qualified.count(".") for q in project.subclasses(qualified))


def _final_state(layer: Layer) -> InitState:
    if not layer.overrides:
        return layer.state
    states = list(layer.overrides.values())
    first = states[0]
    if all(s.spec == first.spec and s.reason == first.reason for s in states[1:]):
        return first
    return InitState(None, "parent modules apply different inits to this layer")


def _consumer(layer: Layer, flow: Flow, settings_extra: dict[str, str]) -> tuple[Activation | None, bool, bool, str]:
    events = flow.out.events.get(layer)
    if not events:
        if layer in flow.out.applied:
            return None, False, False, LOST
        if layer in flow.out.touched:
            how = flow.out.touched[layer]
            return None, False, False, f"consumer not visible: forward uses {how} in a way the analysis does not follow"
        return None, False, False, NOT_FOLLOWED
    unresolved = sorted(e.reason for e in events if e.kind == "unresolved")
    if unresolved:
        return None, False, False, unresolved[0]
    return _judged(events, layer in flow.out.reach)


def _judged(events: set[Event], reach: bool) -> tuple[Activation | None, bool, bool, str]:
    """The consumer that resolved events agree on (an activation, or ``identity`` for weights, heads and
    attention), with normalized / residual flags; or why they disagree."""
    normalized = any(e.normalized for e in events)
    residual = any(e.residual for e in events)
    acts = {(e.name, e.family, e.slope) for e in events if e.kind == "act"}
    plain = {e.kind for e in events if e.kind in ("weight", "head", "attention")}
    if acts and plain:
        return None, normalized, residual, "consumers disagree: an activation on one path, none on another"
    if len(acts) > 1:
        names = ", ".join(sorted(a[0] for a in acts))
        return None, normalized, residual, f"consumers disagree: {names}"
    if acts:
        name, family, slope = acts.pop()
        if slope < 0:
            return None, normalized, residual, f"{name} slope is not a literal"
        return Activation(name, family, slope, reaches_weight=reach), normalized, residual, ""
    return Activation("identity", "linear", 0.0, reaches_weight="weight" in plain), normalized, residual, ""


def _upstream(layer: Layer, flow: Flow) -> tuple[Layer | None, bool]:
    """The one weight layer whose activation feeds ``layer`` on every call (SPEC 8.34), and whether it feeds itself.

    Every call must agree: fed by one activated layer (or, in a loop-built stack, by the site itself).
    An input that mixes branches, passes a normalization or residual add, or comes from elsewhere: none.
    """
    previous: set[Layer] = set()
    repeats = starts = False
    for fed in flow.out.inputs.get(layer, ()):
        if fed is None or len(fed) > 1:
            return None, False
        if not fed:
            starts = True  # the path starts here (the model's input, or a value from no activated layer)
            continue
        (source,) = fed
        if source is layer:
            repeats = True
        else:
            previous.add(source)
    if len(previous) != 1 or starts:
        return None, repeats
    return previous.pop(), repeats


def _param_fans(layer: Layer) -> tuple[int | None, int | None, list[int], list[int]]:
    """Fans of a raw parameter from its shape and how forward uses it (positions of fan_in / fan_out dims)."""
    shape = layer.shape or ()
    uses = sorted(layer.uses)
    if len(uses) != 1 or len(shape) < 2:
        return None, None, [], []
    use = uses[0]
    n = len(shape)
    if use == "x@w":
        fin, fout = [n - 2], [n - 1]
    elif use in ("w@x", "linear"):
        fin, fout = [n - 1], [n - 2]
    elif use == "conv":
        fin, fout = [1] + list(range(2, n)), [0] + list(range(2, n))
    elif use.startswith("einsum:"):
        fin = [int(c) for c in use.split(":", 1)[1]]
        fout = [i for i in range(n) if i not in fin]
    else:
        return None, None, [], []

    def prod(idx: list[int]) -> int | None:
        out = 1
        for i in idx:
            v = shape[i] if i < n else None
            if not isinstance(v, int) or isinstance(v, bool):
                return None
            out *= v
        return out if idx else None

    return prod(fin), prod(fout), fin, fout


def _param_spec(layer: Layer, spec: InitSpec | None, fin: list[int], fout: list[int]) -> tuple[InitSpec | None, str]:
    if spec is not None and layer.param_scale is None and spec.mode in ("fan_in", "fan_out"):
        return _torch_mode(layer, spec, fin)
    if spec is None or layer.param_scale is None or spec.std is not None:
        return spec, ""
    coef, dim = layer.param_scale
    shape = layer.shape or ()
    where = [i for i, d in enumerate(shape) if d == dim]
    if dim is None or not where:
        return None, "scaled by a size that is not one of its dimensions"
    if len(fin) == 1 and where[0] in fin:
        mode = "fan_in"
    elif len(fout) == 1 and where[0] in fout:
        mode = "fan_out"
    else:
        return None, "scaled by a size that is not a fan"
    scheme = formulas.scheme_name(coef, mode)  # type: ignore[arg-type]
    return replace(spec, scheme=scheme, scale=coef, mode=mode, std=None, note=""), ""  # type: ignore[arg-type]


def _is_zero(spec: InitSpec | None) -> bool:
    return spec is not None and (spec.scheme == "zero" or spec.scheme == "constant" and spec.value == 0)


def _torch_mode(layer: Layer, spec: InitSpec, fin: list[int]) -> tuple[InitSpec | None, str]:
    """torch.nn.init reads fan_in from dim 1 (times the trailing dims): a (in, out) weight used as x @ w swaps the fans."""
    rank = len(layer.shape or ())
    if spec.source == "default" or not fin:
        return spec, ""
    if rank == 2 and fin == [0]:
        return replace(spec, mode="fan_out" if spec.mode == "fan_in" else "fan_in"), ""
    if rank == 2 or (fin == [1] + list(range(2, rank))):
        return spec, ""
    return None, f"{spec.call} on a {rank}-D parameter: torch's fans differ from how forward uses it"


_SYMBOLIC_INDEX = re.compile(r"\[(?!\d+\])[^\]]*\]")


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


_IN_PLACE = frozenset({"normal_", "uniform_", "fill_", "zero_", "constant_", "copy_", "trunc_normal_"})


def _tensor_arg(call: cst.Call) -> str:
    """The tensor an init call fills, as written: ``init.x_(m.weight)`` -> ``m.weight``; ``m.weight.data.normal_()`` too."""
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _IN_PLACE \
            and (dotted(func.value) or "").split(".")[-1] != "init":  # a tensor method, not nn.init.normal_
        receiver = func.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "data":
            receiver = receiver.value
        return _code(receiver)
    for i, arg in enumerate(call.args):
        if (arg.keyword is None and i == 0 and not arg.star) or (arg.keyword is not None and arg.keyword.value == "tensor"):
            return _code(arg.value)
    return ""


def _placement(layer: Layer, weight: str, state: InitState, where: Enclosing, source: SourceFile) -> tuple[str, str]:
    """(weight expression, where the recommended line goes) for the "Use instead" hint; ("", "") when no
    line of valid code can be named (SPEC 6: valid code or nothing)."""
    if state.stmt is not None and state.call is not None:
        init_fn, branch = where.of(state.stmt)
        layer_fn, _ = where.of(layer.stmt)
        line = source.line(state.stmt, state.call)
        tensor = _tensor_arg(state.call)
        if not tensor:
            return "", ""
        elsewhere = init_fn is not None and init_fn is not layer_fn  # self.apply(self._init_weights), a helper
        if tensor != weight and (elsewhere or branch is not None or "." in tensor):  # a loop or dispatch variable
            inside = f" inside `if {_code(branch.test)}:`" if branch is not None else ""
            fn = f"in {init_fn.name.value}" if elsewhere and init_fn is not None else ""
            site = ", ".join(part for part in (f"{fn}{inside}".strip(), f"replacing the call at line {line}") if part)
            return tensor, site
        return tensor, f"replacing the call at line {line}"
    if state.stmt is not None:  # a framework's init method over every submodule: no single call to replace
        return "", ""
    line = source.line(layer.stmt)
    if _SYMBOLIC_INDEX.search(weight):
        match = re.fullmatch(r"(.+)\[[^\]]+\]\.weight", weight)
        if match is None or _SYMBOLIC_INDEX.search(match.group(1)):
            return "", ""
        return "layer.weight", f"after the statement that builds them (line {line}), in `for layer in {match.group(1)}:`"
    if not layer.in_class:
        root = re.split(r"[\[.]", weight, maxsplit=1)[0]
        target = layer.stmt.targets[0].target if isinstance(layer.stmt, cst.Assign) and len(layer.stmt.targets) == 1 \
            else layer.stmt.target if isinstance(layer.stmt, cst.AnnAssign) else None
        if not (isinstance(target, cst.Name) and target.value == root):
            return "", ""  # built in a return or a call argument: no name to initialize it by
    return weight, f"after the statement that builds it (line {line})"


def _assemble(ctx: FileContext, flow: Flow, sizes: dict[int, list[tuple[str, Fans]]]) -> list[LayerRecord]:
    source = ctx.source
    extra = source.settings.activations
    selu_scopes = {s.name for s in ctx.scopes.values() if s.uses_selu} | flow.out.selu_scopes
    where = Enclosing(source.module)
    out: list[LayerRecord] = []
    inherited = _inherited_sites(ctx)
    for layer in ctx.layers:
        if layer.foreign or layer.stmt is None:
            continue  # built by another file's code: that file's record
        if (layer.owner, id(layer.stmt), id(layer.call)) in inherited:
            continue  # a base class built only through its subclasses: their records judge the site
        origin = source.origin(layer.stmt, layer.call)
        if origin.line is None:
            continue  # built by a statement of another file (a project base class's __init__): that file's record
        path = (layer.path or "").lstrip("~") or f"<{layer.cls} at line {origin.line}>"
        if layer.in_class:
            name, scope_name = member(layer.owner, path), layer.owner
            weight_expr = member("self", path) if layer.is_param else f"{member('self', path)}.weight"
        else:
            name = path
            scope_name = re.split(r"[\[.]", path, maxsplit=1)[0]
            weight_expr = path if layer.is_param else f"{path}.weight"
        if layer.is_dropout:
            out.append(LayerRecord(
                name=name, kind=layer.kind, framework="torch", origin=origin, count=layer.count,
                scope=scope_name, selu_network=layer.owner in selu_scopes, weight_expr=weight_expr,
            ))
            continue
        state = _final_state(layer)
        spec = state.spec
        reason = state.reason
        fan_in, fan_out = layer.fan_in, layer.fan_out
        is_weight = True
        activation, normalized, residual, act_reason = _consumer(layer, flow, extra)
        into, provisional, into_normalized, into_residual = _into(layer, flow)
        if into:
            normalized, residual = into_normalized, into_residual
        if layer.kind == "embedding":
            activation, act_reason = None, ""  # exempt from pairing: its consumer does not matter
        if layer.is_param:
            is_weight = bool(layer.uses)
            if not is_weight:
                if spec is None or spec.scheme != "uninitialized":
                    continue  # a position table, class token or scale: not a weight (SPEC 8.9)
                activation, act_reason = None, ""
            else:
                fan_in, fan_out, fin, fout = _param_fans(layer)
                spec, why = _param_spec(layer, spec, fin, fout)
                reason = reason or why
        if spec is not None:
            if spec.source == "default" and layer.note and not spec.note:
                spec = replace(spec, note=layer.note)
            if state.stmt is not None:
                pos = source.origin(state.stmt, state.call)
                spec = replace(spec, line=pos.line, column=pos.column)
            elif state.via and spec.source != "default" and not spec.note:
                spec = replace(spec, note=f"set by {state.via}")
        if layer.tied:
            spec, reason = None, layer.tied  # SPEC 8.38: the embedding's weight, exempt like the embedding
        elif spec is not None and spec.scheme == "uninitialized" and any(type(d) is int and d == 0 for d in layer.shape or ()):
            spec, reason = None, "no elements as built by default (a dimension is 0): nothing to fill"
        unresolved = reason or act_reason
        placed = not unresolved or (into and not reason)  # a consumer decided with the project: placed already
        weight_expr, init_site = _placement(layer, weight_expr, state, where, source) if placed else ("", "")
        feeds_zero = any(_is_zero(_final_state(c).spec) for c in flow.out.feeds.get(layer, ()))
        if spec is not None and spec.scheme == "uninitialized":
            unresolved = ""  # INIT010 judges it whatever consumes it
        upstream, repeats = _upstream(layer, flow)
        paths = tuple((c, fi, fo) for c, (fi, fo) in sizes.get(id(layer), ()))
        if all((fi, fo) == (fan_in, fan_out) for _c, fi, fo in paths):
            paths = ()  # every container builds it with the class's own sizes
        out.append(LayerRecord(
            name=name, kind=layer.kind if not layer.is_param else "parameter", framework="torch", origin=origin,
            fan_in=fan_in, fan_out=fan_out, init=spec, activation=activation, normalized=normalized,
            residual_end=residual, feeds_zero_layer=feeds_zero, is_weight=is_weight, count=layer.count, scope=scope_name,
            unresolved=unresolved, weight_expr=weight_expr, init_site=init_site, traced=True,
            upstream=source.origin(upstream.stmt, upstream.call) if upstream is not None else None, repeats=repeats,
            layer_class=layer.cls, container_fans=paths, **({"into": into, "provisional": provisional} if into and not reason
                                      and layer.kind != "embedding" else {}),
        ))
    for drop in flow.out.dropouts:
        origin = source.origin(drop.stmt, drop.call)
        out.append(LayerRecord(
            name=f"{drop.scope.name}.{dotted(drop.call.func) or 'dropout'}", kind=drop.kind, framework="torch", origin=origin,
            scope=drop.scope.name, selu_network=drop.scope.name in selu_scopes,
        ))
    return out
