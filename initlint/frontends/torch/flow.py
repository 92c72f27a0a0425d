"""Data flow through ``forward``: which activation consumes each layer's output.

Runs the forward methods of the outermost models (and of same-file children,
entered with the caller's value, SPEC 8.13) over :class:`Val` tensors, and records
each consumption of a layer's output as an :class:`Event` in :class:`Consumers`
(``consumers``); ``layers`` turns agreeing events into an Activation and
disagreeing ones into "unresolved".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import libcst as cst

from ...records import returned
from ...rulebook import activation_family, conventions, default_slope
from ..python.names import dotted
from ..python.syntax import literal, suite
from .consumers import DATA, EMPTY, Consumers, DropoutCall, Event, Pending, Val, is_input, only_outputs
from .context import BudgetExceeded, FileContext
from .forms import (
    ATTENTION_FUNCTIONS,
    ATTENTION_MODULES,
    LOSS_FUNCTIONS,
    OutputVal,
    is_attention_call,
    is_loss_module,
    is_output_class,
    is_output_name,
    norm_like,
)
from .library import module_slope
from .loops import bind, builtin, comprehension, everything, grow, loop_items, plain, subscript, zipped
from .tables import (
    DROPOUTS,
    FUNCTIONAL_ACTIVATIONS,
    FUNCTIONALS,
    MATMULS,
    NORMS,
    PASSES,
    WEIGHT_LAYERS,
    torch_nn_class,
)
from .tree import (
    ActMod,
    Alt,
    AltMod,
    ChildMod,
    DictMod,
    ExtMod,
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
    SinkMod,
    mods_under,
)
from .values import NONE

MAX_DEPTH = 12
RETURNED_REASON = "consumer not visible: output returned to caller"
_GATING = "consumer not visible: multiplied with another branch (gating)"
Call = tuple[list[object], dict[str, object]]  # a call's positional and keyword argument values
_QUERIES = frozenset({"size", "dim", "numel", "item", "tolist", "ndimension", "nelement", "shape", "ndim", "get_device", "is_contiguous"})
_CONVS = frozenset({"conv1d", "conv2d", "conv3d"})
_ONE_TENSOR = frozenset({"scaled_dot_product_attention", "dispatch_attention_fn"})  # attention calls returning a tensor
_VIEWS = frozenset({"T", "mT", "H", "mH", "data", "real"})
# New tensors shaped like the receiver (``x.new_zeros(n)``, ``torch.zeros_like(x)``): they read no values.
_FACTORIES = frozenset({"new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "zeros_like", "ones_like",
                        "empty_like", "full_like", "rand_like", "randn_like", "randint_like"})


@dataclass(frozen=True)
class SelfVal:
    scope: Scope


@dataclass(frozen=True)
class LocalFn:
    """A function defined inside the function being run (``def apply_rotary_emb(...)`` in a forward)."""

    node: cst.FunctionDef


class Flow:
    """Runs forward methods and records, per layer, what consumed its output."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.out = Consumers()  # what the pass finds
        self.entered: set[str] = set()
        self.depth = 0
        self.extra = ctx.extra_activations
        self.stmt: cst.CSTNode | None = None
        self.scope: Scope | None = None
        self.active: list[str] = []  # forwards being followed (no re-entry)
        self.inputs: dict[str, Layer] = {}  # class -> the stand-in for its forward's input (its Entry)
        # (class whose forward applies it, other file's class) -> the stand-in for the instance's output (an exit)
        self.outputs: dict[tuple[str, str], Layer] = {}
        self.fns: list[cst.FunctionDef] = []  # the functions being run, innermost last

    # -- events ------------------------------------------------------------

    def activate(self, v: object, name: str, slope: float | None = None) -> Val:
        fam = activation_family(name, self.extra)
        if fam is None:
            self.out.consume(v, Event("unresolved", reason=f"consumer {name} has no activation family"))
            return EMPTY
        if slope is None:
            slope = default_slope("torch", name)
        if fam == "selu" and self.scope is not None:
            self.out.selu_scopes.add(self.scope.name)
        self.out.consume(v, Event("act", name, fam, slope))
        val = as_val(v)
        opens = [p for p in val.opens if not is_input(p.layer)]  # the forward's input: no layer to chain
        path = frozenset(p.layer for p in opens if not p.normalized and not p.residual)
        if not val.opens:
            path = val.chain  # an activation of an activation's output: the same path
        elif len(path) < len(val.opens):
            path = frozenset()  # a normalization or residual add on the way: no sequential path (SPEC 8.34)
        return Val(acts=frozenset(p.layer for p in opens), chain=path)

    # -- entry points --------------------------------------------------------

    def run_root(self, scope: Scope, root: bool) -> None:
        """Run a class's forward on a stand-in input: what consumes the stand-in is the class's Entry."""
        probe = Layer("<input>", "input", scope.name, None, None)
        self.inputs[scope.name] = probe
        out = self.forward(scope, [Val(frozenset({Pending(probe)}))], {})
        if out is None and self.ctx.method(scope, "forward") is None and scope.seq is None:
            # no forward (a CleanRL agent's get_value / get_action): its public methods are the entry points
            for name, fn in scope.methods.items():
                if not name.startswith("_") and "init" not in name and "reset" not in name:
                    self.entered.add(scope.name)
                    self.active.append(scope.name)
                    try:
                        r = self.call(fn, scope, [], {})
                    finally:
                        self.active.pop()
                    out = r if out is None else join(out, r)
        if out is None:
            return
        if root and self.ctx.project is not None and isinstance(out, Val):
            # no class of the file builds it: the containers of other files decide what consumes it; with none,
            # it is the model's output. (A class of the file that builds it but did not enter it is not followed.)
            self.out.consume(out, Event("unresolved", reason=RETURNED_REASON, into=returned(self.ctx.qualified(scope))))
        elif root:
            self.out.consume(out, Event("head"))
        else:
            self.out.consume(out, Event("unresolved", reason=RETURNED_REASON))

    def run_module(self, mod: Mod, scope: Scope) -> None:
        """A Sequential (or layer) built outside classes: the model itself (SPEC 8.13)."""
        out = self.apply_mod(mod, Val(), scope)
        self.out.consume(out, Event("head"))

    def forward(self, scope: Scope, args: list[object], kwargs: dict[str, object]) -> object:
        fn = self.ctx.method(scope, "forward")
        if fn is None:
            if scope.seq is not None:
                self.entered.add(scope.name)
                return self.apply_mod(scope.seq, args[0] if args else Val(), scope)
            return None
        if self.depth >= MAX_DEPTH or scope.name in self.active:
            return None  # a module that contains itself: not followed
        self.entered.add(scope.name)
        self.active.append(scope.name)
        try:
            return self.call(fn, scope, args, kwargs)
        finally:
            self.active.pop()

    def call(self, fn: cst.FunctionDef, scope: Scope, args: list[object], kwargs: dict[str, object]) -> object:
        params = list(fn.params.posonly_params) + list(fn.params.params)
        env: dict[str, object] = {}
        if params and params[0].name.value == "self":
            env["self"] = SelfVal(scope)
            params = params[1:]
        for i, p in enumerate(params + list(fn.params.kwonly_params)):
            name = p.name.value
            if i < len(params) and i < len(args):
                env[name] = args[i]
            elif name in kwargs:
                env[name] = kwargs[name]
            else:
                env[name] = Val() if p.default is None else None
        if fn.params.star_arg is not None and isinstance(fn.params.star_arg, cst.Param):
            env[fn.params.star_arg.name.value] = tuple(args[len(params):])
        self.depth += 1
        returns: list[object] = []
        saved, saved_scope = self.stmt, self.scope
        self.scope = scope
        self.fns.append(fn)
        try:
            self.run(suite(fn.body), env, scope, returns)
        finally:
            self.depth -= 1
            self.fns.pop()
            self.stmt, self.scope = saved, saved_scope
        out: object = None
        for r in returns:
            out = r if out is None else join(out, r)
        return out

    # -- statements --------------------------------------------------------

    def run(self, body: list[Any], env: dict[str, object], scope: Scope, returns: list[object]) -> bool:
        self.ctx.steps += len(body)
        if self.ctx.steps > self.ctx.budget:
            raise BudgetExceeded
        for stmt in body:
            kind = type(stmt)
            if kind is cst.SimpleStatementLine:
                for small in stmt.body:
                    self.stmt = small
                    if self.small(small, env, scope, returns):
                        return True
            elif kind is cst.FunctionDef:
                env[stmt.name.value] = LocalFn(stmt)  # a function defined in forward: run where it is called
            elif kind is cst.ClassDef:
                continue
            elif isinstance(stmt, cst.BaseSmallStatement):
                self.stmt = stmt
                if self.small(stmt, env, scope, returns):
                    return True
            elif isinstance(stmt, cst.If):
                self.stmt = stmt
                if self.if_(stmt, env, scope, returns):
                    return True
            elif isinstance(stmt, cst.For):
                self.stmt = stmt
                self.for_(stmt, env, scope, returns)
            elif isinstance(stmt, cst.While):
                for _ in range(2):
                    self.run(suite(stmt.body), env, scope, returns)
            elif isinstance(stmt, (cst.With, cst.Try)):
                if self.run(suite(stmt.body), env, scope, returns):
                    return True
        return False

    def small(self, stmt: cst.BaseSmallStatement, env: dict[str, object], scope: Scope, returns: list[object]) -> bool:
        if isinstance(stmt, cst.Assign):
            value = self.ev(stmt.value, env, scope)
            for t in stmt.targets:
                if isinstance(t.target, cst.Subscript) and not isinstance(self.ev(t.target.value, env, scope), Val):
                    self.out.opaque(value, reason="consumer not visible: stored in a container the analysis does not follow",
                                    taint=False)  # ``out[key] = x``: read back by whoever gets ``out``
                bind(t.target, value, env)
        elif isinstance(stmt, cst.AnnAssign) and stmt.value is not None:
            bind(stmt.target, self.ev(stmt.value, env, scope), env)
        elif isinstance(stmt, cst.AugAssign):
            op = _AUG.get(type(stmt.operator))
            left = self.ev(stmt.target, env, scope)
            right = self.ev(stmt.value, env, scope)
            bind(stmt.target, self.binary(op, left, right) if op else self.out.opaque(left, right), env)
        elif isinstance(stmt, cst.Expr):
            if not isinstance(stmt.value, (cst.SimpleString, cst.ConcatenatedString)):
                self.ev(stmt.value, env, scope)
        elif isinstance(stmt, cst.Return):
            returns.append(self.ev(stmt.value, env, scope) if stmt.value is not None else None)
            return True
        return False

    def if_(self, stmt: cst.If, env: dict[str, object], scope: Scope, returns: list[object]) -> bool:
        test = truth(self.ev(stmt.test, env, scope))
        orelse: list[Any] = []
        if isinstance(stmt.orelse, cst.If):
            orelse = [stmt.orelse]
        elif isinstance(stmt.orelse, cst.Else):
            orelse = suite(stmt.orelse.body)
        if test is True:
            return self.run(suite(stmt.body), env, scope, returns)
        if test is False:
            return self.run(orelse, env, scope, returns)
        other = dict(env)
        ret_a = self.run(suite(stmt.body), env, scope, returns)
        ret_b = self.run(orelse, other, scope, returns)
        if ret_a and not ret_b:
            env.clear()
            env.update(other)
        elif not ret_b:
            for key in set(env) | set(other):
                env[key] = join(env.get(key), other.get(key))
        return ret_a and ret_b

    def for_(self, stmt: cst.For, env: dict[str, object], scope: Scope, returns: list[object]) -> None:
        it = stmt.iter
        target = stmt.target
        body = suite(stmt.body)
        wrapper = dotted(it.func) if isinstance(it, cst.Call) else None
        if wrapper == "enumerate" and isinstance(it, cst.Call) and it.args and isinstance(target, cst.Tuple) and len(target.elements) == 2:
            inner = it.args[0].value
            pair = target.elements[1].value
            if isinstance(inner, cst.Call) and dotted(inner.func) == "zip" and isinstance(pair, (cst.Tuple, cst.List)):
                bind(target.elements[0].value, None, env)
                if zipped(self, inner, pair, body, env, scope, returns):  # enumerate(zip(...))
                    return
            value = self.ev(inner, env, scope)
            items = loop_items(value)
            if items is not None:
                exact = isinstance(value, tuple) or isinstance(value, (ListMod, SeqMod)) and plain(value.entries)
                for k, item in enumerate(items):
                    bind(target.elements[0].value, k if exact else None, env)  # the position, when it is exact
                    bind(pair, item, env)
                    if self.run(body, env, scope, returns):
                        return
                return
        if wrapper == "zip" and isinstance(it, cst.Call) and isinstance(target, (cst.Tuple, cst.List)):
            if zipped(self, it, target, body, env, scope, returns):
                return
        items = loop_items(self.ev(it, env, scope))
        if items is not None:
            for item in items:
                bind(target, item, env)
                if self.run(body, env, scope, returns):
                    return
            return
        bind(target, None, env)
        for _ in range(2):
            self.run(body, env, scope, returns)

    # -- expressions -------------------------------------------------------

    def ev(self, e: cst.BaseExpression, env: dict[str, object], scope: Scope) -> object:
        t = type(e)
        if t is cst.Name:
            name = e.value  # type: ignore[attr-defined]
            if name in env:
                return env[name]
            return {"True": True, "False": False, "None": None}.get(name)
        if t is cst.Attribute:
            base = self.ev(e.value, env, scope)  # type: ignore[attr-defined]
            attr = e.attr.value  # type: ignore[attr-defined]
            if isinstance(base, SelfVal):
                if attr not in base.scope.attrs:  # a class attribute (``fused_projections = False`` in a base)
                    return next((s.constants[attr] for s in self.ctx.mro(base.scope) if attr in s.constants), None)
                value = base.scope.attrs.get(attr)
                touch(self, value, f"self.{attr}")
                return value
            if isinstance(base, OutputVal):
                return base.get(attr)
            if isinstance(base, Val):
                return base if attr in _VIEWS else None  # ``x.mT``: the values, transposed; ``x.shape``: not a tensor
            if isinstance(base, DictMod):
                return base.items.get(attr)
            if isinstance(base, SeqMod) and base.keys and attr in base.keys:
                return base.entries[base.keys.index(attr)]
            if isinstance(base, ChildMod) and base.cls in self.ctx.scopes:
                return self.ctx.scopes[base.cls].attrs.get(attr)
            return None
        if t is cst.Call:
            return self.call_expr(e, env, scope)  # type: ignore[arg-type]
        if t is cst.BinaryOperation:
            return self.binary(e.operator, self.ev(e.left, env, scope), self.ev(e.right, env, scope))  # type: ignore[attr-defined]
        if t is cst.UnaryOperation:
            v = self.ev(e.expression, env, scope)  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.Not):  # type: ignore[attr-defined]
                tv = truth(v)
                return None if tv is None else not tv
            if isinstance(e.operator, cst.Minus) and isinstance(v, (int, float)) and not isinstance(v, bool):  # type: ignore[attr-defined]
                return -v
            return v
        if t is cst.Subscript:
            base = self.ev(e.value, env, scope)  # type: ignore[attr-defined]
            if isinstance(base, Val):
                return base
            return subscript(self, base, e, env, scope)  # type: ignore[arg-type]
        if t is cst.Tuple or t is cst.List:
            return tuple(self.ev(el.value, env, scope) for el in e.elements)  # type: ignore[attr-defined]
        if t is cst.IfExp:
            test = truth(self.ev(e.test, env, scope))  # type: ignore[attr-defined]
            if test is True:
                return self.ev(e.body, env, scope)  # type: ignore[attr-defined]
            if test is False:
                return self.ev(e.orelse, env, scope)  # type: ignore[attr-defined]
            return join(self.ev(e.body, env, scope), self.ev(e.orelse, env, scope))  # type: ignore[attr-defined]
        if t is cst.Comparison:
            left = self.ev(e.left, env, scope)  # type: ignore[attr-defined]
            for c in e.comparisons:  # type: ignore[attr-defined]
                right = self.ev(c.comparator, env, scope)
                if isinstance(c.operator, (cst.Is, cst.IsNot)) and c.comparator is not None and dotted(c.comparator) == "None":
                    if isinstance(left, Mod) and not isinstance(left, AltMod):
                        return isinstance(c.operator, cst.IsNot)
                    if isinstance(left, AltMod):
                        return None
                    return None
                left = right
            return None
        if t is cst.BooleanOperation:
            a, b = truth(self.ev(e.left, env, scope)), truth(self.ev(e.right, env, scope))  # type: ignore[attr-defined]
            if isinstance(e.operator, cst.And):  # type: ignore[attr-defined]
                return False if a is False or b is False else (True if a and b else None)
            return True if a is True or b is True else (False if a is False and b is False else None)
        if t is cst.Integer or t is cst.Float or t is cst.SimpleString:
            return literal(e)
        if t is cst.ListComp or t is cst.GeneratorExp or t is cst.SetComp:
            return comprehension(self, e, env, scope)  # type: ignore[arg-type]
        return None

    def binary(self, op: cst.BaseBinaryOp | None, a: object, b: object) -> object:
        va, vb = isinstance(a, Val), isinstance(b, Val)
        if isinstance(op, cst.MatrixMultiply):
            if isinstance(b, ParamMod):
                return self.out.weight_use(b.layer, "x@w", a)
            if isinstance(a, ParamMod):
                return self.out.weight_use(a.layer, "w@x", b)
            if va and vb:
                return attend(self, a, b)  # q @ k.transpose(-2, -1), attn @ v
            return self.out.opaque(a, b)
        if isinstance(op, cst.Add) and (isinstance(a, tuple) or isinstance(b, tuple)):
            return concat(a, b)
        if not va and not vb:
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                return None
            return None
        if isinstance(op, (cst.Add, cst.Subtract)):
            if va and vb:
                return a.marked(residual=True).union(b.marked(residual=True))  # type: ignore[union-attr]
            return a if va else b
        if isinstance(op, (cst.Multiply, cst.Divide)):
            return product(self, a, b)
        return self.out.opaque(a, b)

    # -- calls -------------------------------------------------------------

    def call_expr(self, e: cst.Call, env: dict[str, object], scope: Scope) -> object:
        func = e.func
        args = [self.ev(a.value, env, scope) for a in e.args if a.keyword is None and not a.star]
        kwargs = {a.keyword.value: self.ev(a.value, env, scope) for a in e.args if a.keyword is not None}
        first = args[0] if args else next(iter(kwargs.values()), None)
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Call) and dotted(func.value.func) == "super" and func.attr.value == "forward":
                return super_forward(self, scope, args, kwargs)
            recv = self.ev(func.value, env, scope)
            name = func.attr.value
            if isinstance(recv, (tuple, Val)) and grow(env, func, args):
                return None
            if isinstance(recv, SelfVal):
                fn = self.ctx.method(recv.scope, name)
                if fn is not None and name not in recv.scope.attrs:
                    return self.call(fn, recv.scope, args, kwargs) if self.depth < MAX_DEPTH else self.out.opaque(*args)
                mod = recv.scope.attrs.get(name)
                touch(self, mod, f"self.{name}")
                if isinstance(mod, SinkMod):
                    return sink(self, mod.kind, args, kwargs)
                if mod is None and is_attention_call(name):
                    return sink(self, "attention", args, kwargs)
                if mod is None and conventions(self.ctx.source.settings.conventions).is_loss_call(name):
                    return sink(self, "loss", args, kwargs)
                if (mod is None or mod is NONE) and name == "processor":  # set later (``set_processor(None)``)
                    proc = processor(self, recv.scope)
                    if proc is not None and self.depth < MAX_DEPTH:
                        return self.call(proc[1], proc[0], args, kwargs)
                if mod is None:
                    return self.out.opaque(*args, *kwargs.values(), reason=f"consumer not visible: passed to self.{name}", taint=False)
                return self.apply_mod(mod, first, scope, f"self.{name}", (args, kwargs))
            if conventions(self.ctx.source.settings.conventions).passes_arguments(name) and any(isinstance(a, Val) for a in args):
                handed = tuple(a for a in args if isinstance(a, Val))  # ``cache.update(k, v, i)``: (k, v) back
                return handed if len(handed) > 1 else handed[0]
            if isinstance(recv, Val):
                return tensor_method(self, recv, name, args, kwargs)
            if isinstance(recv, Mod) and name == "forward":
                return self.apply_mod(recv, first, scope)
            if isinstance(recv, DictMod) and name in ("items", "values"):
                return tuple(recv.items.items()) if name == "items" else tuple(recv.items.values())
        callee = self.ev(func, env, scope) if not isinstance(func, cst.Attribute) else None
        if isinstance(callee, SinkMod):
            return sink(self, callee.kind, args, kwargs)
        if isinstance(callee, LocalFn) and self.depth < MAX_DEPTH and callee.node not in self.fns:
            return self.call(callee.node, scope, args, kwargs)
        called = dotted(func) or ""
        if is_attention_call(called):
            out = sink(self, "attention", args, kwargs)
            return out[0] if called.rsplit(".", 1)[-1] in _ONE_TENSOR else out  # type: ignore[index]
        if output_call(self, func, called):
            return OutputVal(tuple(kwargs.items()), tuple(args))
        if isinstance(callee, Mod):
            return self.apply_mod(callee, first, scope, dotted(func) or "a module", (args, kwargs))
        q = self.ctx.names.qualify(func)
        if q is not None:
            return self.functional(q, args, kwargs, e)
        if isinstance(func, cst.Name) and func.value in self.ctx.functions and self.depth < MAX_DEPTH \
                and func.value not in self.active:
            self.active.append(func.value)  # a same-file function (``_get_qkv_projections(attn, x)``): followed
            try:
                return self.call(self.ctx.functions[func.value], scope, args, kwargs)
            finally:
                self.active.pop()
        if isinstance(func, cst.Name) and func.value == "sum" and len(args) == 1 and isinstance(args[0], tuple):
            total: object = None
            for item in args[0]:  # ``sum(block(x) for block in blocks)``: branches added
                total = item if total is None else self.binary(cst.Add(), total, item)
            return total
        if isinstance(func, cst.Name) and func.value in ("super", "len", "isinstance", "range", "getattr", "hasattr", "print",
                                                         "int", "float", "sum", "zip", "enumerate", "list", "tuple"):
            return builtin(func.value, args)
        if isinstance(func, cst.Name) and func.value in self.extra:
            return self.activate(first, func.value)
        return self.out.opaque(*args, *kwargs.values(), reason=f"consumer not visible: passed to {dotted(func) or 'a call'}", taint=False)

    def functional(self, q: str, args: list[object], kwargs: dict[str, object], call: cst.Call) -> object:
        last = q.rsplit(".", 1)[-1]
        base = last.rstrip("_")
        first = args[0] if args else next(iter(kwargs.values()), None)
        torchy = q.startswith("torch.")
        if not torchy and conventions(self.ctx.source.settings.conventions).is_identity(q):
            return first  # a call that hands its argument on (rotary position embeddings rotate, keeping the scale)
        if torchy and base in FUNCTIONAL_ACTIVATIONS and (q.startswith("torch.nn.functional.") or q.count(".") == 1 or q.startswith("torch.special.")):
            return self.activate(first, FUNCTIONAL_ACTIVATIONS[base], _slope(base, args, kwargs, 1))
        if torchy and last in _FACTORIES:
            return Val()
        if torchy and last in ATTENTION_FUNCTIONS:
            out = sink(self, "attention", args, kwargs)
            return out[0] if last in _ONE_TENSOR else out  # type: ignore[index]
        if torchy and last in LOSS_FUNCTIONS or not torchy and conventions(self.ctx.source.settings.conventions).is_loss_call(q):
            return sink(self, "loss", args, kwargs)
        if torchy and (base in MATMULS or base in _CONVS):
            return matmul(self, base, args, kwargs)
        if torchy and (base in FUNCTIONALS or last in FUNCTIONALS):
            return role(self, FUNCTIONALS.get(base) or FUNCTIONALS[last], args, call)
        cls = torch_nn_class(q)
        if cls is not None:
            fam = activation_family(cls, self.extra)
            if fam is not None:  # nn.ReLU() built in forward: the module, applied by the caller
                return ActMod(cls, fam, module_slope(cls, args, kwargs))
            if cls in NORMS:
                return NormMod(cls)
            if cls in PASSES or cls in DROPOUTS:
                return PassMod(cls)
            if cls in ATTENTION_MODULES or is_loss_module(cls):
                return SinkMod("attention" if cls in ATTENTION_MODULES else "loss", cls)
        if last in self.extra or q in self.extra:
            return self.activate(first, last)
        return self.out.opaque(*args, *kwargs.values(), reason=f"consumer not visible: passed to {q}")

    def apply_mod(self, mod: object, v: object, scope: Scope, text: str = "a module", more: Call | None = None) -> object:
        """``mod`` applied to ``v``; ``more``: the call's arguments, when it is called directly with all of them."""
        if isinstance(mod, LayerMod):
            if mod.layer.kind == "embedding":
                return Val()
            self.out.consume(v, Event("weight"))
            self.out.fed(v, mod.layer)
            self.out.link(v, mod.layer)
            self.out.applied.add(mod.layer)
            return Val(frozenset({Pending(mod.layer)}))
        if isinstance(mod, ActMod):
            return self.activate(v, mod.name, mod.slope)
        if isinstance(mod, NormMod):
            return as_val(v).marked(normalized=True)
        if isinstance(mod, PassMod):
            return v if isinstance(v, Val) else Val()
        if isinstance(mod, SeqMod):
            return self.sequence(mod.entries, v, scope)
        if isinstance(mod, SinkMod):
            return sink(self, mod.kind, [v], {})
        if isinstance(mod, ChildMod):
            return child(self, mod, v, more)
        if isinstance(mod, ExtMod):
            extras(self, more, f"consumer not visible: passed to {text}")
            return ext_mod(self, mod, v, text, scope)
        if isinstance(mod, AltMod):
            out: object = None
            for option in mod.options:
                r = self.apply_mod(option, v, scope, text, more)
                out = r if out is None else join(out, r)
            return out
        if isinstance(mod, OpaqueMod):
            return self.out.opaque(v, reason=_opaque_reason(mod.reason), taint=False)
        return self.out.opaque(v, reason=f"consumer not visible: passed to {text}", taint=False)

    def sequence(self, entries: tuple[object, ...], v: object, scope: Scope) -> object:
        for entry in entries:
            if isinstance(entry, Repeat):
                for _ in range(2):
                    v = self.sequence(entry.entries, v, scope)
            elif isinstance(entry, Alt):
                a = self.sequence(entry.first, v, scope)
                b = self.sequence(entry.second, v, scope)
                v = join(a, b)
            else:
                v = self.apply_mod(entry, v, scope)
        return v


def product(flow: Flow, a: object, b: object) -> object:
    """``a * b`` (or ``/``) with a tensor operand: two branches holding layer outputs or activations gate each
    other (both unresolved); another file's block output as one of them (an SE gate) hides only its own
    consumer; else a scaling that passes the tensors on."""
    if isinstance(a, Val) and isinstance(b, Val):
        if only_outputs(a) or only_outputs(b):
            gate, kept = (a, b) if only_outputs(a) else (b, a)
            flow.out.opaque(gate, reason=_GATING, taint=False)
            return kept
        if a.branch() and b.branch():
            return flow.out.opaque(a, b, reason=_GATING)
        return a.union(b)
    return a if isinstance(a, Val) else b


def super_forward(flow: Flow, scope: Scope, args: list[object], kwargs: dict[str, object]) -> object:
    """``super().forward(x)``: the next same-file base's ``forward``, else what its ``torch.nn`` class does."""
    v = args[0] if args else next(iter(kwargs.values()), None)
    defining = flow.ctx.scopes.get(flow.ctx.defined_in.get(id(flow.fns[-1]), "")) if flow.fns else None
    chain = flow.ctx.mro(defining or scope)
    for base in chain[1:]:
        fn = base.methods.get("forward")
        if fn is not None:
            if base.external or flow.depth >= MAX_DEPTH:
                break
            return flow.call(fn, scope, args, kwargs)
    else:
        cls = next((s.torch_base for s in chain if s.torch_base), "")
        if cls in WEIGHT_LAYERS:
            if WEIGHT_LAYERS[cls].kind != "embedding":
                flow.out.consume(v, Event("weight"))  # the class is itself a weight layer (``CausalConv3d(nn.Conv3d)``)
            return DATA
        if cls in NORMS or cls in PASSES or cls in DROPOUTS:
            return flow.apply_mod(NormMod(cls) if cls in NORMS else PassMod(cls), v, scope)
        if cls and activation_family(cls, flow.extra) is not None:
            return flow.activate(v, cls)
    return flow.out.opaque(*args, *kwargs.values(), reason="consumer not visible: passed to super().forward", taint=False)


def tensor_method(flow: Flow, v: Val, name: str, args: list[object], kwargs: dict[str, object]) -> object:
    base = name.rstrip("_")
    if name in _QUERIES:
        return None
    if name in _FACTORIES:
        return Val()
    if base in FUNCTIONAL_ACTIVATIONS:
        return flow.activate(v, FUNCTIONAL_ACTIVATIONS[base], _slope(base, args, kwargs, 0))
    kind = FUNCTIONALS.get(base) or FUNCTIONALS.get(name)
    if kind is not None:
        return role(flow, kind, [v] + args)
    if base in _ELEMENTWISE and len(args) == 1:
        return flow.binary(_ELEMENTWISE[base], v, args[0])  # x.mul_(self.gamma): layer scale
    bounds = [b for b in list(args) + list(kwargs.values()) if b is not None]
    if base in ("clip", "clamp") and bounds and all(isinstance(b, (int, float)) and abs(b) >= 1e3 for b in bounds):
        return v  # clipping to the float16 range (``clip(-65504, 65504)``): the values pass unchanged
    if name in ("matmul", "mm", "bmm") and args and isinstance(args[0], ParamMod):
        return flow.out.weight_use(args[0].layer, "x@w", v)
    return flow.out.opaque(v, *args, reason=f"consumer not visible: .{name}()")


def role(flow: Flow, kind: str, args: list[object], call: cst.Call | None = None) -> object:
    """A functional or tensor method between a layer and its consumer (``tables.FUNCTIONALS``): what it hands on."""
    first = args[0] if args else None
    if kind == "union":
        items = first if isinstance(first, tuple) else tuple(args)
        out = Val()
        for item in items:
            if isinstance(item, Val):
                out = out.union(item)
        return out.marked(mixed=True) if len(items) > 1 else out
    if kind == "norm":
        return as_val(first).marked(normalized=True)
    if kind in ("dropout", "alpha_dropout") and flow.stmt is not None and flow.scope is not None and call is not None:
        flow.out.dropouts.append(DropoutCall(flow.scope, flow.stmt, call, kind))
    return first if isinstance(first, Val) else (Val() if first is None else first)


def child(flow: Flow, mod: ChildMod, v: object, more: Call | None) -> object:
    """A same-file module class applied: its ``forward`` runs on every argument of the call (SPEC 8.13)."""
    child = flow.ctx.scopes.get(mod.cls)
    if child is not None and norm_like(child.name, flow.ctx.method(child, "forward")):
        extras(flow, more, f"consumer not visible: passed to {mod.cls}")
        return as_val(v).marked(normalized=True)  # a same-file RMSNorm / LayerNorm (SPEC 8.1)
    if child is None or flow.depth >= MAX_DEPTH:
        extras(flow, more, f"consumer not visible: passed to {mod.cls}")
        return flow.out.opaque(v, reason=f"consumer not visible: passed to {mod.cls}", taint=False)
    out = flow.forward(child, *(more or ([v], {})))
    if out is None:
        extras(flow, more, f"consumer not visible: {mod.cls} has no forward in this file")
        return flow.out.opaque(v, reason=f"consumer not visible: {mod.cls} has no forward in this file", taint=False)
    return out


def extras(flow: Flow, more: Call | None, reason: str) -> None:
    """The arguments of a module call beyond the input the module's consumer stands for: not followed."""
    if more is not None:
        args, kwargs = more
        rest = list(args[1:]) + list(kwargs.values()) if args else list(kwargs.values())[1:]
        flow.out.opaque(*rest, reason=reason, taint=False)


def matmul(flow: Flow, name: str, args: list[object], kwargs: dict[str, object]) -> object:
    if name == "einsum" and args and isinstance(args[0], str):
        ops = list(args[1:])
        if len(ops) == 1 and isinstance(ops[0], tuple):
            ops = list(ops[0])
        spec = args[0].replace(" ", "")
        ins, _, out = spec.partition("->")
        subs = ins.split(",")
        params = [i for i, o in enumerate(ops) if isinstance(o, ParamMod)]
        if len(params) == 1 and len(subs) == len(ops) and out:
            i = params[0]
            contracted = "".join(str(k) for k, ch in enumerate(subs[i]) if ch not in out)
            x = Val()
            for j, o in enumerate(ops):
                if j != i and isinstance(o, Val):
                    x = x.union(o)
            return flow.out.weight_use(ops[i].layer, f"einsum:{contracted}", x)  # type: ignore[union-attr]
        if not params and len(ops) == 2 and all(isinstance(o, Val) for o in ops):
            return attend(flow, *ops)  # einsum("bhqd,bhkd->bhqk", q, k)
        if not params and len(ops) == 1 and isinstance(ops[0], Val) and sorted(subs[0]) == sorted(out):
            return ops[0]  # einsum("nhwpqc->nchpwq", x): a permutation, transparent
        return flow.out.opaque(*ops)
    x = args[0] if args else kwargs.get("input")
    w = args[1] if len(args) > 1 else kwargs.get("weight", kwargs.get("other", kwargs.get("mat2")))
    if isinstance(w, ParamMod):
        use = {"linear": "linear", "conv1d": "conv", "conv2d": "conv", "conv3d": "conv"}.get(name, "x@w")
        return flow.out.weight_use(w.layer, use, x)
    if isinstance(x, ParamMod) and name in ("matmul", "mm"):
        return flow.out.weight_use(x.layer, "w@x", w)
    if name in ("matmul", "mm", "bmm") and isinstance(x, Val) and isinstance(w, Val):
        return attend(flow, x, w)
    if name in ("linear", "conv1d", "conv2d", "conv3d") and isinstance(x, Val) and not _layer_output(w):
        flow.out.consume(x, Event("weight"))  # a weight the module computes (``self.weight * self.scale``)
        return DATA
    return flow.out.opaque(*args, *kwargs.values())


def _layer_output(v: object) -> bool:
    """Whether ``v`` holds a layer's output or an activation's (a kernel made by a layer: dynamic weights)."""
    return isinstance(v, Val) and bool(v.opens or v.acts) or isinstance(v, tuple) and any(_layer_output(i) for i in v)


def touch(flow: Flow, value: object, text: str) -> None:
    """Forward read ``self.<attr>``: the layers it holds are used there, whatever the analysis makes of it."""
    if isinstance(value, Mod) and not isinstance(value, ChildMod):
        for m in mods_under(value):
            if isinstance(m, (LayerMod, ParamMod)):
                flow.out.touched.setdefault(m.layer, text)


def concat(a: object, b: object) -> object:
    """``(x,) + outputs[1:]``: tuples concatenate; an unknown tensor-valued operand is one more item."""
    left = a if isinstance(a, tuple) else (a,) if isinstance(a, Val) else (everything((a,)),)
    right = b if isinstance(b, tuple) else (b,) if isinstance(b, Val) else (everything((b,)),)
    return left + right


def attend(flow: Flow, *operands: object) -> Val:
    """An attention product of tensors (``q @ k^T``, ``attn @ v``): each operand is consumed linearly (SPEC 4:
    attention consumers are ``linear``); the product is a fresh tensor."""
    for v in operands:
        flow.out.consume(v, Event("attention"))
    return DATA


def sink(flow: Flow, kind: str, args: list[object], kwargs: dict[str, object]) -> object:
    """Attention (q, k, v consumed linearly) or a loss (its input is the model's output, a head)."""
    if kind == "loss":
        first = args[0] if args else kwargs.get("input", kwargs.get("logits"))
        flow.out.consume(first, Event("head"))
        return Val()
    tensors = [v for v in list(args) + list(kwargs.values()) if isinstance(v, Val)]
    out = attend(flow, *tensors)
    return (out, DATA)  # nn.MultiheadAttention / attention_interface: (output, weights)


def output_call(flow: Flow, func: cst.BaseExpression, called: str) -> bool:
    """Whether a call builds an output container (``BaseModelOutput(...)``, a same-file ``ModelOutput`` dataclass)."""
    scope = flow.ctx.scopes.get(called)
    if scope is not None:
        return is_output_class(scope.node, scope.foreign_bases) or (not scope.is_module and is_output_name(called))
    q = flow.ctx.names.qualify(func)
    project = flow.ctx.project
    return q is not None and not q.startswith("torch.") and is_output_name(q) and (
        project is None or not project.is_module_class(q))  # another file's ``BertSelfOutput`` is a module


_ELEMENTWISE: dict[str, cst.BaseBinaryOp] = {
    "mul": cst.Multiply(), "div": cst.Divide(), "add": cst.Add(), "sub": cst.Subtract(),
}
_AUG = {
    cst.AddAssign: cst.Add(), cst.SubtractAssign: cst.Subtract(), cst.MultiplyAssign: cst.Multiply(),
    cst.DivideAssign: cst.Divide(), cst.MatrixMultiplyAssign: cst.MatrixMultiply(),
}


def processor(flow: Flow, scope: Scope) -> tuple[Scope, cst.FunctionDef] | None:
    """The attention processor a module delegates its forward to (``return self.processor(self, x)``): the
    same-file class its ``_default_processor_cls`` names, and that class's ``__call__``."""
    for s in flow.ctx.mro(scope):
        name = _class_attribute(s.node, "_default_processor_cls") if s.node is not None else None
        proc = flow.ctx.scopes.get(name) if name else None
        if proc is not None and not proc.external:
            fn = flow.ctx.method(proc, "__call__")
            return (proc, fn) if fn is not None else None
    return None

def ext_mod(flow: Flow, mod: ExtMod, v: object, text: str, scope: Scope) -> object:
    """An instance of another project file's module class: a normalization is followed through; else
    its Entry (read from its own file) is the consumer, decided once every file is analysed (SPEC 8.32).
    Its output is a stand-in: what consumes it here is the class's exit in ``scope`` (SPEC 8.13)."""
    project = flow.ctx.project
    if project is not None and _norm_class(project, mod.qualified):
        return as_val(v).marked(normalized=True)
    flow.out.consume(v, Event("unresolved", reason=f"consumer not visible: passed to {text}", into=mod.qualified))
    key = (scope.name, mod.qualified)
    if key not in flow.outputs:
        flow.outputs[key] = Layer("<output>", "output", scope.name, None, None, probe=mod.qualified)
    return Val(frozenset({Pending(flow.outputs[key])}))


def _class_attribute(node: cst.ClassDef, attr: str) -> str | None:
    """The name a class body binds ``attr`` to (``_default_processor_cls = AttnProcessor``), if a plain name."""
    for stmt in suite(node.body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.value, cst.Name) \
                        and isinstance(small.targets[0].target, cst.Name) and small.targets[0].target.value == attr:
                    return small.value.value
    return None


def _norm_class(project: Any, qualified: str) -> bool:
    """A project class that normalizes its input: a torch.nn normalization subclass, or a norm-like forward."""
    for q in project.ancestors(qualified):
        cls = torch_nn_class(q)
        if cls in NORMS:
            return True
        definition = project.definition(q)
        if definition is not None and isinstance(definition.node, cst.ClassDef):
            forward = next((f for f in suite(definition.node.body)
                            if isinstance(f, cst.FunctionDef) and f.name.value == "forward"), None)
            if forward is not None:
                return norm_like(q.rsplit(".", 1)[-1], forward)
    return False


def _opaque_reason(reason: str) -> str:
    if reason.startswith(("activation from config", "module from config", "consumer")):
        return reason
    return f"consumer not visible: {reason}"


def _slope(name: str, args: list[object], kwargs: dict[str, object], offset: int) -> float | None:
    if name != "leaky_relu":
        return None
    v = kwargs.get("negative_slope", args[offset] if len(args) > offset else None)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else (None if v is None else -1.0)


def as_val(v: object) -> Val:
    return v if isinstance(v, Val) else Val()


def truth(v: object) -> bool | None:
    if isinstance(v, bool):
        return v
    return None


# Stands in a tensor's ``chain`` for "or from somewhere else" (the other branch of an ``if``): never one path.
ELSEWHERE = Layer(cls="", kind="", owner="", stmt=cst.Pass(), call=cst.Call(func=cst.Name("branch")))


def join(a: object, b: object) -> object:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, Val) and isinstance(b, Val):
        joined = a.union(b)
        if a.chain != b.chain:  # one branch's value comes from elsewhere: no single path (SPEC 8.34)
            joined = Val(joined.opens, joined.acts, joined.chain | {ELSEWHERE})
        return joined
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) == len(b):
            return tuple(join(x, y) for x, y in zip(a, b))
        return everything(a + b)  # a list grown on one branch only: any of its tensors
    if isinstance(a, OutputVal) and isinstance(b, (tuple, Val)):  # ``(h,)`` if not return_dict else ``Output(h=h)``:
        return a  # the same tensors; the structured form answers ``.latents`` and ``[0]``
    if isinstance(b, OutputVal) and isinstance(a, (tuple, Val)):
        return b
    if isinstance(a, tuple) and isinstance(b, Val):  # a tuple on one branch, a tensor (unpacked alike) on the other
        return tuple(join(x, b) for x in a)
    if isinstance(b, tuple) and isinstance(a, Val):
        return tuple(join(a, y) for y in b)
    if a is b:
        return a
    if isinstance(a, Mod) and isinstance(b, Mod):
        return AltMod((a, b))
    if isinstance(a, Val):
        return a
    if isinstance(b, Val):
        return b
    return None
