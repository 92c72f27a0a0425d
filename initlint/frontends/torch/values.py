"""The constructor interpreter's abstract values, and Python's operators over them.

Unknown is ``None``; Python's ``None`` is :data:`NONE`. Module values
(``LayerMod``, ``SeqMod`` ...) live in ``tree``; this module holds the rest: symbolic
sizes and scales, references to ``self``, classes, functions and weights, tensors
built for ``nn.Parameter``, and lists under construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import libcst as cst

from ...records import InitSpec
from ..python.syntax import sized
from .tables import torch_nn_class
from .tree import ActMod, Alt, ChildMod, DictMod, ExtMod, Layer, LayerMod, ListMod, NormMod, PassMod, Repeat, Scope, SeqMod

# The most entries a list or tuple under construction may hold: far more layers than any network
# builds in one list, and each copy of one is charged to the step budget (1 step per 100 entries).
MAX_ITEMS = 10_000


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
class ActClass:
    """An activation class from a registry (``get_act_layer("gelu")``): calling it builds the activation."""

    name: str


@dataclass(frozen=True)
class ActFunction:
    """An activation function from a registry (``get_act_fn("gelu")``): applied to a tensor in forward."""

    name: str


@dataclass(frozen=True)
class Partial:
    """``functools.partial(fn, *args, **kwargs)``."""

    fn: object
    args: tuple[object, ...]
    kwargs: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class ExtPart:
    """An attribute of a module of another project file (``m.fc``, ``m.fc.weight``): not followed into that file."""

    mod: ExtMod
    path: str


@dataclass(frozen=True)
class ConfigRef:
    """A model config (``self.config``, a ``config`` parameter): attributes are its class's constructor defaults."""

    qualified: str


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


# -- arithmetic ----------------------------------------------------------------------


def arith(op: cst.BaseBinaryOp, a: object, b: object) -> object:
    """Numeric (and symbolic-scale) arithmetic; None when unknown."""
    na = isinstance(a, (int, float)) and not isinstance(a, bool)
    nb = isinstance(b, (int, float)) and not isinstance(b, bool)
    if na and nb:
        if isinstance(op, cst.Power) and isinstance(a, int) and isinstance(b, int) and b > 0 \
                and (abs(a).bit_length() - 1) * b > 64:
            return None  # beyond what the interpreter keeps (sized), and 2 ** 2 ** 62 would never finish
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
    sa, sb = as_scale(a), as_scale(b)
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
        return a + b if isinstance(op, cst.Add) and len(a) + len(b) <= MAX_ITEMS else None
    return None


def as_scale(v: object) -> Scale | None:
    """A symbolic size or scale as a Scale; None for anything else."""
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
    s = as_scale(other)
    if s is None or (t.dim is not None and t.dim != s.dim):
        return None
    power = -s.power if divide else s.power
    coef = 1 / s.coef if divide else s.coef
    return replace(t, var=t.var * coef * coef, dim=s.dim, power=t.power + 2 * power, mean=t.mean * coef)


def truth(v: object) -> bool | None:
    """Truth value of an abstract value; None when unknown."""
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


def compare(op: cst.BaseCompOp, left: object, right: object) -> bool | None:
    """One comparison (``is None``, ``in``, ``==``, ``<`` ...); None when unknown."""
    if isinstance(op, (cst.Is, cst.IsNot)):
        if isinstance(left, LayerMod) and isinstance(right, LayerMod):  # ``m is self.classifier[1]``
            same = left.layer is right.layer
            return same if isinstance(op, cst.Is) else not same
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

def class_of(v: object) -> object:
    """``type(m)`` of a module value."""
    if isinstance(v, LayerMod):
        return ClassOf(v.layer.cls)
    if isinstance(v, ChildMod):
        return ClassOf(v.cls)
    if isinstance(v, (NormMod, PassMod)):
        return ClassOf(v.cls)
    if isinstance(v, ActMod):
        return ClassOf(v.name)
    return None

def str_method(s: str, method: str, args: list[object]) -> object:
    """The few ``str`` methods init code uses on names."""
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


NUMERIC_BUILTINS = {"int": int, "float": float, "round": round, "abs": abs, "max": max, "min": min}


def numeric_builtin(name: str, vals: list[object]) -> object:
    """``int``/``float``/``round``/``abs``/``max``/``min`` of known numbers; None (unknown) otherwise."""
    if not vals or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return None
    try:
        return NUMERIC_BUILTINS[name](*vals)  # type: ignore[operator]
    except (TypeError, ValueError):
        return None



def item(base: object, key: object) -> object:
    """``base[key]`` for a literal ``key`` on the containers the interpreter builds; None when unknown."""
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
