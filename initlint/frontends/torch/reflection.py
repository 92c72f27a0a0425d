"""nn.Module reflection in the constructor interpreter: ``modules()``, ``parameters()``, ``apply(fn)`` and init loops.

An init loop (``for m in self.modules(): if isinstance(m, nn.Linear): ...``) runs
its body once per candidate module or parameter, so ``isinstance``/``hasattr`` on
module values are answered here too; same-file child classes contribute their
layers (they were built first).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ...records import InitSpec
from ...rulebook import ModelBase
from ..python.names import dotted
from ..python.syntax import suite
from . import initializers as ti
from .context import FileContext, Host
from .tables import WEIGHT_LAYERS, is_instance, torch_nn_class
from .tree import (
    ActMod,
    ChildMod,
    DictMod,
    ExtMod,
    InitState,
    Layer,
    LayerMod,
    ListMod,
    Mod,
    NormMod,
    ParamMod,
    PassMod,
    Scope,
    SeqMod,
    mods_under,
    name_mod,
)
from .values import (
    BiasRef,
    Candidates,
    ClassOf,
    ClassRef,
    ExtPart,
    Func,
    LambdaRef,
    ListBuild,
    LocalClass,
    Partial,
    PathStr,
    SelfRef,
    WeightRef,
)


class Reflection:
    """What iterating, applying to and inspecting ``nn.Module`` values does, for one interpreter."""

    def __init__(self, it: Host) -> None:
        self.it = it
        self.ctx = it.ctx

    # -- methods of modules ----------------------------------------------------

    def self_method(self, scope: Scope, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``self.<method>(...)``: reflection, module registration, or an own method inlined."""
        if method in ("modules", "children", "named_modules", "named_children"):
            root = [ChildMod(scope.name)] if method in ("modules", "named_modules") and not scope.external else []
            return Candidates(tuple(root + self.modules_of(SelfRef(scope))), named=method.startswith("named"))
        if method in ("parameters", "named_parameters"):
            return Candidates(tuple(self.parameters_of(SelfRef(scope))), named=method == "named_parameters")
        if method == "apply" and e.args:
            self.apply(self.it.ev(e.args[0].value, env), self.with_root(scope), e)
            return SelfRef(scope)
        if method in ("add_module", "register_module") and len(e.args) == 2:
            key, mod = self.it.ev(e.args[0].value, env), self.it.ev(e.args[1].value, env)
            if isinstance(key, str):
                name_mod(mod, key)
                scope.attrs[key] = mod
            return None
        if method == "register_parameter" and len(e.args) == 2:
            key, mod = self.it.ev(e.args[0].value, env), self.it.ev(e.args[1].value, env)
            if isinstance(key, str) and isinstance(mod, ParamMod):
                name_mod(mod, key)
                scope.attrs[key] = mod
            return None
        base = self.ctx.model_base(scope)
        if base is not None and method in base.init_methods and base.apply:
            # SPEC 8.33: a framework's post_init applies the class's init method to every submodule
            self.it.args(e, env)
            fn = self.ctx.method(scope, base.apply)
            if fn is not None:
                saved = self.it.current_fn
                self.it.current_fn = f"{method} -> {base.apply}"
                self.apply(Func(fn, scope), self.with_root(scope), e, via=self.it.current_fn)
                self.it.current_fn = saved
            else:
                self.framework_init(scope, base, method, e)
            return None
        fn = self.ctx.method(scope, method)
        if fn is not None:
            return self.it.inline.call_function(Func(fn, scope), e, env)
        if base is not None and not base.init_methods:
            return None  # a framework base known not to initialize anything
        foreign = self.ctx.foreign_bases(scope)  # also through same-file bases (XForY(XPreTrainedModel))
        if ("init" in method or "reset" in method) and foreign:
            reason = f"initialized by self.{method}() of base class {foreign[0]}"
            for layer in all_layers(self.ctx, scope):
                self.it.torch.set_state(layer, InitState(None, reason))
            for m in self.modules_of(SelfRef(scope)):  # modules of other files' classes it holds, too
                if isinstance(m, LayerMod) and m.layer.probe:
                    self.it.torch.set_state(m.layer, InitState(None, reason))
        return None

    def module_method(self, mod: Mod, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``module.<method>(...)`` on a submodule: reflection, ``reset_parameters``, device moves."""
        if method in ("modules", "children", "named_modules", "named_children"):
            return Candidates(tuple(self.modules_of(mod)), named=method.startswith("named"))
        if method in ("parameters", "named_parameters"):
            return Candidates(tuple(self.parameters_of(mod)), named=method == "named_parameters")
        if method == "apply" and e.args:
            self.apply(self.it.ev(e.args[0].value, env), self.modules_of(mod, post_order=True), e)
            return mod
        if method == "reset_parameters":
            if isinstance(mod, LayerMod):
                self.it.torch.set_state(mod.layer, InitState(ti.default_spec("reset_parameters() after the init restores the default")))
            elif isinstance(mod, ChildMod) and mod.cls in self.ctx.scopes:
                scope = self.ctx.scopes[mod.cls]
                fn = self.ctx.method(scope, "reset_parameters")
                if fn is not None:
                    return self.it.inline.call_function(Func(fn, scope), e, env)
            return None
        if method in ("to", "cuda", "cpu", "float", "double", "half", "train", "eval", "requires_grad_"):
            return mod
        if isinstance(mod, ExtMod):
            if ("init" in method or "reset" in method) and self.ctx.project is not None \
                    and method in self.ctx.project.methods(mod.qualified):
                self.probe_mods(mod)
                cls = mod.qualified.rsplit(".", 1)[-1]
                for layer in layers_in(self.ctx, mod):
                    self.it.torch.set_state(layer, InitState(None, f"may be re-initialized by {cls}.{method}() called from {self.it.scope.name}"))
            return None
        if isinstance(mod, ChildMod) and mod.cls in self.ctx.scopes:
            fn = self.ctx.method(self.ctx.scopes[mod.cls], method)
            if fn is not None and ("init" in method or "reset" in method):
                return self.it.inline.call_function(Func(fn, self.ctx.scopes[mod.cls]), e, env)
        return None

    def attribute(self, base: object, attr: str) -> object:
        """An attribute of a module or weight value: ``.weight``, ``.bias``, ``.data``, ``__class__``, a child's attribute."""
        if isinstance(base, LayerMod):
            return {"weight": WeightRef(base.layer), "bias": BiasRef(base.layer), "__class__": ClassOf(base.layer.cls)}.get(attr)
        if isinstance(base, ParamMod):
            return WeightRef(base.layer) if attr == "data" else None
        if isinstance(base, WeightRef):
            return base if attr == "data" else None
        if isinstance(base, ClassOf) and attr == "__name__":
            return base.name
        if isinstance(base, ChildMod):
            if attr == "__class__":
                return ClassOf(base.cls)
            scope = self.ctx.scopes.get(base.cls)
            return scope.attrs.get(attr) if scope else None
        if isinstance(base, (NormMod, PassMod, ActMod)) and attr == "__class__":
            return ClassOf(getattr(base, "cls", getattr(base, "name", "")))
        if isinstance(base, DictMod):
            return base.items.get(attr)
        if isinstance(base, SeqMod) and base.keys and attr in base.keys:
            entry = base.entries[base.keys.index(attr)]
            return entry
        if isinstance(base, ExtMod):
            return ClassOf(base.qualified.rsplit(".", 1)[-1]) if attr == "__class__" else ExtPart(base, attr)
        if isinstance(base, ExtPart):
            return ExtPart(base.mod, f"{base.path}.{attr}")
        return None

    # -- what a module holds ----------------------------------------------------

    def modules_of(self, root: object, post_order: bool = False) -> list[object]:
        """``root.modules()``: the module, its submodules, and those of same-file child classes; each module before
        its submodules, or (``post_order``, as ``Module.apply`` visits them) after them, so that a parent's init
        of its child's weight comes last."""
        out: list[object] = []
        seen: set[str] = set()

        def visit(value: object) -> None:
            if isinstance(value, SelfRef):
                scope = value.scope
                seen.add(scope.name)
                mods: list[object] = list(scope.attrs.values()) + ([scope.seq] if scope.seq else [])
                for v in mods:
                    visit(v)
                return
            for m in mods_under(value):
                if isinstance(m, ParamMod):
                    continue
                if not post_order:
                    out.append(m)
                if isinstance(m, ChildMod) and m.cls not in seen and m.cls in self.ctx.scopes:
                    visit(SelfRef(self.ctx.scopes[m.cls]))
                elif isinstance(m, ExtMod):
                    out.extend(self.probe_mods(m))
                if post_order:
                    out.append(m)

        own = not isinstance(root, (SelfRef, SeqMod, ListMod, DictMod))
        if own and not post_order:
            out.append(root)
        visit(root)
        if isinstance(root, SelfRef) and self.ctx.project is not None and not root.scope.external:
            # a module of any other project class this one may hold (a block class passed as a parameter):
            # what the init code does to it is what it does to such layers wherever they come from
            generic = self.ctx.generic.get(root.scope.name)
            if generic is None:
                generic = ExtMod(ANY_CLASS)
                generic.probes[ANY_CLASS] = [_probe(ANY_CLASS, c) for c in _GENERIC_CLASSES]
                self.ctx.generic[root.scope.name] = generic
                self.ctx.ext_mods.append((root.scope.name, generic))
            out.append(generic)
            out += [LayerMod(p) for p in generic.probes[ANY_CLASS]]
        # same-file children built in ways the attributes do not show (a block class passed as a parameter)
        if isinstance(root, (SelfRef, ChildMod)):
            name = root.scope.name if isinstance(root, SelfRef) else root.cls
            for child in self.ctx.descendants(name):
                if child.name not in seen:
                    seen.add(child.name)
                    if not post_order:
                        out.append(ChildMod(child.name))
                    visit(SelfRef(child))
                    if post_order:
                        out.append(ChildMod(child.name))
        if own and post_order:
            out.append(root)
        unique: list[object] = []
        ids: set[int] = set()
        for m in out:
            if id(m) not in ids and not (isinstance(m, LayerMod) and any(isinstance(u, LayerMod) and u.layer is m.layer for u in unique)):
                ids.add(id(m))
                unique.append(m)
        return unique

    def probe_mods(self, mod: ExtMod) -> list[object]:
        """Stand-ins for the layers of a module class built in another file: one per torch layer class of each class it builds."""
        if self.ctx.project is None:
            return []
        if not mod.probes:
            self.make_probes(self.ctx, mod)
        out: list[object] = list(mod.nested.values())
        out += [LayerMod(p) for probes in mod.probes.values() for p in probes if not p.is_param]
        return out

    def with_root(self, scope: Scope) -> list[object]:
        """What ``self.apply(fn)`` visits: every submodule, then the module itself (as torch does)."""
        root = [ChildMod(scope.name)] if not scope.external else []
        return self.modules_of(SelfRef(scope), post_order=True) + root

    @staticmethod
    def make_probes(ctx: FileContext, mod: ExtMod) -> None:
        """Probe layers for every project class the module builds (from the summaries)."""
        if ctx.project is None:
            return
        for cls, layer_classes in ctx.project.subtree(mod.qualified):
            mod.probes[cls] = [_probe(cls, c) for c in layer_classes]
            if cls != mod.qualified:
                nested = ExtMod(cls)
                nested.probes[cls] = mod.probes[cls]
                mod.nested[cls] = nested

    def parameters_of(self, root: object) -> list[object]:
        """``root.parameters()``: weight and bias of every layer, and raw parameters."""
        out: list[object] = []
        for m in self.modules_of(root):
            if isinstance(m, LayerMod):
                out += [WeightRef(m.layer), BiasRef(m.layer)]
            elif isinstance(m, ExtMod):
                out += [WeightRef(p) for probes in m.probes.values() for p in probes if p.is_param]
        scopes = [root.scope] if isinstance(root, SelfRef) else []
        if isinstance(root, (SelfRef, ChildMod)):
            name = root.scope.name if isinstance(root, SelfRef) else root.cls
            scopes += [s for s in [self.ctx.scopes.get(name)] if s] + self.ctx.descendants(name)
        seen: set[int] = set()
        for scope in scopes:
            if id(scope) in seen:
                continue
            seen.add(id(scope))
            out += [WeightRef(l) for l in scope.layers if l.is_param]
        return out

    # -- running init code per module ---------------------------------------------

    def apply(self, fn: object, cands: list[object], e: cst.Call, via: str = "", named: bool = False) -> None:
        """``module.apply(fn)``: fn runs on every submodule (``named``: as ``fn(module, name)``, timm's named_apply)."""
        extra: dict[str, object] = {}
        if isinstance(fn, Partial):
            extra = dict(fn.kwargs)
            if fn.args:
                fn = None  # positional arguments bound before the module: not followed
            else:
                fn = fn.fn
        if isinstance(fn, Func):
            self.ctx.invoked.add(id(fn.node))
            params = [p.name.value for p in fn.node.params.params]
            if fn.bound is not None and params and params[0] == "self":
                params = params[1:]
            if not params:
                return
            saved = self.it.current_fn
            self.it.current_fn = via or fn.node.name.value
            body = suite(fn.node.body)

            def run() -> None:
                env = self.it.inline.bind_params(fn.node, [None], extra, fn.bound)
                if named and len(params) > 1 and params[1] not in extra:
                    env[params[1]] = None  # the submodule's name: set per candidate
                name_param = params[1] if named and len(params) > 1 and params[1] not in extra else None
                self.dispatch(Candidates(tuple(cands)), cst.Name(params[0]), body, env, name_param)

            with self.ctx.running(fn.node):
                self.it.inline.enter(fn.node, run)
            self.it.current_fn = saved
            return
        if isinstance(fn, LambdaRef):
            params = [p.name.value for p in fn.node.params.params]
            if params:
                for item in cands:
                    self.it.ev(fn.node.body, {params[0]: item})
            return
        name = dotted(e.args[0].value) or "a function"
        if isinstance(fn, ClassRef):
            reason = f"initialized by helper {self.it.torch.origin_text(name)}"
        else:
            reason = f"initialized by {name} (not resolved)"
        for item in cands:
            for layer in layers_in(self.ctx, item):
                self.it.torch.set_state(layer, InitState(None, reason))

    def apply_named(self, fn: object, mod: object, named: bool, helper: str, e: cst.Call) -> None:
        """A library's apply function (timm's ``named_apply(fn, module)``) per the conventions table."""
        if isinstance(mod, SelfRef) or isinstance(mod, Mod):
            cands = self.modules_of(mod, post_order=True)
            if isinstance(fn, (Func, Partial)):
                self.apply(fn, cands, e, via=f"{helper}({_fn_name(fn)})", named=named)
                return
            for item in cands:
                for layer in layers_in(self.ctx, item):
                    self.it.torch.set_state(layer, InitState(None, f"initialized by {helper} with a function not resolved"))

    def dispatch(self, cands: Candidates, target: cst.BaseExpression, body: list[Any], env: dict[str, object],
                 name_param: str | None = None) -> None:
        """An init loop: run the body once per candidate module or parameter."""
        before = {id(l): l.state for l in self.ctx.layers}
        visited: list[Layer] = []
        for item in cands.items:
            local = dict(env)
            value: object = item
            if cands.named and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                value = (_param_name(item), item)
            if name_param is not None:
                local[name_param] = _param_name(item) if isinstance(item, LayerMod) and not item.layer.probe else None
            self.it.assign(target, value, local)
            layer = _layer_of(item)
            if layer is not None:
                visited.append(layer)
            self.it.run(body, local)
        changed = any(l.state is not before.get(id(l)) for l in self.ctx.layers)
        if changed:
            fn = self.it.current_fn or "the init loop"
            for layer in visited:
                if layer.state is before.get(id(layer)) and layer.state.spec is not None and layer.state.spec.source == "default":
                    layer.note = layer.note or f"the init dispatch in {fn} skips {layer.cls}"

    def super_convention(self, start: Scope, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``super().<apply>(module)`` reaching a framework base outside the project: its documented init (SPEC 8.33)."""
        base = self.ctx.model_base(start)
        if base is None or method != base.apply:
            return self.it.torch.unknown_call(f"super().{method}", e, env) and None
        pos, kw = self.it.args(e, env)
        module = pos[0] if pos else kw.get("module")
        spec = self.base_spec(start, base)
        if spec is not None and isinstance(module, LayerMod):
            self.it.torch.set_spec(module.layer, spec, e, replaceable=False)
        return None

    def base_spec(self, start: Scope, base: ModelBase) -> InitSpec | None:
        """The normal(0, std) a framework base's own init method draws (std from the config class), if it does."""
        if base.base_init != "normal":
            return None
        std = self.ctx.config_value(self.ctx.config_of(start), base.std_attribute) if base.std_attribute else None
        if not isinstance(std, (int, float)) or isinstance(std, bool):
            std = base.std_default
        if std is None:
            return None
        return ti.spec_for("normal_", f"{base.pattern.rsplit('.', 1)[-1].lstrip('*')}._init_weights", [0.0, float(std)], {})

    def framework_init(self, scope: Scope, base: ModelBase, method: str, e: cst.Call) -> None:
        """``self.post_init()`` whose init method is the framework's own (no override in the project, SPEC 8.33):
        its documented draw for Linear, Conv and Embedding weights; any other weight unresolved."""
        spec = self.base_spec(scope, base)
        reason = f"initialized by self.{method}() of base class {base.pattern.rsplit('.', 1)[-1].lstrip('*')}"
        layers = all_layers(self.ctx, scope)
        layers += [m.layer for m in self.modules_of(SelfRef(scope)) if isinstance(m, LayerMod) and m.layer.probe]
        for layer in layers:
            drawn = spec is not None and (layer.cls in ("Linear", "Embedding") or layer.cls.startswith("Conv"))
            self.it.torch.set_spec(layer, spec if drawn and spec is not None else reason, e, replaceable=False)

    def isinstance_(self, e: cst.Call, env: dict[str, object]) -> object:
        """``isinstance(m, kinds)`` for a module value: True, False or unknown."""
        if len(e.args) != 2:
            return None
        obj, kinds = self.it.ev(e.args[0].value, env), self.it.ev(e.args[1].value, env)
        builtin = _builtin_types(e.args[1].value)
        if builtin and isinstance(obj, (str, int, float)) and not isinstance(obj, bool):
            return {str: "str", int: "int", float: "float"}[type(obj) if type(obj) in (str, int, float) else str] in builtin
        if builtin and (isinstance(obj, (ListBuild, tuple, Mod, WeightRef, SelfRef))):
            # isinstance(x, list): Python's containers against modules and lists the interpreter built
            kind = "list" if isinstance(obj, ListBuild) else "tuple" if isinstance(obj, tuple) else "module"
            return kind in builtin
        options = kinds if isinstance(kinds, tuple) else tuple(kinds.entries) if isinstance(kinds, ListBuild) else (kinds,)
        results = [_isinstance(obj, k, self.ctx) for k in options]
        if any(r is True for r in results):
            return True
        if all(r is False for r in results):
            return False
        return None

    def hasattr_(self, e: cst.Call, env: dict[str, object]) -> object:
        """``hasattr(m, "weight")`` for a module value: True, False or unknown."""
        if len(e.args) != 2:
            return None
        obj, attr = self.it.ev(e.args[0].value, env), self.it.ev(e.args[1].value, env)
        if isinstance(obj, LayerMod) and attr in ("weight", "reset_parameters"):
            return True
        if isinstance(obj, (NormMod,)) and attr in ("weight", "reset_parameters"):
            return True
        if isinstance(obj, (ActMod, PassMod)) and attr == "weight":
            return False
        if isinstance(obj, ExtMod) and isinstance(attr, str) and self.ctx.project is not None:
            return True if attr in self.ctx.project.methods(obj.qualified) else None
        return None



def _isinstance(obj: object, kind: object, ctx: FileContext) -> bool | None:
    if isinstance(obj, ExtMod):
        return _ext_isinstance(obj, kind, ctx)
    if isinstance(kind, ClassRef):
        cls = torch_nn_class(kind.qualified)
        if cls is None:
            if isinstance(obj, ChildMod):
                scope = ctx.scopes.get(obj.cls)
                # a same-file class deriving from this imported class
                return True if scope and kind.qualified in scope.foreign_bases else None
            return False if isinstance(obj, (LayerMod, NormMod, ActMod, PassMod)) else None
        if isinstance(obj, LayerMod):
            return is_instance(obj.layer.cls, cls)
        if isinstance(obj, (NormMod, PassMod)):
            return is_instance(obj.cls, cls)
        if isinstance(obj, ActMod):
            return is_instance(obj.name, cls)
        if isinstance(obj, ChildMod):
            return True if cls == "Module" else None
        if isinstance(obj, (SeqMod, ListMod, DictMod)):
            return cls in ("Module", {SeqMod: "Sequential", ListMod: "ModuleList", DictMod: "ModuleDict"}[type(obj)])
        return None
    if isinstance(kind, LocalClass):
        if isinstance(obj, ChildMod):
            seen, todo = set(), [obj.cls]
            while todo:
                name = todo.pop()
                if name == kind.name:
                    return True
                seen.add(name)
                todo += [b for b in ctx.scopes[name].local_bases if b not in seen] if name in ctx.scopes else []
            return False
        return False if isinstance(obj, (LayerMod, NormMod, ActMod, PassMod, SeqMod, ListMod, DictMod)) else None
    return None


ANY_CLASS = "*"  # Effect.target of the generic probe: any module class of another file
_GENERIC_CLASSES = ("Linear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
                    "Embedding", "Bilinear")


def _builtin_types(e: cst.BaseExpression) -> set[str]:
    """``list`` / ``(list, tuple)`` as written: the builtin container types named."""
    names = [e] if isinstance(e, cst.Name) else [el.value for el in e.elements] if isinstance(e, cst.Tuple) else []
    out = {n.value for n in names if isinstance(n, cst.Name) and n.value in ("list", "tuple", "dict", "set", "str", "int", "float")}
    return out if out and len(out) == len(names) else set()


def _ext_isinstance(obj: ExtMod, kind: object, ctx: FileContext) -> bool | None:
    """``isinstance(m, K)`` for a module class of another project file (its probes answer for its layers)."""
    if ctx.project is None or obj.qualified == ANY_CLASS:
        if isinstance(kind, ClassRef) and torch_nn_class(kind.qualified) == "Module":
            return True
        return None
    ancestors = ctx.project.ancestors(obj.qualified)
    if isinstance(kind, ClassRef):
        cls = torch_nn_class(kind.qualified)
        if cls is not None:
            if cls == "Module":
                return True
            return any(torch_nn_class(a) == cls for a in ancestors)
        definition = ctx.project.definition(kind.qualified)
        if definition is not None:
            return definition.qualified in ancestors
        return None
    if isinstance(kind, LocalClass):
        return f"{ctx.project.module}.{kind.name}" in ancestors
    return None


def _probe(owner: str, cls: str) -> Layer:
    """A stand-in for the layers of class ``cls`` built by the project class ``owner`` (in another file)."""
    if cls == "Parameter":
        return Layer(cls=cls, kind="parameter", owner=f"<{owner}>", stmt=None, call=None, probe=owner,
                     state=InitState(None, "parameter of another file"))
    spec = WEIGHT_LAYERS[cls]
    state = InitState(ti.default_spec()) if spec.kind != "embedding" else InitState(None, "embedding")
    return Layer(cls=cls, kind=spec.kind, owner=f"<{owner}>", stmt=None, call=None, probe=owner,
                 rank=2 + spec.rank, state=state)


def _fn_name(fn: object) -> str:
    if isinstance(fn, Partial):
        return f"partial({_fn_name(fn.fn)})"
    if isinstance(fn, Func):
        return fn.node.name.value
    return "?"


def _layer_of(item: object) -> Layer | None:
    if isinstance(item, LayerMod):
        return item.layer
    if isinstance(item, WeightRef):
        return item.layer
    return None


def _param_name(item: object) -> object:
    if isinstance(item, WeightRef):
        path = (item.layer.path or "").lstrip("~")
        return PathStr(path if item.layer.is_param else f"{path}.weight")
    if isinstance(item, BiasRef):
        return PathStr(f"{(item.layer.path or '').lstrip('~')}.bias")
    if isinstance(item, LayerMod):
        return PathStr((item.layer.path or "").lstrip("~"))
    return None


def layers_in(ctx: FileContext, v: object, weights_only: bool = False) -> list[Layer]:
    """The layers a value is or contains (a module, the model itself, a weight)."""
    if isinstance(v, (WeightRef,)):
        return [v.layer]
    if isinstance(v, BiasRef) or weights_only:
        return []
    if isinstance(v, SelfRef):
        return all_layers(ctx, v.scope)
    if isinstance(v, ChildMod):
        scope = ctx.scopes.get(v.cls)
        return all_layers(ctx, scope) if scope else []
    if isinstance(v, ExtMod):
        return [p for probes in v.probes.values() for p in probes]
    if isinstance(v, ExtPart):
        return [p for probes in v.mod.probes.values() for p in probes]
    if isinstance(v, Mod):
        out = []
        for m in mods_under(v):
            if isinstance(m, (LayerMod, ParamMod)):
                out.append(m.layer)
            elif isinstance(m, ChildMod) and m.cls in ctx.scopes:
                out += all_layers(ctx, ctx.scopes[m.cls])
        return out
    return []


def all_layers(ctx: FileContext, scope: Scope) -> list[Layer]:
    """The weight layers and parameters a class builds, with those of its same-file children."""
    out = [l for l in scope.layers if not l.is_dropout]
    for child in ctx.descendants(scope.name):
        out += [l for l in child.layers if not l.is_dropout]
    return out
