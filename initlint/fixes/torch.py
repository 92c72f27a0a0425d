"""Fixes for PyTorch source: replace a wrong init call, insert an explicit one, scale a raw draw.

The recommended call for each activation family is the rulebook's
``torch_fix`` template (He ``kaiming_normal_(w, nonlinearity="relu")`` before
the ReLU and smooth families, ``a=slope`` with ``"leaky_relu"`` for leaky
rectifiers, ``xavier_uniform_`` before tanh/sigmoid/linear, LeCun normal
``kaiming_normal_(w, nonlinearity="linear")`` before SELU), written with the
file's own alias for ``torch.nn`` / ``torch.nn.init``.

- A declared init call that is wrong for its layer is replaced, unless the same
  call also initializes layers it suits or that need something else (dispatch
  functions, parameter loops, shared helpers): then there is no fix.
- A layer on the framework default, or a parameter from uninitialized memory,
  gets an init call right after the statement that builds it.
- ``nn.Parameter(torch.randn(i, o))`` is scaled by the family's std
  (``math.sqrt(2 / i)`` for ReLU-like, ``1 / math.sqrt(i)`` otherwise).
"""

from __future__ import annotations

import libcst as cst

from ..formulas import receptive_field
from ..frontends.python.names import dotted
from ..records import Finding, InitSpec, LayerRecord
from ..rulebook import family_info, rule
from .common import Context, Planned, unfixable
from .edits import Edit, InsertAfter, ReplaceCall

# Tensor methods that fill a weight in place (``self.fc.weight.data.normal_(0, 0.02)``).
_IN_PLACE = frozenset({"normal_", "uniform_", "fill_", "zero_", "constant_", "copy_"})
_ALLOCATORS = frozenset({"empty", "Tensor", "FloatTensor", "randn", "rand", "zeros", "ones"})
_CONTAINERS = ("Sequential", "ModuleList")
_HE_FAMILIES = frozenset({"relu", "smooth", "selu"})  # kaiming_*: the mode decides which fan


def recommended(record: LayerRecord, weight: str, prefix: str, mode: str | None = None) -> str | None:
    """The init call the record's consumer wants, on ``weight`` (None when there is no single answer)."""
    act = record.activation
    if act is None:
        return None
    info = family_info(act.family)
    template = info["torch_fix_leaky"] if act.family == "relu" and act.slope else info["torch_fix"]
    code = template.format(weight=weight, slope=f"{act.slope:g}")
    code = prefix + code.removeprefix("nn.init.")
    if mode and act.family in _HE_FAMILIES:
        code = f'{code[:-1]}, mode="{mode}")'
    return code


def plan(finding: Finding, ctx: Context) -> Planned | str:
    """The edits that fix one finding, or why there are none."""
    reason = unfixable(finding)
    if reason:
        return reason
    record = finding.record
    assert record is not None and record.init is not None
    spec = record.init
    if spec.source == "default" or spec.scheme == "uninitialized":
        return _insert(finding, record, ctx)
    if finding.code == "INIT002" and record.kind == "parameter":
        scaled = _scale(record, ctx)
        if not isinstance(scaled, str) or spec.line in (None, record.origin.line):
            return scaled
    return _replace(finding, record, ctx)


# -- insert an explicit init after the layer is built ----------------------------


def _layer_call(record: LayerRecord, ctx: Context) -> cst.Call | str:
    if record.origin.line is None:
        return "no source location"
    call = ctx.tree.call_at(record.origin.line, record.origin.column)
    if call is None:
        return "the layer's construction call was not found"
    return call


def _path(value: cst.BaseExpression, call: cst.Call, ctx: Context) -> str | None:
    """Index path from an assigned value to the layer call: ``""``, ``[2]``, ``[0][1]`` (Sequential / ModuleList)."""
    if value is call:
        return ""
    if not isinstance(value, cst.Call) or not ctx.qualify(value.func).endswith(_CONTAINERS):
        return None
    if any(arg.star for arg in value.args):
        return None
    items: list[cst.BaseExpression] = [a.value for a in value.args if a.keyword is None]
    if len(items) == 1 and isinstance(items[0], (cst.List, cst.Tuple)):
        items = [e.value for e in items[0].elements]  # ModuleList([...]), Sequential(*[...]) is starred
    elif len(items) == 1 and isinstance(items[0], cst.Call) and ctx.qualify(items[0].func).endswith("OrderedDict"):
        pairs = items[0].args[0].value if items[0].args else None
        if not isinstance(pairs, (cst.List, cst.Tuple)):
            return None
        items = []
        for element in pairs.elements:
            pair = element.value
            if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                return None
            items.append(pair.elements[1].value)
    for i, item in enumerate(items):
        sub = _path(item, call, ctx)
        if sub is not None:
            return f"[{i}]{sub}"
    return None


def _target(small: cst.BaseSmallStatement, ctx: Context) -> tuple[str, cst.BaseExpression] | None:
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        value = small.value
    elif isinstance(small, cst.AnnAssign) and small.value is not None:
        target, value = small.target, small.value
    else:
        return None
    if not isinstance(target, (cst.Name, cst.Attribute)) or dotted(target) is None:
        return None
    return ctx.tree.code(target), value


def _shape(call: cst.Call) -> tuple[int, ...] | None:
    """Literal integer dims of an allocation call (``torch.empty(256, 128)``, ``torch.empty((256, 128))``)."""
    args = [a.value for a in call.args if a.keyword is None]
    if len(args) == 1 and isinstance(args[0], (cst.Tuple, cst.List)):
        args = [e.value for e in args[0].elements]
    dims = []
    for arg in args:
        if not isinstance(arg, cst.Integer):
            return None
        dims.append(int(arg.value.replace("_", ""), 0))
    return tuple(dims) if len(dims) >= 2 else None


def _allocation(call: cst.Call, ctx: Context) -> cst.Call | None:
    """The allocating call of a raw parameter: the call itself or ``nn.Parameter``'s first argument."""
    if ctx.qualify(call.func).rpartition(".")[2] in _ALLOCATORS:
        return call
    first = call.args[0].value if call.args and call.args[0].keyword is None else None
    if isinstance(first, cst.Call) and ctx.qualify(first.func).rpartition(".")[2] in _ALLOCATORS:
        return first
    return None


def _mode(record: LayerRecord, ctx: Context) -> str | None | tuple[str]:
    """``mode`` for kaiming on a raw parameter, from its literal shape (torch's fan_in is ``shape[1]*rf``).

    Returns None (default mode is right), a mode, or a 1-tuple with the reason there is no fix.
    """
    act = record.activation
    if record.kind != "parameter" or act is None or act.family not in _HE_FAMILIES:
        return None
    call = _layer_call(record, ctx)
    alloc = _allocation(call, ctx) if isinstance(call, cst.Call) else None
    shape = _shape(alloc) if alloc is not None else None
    if shape is None or record.fan_in is None:
        return ("the parameter's shape or fan-in is not a literal",)
    rf = receptive_field(shape[2:])
    if record.fan_in == shape[1] * rf:
        return None
    if record.fan_in == shape[0] * rf:
        return "fan_out"  # used as ``x @ w``: the fan-in is the first dim
    return ("the parameter's fan-in does not match its shape",)


def _insert(finding: Finding, record: LayerRecord, ctx: Context) -> Planned | str:
    call = _layer_call(record, ctx)
    if isinstance(call, str):
        return call
    if ctx.qualify(call.func).rpartition(".")[2].startswith("Lazy"):
        return "a lazy layer has no weight until its first forward"
    found = ctx.tree.statement_of(call)
    if found is None or not ctx.tree.in_block(found[0]):
        return "the layer is not built by a plain assignment"
    line_stmt, small = found
    target = _target(small, ctx)
    if target is None:
        return "the layer is not built by a plain assignment"
    name, value = target
    path = _path(value, call, ctx)
    if path is None:
        return "the layer's attribute path is not visible"
    if record.kind == "parameter":
        if path:
            return "the parameter's attribute path is not visible"
        weight = name
    else:
        weight = f"{name}{path}.weight"
    if weight.startswith("self.") and not _has_self(ctx.tree.enclosing_function(line_stmt)):
        return "no `self` where the layer is built"
    mode = _mode(record, ctx)
    if isinstance(mode, tuple):
        return mode[0]
    prefix, imports = ctx.init_prefix()
    code = recommended(record, weight, prefix, mode)
    if code is None:
        return "no recommended initializer"
    end = ctx.tree.end_line(line_stmt)
    return Planned(f"insert `{code}` after line {end}", (InsertAfter(line_stmt, code), *imports))


def _has_self(function: cst.FunctionDef | None) -> bool:
    params = function.params.params if function is not None else ()
    return bool(params) and params[0].name.value == "self"


# -- scale an unscaled raw draw ---------------------------------------------------


def _scale(record: LayerRecord, ctx: Context) -> Planned | str:
    call = _layer_call(record, ctx)
    if isinstance(call, str):
        return call
    alloc = _allocation(call, ctx)
    if alloc is None or ctx.qualify(alloc.func).rpartition(".")[2] != "randn" or alloc is call:
        return "the draw is not a plain torch.randn inside nn.Parameter"
    shape = _shape(alloc)
    act = record.activation
    if shape is None or len(shape) != 2 or record.fan_in not in shape or act is None:
        return "the fan-in is not one of the literal dims"
    fan = record.fan_in
    math, imports = ctx.math_name()
    if act.family in ("relu", "smooth"):
        factor = f"{math}.sqrt(2 / {fan})"
        if act.slope:
            factor = f"{math}.sqrt(2 / ((1 + {act.slope:g} ** 2) * {fan}))"
        code = f"{ctx.tree.code(alloc)} * {factor}"
    else:
        code = f"{ctx.tree.code(alloc)} / {math}.sqrt({fan})"
    return Planned(f"scale `{ctx.tree.code(alloc)}` to `{code}`", (ReplaceCall(alloc, code), *imports))


# -- replace a wrong init call ----------------------------------------------------


def _init_call(record: LayerRecord, ctx: Context) -> cst.Call | None:
    spec = record.init
    if spec is None or spec.line is None:
        return None
    if spec.column is not None:
        found = ctx.tree.call_at(spec.line, spec.column)
        if found is not None:
            return found
    name = spec.call.rpartition(".")[2].partition("(")[0]
    matches = [c for c in ctx.tree.calls_on_line(spec.line) if (dotted(c.func) or "").rpartition(".")[2] == name]
    return matches[0] if len(matches) == 1 else None


def _weight_arg(call: cst.Call, ctx: Context) -> str | None:
    """The tensor an init call fills: ``init.x_(w, ...)`` -> ``w``; ``w.data.normal_(...)`` -> ``w``."""
    if ctx.qualify(call.func).startswith("torch.nn.init."):
        for i, arg in enumerate(call.args):
            if (arg.keyword is None and i == 0) or (arg.keyword is not None and arg.keyword.value == "tensor"):
                return ctx.tree.code(arg.value)
        return None
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value in _IN_PLACE:
        receiver = func.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "data":
            receiver = receiver.value
        return ctx.tree.code(receiver)
    return None


def _replace(finding: Finding, record: LayerRecord, ctx: Context) -> Planned | str:
    call = _init_call(record, ctx)
    if call is None:
        return "the init call was not found"
    weight = _weight_arg(call, ctx)
    if weight is None:
        return "the init is not a torch.nn.init call or an in-place fill"
    mode = _mode(record, ctx)
    if isinstance(mode, tuple):
        return mode[0]
    prefix, imports = _same_prefix(call, ctx)
    code = recommended(record, weight, prefix, mode)
    if code is None:
        return "no recommended initializer"
    reason = _shared(record, code, weight, prefix, ctx)
    if reason:
        return reason
    old = ctx.tree.code(call)
    if old == code:
        return "the init call is already the recommended one"
    assert record.init is not None
    return Planned(f"replace `{old}` with `{code}` (line {record.init.line})", (ReplaceCall(call, code), *imports))


def _same_prefix(call: cst.Call, ctx: Context) -> tuple[str, tuple[Edit, ...]]:
    """Keep the replaced call's own spelling (``nn.init.``, ``init.``, ``torch.nn.init.``) when it has one."""
    written = dotted(call.func) or ""
    if ctx.qualify(call.func).startswith("torch.nn.init.") and "." in written:
        return written.rpartition(".")[0] + ".", ()
    return ctx.init_prefix()


def _same_call(other: InitSpec | None, spec: InitSpec) -> bool:
    """Whether ``other`` comes from the same init call (same line; same column when both are known)."""
    if other is None or other.line != spec.line:
        return False
    return other.column is None or spec.column is None or other.column == spec.column


def _shared(record: LayerRecord, code: str, weight: str, prefix: str, ctx: Context) -> str:
    """Why one init call cannot be rewritten for this layer alone ('' when it can)."""
    spec = record.init
    assert spec is not None
    flagged = {id(f.record) for f in ctx.findings if f.record is not None and rule(f.code).fixable}
    for other in ctx.records:
        if other is record or not _same_call(other.init, spec):
            continue
        if id(other) not in flagged:
            return f"the init call at line {spec.line} also initializes {other.name}, which it suits or which is unresolved"
        mode = _mode(other, ctx)
        if isinstance(mode, tuple) or recommended(other, weight, prefix, mode) != code:
            return f"the init call at line {spec.line} also initializes {other.name}, which needs another initializer"
    return ""
