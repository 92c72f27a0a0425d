"""What PyTorch calls mean to the constructor interpreter (the library, not the language).

``torch.nn`` classes build module values and layer sites with their fans,
``nn.init`` functions and in-place fills set a weight's :class:`InitState`,
``torch.randn``-style makers build the tensors given to ``nn.Parameter``, and a call
the analysis does not model leaves the weights it receives unresolved. The
interpreter evaluates the arguments; the data tables are in ``tables``.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import libcst as cst

from ... import formulas
from ...records import InitSpec
from ...rulebook import activation_family, conventions, default_slope, initializes_nothing
from ..python.names import dotted
from . import initializers as ti
from .context import Host, check_size
from .forms import ATTENTION_MODULES, is_loss_module
from .reflection import layers_in
from .tables import (
    DROPOUTS,
    FOREIGN_PASSES,
    NORMS,
    PASSES,
    WEIGHT_LAYERS,
    receptive_field,
    torch_nn_class,
)
from .tree import (
    ActMod,
    AltMod,
    ChildMod,
    DictMod,
    ExtMod,
    InitState,
    Layer,
    LayerMod,
    ListMod,
    Mod,
    NormMod,
    OpaqueMod,
    ParamMod,
    PassMod,
    SeqMod,
    SinkMod,
    name_mod,
)
from .values import (
    NONE,
    ActClass,
    ActFunction,
    ClassRef,
    ExtPart,
    Func,
    ListBuild,
    Partial,
    Scale,
    Sym,
    TensorVal,
    WeightRef,
    as_scale,
)

_NOT_PROJECT = object()
# get_norm_layer("batchnorm2d") and the like: which torch normalization a registry name stands for (any one
# normalizes; the class only names it in messages)
_NORM_NAMES = {"batch": "torch.nn.BatchNorm2d", "group": "torch.nn.GroupNorm", "rms": "torch.nn.RMSNorm",
               "instance": "torch.nn.InstanceNorm2d", "layer": "torch.nn.LayerNorm"}

TENSOR_MAKERS = {
    "randn": "randn", "rand": "rand", "empty": "empty", "zeros": "zeros", "ones": "ones", "full": "full",
    "Tensor": "empty", "FloatTensor": "empty", "DoubleTensor": "empty", "HalfTensor": "empty", "eye": "eye",
    "randn_like": "randn", "zeros_like": "zeros", "ones_like": "ones", "empty_like": "empty",
}
_REPARAMETRIZE = frozenset({"weight_norm", "spectral_norm", "remove_weight_norm", "remove_spectral_norm"})
_LEGACY = frozenset({"Tensor", "FloatTensor", "DoubleTensor", "HalfTensor"})
_SIZE_WORD = re.compile(r"(size|dim|num|width|len|features|channels|heads|count|^n_|^n[A-Z]|^[a-z]$)", re.IGNORECASE)
_NUMERIC = {"sqrt": math.sqrt, "log": math.log, "exp": math.exp, "floor": math.floor, "ceil": math.ceil}
_NUMERIC_ROOTS = ("math.", "numpy.", "np.", "torch.")


class TorchLibrary:
    """PyTorch's API for one interpreter: builds layer sites and module values, and sets each weight's init state."""

    def __init__(self, it: Host) -> None:
        self.it = it
        self.ctx = it.ctx
        self.scope = it.scope

    # -- calls of imported names ---------------------------------------------

    def qualified_call(self, q: str, e: cst.Call, env: dict[str, object]) -> object:
        """A call of an imported name: nn classes, nn.init, nn.Parameter, tensor makers, math, the project's own."""
        last = q.rsplit(".", 1)[-1]
        conv = conventions(self.ctx.source.settings.conventions)
        if q.startswith("torch.nn.init."):
            if last == "calculate_gain":
                return self.gain(e, env)
            return self.init_call(last, q, e, env)
        known = conv.init_function(q)
        if known is not None and ti.canonical(known) is not None:
            return self.init_call(known, q, e, env)
        if conv.never_initializes(q):
            self.it.args(e, env)
            return None
        if conv.is_identity(q):
            pos, _ = self.it.args(e, env)
            return pos[0] if pos else None
        registry = conv.activation_registry(q)
        if registry is not None:
            pos, kw = self.it.args(e, env)
            return self.registry_activation(registry, pos[0] if pos else kw.get("name", kw.get("act_layer")), q)
        apply_fn = conv.apply_function(q)
        if apply_fn is not None:
            pos, kw = self.it.args(e, env)
            fi, mi, named = apply_fn
            fn = pos[fi] if fi < len(pos) else kw.get("fn")
            mod = pos[mi] if mi < len(pos) else kw.get("module")
            self.it.reflect.apply_named(fn, mod, named, q.rsplit(".", 1)[-1], e)
            return mod
        if q in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            pos, _ = self.it.args(e, env)
            return self.parameter(pos[0] if pos else None, e)
        cls = torch_nn_class(q)
        if cls is not None:
            return self.construct(cls, e, env)
        if q == "functools.partial":
            pos, kw = self.it.args(e, env)
            return Partial(pos[0], tuple(pos[1:]), tuple(kw.items())) if pos and pos[0] is not None else None
        if q in ("collections.OrderedDict",):
            pos, _ = self.it.args(e, env)
            return ("odict", pos[0]) if pos else None
        if q.startswith("torch.") and last in TENSOR_MAKERS and q.count(".") == 1:
            return self.tensor(last, e, env)
        if q.startswith(_NUMERIC_ROOTS) and last in _NUMERIC:
            pos, _ = self.it.args(e, env)
            if len(pos) == 1:
                x = pos[0]
                if isinstance(x, (int, float)) and not isinstance(x, bool):
                    try:
                        return _NUMERIC[last](x)
                    except (ValueError, OverflowError):
                        return None
                if last == "sqrt":
                    s = as_scale(x)
                    return Scale(math.sqrt(s.coef), s.dim, s.power / 2) if s and s.coef >= 0 else None
            return None
        if last in self.ctx.extra_activations or q in self.ctx.extra_activations:
            fam = activation_family(last, self.ctx.extra_activations)
            return ActMod(last, fam) if fam else None
        if last in FOREIGN_PASSES:
            return PassMod(last)
        if q.startswith("torch.nn.utils.") and last in _REPARAMETRIZE:
            return self.reparametrize(last, e, env)
        project = self.ctx.project
        if project is not None and not conv.knows(q):
            found = self.project_call(q, last, e, env)
            if found is not _NOT_PROJECT:
                return found
        values = self.unknown_call(dotted(e.func) or q, e, env)
        if q.startswith("torch.nn.utils.") and values and isinstance(values[0], LayerMod):
            return values[0]
        return None

    def reparametrize(self, fn: str, e: cst.Call, env: dict[str, object]) -> object:
        """``weight_norm(layer)`` keeps the layer's init (g = ||v|| at the start, so w = v); ``spectral_norm``
        divides the weight by its largest singular value, a scale the analysis does not compute."""
        pos, _ = self.it.args(e, env)
        layer = pos[0] if pos else None
        if isinstance(layer, LayerMod) and fn == "spectral_norm":
            why = "spectral_norm divides the weight by its largest singular value"
            self.set_state(layer.layer, InitState(None, why))
        return layer
    def qualified_values(self, q: str, pos: list[object], kw: dict[str, object], e: cst.Call) -> object:
        """An imported class called with evaluated arguments (through ``partial``): norms, activations, project modules."""
        cls = torch_nn_class(q)
        if cls is not None:
            if cls in NORMS:
                return NormMod(cls)
            if cls in PASSES:
                return PassMod(cls)
            fam = activation_family(cls, self.ctx.extra_activations)
            return ActMod(cls, fam, module_slope(cls, pos, kw)) if fam else None
        project = self.ctx.project
        if project is not None:
            definition = project.definition(q)
            if definition is not None and isinstance(definition.node, cst.ClassDef) and project.is_module_class(definition.qualified):
                mod = ExtMod(definition.qualified)
                self.ctx.ext_mods.append((self.scope.name, mod))
                return mod
        return None

    def project_call(self, q: str, last: str, e: cst.Call, env: dict[str, object]) -> object:
        """A function or module class of another project file: the function inlined, the class an ExtMod."""
        project = self.ctx.project
        assert project is not None
        definition = project.definition(q)
        if definition is None:
            return _NOT_PROJECT
        if isinstance(definition.node, cst.FunctionDef):
            self.ctx.homes[id(definition.node)] = definition.home
            pos, kw = self.it.args(e, env)
            given = [layer for v in list(pos) + list(kw.values()) for layer in layers_in(self.ctx, v)]
            before = [(layer.state, dict(layer.overrides)) for layer in given]
            out = self.it.inline.call_values(Func(definition.node), pos, kw)
            if given and all(layer.state is b[0] and layer.overrides == b[1] for layer, b in zip(given, before)) \
                    and _initializes(definition.node):
                # a helper with init code that left every layer it was given alone: it was not followed
                for layer in given:
                    self.set_state(layer, InitState(None, f"initialized by helper {q.rsplit('.', 1)[-1]} (not followed)"))
            return out
        if not project.is_module_class(definition.qualified):
            return _NOT_PROJECT
        tree = project.subtree(definition.qualified)
        fam = activation_family(last, self.ctx.extra_activations)
        if fam is not None and tree and not tree[0][1] and len(tree) == 1:
            pos, kw = self.it.args(e, env)  # a project activation class (timm's GELU): by its name
            return ActMod(last, fam, module_slope(last, pos, kw))
        self.it.args(e, env)
        mod = ExtMod(definition.qualified)
        self.ctx.ext_mods.append((self.scope.name, mod))
        return mod

    def ext_part_touched(self, part: ExtPart, what: str) -> None:
        """Init code writes a named part of a module of another file (``m.fc.weight``): its layers may be re-initialized."""
        reason = f"may be re-initialized by {what} on .{part.path} of {part.mod.qualified.rsplit('.', 1)[-1]}"
        for probes in part.mod.probes.values():
            for probe in probes:
                self.set_state(probe, InitState(None, reason))

    def registry_activation(self, kind: str, name: object, q: str) -> object:
        """``ACT2FN["gelu"]``, ``get_act_layer("relu")``: the activation a registry maps a literal name to;
        ``get_norm_layer("layernorm2d")`` (kind "norm"): a normalization class. A class given instead of a name
        comes back unchanged (``get_act_layer(nn.GELU)``)."""
        if kind in ("class", "norm") and isinstance(name, (ClassRef, ActClass, Partial)):
            return name
        if kind == "norm":
            return ClassRef(_NORM_NAMES.get(next((k for k in _NORM_NAMES if k in name.lower()), ""), "torch.nn.LayerNorm")
                            ) if isinstance(name, str) else ClassRef(q + "[?]")
        if not isinstance(name, str):
            return ClassRef(q + "[?]") if kind == "class" else Sym(f"{q.rsplit('.', 1)[-1]}(...)")
        fam = activation_family(name, self.ctx.extra_activations)
        if fam is None:
            return OpaqueMod(f"activation {name!r} from {q.rsplit('.', 1)[-1]} has no family")
        if kind == "class":
            return ActClass(name)
        if kind == "function":
            return ActFunction(name)
        return ActMod(name, fam, default_slope("torch", name))

    def unknown_call(self, name: str, e: cst.Call, env: dict[str, object]) -> list[object]:
        """A call the analysis does not model: weights it receives become unresolved.

        Unless the rulebook knows it initializes nothing (``_log_api_usage_once(self)``, SPEC 8.33).
        """
        if not e.args:
            return []
        values, kw = self.it.args(e, env)
        if initializes_nothing(name) or initializes_nothing(self.ctx.names.qualify(e.func) or name):
            return values
        origin = self.origin_text(name)
        for v in list(values) + list(kw.values()):
            for layer in layers_in(self.ctx, v, weights_only=isinstance(v, WeightRef)):
                self.set_state(layer, InitState(None, f"initialized by helper {origin}"))
        return values

    def origin_text(self, name: str) -> str:
        """How a finding names a helper: where it was imported from."""
        root = name.split(".", 1)[0]
        q = self.ctx.names.lookup(root)
        if q is not None:
            module, _, obj = q.rpartition(".")
            return f"{name} imported from {module or q}" if module else f"{name} (module {q})"
        return name

    # -- methods of torch values -----------------------------------------------

    def grow(self, seq: ListMod | SeqMod, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``ModuleList.append/extend``, ``Sequential.append/add_module``: the container gains entries."""
        pos, _ = self.it.args(e, env)
        if isinstance(seq, ListMod):
            if pos:
                add = [pos[0]] if method == "append" else list(pos[0].entries if isinstance(pos[0], ListBuild) else pos[0] if isinstance(pos[0], tuple) else ())
                path = next((k for k, v in self.scope.attrs.items() if v is seq), None)
                local = next((k for k, v in env.items() if v is seq), None)  # a list built in a local first
                check_size(self.it.ctx, len(seq.entries) + len(add))
                for i, item in enumerate(add, start=len(seq.entries)):
                    if path is not None or local is not None:  # in a loop every run appends: ``[i]``
                        index = "i" if self.it.repeat > 1 else i
                        name_mod(item, f"{path or local}[{index}]", provisional=path is None)
                seq.entries = seq.entries + tuple(add)
            return None
        if pos:
            check_size(self.it.ctx, len(seq.entries) + 1)
            seq.entries = seq.entries + (pos[-1],)
        return None

    def tensor_method(self, ref: WeightRef, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``weight.normal_(...)``, ``.mul_(c)``, other in-place writes, ``.dim()`` on a weight."""
        pos, kw = self.it.args(e, env)
        if method in ti.METHOD_SIGNATURES:
            spec = ti.spec_for(method, f"{self.weight_text(e)}.{method}", pos, kw, method=True)
            self.set_spec(ref.layer, spec, e)
        elif method in ("mul_", "div_") and len(pos) == 1 and isinstance(pos[0], (int, float)) and not isinstance(pos[0], bool):
            factor = float(pos[0]) if method == "mul_" else (1 / float(pos[0]) if pos[0] else 0.0)
            self.scale_weight(ref.layer, factor)
        elif method in ("copy_", "set_", "add_", "sub_", "clamp_", "bernoulli_", "exponential_", "random_", "cauchy_",
                        "log_normal_", "geometric_", "masked_fill_", "mul_", "div_", "index_fill_"):
            self.set_state(ref.layer, InitState(None, f"weight modified by .{method}()"))
        elif method in ("dim", "ndimension"):
            return ref.layer.rank
        return None

    def fresh_tensor_method(self, t: TensorVal, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``torch.empty(n, m).normal_(...)``: the fill becomes how the tensor is drawn."""
        if method in ("normal_", "uniform_", "fill_", "zero_"):
            spec = ti.spec_for(method, f".{method}", *self.it.args(e, env), method=True)
            if isinstance(spec, InitSpec):
                return _tensor_from_spec(t, spec)
        return None

    def weight_text(self, e: cst.Call) -> str:
        """The receiver of a fill method as written (``self.fc.weight``)."""
        func = e.func
        if isinstance(func, cst.Attribute):
            return dotted(func.value) or "weight"
        return "weight"

    # -- building ------------------------------------------------------------

    def construct(self, cls: str, e: cst.Call, env: dict[str, object]) -> object:
        """An ``nn.<cls>(...)`` instance: a layer site, a container, a norm, an activation or opaque."""
        if cls in WEIGHT_LAYERS:
            return LayerMod(self.layer(cls, e, env))
        if cls == "Sequential":
            pos, kw = self.it.args(e, env)
            return self.sequential(pos, kw)
        if cls == "ModuleList":
            pos, _ = self.it.args(e, env)
            return ListMod(tuple(_entries(pos[0]) if pos else ()))
        if cls == "ModuleDict":
            pos, _ = self.it.args(e, env)
            items = pos[0] if pos else {}
            if isinstance(items, tuple) and items and items[0] == "odict":
                items = _odict(items[1])
            return DictMod({k: v for k, v in items.items() if isinstance(v, Mod)}) if isinstance(items, dict) else OpaqueMod("ModuleDict not literal")
        if cls in NORMS:
            self.it.args(e, env)
            return NormMod(cls)
        if cls in PASSES:
            return PassMod(cls)
        if cls in DROPOUTS:
            layer = self.site(cls, DROPOUTS[cls], e)
            return PassMod(cls, dropout=layer)
        if cls in ATTENTION_MODULES or is_loss_module(cls):
            self.it.args(e, env)
            return SinkMod("attention" if cls in ATTENTION_MODULES else "loss", cls)
        fam = activation_family(cls, self.ctx.extra_activations)
        if fam is not None:
            pos, kw = self.it.args(e, env)
            if fam == "selu":
                self.scope.uses_selu = True
            return ActMod(cls, fam, module_slope(cls, pos, kw))
        self.it.args(e, env)
        return OpaqueMod(f"{cls} is not modelled")

    def construct_local(self, name: str, e: cst.Call, env: dict[str, object]) -> object:
        """A same-file module class instantiated: a child module."""
        pos, kw = self.it.args(e, env)  # arguments may build layers (a block given a layer)
        self.ctx.constructions.append((self.scope.name, name, tuple(pos), dict(kw)))
        self.ctx.constructed.add(id(e))
        return ChildMod(name)

    def sequential(self, pos: list[object], kw: dict[str, object]) -> SeqMod:
        """``nn.Sequential(*modules)`` or ``nn.Sequential(OrderedDict(...))``."""
        if len(pos) == 1 and isinstance(pos[0], tuple) and pos[0] and pos[0][0] == "odict":
            items = _odict(pos[0][1])
            return SeqMod(tuple(items.values()), tuple(items.keys()))
        entries: list[object] = []
        for p in pos:
            entries += _entries(p) if isinstance(p, ListBuild) else [p]
        return SeqMod(tuple(entries))

    def sequential_init(self, pos: list[object]) -> None:
        """``super().__init__(*modules)`` of an ``nn.Sequential`` subclass: the class is that sequence."""
        scope = self.scope
        if len(pos) == 1 and isinstance(pos[0], tuple) and pos[0] and pos[0][0] == "odict":
            scope.seq = self.sequential([pos[0]], {})
        else:
            scope.seq = self.sequential(pos, {})
        name_mod(scope.seq, "")

    def site(self, cls: str, kind: str, e: cst.Call) -> Layer:
        """The layer built by this call in this scope (one per call site, however often it runs)."""
        key = (id(e), self.scope.name)
        layer = self.ctx.sites.get(key)
        if layer is None:
            assert self.it.stmt is not None
            layer = Layer(cls=cls, kind=kind, owner=self.scope.name, stmt=self.it.stmt, call=e,
                          count=self.it.repeat, in_class=self.scope.is_module, foreign=self.ctx.foreign)
            self.ctx.sites[key] = layer
            self.ctx.layers.append(layer)
            self.scope.layers.append(layer)
        return layer

    def layer(self, cls: str, e: cst.Call, env: dict[str, object]) -> Layer:
        """A weight layer: its fans from the constructor arguments and PyTorch's default init."""
        spec = WEIGHT_LAYERS[cls]
        fresh = (id(e), self.scope.name) not in self.ctx.sites
        layer = self.site(cls, spec.kind, e)
        pos, kw = self.it.args(e, env)
        if not fresh:
            return layer
        a = dict(zip(spec.params, pos))
        a.update({k: v for k, v in kw.items() if k in spec.params})
        fan_in, fan_out, scale = _fans(cls, a)
        layer.fan_in, layer.fan_out = fan_in, fan_out
        layer.rank = 2 + (WEIGHT_LAYERS[cls].rank)
        if spec.kind == "embedding":
            layer.state = InitState(InitSpec("fixed-std", source="default", std=1.0, distribution="normal", call="PyTorch default N(0, 1)"))
        else:
            layer.state = InitState(ti.default_spec(scale=scale))
        return layer

    def parameter(self, value: object, e: cst.Call) -> object:
        """``nn.Parameter(tensor)``: a raw parameter drawn as the tensor was."""
        layer = self.site("Parameter", "parameter", e)
        if isinstance(value, TensorVal):
            layer.shape = value.shape
            layer.rank = len(value.shape)
            layer.state = InitState(_parameter_spec(value, layer))
        else:
            layer.state = InitState(None, "parameter value not understood")
        return ParamMod(layer)

    def tensor(self, maker: str, e: cst.Call, env: dict[str, object]) -> object:
        """``torch.randn(...)`` and friends: a tensor with its shape and distribution."""
        pos, kw = self.it.args(e, env)
        kind = TENSOR_MAKERS[maker]
        if maker in _LEGACY and not _sizes(pos, e):
            return None  # built from data or an existing tensor: not uninitialized memory (SPEC 8.33)
        shape: tuple[object, ...] = tuple(pos)
        value = None
        if kind == "full" and len(pos) == 2:
            shape = (pos[0],) if not isinstance(pos[0], tuple) else pos[0]
            value = pos[1] if isinstance(pos[1], (int, float)) else None
        elif len(pos) == 1 and isinstance(pos[0], tuple):
            shape = pos[0]
        if maker.endswith("_like"):
            shape = ()
        if kind == "eye":
            shape = tuple(pos[:2]) if len(pos) > 1 else tuple(pos) * 2
        var, mean = {"randn": (1.0, 0.0), "rand": (1 / 12, 0.5)}.get(kind, (0.0, 0.0))
        if kind == "ones":
            value = 1.0
        return TensorVal(kind, shape, var=var, mean=mean, value=value, call=f"torch.{maker}")

    def gain(self, e: cst.Call, env: dict[str, object]) -> object:
        """``nn.init.calculate_gain(nonlinearity, param)`` as a number that remembers its nonlinearity."""
        from ... import formulas

        pos, kw = self.it.args(e, env)
        nonlin = pos[0] if pos else kw.get("nonlinearity")
        param = pos[1] if len(pos) > 1 else kw.get("param")
        if not isinstance(nonlin, str):
            return None
        param_f = float(param) if isinstance(param, (int, float)) and not isinstance(param, bool) else None
        if param is not None and param_f is None and param is not NONE:
            return None
        found = formulas.torch_gain2(nonlin, param_f)
        if found is None:
            return None
        return ti.Gain(math.sqrt(found[0]), found[1], nonlin)

    def init_call(self, fn: str, q: str, e: cst.Call, env: dict[str, object]) -> object:
        """``nn.init.<fn>(tensor, ...)``: the init spec of a weight (or of a fresh tensor)."""
        name = ti.canonical(fn)
        pos, kw = self.it.args(e, env)
        target = pos[0] if pos else kw.get("tensor")
        if isinstance(target, AltMod):  # ``self.sinks = nn.Parameter(...) if swa else None``: the parameter, where built
            params = [o for o in target.options if isinstance(o, ParamMod)]
            if len(params) == 1 and all(isinstance(o, (ParamMod, PassMod)) for o in target.options):
                target = params[0]
        if isinstance(target, ParamMod):
            target = WeightRef(target.layer)
        call_text = dotted(e.func) or fn
        if isinstance(target, ExtPart):
            self.ext_part_touched(target, call_text)
            return target
        if name is None:
            if isinstance(target, WeightRef):
                self.set_state(target.layer, InitState(None, f"{call_text} is not modelled"))
            return target
        if isinstance(target, TensorVal):
            spec = ti.spec_for(name, call_text, pos[1:], {k: v for k, v in kw.items() if k != "tensor"})
            return _tensor_from_spec(target, spec) if isinstance(spec, InitSpec) else None
        if not isinstance(target, WeightRef):
            return target
        spec = ti.spec_for(name, call_text, pos[1:], {k: v for k, v in kw.items() if k != "tensor"})
        self.set_spec(target.layer, spec, e)
        return target

    # -- init states ---------------------------------------------------------

    def set_spec(self, layer: Layer, spec: InitSpec | str, e: cst.Call, replaceable: bool = True) -> None:
        """The weight is initialized by the call ``e`` (or why its init is unknown); ``replaceable``: ``e`` is an init
        call on the weight a fix may replace, not a framework's method that inits every submodule."""
        stmt, call = (None, None) if self.ctx.foreign else (self.it.stmt, e if replaceable else None)
        if isinstance(spec, str):
            self.set_state(layer, InitState(None, spec, stmt, call))
        else:
            self.set_state(layer, InitState(spec, "", stmt, call))

    def set_state(self, layer: Layer, state: InitState) -> None:
        """Set a weight's init; a parent class initializing a child's layer records an override."""
        if (layer.probe or self.ctx.foreign) and not state.via and self.it.current_fn:
            state.via = self.it.current_fn
        if layer.owner != self.scope.name and layer.in_class and self.scope.name != layer.owner:
            layer.overrides[self.scope.name] = state
        else:
            layer.state = state

    def scale_weight(self, layer: Layer, factor: float) -> None:
        """``weight *= c`` after an init: the spec scaled."""
        state = layer.overrides.get(self.scope.name, layer.state) if layer.owner != self.scope.name else layer.state
        if state.spec is None:
            return
        self.set_state(layer, InitState(ti.scaled(state.spec, factor), state.reason, self.it.stmt or state.stmt, state.call))



def _sizes(pos: list[object], e: cst.Call) -> bool:
    """Whether ``torch.Tensor(...)``'s arguments are sizes (uninitialized memory), not data to copy.

    Numbers are sizes; lists and tensors are data. Any other value is a size among several
    arguments (the data form takes one), or alone when it is named like one (``config.hidden_size``,
    ``num_features``, ``dim``); ``torch.FloatTensor(weights)`` copies.
    """
    if not pos:
        return False
    for value in pos:
        if isinstance(value, bool) or isinstance(value, (tuple, ListBuild, TensorVal, WeightRef, ParamMod, LayerMod)):
            return False  # (``self.n = n`` binds an OpaqueMod "from config": a size all the same)
    if len(pos) > 1 or isinstance(pos[0], (int, float, Scale)):
        return True
    arg = next((a.value for a in e.args if a.keyword is None), None)
    if isinstance(arg, (cst.BinaryOperation, cst.Integer)):
        return True
    name = pos[0].name if isinstance(pos[0], Sym) else (dotted(arg) or "").rsplit(".", 1)[-1] if arg is not None else ""
    return bool(name) and bool(_SIZE_WORD.search(name))
_INIT_WORDS = ("init.", "init_", "normal_", "uniform_", "zero_", "fill_", "orthogonal_", "constant_")


def _initializes(node: cst.FunctionDef) -> bool:
    """Does a helper's code call something that initializes (so ignoring the layers it is given means it was not followed)?"""
    code = cst.Module(body=[node]).code
    return any(w in code for w in _INIT_WORDS)


def _entries(value: object) -> list[object]:
    if isinstance(value, ListBuild):
        return list(value.entries)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (SeqMod, ListMod)):
        return list(value.entries)
    return [value] if isinstance(value, Mod) else []


def _odict(value: object) -> dict[str, object]:
    out: dict[str, object] = {}
    items = value.entries if isinstance(value, ListBuild) else value if isinstance(value, tuple) else ()
    for item in items:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            out[item[0]] = item[1]
    if isinstance(value, dict):
        out.update(value)
    return out


def _int(v: object) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int) and abs(v) <= 2**40:  # beyond: no real layer, and float(v) would overflow
        return v
    if isinstance(v, float) and v.is_integer() and abs(v) <= 2**40:
        return int(v)
    return None


def _fans(cls: str, a: dict[str, object]) -> tuple[int | None, int | None, float | None]:
    """fan_in, fan_out (PyTorch's storage convention) and the default's variance scale (1/3 of 1/fan_in).

    Linear (out, in); Conv (out, in/groups, k...): fan_in = in/groups*rf, fan_out = out*rf;
    ConvTranspose stored (in, out/groups, k...): fan_in = out/groups*rf, fan_out = in*rf;
    Bilinear (out, in1, in2): fans in1*in2, out*in2, default U(±1/√in1).
    """
    spec = WEIGHT_LAYERS[cls]
    if spec.kind in ("linear", "embedding"):
        fi = _int(a.get("in_features", a.get("num_embeddings")))
        fo = _int(a.get("out_features", a.get("embedding_dim")))
        return fi, fo, 1 / 3
    if spec.kind == "bilinear":
        i1, i2, out = (_int(a.get(k)) for k in spec.params)
        if i1 is None or i2 is None or out is None:
            return None, None, None
        return i1 * i2, out * i2, i2 / 3
    rf = receptive_field(a.get("kernel_size"), spec.rank)
    groups = _int(a.get("groups", 1))
    cin, cout = _int(a.get("in_channels")), _int(a.get("out_channels"))
    if rf is None or not groups:
        return None, None, 1 / 3
    if spec.kind == "conv":
        fi = cin // groups * rf if cin is not None else None
        fo = cout * rf if cout is not None else None
    else:
        fi = cout // groups * rf if cout is not None else None
        fo = cin * rf if cin is not None else None
    return fi, fo, 1 / 3


NOT_LITERAL = -1.0  # a slope given but not resolvable to a number: the consumer is unresolved, never the default


def module_slope(cls: str, pos: list[object], kw: dict[str, object]) -> float:
    """LeakyReLU(negative_slope), PReLU(init=0.25), RReLU: mean of (lower, upper) (SPEC 8.26).

    A slope that is given but unknown (``nn.LeakyReLU(self.slope)`` from a config) is :data:`NOT_LITERAL`,
    not the default: 0.01 would be a guess.
    """
    default = default_slope("torch", cls)
    if cls == "LeakyReLU":
        v = kw.get("negative_slope", pos[0] if pos else default)
    elif cls == "PReLU":
        v = kw.get("init", pos[1] if len(pos) > 1 else default)
    elif cls == "RReLU":
        lo = kw.get("lower", pos[0] if pos else formulas.RRELU_BOUNDS[0])
        hi = kw.get("upper", pos[1] if len(pos) > 1 else formulas.RRELU_BOUNDS[1])
        v = formulas.rrelu_slope(lo, hi) if _number(lo) and _number(hi) else NOT_LITERAL
    else:
        return 0.0
    return float(v) if _number(v) else NOT_LITERAL


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _parameter_spec(t: TensorVal, layer: Layer) -> InitSpec:
    if t.kind == "empty":
        return InitSpec("uninitialized", call=t.call)
    if t.kind == "zeros":
        return InitSpec("zero", value=0.0, distribution="constant", call=t.call)
    if t.kind in ("ones", "full"):
        if t.value is None:
            return InitSpec("constant", value=None, call=t.call)
        return InitSpec("zero" if t.value == 0 else "constant", value=t.value, distribution="constant", call=t.call)
    if t.kind == "eye":
        return InitSpec("identity", call=t.call)
    if t.kind == "spec" and t.spec is not None:
        return t.spec
    dist = "normal" if t.kind == "randn" else "uniform"
    if t.dim is None or t.power == 0:
        return InitSpec("fixed-std", std=math.sqrt(t.var), mean=t.mean, distribution=dist, call=t.call)  # type: ignore[arg-type]
    layer.param_scale = (t.var, t.dim) if math.isclose(t.power, -1.0) else (t.var, None)
    return InitSpec("fixed-std", std=None, distribution=dist, call=t.call, note="scaled by a symbolic size")  # type: ignore[arg-type]


def _tensor_from_spec(t: TensorVal, spec: InitSpec) -> TensorVal:
    return replace(t, kind="spec", spec=spec, call=spec.call)
