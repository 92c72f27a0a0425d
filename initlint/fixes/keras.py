"""Fixes for Keras source: add or replace the layer's ``kernel_initializer=`` argument.

The value is the rulebook's ``keras_fix`` for the consuming family:
``"he_normal"`` before the ReLU and smooth families, ``"lecun_normal"`` before
SELU, ``"glorot_uniform"`` before tanh/sigmoid/linear. Depthwise and separable
convolutions take the keyword the frontend names (``depthwise_initializer``,
``pointwise_initializer``).
"""

from __future__ import annotations

import libcst as cst

from ..frontends.python.names import dotted
from ..records import Finding
from ..rulebook import family_info, rule
from .common import Context, Planned, unfixable
from .edits import SetKeyword, quote_style

# Positional arguments that cannot reach ``kernel_initializer`` (Dense: its 4th parameter;
# every convolution takes at least eight parameters before it).
_SAFE_POSITIONAL = {"Dense": 3}
_SAFE_POSITIONAL_CONV = 7


def plan(finding: Finding, ctx: Context) -> Planned | str:
    reason = unfixable(finding)
    if reason:
        return reason
    record = finding.record
    assert record is not None and record.activation is not None and record.origin.line is not None
    act = record.activation
    # he_normal stays within SPEC 8.3's agreement while 1 + a**2 is below the agreement factor
    if act.family == "relu" and act.slope and 1 + act.slope**2 >= rule("INIT001").threshold("agree"):
        return f"no named initializer fits slope {act.slope:g}; use VarianceScaling(scale=2 / (1 + a**2))"
    call = ctx.tree.call_at(record.origin.line, record.origin.column)
    if call is None:
        return "the layer's construction call was not found"
    if any(arg.star for arg in call.args):
        return "*args / **kwargs may set the initializer"
    keyword = record.kernel_arg or "kernel_initializer"
    positional = sum(1 for arg in call.args if arg.keyword is None)
    name = (dotted(call.func) or "").rpartition(".")[2]
    limit = _SAFE_POSITIONAL.get(name, _SAFE_POSITIONAL_CONV if "Conv" in name else 0)
    current = next((a for a in call.args if a.keyword is not None and a.keyword.value == keyword), None)
    if current is None and positional > max(limit, 1):
        return "the initializer may be passed positionally"
    quote = quote_style(call)
    value = family_info(act.family)["keras_fix"].strip('"')
    code = f"{quote}{value}{quote}"
    if current is not None and isinstance(current.value, cst.SimpleString) and current.value.evaluated_value == value:
        return "the initializer is already the recommended one"
    verb = "replace" if current is not None else "add"
    return Planned(f"{verb} `{keyword}={code}` (line {record.origin.line})", (SetKeyword(call, keyword, code),))
