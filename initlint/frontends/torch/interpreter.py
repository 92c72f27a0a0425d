"""The constructor interpreter: what ``__init__`` (and the init code it reaches) builds and initializes.

Walks statements by hand (no libcst visitors): assignments build module values
(layers, Sequentials, lists, child modules), init calls and in-place fills set
each weight's :class:`InitState` in program order, loops over ``self.modules()``
/ ``self.parameters()`` / ``self.apply(fn)`` dispatch per candidate layer, and
same-file helpers (methods, functions, base classes) are inlined. Conditions the
analysis can evaluate (literal constructor defaults) pick a branch; otherwise both
branches run and disagreeing results become unresolved.

This module is the language (statements, expressions, calls, inlining); what
PyTorch calls mean is in ``library``, ``nn.Module`` reflection in ``reflection``,
branch merging in ``branches`` and the values in ``values``.
"""

from __future__ import annotations

import math
from typing import Any

import libcst as cst

from ...rulebook import activation_family, conventions
from ..python.names import dotted
from ..python.syntax import arguments, literal, suite
from . import initializers as ti
from .branches import Snapshot, join, merge, restore, snapshot
from .context import MAX_COUNT, BudgetExceeded, FileContext, check_size, checked, times
from .inlining import Inliner
from .library import TorchLibrary, module_slope
from .reflection import Reflection
from .tables import HARMLESS
from .tree import (
    ActMod,
    ChildMod,
    DictMod,
    ExtMod,
    InitState,
    LayerMod,
    ListMod,
    Mod,
    OpaqueMod,
    ParamMod,
    Repeat,
    Scope,
    SeqMod,
    flat,
    name_mod,
)
from .values import (
    NONE,
    NUMERIC_BUILTINS,
    ActClass,
    BiasRef,
    Candidates,
    ClassRef,
    ConfigRef,
    ExtPart,
    Func,
    LambdaRef,
    ListBuild,
    LocalClass,
    Partial,
    PathStr,
    SelfRef,
    Sym,
    TensorVal,
    WeightRef,
    arith,
    class_of,
    compare,
    item,
    numeric_builtin,
    str_method,
    truth,
)

_CONSTANTS = {"math.pi": math.pi, "math.e": math.e, "numpy.pi": math.pi}


class Interpreter:
    """Interprets one scope's constructor (and whatever it reaches) into layers and init states."""

    def __init__(self, ctx: FileContext, scope: Scope) -> None:
        self.ctx, self.scope = ctx, scope
        self.stmt: cst.CSTNode | None = None
        self.repeat = 1
        self.returns: list[object] = []
        self.returned_states: list[Snapshot] = []  # the branches that returned from the running function
        self.current_fn: str | None = None  # the function whose code runs (for notes on init loops)
        self.torch = TorchLibrary(self)
        self.reflect = Reflection(self)
        self.inline = Inliner(self)

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
        """Execute one small statement; True when it returned."""
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
        """Bind a value to an assignment target (a name, ``self.x``, a tuple, a subscript)."""
        if isinstance(target, cst.Name):
            env[target.value] = value
            if isinstance(value, Mod):
                name_mod(value, target.value, provisional=True)
            return
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            owner = env.get(target.value.value)
            attr = target.attr.value
            if isinstance(owner, SelfRef):
                if isinstance(value, Sym):
                    value = OpaqueMod(f"activation from config: self.{attr} = {value.name}")
                elif isinstance(value, ListBuild):
                    value = ListMod(tuple(value.entries))
                name_mod(value, attr)
                owner.scope.attrs[attr] = value
            elif isinstance(owner, (LayerMod, ParamMod)) and attr == "weight":
                self.torch.set_state(owner.layer, InitState(None, f"weight assigned directly: {dotted(target) or attr}"))
            return
        if isinstance(target, cst.Attribute) and target.attr.value == "data":
            # module.time_decay.data = tensor: the parameter's values are replaced (not an init the analysis reads)
            owner = self.ev(target.value, env)
            if isinstance(owner, ParamMod):
                owner = WeightRef(owner.layer)
            if isinstance(owner, WeightRef):
                self.torch.set_state(owner.layer, InitState(None, f"values assigned directly: {dotted(target) or 'data'}"))
            return
        if isinstance(target, (cst.Tuple, cst.List)):
            items = value if isinstance(value, tuple) and len(value) == len(target.elements) else None
            for i, element in enumerate(target.elements):
                self.assign(element.value, items[i] if items else None, env)
            return
        if isinstance(target, cst.Subscript):
            base = self.ev(target.value, env)
            if isinstance(base, (WeightRef,)):
                self.torch.set_state(base.layer, InitState(None, "weight written by index"))

    def aug_assign(self, stmt: cst.AugAssign, env: dict[str, object]) -> None:
        """``x += ...``: lists grow, weights scale, numbers compute."""
        target = self.ev(stmt.target, env)
        value = self.ev(stmt.value, env)
        if isinstance(target, (ListBuild, ListMod)) and isinstance(value, (tuple, ListBuild)):
            added = value.entries if isinstance(value, ListBuild) else value
            check_size(self.ctx, len(target.entries) + len(added))
            target.entries += type(target.entries)(added)  # a list grows in place, a module list's tuple is replaced
            return
        if isinstance(target, WeightRef):
            if isinstance(stmt.operator, cst.MultiplyAssign) and isinstance(value, (int, float)):
                self.torch.scale_weight(target.layer, float(value))
            elif isinstance(stmt.operator, cst.DivideAssign) and isinstance(value, (int, float)) and value:
                self.torch.scale_weight(target.layer, 1 / float(value))
            else:
                self.torch.set_state(target.layer, InitState(None, "weight modified in place by an expression"))
            return
        if isinstance(stmt.target, cst.Name):
            env[stmt.target.value] = checked(self.ctx, arith(_AUG[type(stmt.operator)], target, value)) \
                if type(stmt.operator) in _AUG else None

    def if_(self, stmt: cst.If, env: dict[str, object]) -> bool:
        """An ``if``: the known branch, or both merged; True when it returned."""
        test = truth(self.ev(stmt.test, env))
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
        attrs, layers = self.scope.attrs, self.ctx.branch_layers()
        snap = snapshot(env, attrs, layers)
        ret_a = self.run(first, env)
        after_a = snapshot(env, attrs, layers)
        restore(snap, env, attrs)
        ret_b = self.run(second, env)
        after_b = snapshot(env, attrs, layers)
        merge(snap, after_a, after_b, env, attrs, ret_a, ret_b, self.returned_states)
        return ret_a and ret_b

    def for_(self, stmt: cst.For, env: dict[str, object]) -> None:
        """A loop over modules/weights dispatches per item; any other loop builds."""
        iterable = self.ev(stmt.iter, env)
        body = suite(stmt.body)
        if isinstance(iterable, Candidates):
            self.reflect.dispatch(iterable, stmt.target, body, env)
            return
        items = _iteration_items(iterable)
        if items is not None:
            self.reflect.dispatch(Candidates(tuple(items)), stmt.target, body, env)
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
        self.repeat = times(saved, count)
        self.run(body, env)
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

    # -- expressions -------------------------------------------------------

    def ev(self, e: cst.BaseExpression, env: dict[str, object]) -> object:
        """The abstract value of an expression (None: unknown)."""
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
            return checked(self.ctx, arith(e.operator, self.ev(e.left, env), self.ev(e.right, env)))  # type: ignore[attr-defined]
        if t is cst.UnaryOperation:
            v = self.ev(e.expression, env)  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.Minus) and isinstance(v, (int, float)) and not isinstance(v, bool):  # type: ignore[attr-defined]
                return -v
            if isinstance(e.operator, cst.Not):  # type: ignore[attr-defined]
                tv = truth(v)
                return None if tv is None else not tv
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
            a, b = truth(self.ev(e.left, env)), truth(self.ev(e.right, env))  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.And):  # type: ignore[attr-defined]
                return False if a is False or b is False else (True if a and b else None)
            return True if a is True or b is True else (False if a is False and b is False else None)
        if t is cst.IfExp:
            test = truth(self.ev(e.test, env))  # type: ignore[attr-defined]
            if test is True:
                return self.ev(e.body, env)  # type: ignore[attr-defined]
            if test is False:
                return self.ev(e.orelse, env)  # type: ignore[attr-defined]
            a, b = self.ev(e.body, env), self.ev(e.orelse, env)  # type: ignore[attr-defined]
            return join(a, b, True, True)
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
        """A name: local, builtin constant, same-file class/function/constant, or imported."""
        if name in env:
            return env[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return NONE
        if not self.ctx.foreign:
            if name in self.ctx.scopes and self.ctx.scopes[name].is_module:
                return LocalClass(name)
            if name in self.ctx.functions:
                return Func(self.ctx.functions[name])
        if name in self.ctx.constants:
            return self.ctx.constants[name]
        q = self.ctx.names.lookup(name)
        if q is None:
            return None
        if self.ctx.project is not None and "." in q and not conventions(self.ctx.source.settings.conventions).knows(q):
            definition = self.ctx.project.definition(q)
            if definition is not None and isinstance(definition.node, cst.FunctionDef):
                self.ctx.homes[id(definition.node)] = definition.home
                return Func(definition.node)  # a helper of another project file, run with its own imports
        return ClassRef(q)

    def attribute(self, e: cst.Attribute, env: dict[str, object]) -> object:
        """``base.attr``: self's attributes and methods, class constants, qualified names, module values."""
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
            if attr == "config":
                return self.ctx.config_of(scope)
            return None
        if isinstance(base, ConfigRef):
            return self.ctx.config_value(base, attr)
        if isinstance(base, LocalClass):
            scope = self.ctx.scopes.get(base.name)
            return scope.constants.get(attr) if scope else None
        if isinstance(base, ClassRef):
            q = f"{base.qualified}.{attr}"
            return _CONSTANTS.get(q, ClassRef(q))
        return self.reflect.attribute(base, attr)

    def sequence(self, elements: Any, env: dict[str, object]) -> tuple[object, ...]:
        """The elements of a tuple or list display, starred ones expanded."""
        out: list[object] = []
        for el in elements:
            if isinstance(el, cst.StarredElement):
                v = self.ev(el.value, env)
                if isinstance(v, (ListBuild, tuple)):
                    added = v.entries if isinstance(v, ListBuild) else v
                    check_size(self.ctx, len(out) + len(added))
                    out += added
                else:
                    out.append(None)
            else:
                out.append(self.ev(el.value, env))  # a data table as long as the file: no growth
        return tuple(out)

    def comprehension(self, e: cst.ListComp | cst.GeneratorExp, env: dict[str, object]) -> object:
        """A list comprehension / generator: existing values listed, or built entries repeated."""
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
            count = count * n if count is not None and n is not None and count * n <= MAX_COUNT else None
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
        self.repeat = times(saved, count)
        value = self.ev(e.elt, local)
        self.repeat = saved
        return ListBuild([Repeat((value,))])

    def subscript(self, e: cst.Subscript, env: dict[str, object]) -> object:
        """``base[key]`` on containers with literal keys."""
        base = self.ev(e.value, env)
        if len(e.slice) != 1 or not isinstance(e.slice[0].slice, cst.Index):
            return None
        key = self.ev(e.slice[0].slice.value, env)
        if isinstance(base, ClassRef):
            registry = conventions(self.ctx.source.settings.conventions).activation_registry(base.qualified)
            if registry is not None:
                return self.torch.registry_activation(registry, key, base.qualified)
            return None
        return item(base, key)

    def compare(self, e: cst.Comparison, env: dict[str, object]) -> object:
        """A comparison chain; None when any link is unknown."""
        left = self.ev(e.left, env)
        result: bool | None = True
        for target in e.comparisons:
            right = self.ev(target.comparator, env)
            value = compare(target.operator, left, right)
            if value is False:
                return False
            if value is None:
                result = None
            left = right
        return result

    # -- calls -------------------------------------------------------------

    def call(self, e: cst.Call, env: dict[str, object]) -> object:
        """A call, routed by what the callee is."""
        func = e.func
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Call) and dotted(func.value.func) == "super":
                return self.inline.super_call(func.attr.value, e, env)
            recv = self.ev(func.value, env)
            if not isinstance(recv, (ClassRef, type(None))) or recv is None and func.attr.value in ti.METHOD_SIGNATURES:
                return self.method_call(recv, func.attr.value, e, env)
        callee = self.ev(func, env)
        if isinstance(callee, ClassRef):
            return self.torch.qualified_call(callee.qualified, e, env)
        if isinstance(callee, LocalClass):
            return self.torch.construct_local(callee.name, e, env)
        if isinstance(callee, Func):
            return self.inline.call_function(callee, e, env)
        if isinstance(callee, LambdaRef):
            return None
        if isinstance(callee, ActClass):
            pos, kw = self.args(e, env)
            fam = activation_family(callee.name, self.ctx.extra_activations)
            return ActMod(callee.name, fam, module_slope(callee.name, pos, kw)) if fam else None
        if isinstance(callee, Partial):
            pos, kw = self.args(e, env)
            return self.call_value(callee.fn, list(callee.args) + pos, {**dict(callee.kwargs), **kw}, e, env)
        if isinstance(callee, Sym):
            return OpaqueMod(f"module from config: {callee.name}(...)")
        name = dotted(func)
        if name in HARMLESS:
            return builtin(self, name, e, env)
        self.torch.unknown_call(name or "a call", e, env)
        return None

    def call_value(self, fn: object, pos: list[object], kw: dict[str, object], e: cst.Call, env: dict[str, object]) -> object:
        """Call an already evaluated callable with evaluated arguments (a ``partial``'s function)."""
        if isinstance(fn, Func):
            return self.inline.call_values(fn, pos, kw)
        if isinstance(fn, ActClass):
            fam = activation_family(fn.name, self.ctx.extra_activations)
            return ActMod(fn.name, fam, module_slope(fn.name, pos, kw)) if fam else None
        if isinstance(fn, ClassRef):
            return self.torch.qualified_values(fn.qualified, pos, kw, e)
        if isinstance(fn, LocalClass):
            self.ctx.constructions.append((self.scope.name, fn.name, tuple(pos), dict(kw)))
            self.ctx.constructed.add(id(e))
            return ChildMod(fn.name)
        return None

    def args(self, e: cst.Call, env: dict[str, object]) -> tuple[list[object], dict[str, object]]:
        """The evaluated (positional, keyword) arguments of a call, ``*args`` expanded."""
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

    def method_call(self, recv: object, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``recv.method(...)``: Python's lists and strings here; modules and weights by what they are."""
        if isinstance(recv, ListBuild):
            pos, _ = self.args(e, env)
            if method == "append" and pos:
                check_size(self.ctx, len(recv.entries) + 1)
                recv.entries.append(pos[0])
            elif method == "extend" and pos and isinstance(pos[0], (ListBuild, tuple)):
                added = pos[0].entries if isinstance(pos[0], ListBuild) else pos[0]
                check_size(self.ctx, len(recv.entries) + len(added))
                recv.entries += list(added)
            elif method == "insert" and len(pos) == 2:
                recv.entries.insert(pos[0] if isinstance(pos[0], int) else 0, pos[1])  # type: ignore[arg-type]
            return None
        if isinstance(recv, ListMod) and method in ("append", "extend") or isinstance(recv, SeqMod) and method in ("append", "add_module"):
            return self.torch.grow(recv, method, e, env)
        if isinstance(recv, str):
            if not isinstance(recv, PathStr):
                return str_method(recv, method, [self.ev(a.value, env) for a in e.args])
            args = [self.ev(a.value, env) for a in e.args]
            if method == "endswith" and args and isinstance(args[0], str):
                return recv.endswith(args[0])
            return None
        if isinstance(recv, WeightRef):
            return self.torch.tensor_method(recv, method, e, env)
        if isinstance(recv, BiasRef):
            return None
        if isinstance(recv, ParamMod):
            return self.torch.tensor_method(WeightRef(recv.layer), method, e, env)
        if isinstance(recv, SelfRef):
            return self.reflect.self_method(recv.scope, method, e, env)
        if isinstance(recv, (LayerMod, ChildMod, SeqMod, ListMod, DictMod, ExtMod)):
            return self.reflect.module_method(recv, method, e, env)
        if isinstance(recv, ExtPart):
            if method in ti.METHOD_SIGNATURES or "init" in method or method.endswith("_"):
                self.torch.ext_part_touched(recv, f".{method}()")
            return None
        if isinstance(recv, TensorVal):
            return self.torch.fresh_tensor_method(recv, method, e, env)
        if recv is None and isinstance(e.func, cst.Attribute):
            # something.unknown(...): weights passed to it become unresolved
            self.torch.unknown_call(dotted(e.func) or method, e, env)
        return None


_AUG = {
    cst.AddAssign: cst.Add(), cst.SubtractAssign: cst.Subtract(), cst.MultiplyAssign: cst.Multiply(),
    cst.DivideAssign: cst.Divide(), cst.FloorDivideAssign: cst.FloorDivide(), cst.PowerAssign: cst.Power(),
}

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


def builtin(it: Interpreter, name: str, e: cst.Call, env: dict[str, object]) -> object:
    """A builtin that never touches an init: the few the interpreter evaluates, else unknown."""
    if name in ("list", "tuple") and e.args:
        v = it.ev(e.args[0].value, env)
        return v if isinstance(v, (ListBuild, tuple)) else None
    if name == "isinstance":
        return it.reflect.isinstance_(e, env)
    if name == "hasattr":
        return it.reflect.hasattr_(e, env)
    if name == "type" and e.args:
        v = it.ev(e.args[0].value, env)
        return class_of(v)
    if name == "getattr" and len(e.args) >= 2:
        obj, key = it.ev(e.args[0].value, env), it.ev(e.args[1].value, env)
        if isinstance(obj, ClassRef) and isinstance(key, str):
            return ClassRef(f"{obj.qualified}.{key}")
        return None
    if name in NUMERIC_BUILTINS:
        return numeric_builtin(name, [it.ev(a.value, env) for a in e.args])
    return None
