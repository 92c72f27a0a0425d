"""The constructor interpreter: what ``__init__`` (and the init code it reaches) builds and initializes.

Walks statements by hand (no libcst visitors): assignments build module values
(layers, Sequentials, lists, child modules), init calls and in-place fills set
each weight's :class:`InitState` in program order, loops over ``self.modules()``
/ ``self.parameters()`` / ``self.apply(fn)`` dispatch per candidate layer, and
same-file helpers (methods, functions, base classes) are inlined. Conditions the
analysis can evaluate (literal constructor defaults) pick a branch; otherwise both
branches run and disagreeing results become unresolved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import libcst as cst

from ...records import InitSpec
from ...rulebook import activation_family, default_slope
from ..python.names import Names, dotted
from ..python.source import SourceFile
from ..python.syntax import arguments, literal, sized, suite
from . import initializers as ti
from .tables import (
    DROPOUTS,
    FOREIGN_PASSES,
    HARMLESS,
    NORMS,
    PASSES,
    WEIGHT_LAYERS,
    is_instance,
    receptive_field,
)
from .tree import (
    ActMod,
    Alt,
    AltMod,
    ChildMod,
    DictMod,
    InitState,
    Layer,
    LayerMod,
    ListMod,
    Mod,
    NormMod,
    OpaqueMod,
    ParamMod,
    PassMod,
    Repeat,
    Scope,
    SeqMod,
    flat,
    mods_under,
)

MAX_DEPTH = 8


class _None:
    """Python's ``None`` as a value (distinct from "unknown", which is ``None``)."""

    def __repr__(self) -> str:
        return "None"


NONE = _None()


@dataclass(frozen=True)
class Sym:
    """A constructor parameter without a literal default: a symbolic size."""

    name: str


@dataclass(frozen=True)
class Scale:
    """A symbolic factor coef * dim**power (dim a Sym)."""

    coef: float
    dim: Sym
    power: float


@dataclass(frozen=True)
class SelfRef:
    scope: Scope


@dataclass(frozen=True)
class SuperRef:
    scope: Scope


@dataclass(frozen=True)
class ClassRef:
    """A qualified imported name (``torch.nn.Linear``, ``math.sqrt``, ``timm.layers.trunc_normal_``)."""

    qualified: str


@dataclass(frozen=True)
class LocalClass:
    name: str


@dataclass(frozen=True)
class Func:
    """A same-file function or method (``bound`` is the scope for methods)."""

    node: cst.FunctionDef
    bound: Scope | None = None


@dataclass(frozen=True)
class LambdaRef:
    node: cst.Lambda


@dataclass(frozen=True)
class WeightRef:
    layer: Layer


@dataclass(frozen=True)
class BiasRef:
    layer: Layer


@dataclass(frozen=True)
class ClassOf:
    name: str


class PathStr(str):
    """A parameter name relative to its owner (``c_proj.weight``): only suffix tests are exact."""


@dataclass(frozen=True)
class TensorVal:
    """A tensor expression for ``nn.Parameter``: how it was drawn and scaled."""

    kind: str  # randn, rand, empty, zeros, ones, full, eye
    shape: tuple[object, ...]
    var: float = 1.0  # variance multiplier (coefficient)
    dim: Sym | None = None  # variance also times dim**power
    power: float = 0.0
    mean: float = 0.0
    value: float | None = None
    call: str = ""
    spec: InitSpec | None = None  # set by an init function applied to the fresh tensor


@dataclass
class ListBuild:
    entries: list[object]


@dataclass(frozen=True)
class Candidates:
    """What ``self.modules()`` / ``self.parameters()`` iterate: the values a dispatch loop sees."""

    items: tuple[object, ...]
    named: bool = False


_TENSOR_MAKERS = {
    "randn": "randn", "rand": "rand", "empty": "empty", "zeros": "zeros", "ones": "ones", "full": "full",
    "Tensor": "empty", "FloatTensor": "empty", "DoubleTensor": "empty", "HalfTensor": "empty", "eye": "eye",
    "randn_like": "randn", "zeros_like": "zeros", "ones_like": "ones", "empty_like": "empty",
}
_NUMERIC = {"sqrt": math.sqrt, "log": math.log, "exp": math.exp, "floor": math.floor, "ceil": math.ceil}
_NUMERIC_ROOTS = ("math.", "numpy.", "np.", "torch.")
_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "numpy.pi": math.pi}


class BudgetExceeded(Exception):
    """The file needs more interpretation steps than a lint should spend: give up on it (unresolved)."""


class FileContext:
    """Everything one file's interpretation shares."""

    def __init__(self, source: SourceFile, names: Names) -> None:
        self.steps = 0
        # statements interpreted per file: generous for real models, bounded for pathological code
        self.budget = 20_000 + 20 * source.text.count("\n")
        self.source = source
        self.names = names
        self.scopes: dict[str, Scope] = {}
        self.functions: dict[str, cst.FunctionDef] = {}
        self.constants: dict[str, object] = {}
        self.children: dict[str, set[str]] = {}
        self.sites: dict[tuple[int, str], Layer] = {}
        self.layers: list[Layer] = []
        self.extra_activations = source.settings.activations
        self.mentions: dict[str, int] = {}
        self.invoked: set[int] = set()  # functions and methods the interpretation ran

    def descendants(self, name: str) -> list[Scope]:
        out, todo, seen = [], [name], {name}
        while todo:
            for child in sorted(self.children.get(todo.pop(), ())):
                if child not in seen and child in self.scopes:
                    seen.add(child)
                    out.append(self.scopes[child])
                    todo.append(child)
        return out

    def method(self, scope: Scope, name: str, seen: frozenset[str] = frozenset()) -> cst.FunctionDef | None:
        """A method of the class or of its same-file bases."""
        if name in scope.methods:
            return scope.methods[name]
        for base in scope.local_bases:
            if base in self.scopes and base not in seen:
                found = self.method(self.scopes[base], name, seen | {scope.name})
                if found is not None:
                    return found
        return None


# Interpreted numbers beyond this are no real size or scale, and float() of them would overflow.
def torch_nn_class(qualified: str) -> str | None:
    """``torch.nn.Linear`` / ``torch.nn.modules.linear.Linear`` -> ``Linear``."""
    if not qualified.startswith("torch.nn."):
        return None
    last = qualified.rsplit(".", 1)[-1]
    rest = qualified[len("torch.nn."):]
    if rest == last or rest.startswith("modules."):
        return last
    return None


def _arith(op: cst.BaseBinaryOp, a: object, b: object) -> object:
    """Numeric (and symbolic-scale) arithmetic; None when unknown."""
    na = isinstance(a, (int, float)) and not isinstance(a, bool)
    nb = isinstance(b, (int, float)) and not isinstance(b, bool)
    if na and nb:
        try:
            return sized({
                cst.Add: lambda: a + b, cst.Subtract: lambda: a - b, cst.Multiply: lambda: a * b,
                cst.Divide: lambda: a / b, cst.FloorDivide: lambda: a // b, cst.Power: lambda: a ** b,
                cst.Modulo: lambda: a % b,
            }[type(op)]())  # type: ignore[operator]
        except (KeyError, ZeroDivisionError, OverflowError, TypeError, ValueError):
            return None
    if isinstance(a, TensorVal) or isinstance(b, TensorVal):
        return _tensor_arith(op, a, b)
    sa, sb = _as_scale(a), _as_scale(b)
    if isinstance(op, cst.Multiply):
        if sa and nb:
            return Scale(sa.coef * b, sa.dim, sa.power)  # type: ignore[operator]
        if sb and na:
            return Scale(sb.coef * a, sb.dim, sb.power)  # type: ignore[operator]
    if isinstance(op, cst.Divide):
        if sa and nb and b:
            return Scale(sa.coef / b, sa.dim, sa.power)  # type: ignore[operator]
        if sb and na:
            return Scale(a / sb.coef, sb.dim, -sb.power)  # type: ignore[operator]
    if isinstance(op, cst.Power) and sa and nb:
        return Scale(sa.coef ** b, sa.dim, sa.power * b)  # type: ignore[operator]
    if isinstance(op, (cst.Add, cst.Subtract, cst.Multiply)) and isinstance(a, tuple) and isinstance(b, tuple):
        return a + b if isinstance(op, cst.Add) else None
    return None


def _as_scale(v: object) -> Scale | None:
    if isinstance(v, Scale):
        return v
    if isinstance(v, Sym):
        return Scale(1.0, v, 1.0)
    return None


def _tensor_arith(op: cst.BaseBinaryOp, a: object, b: object) -> object:
    """randn(...) * c, / c, / sqrt(n), * (2 / n) ** 0.5: the variance is scaled by the factor squared."""
    t, other = (a, b) if isinstance(a, TensorVal) else (b, a)
    assert isinstance(t, TensorVal)
    if t.kind not in ("randn", "rand", "ones", "full"):
        return None
    divide = isinstance(op, cst.Divide) and isinstance(a, TensorVal)
    if not (isinstance(op, cst.Multiply) or divide):
        return None
    if isinstance(other, (int, float)) and not isinstance(other, bool) and other:
        f = 1 / other if divide else other
        value = t.value * f if t.value is not None else None
        return replace(t, var=t.var * f * f, mean=t.mean * f, value=value)
    s = _as_scale(other)
    if s is None or (t.dim is not None and t.dim != s.dim):
        return None
    power = -s.power if divide else s.power
    coef = 1 / s.coef if divide else s.coef
    return replace(t, var=t.var * coef * coef, dim=s.dim, power=t.power + 2 * power, mean=t.mean * coef)


def _truth(v: object) -> bool | None:
    if v is None:
        return None
    if isinstance(v, (Sym, Scale, TensorVal)):
        return None
    if v is NONE:
        return False
    if isinstance(v, PathStr):
        return bool(v)
    if isinstance(v, (bool, int, float, str, tuple)):
        return bool(v)
    return True  # a module, a class, a function


class Builder:
    """Interprets one scope's constructor (and whatever it reaches) into layers and init states."""

    def __init__(self, ctx: FileContext, scope: Scope) -> None:
        self.ctx = ctx
        self.scope = scope
        self.stmt: cst.CSTNode | None = None
        self.repeat = 1
        self.depth = 0
        self.stack: list[int] = []
        self.returns: list[object] = []
        self.conditional = 0

    # -- statements --------------------------------------------------------

    def run(self, body: list[Any], env: dict[str, object]) -> bool:
        """Execute a block; True when it returned."""
        self.ctx.steps += len(body)
        if self.ctx.steps > self.ctx.budget:
            raise BudgetExceeded
        for stmt in body:
            kind = type(stmt)
            if kind is cst.SimpleStatementLine:
                for small in stmt.body:
                    self.stmt = small
                    if self.small(small, env):
                        return True
            elif kind is cst.FunctionDef or kind is cst.ClassDef:
                continue
            elif isinstance(stmt, cst.BaseSmallStatement):
                self.stmt = stmt
                if self.small(stmt, env):
                    return True
            elif isinstance(stmt, cst.If):
                self.stmt = stmt
                if self.if_(stmt, env):
                    return True
            elif isinstance(stmt, cst.For):
                self.stmt = stmt
                self.for_(stmt, env)
            elif isinstance(stmt, cst.With):
                self.stmt = stmt
                if self.run(suite(stmt.body), env):
                    return True
            elif isinstance(stmt, cst.Try):
                if self.run(suite(stmt.body), env):
                    return True
            elif isinstance(stmt, cst.While):
                self.loop_body(suite(stmt.body), env, None, None)
        return False

    def small(self, stmt: cst.BaseSmallStatement, env: dict[str, object]) -> bool:
        kind = type(stmt)
        if kind is cst.Import or kind is cst.ImportFrom or kind is cst.Pass:
            return False
        if kind is cst.Assign:
            value = self.ev(stmt.value, env)
            for target in stmt.targets:
                self.assign(target.target, value, env)
        elif isinstance(stmt, cst.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, self.ev(stmt.value, env), env)
        elif isinstance(stmt, cst.AugAssign):
            self.aug_assign(stmt, env)
        elif isinstance(stmt, cst.Expr):
            if not isinstance(stmt.value, (cst.SimpleString, cst.ConcatenatedString)):  # docstrings
                self.ev(stmt.value, env)
        elif isinstance(stmt, cst.Return):
            self.returns.append(self.ev(stmt.value, env) if stmt.value is not None else NONE)
            return True
        return False

    def assign(self, target: cst.BaseExpression, value: object, env: dict[str, object]) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
            if isinstance(value, Mod):
                self.name_mod(value, target.value, provisional=True)
            return
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = env.get(target.value.value)
            attr = target.attr.value
            if isinstance(owner, SelfRef):
                if isinstance(value, Sym):
                    value = OpaqueMod(f"activation from config: self.{attr} = {value.name}")
                elif isinstance(value, ListBuild):
                    value = ListMod(tuple(value.entries))
                self.name_mod(value, attr)
                owner.scope.attrs[attr] = value
            elif isinstance(owner, (LayerMod, ParamMod)) and attr == "weight":
                self.set_state(owner.layer, InitState(None, f"weight assigned directly: {dotted(target) or attr}"))
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            items = value if isinstance(value, tuple) and len(value) == len(target.elements) else None
            for i, element in enumerate(target.elements):
                self.assign(element.value, items[i] if items else None, env)
            return
        if isinstance(target, cst.Subscript):
            base = self.ev(target.value, env)
            if isinstance(base, (WeightRef,)):
                self.set_state(base.layer, InitState(None, "weight written by index"))

    def aug_assign(self, stmt: cst.AugAssign, env: dict[str, object]) -> None:
        target = self.ev(stmt.target, env)
        value = self.ev(stmt.value, env)
        if isinstance(target, ListBuild) and isinstance(value, (tuple, ListBuild)):
            target.entries += list(value.entries if isinstance(value, ListBuild) else value)
            return
        if isinstance(target, ListMod) and isinstance(value, (tuple, ListBuild)):
            target.entries = target.entries + tuple(value.entries if isinstance(value, ListBuild) else value)
            return
        if isinstance(target, WeightRef):
            if isinstance(stmt.operator, cst.MultiplyAssign) and isinstance(value, (int, float)):
                self.scale_weight(target.layer, float(value))
            elif isinstance(stmt.operator, cst.DivideAssign) and isinstance(value, (int, float)) and value:
                self.scale_weight(target.layer, 1 / float(value))
            else:
                self.set_state(target.layer, InitState(None, "weight modified in place by an expression"))
            return
        if isinstance(stmt.target, cst.Name):
            env[stmt.target.value] = _arith(_AUG[type(stmt.operator)], target, value) if type(stmt.operator) in _AUG else None

    def if_(self, stmt: cst.If, env: dict[str, object]) -> bool:
        test = _truth(self.ev(stmt.test, env))
        orelse: list[Any] = []
        if isinstance(stmt.orelse, cst.If):
            orelse = [stmt.orelse]
        elif isinstance(stmt.orelse, cst.Else):
            orelse = suite(stmt.orelse.body)
        if test is True:
            return self.run(suite(stmt.body), env)
        if test is False:
            return self.run(orelse, env)
        return self.both(suite(stmt.body), orelse, env)

    def both(self, first: list[Any], second: list[Any], env: dict[str, object]) -> bool:
        """Run two branches from the same state and merge what they did."""
        snap = self.snapshot(env)
        self.conditional += 1
        ret_a = self.run(first, env)
        after_a = self.snapshot(env)
        self.restore(snap, env)
        ret_b = self.run(second, env)
        after_b = self.snapshot(env)
        self.conditional -= 1
        self.merge(snap, after_a, after_b, env, ret_a, ret_b)
        return ret_a and ret_b

    def snapshot(self, env: dict[str, object]) -> dict[str, Any]:
        lists = {id(v): (v, list(v.entries)) for v in list(env.values()) + list(self.scope.attrs.values())
                 if isinstance(v, (ListBuild, ListMod))}
        return {
            "env": dict(env),
            "attrs": dict(self.scope.attrs),
            "states": {id(l): (l, l.state, dict(l.overrides)) for l in self.ctx.layers},
            "lists": lists,
        }

    def restore(self, snap: dict[str, Any], env: dict[str, object]) -> None:
        env.clear()
        env.update(snap["env"])
        self.scope.attrs.clear()
        self.scope.attrs.update(snap["attrs"])
        for layer, state, overrides in snap["states"].values():
            layer.state = state
            layer.overrides = dict(overrides)
        for obj, entries in snap["lists"].values():
            obj.entries = list(entries) if isinstance(obj, ListBuild) else tuple(entries)

    def merge(
        self, base: dict[str, Any], a: dict[str, Any], b: dict[str, Any], env: dict[str, object],
        ret_a: bool, ret_b: bool,
    ) -> None:
        if ret_a and not ret_b:
            a = b
        elif ret_b and not ret_a:
            b = a
        env.clear()
        for key in set(a["env"]) | set(b["env"]):
            env[key] = _join(a["env"].get(key), b["env"].get(key), key in a["env"], key in b["env"])
        self.scope.attrs.clear()
        for key in set(a["attrs"]) | set(b["attrs"]):
            self.scope.attrs[key] = _join(a["attrs"].get(key), b["attrs"].get(key), key in a["attrs"], key in b["attrs"])
        for key, (layer, state0, over0) in base["states"].items():
            sa, oa = a["states"][key][1], a["states"][key][2]
            sb, ob = b["states"][key][1], b["states"][key][2]
            layer.state = _join_state(state0, sa, sb)
            layer.overrides = {
                k: _join_state(over0.get(k, InitState(None)), oa.get(k, over0.get(k)), ob.get(k, over0.get(k)))
                for k in set(oa) | set(ob)
            }
        for key, (layer, _, _) in a["states"].items():
            if key not in base["states"]:
                layer.state = a["states"][key][1]
        for key, (obj, entries) in base["lists"].items():
            n = len(entries)
            ea = a["lists"].get(key, (obj, entries))[1][n:]
            eb = b["lists"].get(key, (obj, entries))[1][n:]
            merged = list(entries) + ([Alt(tuple(ea), tuple(eb))] if (ea or eb) and ea != eb else list(ea))
            obj.entries = merged if isinstance(obj, ListBuild) else tuple(merged)

    def for_(self, stmt: cst.For, env: dict[str, object]) -> None:
        iterable = self.ev(stmt.iter, env)
        body = suite(stmt.body)
        if isinstance(iterable, Candidates):
            self.dispatch(iterable, stmt.target, body, env)
            return
        items = _iteration_items(iterable)
        if items is not None:
            self.dispatch(Candidates(tuple(items)), stmt.target, body, env)
            return
        count = None
        if isinstance(stmt.iter, cst.Call) and dotted(stmt.iter.func) == "range":
            args = [self.ev(a.value, env) for a in stmt.iter.args]
            nums = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
            if len(nums) == len(args) and args:
                count = _range_len(nums)
        elif isinstance(iterable, tuple):
            count = len(iterable)
        self.loop_body(body, env, stmt.target, count)

    def loop_body(self, body: list[Any], env: dict[str, object], target: cst.BaseExpression | None, count: int | None) -> None:
        """A building loop: its body runs once, what it builds counts ``count`` times and repeats in lists."""
        for name in _assigned_names(body) | (_target_names(target) if target is not None else set()):
            if not isinstance(env.get(name), ListBuild):
                env[name] = None
        lists = [v for v in list(env.values()) + list(self.scope.attrs.values()) if isinstance(v, (ListBuild, ListMod))]
        sizes = {id(v): len(v.entries) for v in lists}
        saved = self.repeat
        self.repeat = saved * (count or 1)
        self.conditional += 1
        self.run(body, env)
        self.conditional -= 1
        self.repeat = saved
        for v in lists:
            n = sizes[id(v)]
            if len(v.entries) > n:
                grouped = list(v.entries[:n]) + [Repeat(tuple(v.entries[n:]))]
                v.entries = grouped if isinstance(v, ListBuild) else tuple(grouped)
        for name in _assigned_names(body):
            value = env.get(name)
            if not isinstance(value, (Mod, ListBuild)):
                env[name] = None

    def dispatch(self, cands: Candidates, target: cst.BaseExpression, body: list[Any], env: dict[str, object]) -> None:
        """An init loop: run the body once per candidate module or parameter."""
        before = {id(l): l.state for l in self.ctx.layers}
        visited: list[Layer] = []
        for item in cands.items:
            local = dict(env)
            value: object = item
            if cands.named and isinstance(target, cst.Tuple) and len(target.elements) == 2:
                value = (_param_name(item), item)
            self.assign(target, value, local)
            layer = _layer_of(item)
            if layer is not None:
                visited.append(layer)
            self.run(body, local)
        changed = any(l.state is not before.get(id(l)) for l in self.ctx.layers)
        if changed:
            fn = self.current_fn or "the init loop"
            for layer in visited:
                if layer.state is before.get(id(layer)) and layer.state.spec is not None and layer.state.spec.source == "default":
                    layer.note = layer.note or f"the init dispatch in {fn} skips {layer.cls}"

    current_fn: str | None = None

    # -- expressions -------------------------------------------------------

    def ev(self, e: cst.BaseExpression, env: dict[str, object]) -> object:
        t = type(e)
        if t is cst.Name:
            return self.name(e.value, env)  # type: ignore[attr-defined]
        if t is cst.Attribute:
            return self.attribute(e, env)  # type: ignore[arg-type]
        if t is cst.Call:
            return self.call(e, env)  # type: ignore[arg-type]
        if t is cst.Integer or t is cst.Float or t is cst.SimpleString:
            return literal(e)
        if t is cst.ConcatenatedString:
            value = e.evaluated_value  # type: ignore[attr-defined]
            return value if isinstance(value, str) else None
        if t is cst.BinaryOperation:
            return _arith(e.operator, self.ev(e.left, env), self.ev(e.right, env))  # type: ignore[attr-defined]
        if t is cst.UnaryOperation:
            v = self.ev(e.expression, env)  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.Minus) and isinstance(v, (int, float)) and not isinstance(v, bool):  # type: ignore[attr-defined]
                return -v
            if isinstance(e.operator, cst.Not):  # type: ignore[attr-defined]
                truth = _truth(v)
                return None if truth is None else not truth
            return v if isinstance(e.operator, cst.Plus) else None  # type: ignore[attr-defined]
        if t is cst.Tuple:
            return self.sequence(e.elements, env)  # type: ignore[attr-defined]
        if t is cst.List:
            return ListBuild(list(self.sequence(e.elements, env)))  # type: ignore[attr-defined]
        if t is cst.ListComp or t is cst.GeneratorExp:
            return self.comprehension(e, env)  # type: ignore[arg-type]
        if t is cst.Subscript:
            return self.subscript(e, env)  # type: ignore[arg-type]
        if t is cst.Comparison:
            return self.compare(e, env)  # type: ignore[arg-type]
        if t is cst.BooleanOperation:
            a, b = _truth(self.ev(e.left, env)), _truth(self.ev(e.right, env))  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.And):  # type: ignore[attr-defined]
                return False if a is False or b is False else (True if a and b else None)
            return True if a is True or b is True else (False if a is False and b is False else None)
        if t is cst.IfExp:
            test = _truth(self.ev(e.test, env))  # type: ignore[attr-defined]
            if test is True:
                return self.ev(e.body, env)  # type: ignore[attr-defined]
            if test is False:
                return self.ev(e.orelse, env)  # type: ignore[attr-defined]
            a, b = self.ev(e.body, env), self.ev(e.orelse, env)  # type: ignore[attr-defined]
            return _join(a, b, True, True)
        if t is cst.Lambda:
            return LambdaRef(e)  # type: ignore[arg-type]
        if t is cst.Dict:
            out = {}
            for el in e.elements:  # type: ignore[attr-defined]
                if isinstance(el, cst.DictElement):
                    key = self.ev(el.key, env)
                    if isinstance(key, str):
                        out[key] = self.ev(el.value, env)
            return out
        return None

    def name(self, name: str, env: dict[str, object]) -> object:
        if name in env:
            return env[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return NONE
        if name in self.ctx.scopes and self.ctx.scopes[name].is_module:
            return LocalClass(name)
        if name in self.ctx.functions:
            return Func(self.ctx.functions[name])
        if name in self.ctx.constants:
            return self.ctx.constants[name]
        q = self.ctx.names.lookup(name)
        return ClassRef(q) if q is not None else None

    def attribute(self, e: cst.Attribute, env: dict[str, object]) -> object:
        attr = e.attr.value
        base = self.ev(e.value, env)
        if isinstance(base, SelfRef):
            scope = base.scope
            if attr in scope.attrs:
                return scope.attrs[attr]
            if attr in scope.constants:
                return scope.constants[attr]
            fn = self.ctx.method(scope, attr)
            if fn is not None:
                return Func(fn, scope)
            return None
        if isinstance(base, LocalClass):
            scope = self.ctx.scopes.get(base.name)
            return scope.constants.get(attr) if scope else None
        if isinstance(base, ClassRef):
            q = f"{base.qualified}.{attr}"
            return _CONSTANTS.get(q, ClassRef(q))
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
        return None

    def sequence(self, elements: Any, env: dict[str, object]) -> tuple[object, ...]:
        out: list[object] = []
        for el in elements:
            if isinstance(el, cst.StarredElement):
                v = self.ev(el.value, env)
                if isinstance(v, ListBuild):
                    out += v.entries
                elif isinstance(v, tuple):
                    out += list(v)
                else:
                    out.append(None)
            else:
                out.append(self.ev(el.value, env))
        return tuple(out)

    def comprehension(self, e: cst.ListComp | cst.GeneratorExp, env: dict[str, object]) -> object:
        local = dict(env)
        count: int | None = 1
        comp: cst.CompFor | None = e.for_in
        while comp is not None:
            it = self.ev(comp.iter, local)
            items = _iteration_items(it)
            if isinstance(comp.iter, cst.Call) and dotted(comp.iter.func) == "range":
                args = [self.ev(a.value, local) for a in comp.iter.args]
                nums = [a for a in args if isinstance(a, int) and not isinstance(a, bool)]
                n = _range_len(nums) if nums and len(nums) == len(args) else None
            elif isinstance(it, tuple):
                n = len(it)
            else:
                n = None
            count = count * n if count is not None and n is not None else None
            if items is not None and isinstance(e.elt, (cst.Attribute, cst.Name, cst.Subscript)):
                # [m.weight for m in self.layers]: a list of existing values
                out = []
                for item in items:
                    self.assign(comp.target, item, local)
                    out.append(self.ev(e.elt, local))
                return tuple(out)
            for name in _target_names(comp.target):
                local[name] = None
            comp = comp.inner_for_in
        saved = self.repeat
        self.repeat = saved * (count or 1)
        value = self.ev(e.elt, local)
        self.repeat = saved
        return ListBuild([Repeat((value,))])

    def subscript(self, e: cst.Subscript, env: dict[str, object]) -> object:
        base = self.ev(e.value, env)
        if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
            return None
        key = self.ev(e.slice[0].slice.value, env)
        if isinstance(base, DictMod) and isinstance(key, str):
            return base.items.get(key)
        if isinstance(base, dict) and isinstance(key, str):
            return base.get(key)
        if isinstance(base, SeqMod) and isinstance(key, str) and base.keys and key in base.keys:
            return base.entries[base.keys.index(key)]
        entries: Any = None
        if isinstance(base, (SeqMod, ListMod)):
            entries = base.entries
        elif isinstance(base, (tuple, ListBuild)):
            entries = base.entries if isinstance(base, ListBuild) else base
        if entries is None or not isinstance(key, int) or isinstance(key, bool):
            return None
        if any(isinstance(x, (Repeat, Alt)) for x in entries):
            return None
        try:
            return entries[key]
        except IndexError:
            return None

    def compare(self, e: cst.Comparison, env: dict[str, object]) -> object:
        left = self.ev(e.left, env)
        result: bool | None = True
        for target in e.comparisons:
            right = self.ev(target.comparator, env)
            value = _compare(target.operator, left, right)
            if value is False:
                return False
            if value is None:
                result = None
            left = right
        return result

    # -- calls -------------------------------------------------------------

    def call(self, e: cst.Call, env: dict[str, object]) -> object:
        func = e.func
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Call) and dotted(func.value.func) == "super":
                return self.super_call(func.attr.value, e, env)
            recv = self.ev(func.value, env)
            if not isinstance(recv, (ClassRef, type(None))) or recv is None and _is_tensor_method(func.attr.value):
                return self.method_call(recv, func.attr.value, e, env)
        callee = self.ev(func, env)
        if isinstance(callee, ClassRef):
            return self.qualified_call(callee.qualified, e, env)
        if isinstance(callee, LocalClass):
            return self.construct_local(callee.name, e, env)
        if isinstance(callee, Func):
            return self.call_function(callee, e, env)
        if isinstance(callee, LambdaRef):
            return None
        if isinstance(callee, Sym):
            return OpaqueMod(f"module from config: {callee.name}(...)")
        name = dotted(func)
        if name in HARMLESS:
            if name in ("list", "tuple") and e.args:
                v = self.ev(e.args[0].value, env)
                return v if isinstance(v, (ListBuild, tuple)) else None
            if name == "isinstance":
                return self.isinstance_(e, env)
            if name == "hasattr":
                return self.hasattr_(e, env)
            if name == "type" and e.args:
                v = self.ev(e.args[0].value, env)
                return _class_of(v)
            if name == "getattr" and len(e.args) >= 2:
                obj, key = self.ev(e.args[0].value, env), self.ev(e.args[1].value, env)
                if isinstance(obj, ClassRef) and isinstance(key, str):
                    return ClassRef(f"{obj.qualified}.{key}")
                return None
            if name in ("int", "float", "round", "abs", "max", "min"):
                vals = [self.ev(a.value, env) for a in e.args]
                if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                    fn = {"int": int, "float": float, "round": round, "abs": abs, "max": max, "min": min}[name]
                    try:
                        return fn(*vals)  # type: ignore[operator]
                    except (TypeError, ValueError):
                        return None
            return None
        self.unknown_call(name or "a call", e, env)
        return None

    def args(self, e: cst.Call, env: dict[str, object]) -> tuple[list[object], dict[str, object]]:
        pos, kw, _ = arguments(e)
        values: list[object] = []
        for p in pos:
            if isinstance(p, cst.StarredElement):
                v = self.ev(p.value, env)
                if isinstance(v, ListBuild):
                    values += v.entries
                elif isinstance(v, tuple):
                    values += list(v)
                else:
                    values.append(None)
            else:
                values.append(self.ev(p, env))
        return values, {k: self.ev(v, env) for k, v in kw.items()}

    def qualified_call(self, q: str, e: cst.Call, env: dict[str, object]) -> object:
        last = q.rsplit(".", 1)[-1]
        if q.startswith("torch.nn.init.") or (q.startswith("timm.") and ti.canonical(last) in ("trunc_normal_", "trunc_normal_tf_", "lecun_normal_")):
            if last == "calculate_gain":
                return self.gain(e, env)
            return self.init_call(last, q, e, env)
        if q in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            pos, _ = self.args(e, env)
            return self.parameter(pos[0] if pos else None, e)
        cls = torch_nn_class(q)
        if cls is not None:
            return self.construct(cls, e, env)
        if q in ("collections.OrderedDict",):
            pos, _ = self.args(e, env)
            return ("odict", pos[0]) if pos else None
        if q.startswith("torch.") and last in _TENSOR_MAKERS and q.count(".") == 1:
            return self.tensor(last, e, env)
        if q.startswith(_NUMERIC_ROOTS) and last in _NUMERIC:
            pos, _ = self.args(e, env)
            if len(pos) == 1:
                x = pos[0]
                if isinstance(x, (int, float)) and not isinstance(x, bool):
                    try:
                        return _NUMERIC[last](x)
                    except (ValueError, OverflowError):
                        return None
                if last == "sqrt":
                    s = _as_scale(x)
                    return Scale(math.sqrt(s.coef), s.dim, s.power / 2) if s and s.coef >= 0 else None
            return None
        if last in self.ctx.extra_activations or q in self.ctx.extra_activations:
            fam = activation_family(last, self.ctx.extra_activations)
            return ActMod(last, fam) if fam else None
        if last in FOREIGN_PASSES:
            return PassMod(last)
        values = self.unknown_call(dotted(e.func) or q, e, env)
        if q.startswith("torch.nn.utils.") and values and isinstance(values[0], LayerMod):
            return values[0]  # spectral_norm / weight_norm wrap and return the layer they reparametrize
        return None

    def unknown_call(self, name: str, e: cst.Call, env: dict[str, object]) -> list[object]:
        """A call the analysis does not model: weights it receives become unresolved."""
        if not e.args:
            return []
        values, kw = self.args(e, env)
        origin = self.origin_text(name)
        for v in list(values) + list(kw.values()):
            for layer in self.layers_in(v, weights_only=isinstance(v, WeightRef)):
                self.set_state(layer, InitState(None, f"initialized by helper {origin}"))
        return values

    def origin_text(self, name: str) -> str:
        root = name.split(".", 1)[0]
        q = self.ctx.names.lookup(root)
        if q is not None:
            module, _, obj = q.rpartition(".")
            return f"{name} imported from {module or q}" if module else f"{name} (module {q})"
        return name

    def layers_in(self, v: object, weights_only: bool = False) -> list[Layer]:
        """The layers a value is or contains (a module, the model itself, a weight)."""
        if isinstance(v, (WeightRef,)):
            return [v.layer]
        if isinstance(v, BiasRef) or weights_only:
            return []
        if isinstance(v, SelfRef):
            return self.all_layers(v.scope)
        if isinstance(v, ChildMod):
            scope = self.ctx.scopes.get(v.cls)
            return self.all_layers(scope) if scope else []
        if isinstance(v, Mod):
            out = []
            for m in mods_under(v):
                if isinstance(m, (LayerMod, ParamMod)):
                    out.append(m.layer)
                elif isinstance(m, ChildMod) and m.cls in self.ctx.scopes:
                    out += self.all_layers(self.ctx.scopes[m.cls])
            return out
        return []

    def all_layers(self, scope: Scope) -> list[Layer]:
        out = [l for l in scope.layers if not l.is_dropout]
        for child in self.ctx.descendants(scope.name):
            out += [l for l in child.layers if not l.is_dropout]
        return out

    def super_call(self, method: str, e: cst.Call, env: dict[str, object]) -> object:
        scope = self.scope
        if method != "__init__":
            return None
        for base in scope.local_bases:
            fn = self.ctx.method(self.ctx.scopes[base], "__init__") if base in self.ctx.scopes else None
            if fn is not None:
                return self.call_function(Func(fn, scope), e, env)
        if scope.sequential_base:
            pos, _ = self.args(e, env)
            if len(pos) == 1 and isinstance(pos[0], tuple) and pos[0] and pos[0][0] == "odict":
                scope.seq = self.sequential([pos[0]], {})
            else:
                scope.seq = self.sequential(pos, {})
            self.name_mod(scope.seq, "", top=True)
        return None

    def method_call(self, recv: object, method: str, e: cst.Call, env: dict[str, object]) -> object:
        if isinstance(recv, ListBuild):
            pos, _ = self.args(e, env)
            if method == "append" and pos:
                recv.entries.append(pos[0])
            elif method == "extend" and pos and isinstance(pos[0], (ListBuild, tuple)):
                recv.entries += pos[0].entries if isinstance(pos[0], ListBuild) else list(pos[0])
            elif method == "insert" and len(pos) == 2:
                recv.entries.insert(pos[0] if isinstance(pos[0], int) else 0, pos[1])  # type: ignore[arg-type]
            return None
        if isinstance(recv, ListMod) and method in ("append", "extend"):
            pos, _ = self.args(e, env)
            if pos:
                add = [pos[0]] if method == "append" else list(pos[0].entries if isinstance(pos[0], ListBuild) else pos[0] if isinstance(pos[0], tuple) else ())
                path = next((k for k, v in self.scope.attrs.items() if v is recv), None)
                for i, item in enumerate(add, start=len(recv.entries)):
                    self.name_mod(item, f"{path}[{i}]", provisional=path is None)
                recv.entries = recv.entries + tuple(add)
            return None
        if isinstance(recv, SeqMod) and method in ("append", "add_module"):
            pos, _ = self.args(e, env)
            if pos:
                recv.entries = recv.entries + (pos[-1],)
            return None
        if isinstance(recv, str) and not isinstance(recv, PathStr):
            return _str_method(recv, method, [self.ev(a.value, env) for a in e.args])
        if isinstance(recv, PathStr):
            args = [self.ev(a.value, env) for a in e.args]
            if method == "endswith" and args and isinstance(args[0], str):
                return recv.endswith(args[0])
            return None
        if isinstance(recv, WeightRef):
            return self.tensor_method(recv, method, e, env)
        if isinstance(recv, BiasRef):
            return None
        if isinstance(recv, ParamMod):
            return self.tensor_method(WeightRef(recv.layer), method, e, env)
        if isinstance(recv, SelfRef):
            return self.self_method(recv.scope, method, e, env)
        if isinstance(recv, (LayerMod, ChildMod, SeqMod, ListMod, DictMod)):
            return self.module_method(recv, method, e, env)
        if isinstance(recv, Func) or isinstance(recv, TensorVal):
            if isinstance(recv, TensorVal) and method in ("normal_", "uniform_", "fill_", "zero_"):
                spec = ti.spec_for(method, f".{method}", *self.args(e, env), method=True)
                if isinstance(spec, InitSpec):
                    return _tensor_from_spec(recv, spec)
            return None
        if recv is None and isinstance(e.func, cst.Attribute):
            # something.unknown(...): weights passed to it become unresolved
            self.unknown_call(dotted(e.func) or method, e, env)
        return None

    def tensor_method(self, ref: WeightRef, method: str, e: cst.Call, env: dict[str, object]) -> object:
        pos, kw = self.args(e, env)
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

    def weight_text(self, e: cst.Call) -> str:
        func = e.func
        if isinstance(func, cst.Attribute):
            return dotted(func.value) or "weight"
        return "weight"

    def self_method(self, scope: Scope, method: str, e: cst.Call, env: dict[str, object]) -> object:
        if method in ("modules", "children", "named_modules", "named_children"):
            return Candidates(tuple(self.modules_of(SelfRef(scope))), named=method.startswith("named"))
        if method in ("parameters", "named_parameters"):
            return Candidates(tuple(self.parameters_of(SelfRef(scope))), named=method == "named_parameters")
        if method == "apply" and e.args:
            self.apply(self.ev(e.args[0].value, env), self.modules_of(SelfRef(scope)), e)
            return SelfRef(scope)
        if method in ("add_module", "register_module") and len(e.args) == 2:
            key, mod = self.ev(e.args[0].value, env), self.ev(e.args[1].value, env)
            if isinstance(key, str):
                self.name_mod(mod, key)
                scope.attrs[key] = mod
            return None
        if method == "register_parameter" and len(e.args) == 2:
            key, mod = self.ev(e.args[0].value, env), self.ev(e.args[1].value, env)
            if isinstance(key, str) and isinstance(mod, ParamMod):
                self.name_mod(mod, key)
                scope.attrs[key] = mod
            return None
        fn = self.ctx.method(scope, method)
        if fn is not None:
            return self.call_function(Func(fn, scope), e, env)
        if ("init" in method or "reset" in method) and scope.foreign_bases:
            for layer in self.all_layers(scope):
                self.set_state(layer, InitState(None, f"initialized by self.{method}() of base class {scope.foreign_bases[0]}"))
        return None

    def module_method(self, mod: Mod, method: str, e: cst.Call, env: dict[str, object]) -> object:
        if method in ("modules", "children", "named_modules", "named_children"):
            return Candidates(tuple(self.modules_of(mod)), named=method.startswith("named"))
        if method in ("parameters", "named_parameters"):
            return Candidates(tuple(self.parameters_of(mod)), named=method == "named_parameters")
        if method == "apply" and e.args:
            self.apply(self.ev(e.args[0].value, env), self.modules_of(mod), e)
            return mod
        if method == "reset_parameters":
            if isinstance(mod, LayerMod):
                self.set_state(mod.layer, InitState(ti.default_spec("reset_parameters() after the init restores the default")))
            elif isinstance(mod, ChildMod) and mod.cls in self.ctx.scopes:
                scope = self.ctx.scopes[mod.cls]
                fn = self.ctx.method(scope, "reset_parameters")
                if fn is not None:
                    return self.call_function(Func(fn, scope), e, env)
            return None
        if method in ("to", "cuda", "cpu", "float", "double", "half", "train", "eval", "requires_grad_"):
            return mod
        if isinstance(mod, ChildMod) and mod.cls in self.ctx.scopes:
            fn = self.ctx.method(self.ctx.scopes[mod.cls], method)
            if fn is not None and ("init" in method or "reset" in method):
                return self.call_function(Func(fn, self.ctx.scopes[mod.cls]), e, env)
        return None

    def modules_of(self, root: object) -> list[object]:
        """``root.modules()``: the module, its submodules, and those of same-file child classes."""
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
                out.append(m)
                if isinstance(m, ChildMod) and m.cls not in seen and m.cls in self.ctx.scopes:
                    visit(SelfRef(self.ctx.scopes[m.cls]))

        if not isinstance(root, SelfRef):
            out.append(root) if not isinstance(root, (SeqMod, ListMod, DictMod)) else None
        visit(root)
        # same-file children built in ways the attributes do not show (a block class passed as a parameter)
        if isinstance(root, (SelfRef, ChildMod)):
            name = root.scope.name if isinstance(root, SelfRef) else root.cls
            for child in self.ctx.descendants(name):
                if child.name not in seen:
                    seen.add(child.name)
                    out.append(ChildMod(child.name))
                    visit(SelfRef(child))
        unique: list[object] = []
        ids: set[int] = set()
        for m in out:
            if id(m) not in ids and not (isinstance(m, LayerMod) and any(isinstance(u, LayerMod) and u.layer is m.layer for u in unique)):
                ids.add(id(m))
                unique.append(m)
        return unique

    def parameters_of(self, root: object) -> list[object]:
        out: list[object] = []
        for m in self.modules_of(root):
            if isinstance(m, LayerMod):
                out += [WeightRef(m.layer), BiasRef(m.layer)]
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

    def apply(self, fn: object, cands: list[object], e: cst.Call) -> None:
        """``module.apply(fn)``: fn runs on every submodule."""
        if isinstance(fn, Func):
            self.ctx.invoked.add(id(fn.node))
            params = [p.name.value for p in fn.node.params.params]
            if fn.bound is not None and params and params[0] == "self":
                params = params[1:]
            if not params:
                return
            saved = self.current_fn
            self.current_fn = fn.node.name.value
            body = suite(fn.node.body)
            env: dict[str, object] = {"self": SelfRef(fn.bound)} if fn.bound is not None else {}
            self.enter(fn.node, lambda: self.dispatch(Candidates(tuple(cands)), cst.Name(params[0]), body, env))
            self.current_fn = saved
            return
        if isinstance(fn, LambdaRef):
            params = [p.name.value for p in fn.node.params.params]
            if params:
                for item in cands:
                    self.ev(fn.node.body, {params[0]: item})
            return
        name = dotted(e.args[0].value) or "a function"
        if isinstance(fn, ClassRef):
            reason = f"initialized by helper {self.origin_text(name)}"
        else:
            reason = f"initialized by {name} (not resolved)"
        for item in cands:
            for layer in self.layers_in(item):
                self.set_state(layer, InitState(None, reason))

    def enter(self, node: cst.CSTNode, action: Any) -> Any:
        if id(node) in self.stack:
            return None  # recursion: the inner call adds nothing new
        if self.depth >= MAX_DEPTH:
            raise BudgetExceeded  # what the deeper helper does is unknown: do not guess
        self.depth += 1
        self.stack.append(id(node))
        try:
            return action()
        finally:
            self.stack.pop()
            self.depth -= 1

    def call_function(self, fn: Func, e: cst.Call, env: dict[str, object]) -> object:
        """Inline a same-file function or method: bind its parameters, run its body, return what it returns."""
        self.ctx.invoked.add(id(fn.node))
        pos, kw = self.args(e, env)
        local = self.bind_params(fn.node, pos, kw, fn.bound)
        saved_returns, saved_stmt, saved_fn = self.returns, self.stmt, self.current_fn
        self.returns = []
        self.current_fn = fn.node.name.value
        self.enter(fn.node, lambda: self.run(suite(fn.node.body), local))
        returns, self.returns, self.stmt, self.current_fn = self.returns, saved_returns, saved_stmt, saved_fn
        if not returns:
            return None
        value = returns[0]
        for other in returns[1:]:
            value = _join(value, other, True, True)
        return value

    def bind_params(self, node: cst.FunctionDef, pos: list[object], kw: dict[str, object], bound: Scope | None) -> dict[str, object]:
        params = list(node.params.posonly_params) + list(node.params.params)
        local: dict[str, object] = {}
        if bound is not None and params and params[0].name.value in ("self", "cls"):
            local[params[0].name.value] = SelfRef(bound)
            params = params[1:]
        for i, p in enumerate(params + list(node.params.kwonly_params)):
            name = p.name.value
            if i < len(params) and i < len(pos):
                local[name] = pos[i]
            elif name in kw:
                local[name] = kw[name]
            elif p.default is not None:
                local[name] = self.ev(p.default, {})
            else:
                local[name] = Sym(name)
        return local

    def construct_local(self, name: str, e: cst.Call, env: dict[str, object]) -> object:
        self.args(e, env)  # arguments may build layers (a block given a layer)
        return ChildMod(name)

    def isinstance_(self, e: cst.Call, env: dict[str, object]) -> object:
        if len(e.args) != 2:
            return None
        obj, kinds = self.ev(e.args[0].value, env), self.ev(e.args[1].value, env)
        options = kinds if isinstance(kinds, tuple) else tuple(kinds.entries) if isinstance(kinds, ListBuild) else (kinds,)
        results = [_isinstance(obj, k, self.ctx) for k in options]
        if any(r is True for r in results):
            return True
        if all(r is False for r in results):
            return False
        return None

    def hasattr_(self, e: cst.Call, env: dict[str, object]) -> object:
        if len(e.args) != 2:
            return None
        obj, attr = self.ev(e.args[0].value, env), self.ev(e.args[1].value, env)
        if isinstance(obj, LayerMod) and attr in ("weight", "reset_parameters"):
            return True
        if isinstance(obj, (NormMod,)) and attr in ("weight", "reset_parameters"):
            return True
        if isinstance(obj, (ActMod, PassMod)) and attr == "weight":
            return False
        return None

    # -- building ----------------------------------------------------------

    def construct(self, cls: str, e: cst.Call, env: dict[str, object]) -> object:
        if cls in WEIGHT_LAYERS:
            return LayerMod(self.layer(cls, e, env))
        if cls == "Sequential":
            pos, kw = self.args(e, env)
            return self.sequential(pos, kw)
        if cls == "ModuleList":
            pos, _ = self.args(e, env)
            return ListMod(tuple(_entries(pos[0]) if pos else ()))
        if cls == "ModuleDict":
            pos, _ = self.args(e, env)
            items = pos[0] if pos else {}
            if isinstance(items, tuple) and items and items[0] == "odict":
                items = _odict(items[1])
            return DictMod({k: v for k, v in items.items() if isinstance(v, Mod)}) if isinstance(items, dict) else OpaqueMod("ModuleDict not literal")
        if cls in NORMS:
            self.args(e, env)
            return NormMod(cls)
        if cls in PASSES:
            return PassMod(cls)
        if cls in DROPOUTS:
            layer = self.site(cls, DROPOUTS[cls], e)
            return PassMod(cls, dropout=layer)
        fam = activation_family(cls, self.ctx.extra_activations)
        if fam is not None:
            pos, kw = self.args(e, env)
            if fam == "selu":
                self.scope.uses_selu = True
            return ActMod(cls, fam, _module_slope(cls, pos, kw))
        self.args(e, env)
        return OpaqueMod(f"{cls} is not modelled")

    def sequential(self, pos: list[object], kw: dict[str, object]) -> SeqMod:
        if len(pos) == 1 and isinstance(pos[0], tuple) and pos[0] and pos[0][0] == "odict":
            items = _odict(pos[0][1])
            return SeqMod(tuple(items.values()), tuple(items.keys()))
        entries: list[object] = []
        for p in pos:
            entries += _entries(p) if isinstance(p, ListBuild) else [p]
        return SeqMod(tuple(entries))

    def site(self, cls: str, kind: str, e: cst.Call) -> Layer:
        key = (id(e), self.scope.name)
        layer = self.ctx.sites.get(key)
        if layer is None:
            assert self.stmt is not None
            layer = Layer(cls=cls, kind=kind, owner=self.scope.name, stmt=self.stmt, call=e,
                          count=self.repeat, in_class=self.scope.is_module)
            self.ctx.sites[key] = layer
            self.ctx.layers.append(layer)
            self.scope.layers.append(layer)
        return layer

    def layer(self, cls: str, e: cst.Call, env: dict[str, object]) -> Layer:
        spec = WEIGHT_LAYERS[cls]
        fresh = (id(e), self.scope.name) not in self.ctx.sites
        layer = self.site(cls, spec.kind, e)
        pos, kw = self.args(e, env)
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
        layer = self.site("Parameter", "parameter", e)
        if isinstance(value, TensorVal):
            layer.shape = value.shape
            layer.rank = len(value.shape)
            layer.state = InitState(_param_spec(value, layer))
        else:
            layer.state = InitState(None, "parameter value not understood")
        return ParamMod(layer)

    def tensor(self, maker: str, e: cst.Call, env: dict[str, object]) -> object:
        pos, kw = self.args(e, env)
        kind = _TENSOR_MAKERS[maker]
        if maker in ("Tensor", "FloatTensor", "DoubleTensor", "HalfTensor") and pos and isinstance(pos[0], (tuple, ListBuild)):
            return None  # built from data
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
        from ... import formulas

        pos, kw = self.args(e, env)
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
        name = ti.canonical(fn)
        pos, kw = self.args(e, env)
        target = pos[0] if pos else kw.get("tensor")
        if isinstance(target, ParamMod):
            target = WeightRef(target.layer)
        call_text = dotted(e.func) or fn
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

    def set_spec(self, layer: Layer, spec: InitSpec | str, e: cst.Call) -> None:
        if isinstance(spec, str):
            self.set_state(layer, InitState(None, spec, self.stmt, e))
        else:
            self.set_state(layer, InitState(spec, "", self.stmt, e))

    def set_state(self, layer: Layer, state: InitState) -> None:
        if layer.owner != self.scope.name and layer.in_class and self.scope.name != layer.owner:
            layer.overrides[self.scope.name] = state
        else:
            layer.state = state

    def scale_weight(self, layer: Layer, factor: float) -> None:
        state = layer.overrides.get(self.scope.name, layer.state) if layer.owner != self.scope.name else layer.state
        if state.spec is None:
            return
        self.set_state(layer, InitState(ti.scaled(state.spec, factor), state.reason, self.stmt or state.stmt, state.call))

    def name_mod(self, mod: object, path: str, provisional: bool = False, top: bool = False) -> None:
        """Give layers their attribute path (``fc1``, ``features[3]``, ``net.fc1``) when first bound."""
        if isinstance(mod, (LayerMod, ParamMod)):
            if mod.layer.path is None or mod.layer.path.startswith("~"):
                mod.layer.path = ("~" + path) if provisional else path
        elif isinstance(mod, PassMod) and mod.dropout is not None:
            if mod.dropout.path is None or mod.dropout.path.startswith("~"):
                mod.dropout.path = ("~" + path) if provisional else path
        elif isinstance(mod, (SeqMod, ListMod)):
            keys = getattr(mod, "keys", None)
            for i, entry in enumerate(mod.entries):
                sub = (f"{path}.{keys[i]}" if path else keys[i]) if keys and i < len(keys) else f"{path}[{i}]"
                if isinstance(entry, Repeat):
                    for item in flat(entry.entries):
                        self.name_mod(item, f"{path}[i]", provisional)
                elif isinstance(entry, Alt):
                    for item in flat(entry.first) + flat(entry.second):
                        self.name_mod(item, f"{path}[i]", provisional)
                else:
                    self.name_mod(entry, sub, provisional)
        elif isinstance(mod, DictMod):
            for key, item in mod.items.items():
                self.name_mod(item, f"{path}.{key}" if path else key, provisional)
        elif isinstance(mod, AltMod):
            for item in mod.options:
                self.name_mod(item, path, provisional)


_AUG = {
    cst.AddAssign: cst.Add(), cst.SubtractAssign: cst.Subtract(), cst.MultiplyAssign: cst.Multiply(),
    cst.DivideAssign: cst.Divide(), cst.FloorDivideAssign: cst.FloorDivide(), cst.PowerAssign: cst.Power(),
}


def _join(a: object, b: object, has_a: bool, has_b: bool) -> object:
    """The value of a name after two branches."""
    if not has_a:
        return b
    if not has_b:
        return a
    if a is b or (type(a) is type(b) and not isinstance(a, (Mod, ListBuild)) and a == b):
        return a
    if isinstance(a, Mod) and isinstance(b, Mod):
        return AltMod((a, b))
    if isinstance(a, Mod) and b is NONE:
        return AltMod((a, PassMod("Identity")))
    if isinstance(b, Mod) and a is NONE:
        return AltMod((PassMod("Identity"), b))
    if isinstance(a, ListBuild) and isinstance(b, ListBuild):
        return a
    return None


def _join_state(base: InitState, a: InitState | None, b: InitState | None) -> InitState:
    a = a or base
    b = b or base
    if a is b or (a.spec == b.spec and a.reason == b.reason):
        return a
    if a is base:
        return b
    if b is base:
        return a
    return InitState(None, "init depends on a condition the analysis cannot evaluate")


def _compare(op: cst.BaseCompOp, left: object, right: object) -> bool | None:
    if isinstance(op, (cst.Is, cst.IsNot)):
        if right is NONE and left is not None:
            same = left is NONE
            return same if isinstance(op, cst.Is) else not same
        return None
    if isinstance(op, (cst.In, cst.NotIn)):
        if isinstance(left, str) and isinstance(right, PathStr):
            return (True if isinstance(op, cst.In) else False) if left in right else None
        if isinstance(left, str) and isinstance(right, str):
            return (left in right) == isinstance(op, cst.In)
        if isinstance(right, ListBuild):
            right = tuple(right.entries)
        if isinstance(right, tuple) and left is not None and all(isinstance(x, (ClassRef, ClassOf, LocalClass, str, int, float)) for x in right):
            found = any(_same(left, x) for x in right)
            return found == isinstance(op, cst.In)
        return None
    if isinstance(left, PathStr) or isinstance(right, PathStr):
        return None
    if isinstance(op, (cst.Equal, cst.NotEqual)):
        if left is None or right is None:
            return None
        if isinstance(left, (ClassOf, ClassRef, LocalClass)) or isinstance(right, (ClassOf, ClassRef, LocalClass)):
            eq = _same(left, right)
        elif isinstance(left, (int, float, str, bool, _None)) and isinstance(right, (int, float, str, bool, _None)):
            eq = left == right
        else:
            return None
        return eq if isinstance(op, cst.Equal) else not eq
    nums = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    if not nums:
        return None
    fn = {cst.LessThan: lambda x, y: x < y, cst.GreaterThan: lambda x, y: x > y,
          cst.LessThanEqual: lambda x, y: x <= y, cst.GreaterThanEqual: lambda x, y: x >= y}.get(type(op))
    return fn(left, right) if fn else None  # type: ignore[misc]


def _class_name(v: object) -> str | None:
    if isinstance(v, ClassOf):
        return v.name
    if isinstance(v, ClassRef):
        return torch_nn_class(v.qualified) or v.qualified
    if isinstance(v, LocalClass):
        return v.name
    return None


def _same(a: object, b: object) -> bool:
    na, nb = _class_name(a), _class_name(b)
    if na is not None and nb is not None:
        return na == nb
    return a == b


def _class_of(v: object) -> object:
    if isinstance(v, LayerMod):
        return ClassOf(v.layer.cls)
    if isinstance(v, ChildMod):
        return ClassOf(v.cls)
    if isinstance(v, (NormMod, PassMod)):
        return ClassOf(v.cls)
    if isinstance(v, ActMod):
        return ClassOf(v.name)
    return None


def _isinstance(obj: object, kind: object, ctx: FileContext) -> bool | None:
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


def _str_method(s: str, method: str, args: list[object]) -> object:
    if method == "find" and args and isinstance(args[0], str):
        return s.find(args[0])
    if method in ("startswith", "endswith") and args and isinstance(args[0], (str, tuple)):
        arg = args[0]
        if isinstance(arg, tuple) and not all(isinstance(x, str) for x in arg):
            return None
        return getattr(s, method)(arg)
    if method in ("lower", "upper"):
        return getattr(s, method)()
    return None


def _is_tensor_method(name: str) -> bool:
    return name in ti.METHOD_SIGNATURES


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


def _range_len(nums: list[int]) -> int | None:
    """len(range(*nums)), or None for a zero step or a size beyond any machine."""
    try:
        return len(range(*nums))
    except (ValueError, OverflowError, TypeError):
        return None


def _iteration_items(value: object) -> list[object] | None:
    """Iterating a list of modules/weights (``for layer in [self.fc1, self.fc2]``, ``for m in self.layers``)."""
    if isinstance(value, (ListMod, SeqMod)):
        entries = flat(value.entries)
        return list(entries) if entries else None
    if isinstance(value, tuple) and value and all(isinstance(v, (Mod, WeightRef, BiasRef)) for v in value):
        return list(value)
    if isinstance(value, ListBuild) and value.entries and all(isinstance(v, Mod) for v in flat(tuple(value.entries))):
        return flat(tuple(value.entries))
    return None


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


def _target_names(target: cst.BaseExpression) -> set[str]:
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for el in target.elements for n in _target_names(el.value)}
    return set()


def _assigned_names(body: list[Any]) -> set[str]:
    out: set[str] = set()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for t in small.targets:
                        out |= _target_names(t.target)
                elif isinstance(small, (cst.AugAssign, cst.AnnAssign)):
                    out |= _target_names(small.target)
        elif isinstance(stmt, (cst.If, cst.For, cst.While, cst.With, cst.Try)):
            out |= _assigned_names(suite(stmt.body))
            orelse = getattr(stmt, "orelse", None)
            if isinstance(orelse, cst.Else):
                out |= _assigned_names(suite(orelse.body))
            elif isinstance(orelse, cst.If):
                out |= _assigned_names([orelse])
            if isinstance(stmt, cst.For):
                out |= _target_names(stmt.target)
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


def _module_slope(cls: str, pos: list[object], kw: dict[str, object]) -> float:
    """LeakyReLU(negative_slope), PReLU(init=0.25), RReLU: mean of (lower, upper) (SPEC 8.26)."""
    default = default_slope("torch", cls)
    if cls == "LeakyReLU":
        v = kw.get("negative_slope", pos[0] if pos else default)
    elif cls == "PReLU":
        v = kw.get("init", pos[1] if len(pos) > 1 else default)
    elif cls == "RReLU":
        lo = kw.get("lower", pos[0] if pos else 1 / 8)
        hi = kw.get("upper", pos[1] if len(pos) > 1 else 1 / 3)
        v = (lo + hi) / 2 if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) else default
    else:
        return 0.0
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


def _param_spec(t: TensorVal, layer: Layer) -> InitSpec:
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
