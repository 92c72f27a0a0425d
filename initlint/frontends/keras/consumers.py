"""What consumes a tensor: the search from a layer's output to its activation, next weight layer or head.

A search over states (graph, node, normalized, residual, calls): through normalization (marks
normalized), transparent ops and residual sums (marks residual), into the unit a tensor is
passed to (a helper, a block class, a method; of this file or another project file) and out of
its ``return`` back to that very call; out of a unit's ``return`` with no call to go back to,
into every call of the unit in the project (SPEC 8.13: a block's consumer lies in its caller).
Each state is visited once, so recursion and loops cost nothing extra.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import libcst as cst

from ...records import Activation
from ..python.names import dotted
from ..python.syntax import suite
from .graph import Graph, Node, Param, UnitRef
from .paths import Paths
from .scope import DEFAULT
from .tables import NORM_LAYERS, qualified_class

NEXT_LAYER = Activation("linear", "linear", reaches_weight=True)  # output feeds the next weight layer directly
HEAD = Activation("linear", "linear", reaches_weight=False)  # model output

MAX_CALLS = 6  # units entered at most this deep
MAX_STATES = 20_000  # states one search visits before it gives up

Calls = tuple[tuple[Graph, int], ...]  # the unit nodes entered, innermost last
Step = tuple[Graph, int, Calls]


@dataclass(frozen=True)
class Consumer:
    act: Activation | None = None
    normalized: bool = False
    residual: bool = False
    reason: str = ""
    soft: bool = False  # a use lost where branches meet: the reason only when nothing else consumes the output

    def under(self, normalized: bool, residual: bool) -> Consumer:
        if (normalized and not self.normalized) or (residual and not self.residual):
            return replace(self, normalized=self.normalized or normalized, residual=self.residual or residual)
        return self


class Consumers:
    """The consumer search over the graphs of one file and of the project files it reaches."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self._norms: dict[tuple[str, str], bool] = {}

    def of(self, graph: Graph, nid: int) -> list[Consumer]:
        """Every way the output of node ``nid`` is consumed (all must agree to resolve)."""
        found: dict[Consumer, None] = {}
        seen: set[tuple[int, int, bool, bool, tuple[tuple[int, int], ...]]] = set()
        todo: list[tuple[Graph, int, bool, bool, Calls]] = [(graph, nid, False, False, ())]
        while todo:
            g, n, normalized, residual, calls = todo.pop()
            state = (id(g), n, normalized, residual, tuple((id(c), u) for c, u in calls))
            if state in seen:
                continue
            seen.add(state)
            if len(seen) > MAX_STATES:
                return [Consumer(reason="its output reaches more code than the analysis follows")]
            users = g.users(n)
            if not users and (g is not graph or n != nid) and g.nodes[n].op in ("phi", "param"):
                continue  # a name merged after a branch, or a parameter of a unit, never used: nothing consumed
            if not users:
                found[Consumer(reason="its output is not used in this file")] = None
            for uid in users:
                node = g.nodes[uid]
                norm = node.op == "norm" or node.op == "unit" and self.normalizes(g, node.unit)
                flags = (normalized or norm, residual or node.op == "add")
                for item in ([(g, uid, calls)] if norm else self.step(g, uid, node, n, calls)):
                    if isinstance(item, Consumer):
                        found[item.under(*flags)] = None
                    else:
                        todo.append((item[0], item[1], *flags, item[2]))
        return [c for c in found if not c.soft] or list(found)

    def step(self, graph: Graph, uid: int, node: Node, nid: int, calls: Calls) -> list[Consumer | Step]:
        """What one user of a tensor is: a final consumer, or where the search goes on."""
        op = node.op
        if op == "weight":
            return [Consumer(NEXT_LAYER)]
        if op == "act":
            act = node.act
            if node.layer is not None and node.layer.where is not None:
                decision = self.paths.decided(node.layer)
                if decision.reason:
                    return [Consumer(reason=decision.reason)]
                act = decision.act
                if act is None:
                    return [(graph, uid, calls)]  # Activation(None) / "linear" on every path: the signal passes on
            if isinstance(act, Activation):
                return [Consumer(replace(act, reaches_weight=self.reaches_weight(graph, uid)))]
            return [Consumer(reason=str(act))]
        if op in ("norm", "pass", "dropout", "add", "phi"):
            return [(graph, uid, calls)]
        if op == "mul":  # x * cos, x * mask pass on; x * act(gate) is a gate (torch's rule: both from layers)
            other = next((i for i in node.inputs if i != nid), nid)
            if self.opened(graph, other, calls):
                return [Consumer(reason=f"consumed by {self.code(graph, node)}: multiplied with another branch")]
            return [(graph, uid, calls)]
        if op == "output":
            return [Consumer(HEAD)]
        if op == "lost":
            return [Consumer(reason=node.what, soft=True)]
        if op == "return":
            if calls:  # back to the call that entered this unit
                (caller, site), rest = calls[-1], calls[:-1]
                return [(caller, site, rest)]
            return self.returned(graph)
        if op == "unit":
            if len(calls) >= MAX_CALLS:
                return [Consumer(reason=f"passed to {node.unit}() deeper than the analysis follows")]
            if node.param is not None:
                callees = self.passed_functions(node.param)
                if isinstance(callees, str):
                    return [Consumer(reason=callees)]
            else:
                callees = [(graph, node.unit)]
            return [(item[0], item[1], (*calls, (graph, uid))) if isinstance(item, tuple) else item
                    for param, src in zip(node.params, node.inputs) if src == nid
                    for where, unit in callees for item in self.passed(where, unit, param)]
        if node.expr is not None:
            return [Consumer(reason=f"consumed by {self.code(graph, node)}")]
        return [Consumer(reason=node.what or "consumed by code the analysis does not follow")]

    def normalizes(self, graph: Graph, unit: str) -> bool:
        """Whether a block class normalizes its input (an RMSNorm written out, a Keras normalization subclass)."""
        key = (graph.module, unit)
        if key not in self._norms:
            found = self.paths.class_def(graph.module, unit)
            self._norms[key] = found is not None and (
                any(qualified_class(found[1].names.qualify(b.value), found[1].star, dotted(b.value)) in NORM_LAYERS
                    for b in found[0].bases) or norm_like(found[0].name.value, _method(found[0], "call")))
        return self._norms[key]

    def code(self, graph: Graph, node: Node) -> str:
        program = self.paths.program_of(graph.module)
        top = program.top if program is not None else None
        assert node.expr is not None
        return top.code(node.expr) if top is not None else "code the analysis does not follow"

    def returned(self, graph: Graph) -> list[Consumer | Step]:
        """What a unit returns, with no call to go back to, is consumed at every call of it in the project."""
        program = self.paths.program_of(graph.module)
        unit = graph.unit
        sites = list(program.sites.get(unit, [])) if program is not None else []
        if self.paths.project is not None and graph.module and "." not in unit:
            qualified = f"{graph.module}.{unit}"
            for caller in self.paths.project.callers(qualified):  # type: ignore[attr-defined]
                other = self.paths.program_of(caller)
                if other is not None and other is not program:
                    sites += other.sites.get(qualified, [])
        if sites:
            return [(g, n, ()) for g, n in sites]
        called = self.called_as_argument(graph)
        if called:
            return called
        if program is not None and program.unit_kinds.get(unit) == "model":
            return [Consumer(HEAD)]
        where = "the project" if self.paths.project is not None else "this file"
        return [Consumer(reason=f"returned by {unit}() and not consumed in {where}")]

    def passed_functions(self, param: Param) -> list[tuple[Graph, str]] | str:
        """The functions callers pass for a parameter that is called (``stack_fn(x)``), as (a graph of their file, unit)."""
        module, unit, _ = param.key
        sites = self.paths.sites(module, unit)
        signature = self.paths.signature(module, unit)
        out: list[tuple[Graph, str]] = []
        for site in sites:
            binding = site.scope.bind_args(signature, site.call).get(param.key, DEFAULT)
            expr = binding[1] if isinstance(binding, tuple) else None
            bound = site.scope.lookup(dotted(expr) or "") if expr is not None else None
            if not isinstance(bound, UnitRef) or site.scope.program.unit_kinds.get(bound.name) != "function":
                return f"calls parameter {param.name!r}, which {site.where} sets to what the analysis does not follow"
            out.append((site.scope.graph, bound.name))
        return out or f"calls parameter {param.name!r}, which no caller in the project sets"

    def called_as_argument(self, graph: Graph) -> list[Consumer | Step]:
        """A function no one calls by name, passed to a parameter that its callee calls: back at those calls."""
        program = self.paths.program_of(graph.module)
        if program is None:
            return []
        out: list[Consumer | Step] = []
        for unit, sites in program.calls.items():
            for site in sites:
                for i, arg in enumerate(site.call.args):
                    if site.scope.lookup(dotted(arg.value) or "") != UnitRef(graph.unit):
                        continue
                    callee = self.callee(site.scope.graph, unit)
                    if callee is None:
                        continue
                    names = callee.call_params
                    name = arg.keyword.value if arg.keyword is not None else names[i] if i < len(names) else ""
                    out += [(callee, n, ()) for n, node in enumerate(callee.nodes)
                            if node.param is not None and node.param.name == name]
        return out

    def passed(self, graph: Graph, unit: str, param: str) -> list[Consumer | tuple[Graph, int]]:
        """A tensor passed to ``unit`` as ``param`` is consumed in its body (a unit of this file or the project)."""
        callee = self.callee(graph, unit)
        if callee is not None and param.startswith("#"):
            index = int(param[1:])  # positional: named by the callee's signature, known once it is read
            param = callee.call_params[index] if index < len(callee.call_params) else param
        if callee is not None and param in callee.call_params and param not in callee.params:
            return []  # a parameter the callee never computes with (only its shape is read)
        if callee is None or param not in callee.params:
            return [Consumer(reason=f"passed to {unit}() as {param or 'an argument'}")]
        return [(callee, callee.params[param])]

    def opened(self, graph: Graph, nid: int, calls: Calls) -> bool:
        """Whether a tensor comes (through any computation) from a weight layer or an activation.

        A unit's result is looked into (its returns); a parameter of the unit entered last is the
        argument of that call.
        """
        seen: set[tuple[int, int]] = set()
        todo: list[tuple[Graph, int, Calls]] = [(graph, nid, calls)]
        while todo and len(seen) < MAX_STATES:
            g, n, stack = todo.pop()
            if (id(g), n) in seen:
                continue
            seen.add((id(g), n))
            node = g.nodes[n]
            if node.op in ("weight", "act"):
                return True
            if node.op == "param" and stack:
                (caller, site), rest = stack[-1], stack[:-1]
                name = next((p for p, i in g.params.items() if i == n), "")
                call = caller.nodes[site]
                todo += [(caller, src, rest) for p, src in zip(call.params, call.inputs)
                         if p == name or p.startswith("#") and int(p[1:]) < len(g.call_params)
                         and g.call_params[int(p[1:])] == name]
            elif node.op == "unit" and self.callee(g, node.unit) is not None and len(stack) < MAX_CALLS:
                callee = self.callee(g, node.unit)
                assert callee is not None
                todo += [(callee, i, (*stack, (g, n))) for r in callee.nodes if r.op == "return" for i in r.inputs]
            else:
                todo += [(g, i, stack) for i in node.inputs]
        return False

    def callee(self, graph: Graph, unit: str) -> Graph | None:
        """The graph of ``unit`` called from ``graph`` (a unit of its file, or a project unit by qualified name)."""
        program = self.paths.program_of(graph.module)
        callee = program.graphs.get(unit) if program is not None else None
        if callee is None and self.paths.project is not None and "." in unit:
            module, _, name = unit.rpartition(".")
            other = self.paths.program_of(module)
            callee = other.graphs.get(name) if other is not None else None
        return callee

    def reaches_weight(self, graph: Graph, nid: int) -> bool:
        """Whether the output of node ``nid`` visibly reaches another weight layer (SPEC 8.5)."""
        seen, todo = {nid}, [nid]
        while todo:
            for uid in graph.users(todo.pop()):
                node = graph.nodes[uid]
                if node.op == "weight":
                    return True
                if uid not in seen and node.op in ("norm", "pass", "dropout", "add", "act", "phi"):
                    seen.add(uid)
                    todo.append(uid)
        return False


def norm_like(name: str, fn: cst.FunctionDef | None) -> bool:
    """Whether a block class normalizes its input (an RMSNorm or LayerNorm written out).

    Both the name and the code must say so: a class named ``...Norm...`` whose ``call`` calls a
    normalization function, or divides by a root of a statistic of its input (``rsqrt`` / ``sqrt``
    next to a ``mean`` / ``var`` / ``square`` / ``power(x, 2)``).
    """
    if fn is None or "Norm" not in name:
        return False
    code = cst.Module(body=[fn]).code
    if re.search(r"\b(layer_normalization|rms_normalization|normalize|batch_normalization|moments)\s*\(", code):
        return True
    stats = re.search(r"\b(mean|var|variance|std|square)\s*\(|power\([^)]*,\s*2|\*\*\s*2", code) is not None
    root = re.search(r"\b(rsqrt|sqrt|std|norm)\s*\(", code) is not None
    return stats and root


def _method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    return next((s for s in suite(cls.body) if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


def combine(found: list[Consumer]) -> tuple[Activation | None, bool, bool, str]:
    """All the ways an output is consumed, as one activation (or the reason there is none)."""
    if not found:
        return None, False, False, "consumer not found"
    for c in found:
        if c.act is None:
            return None, False, False, c.reason
    acts = [c.act for c in found if c.act is not None]
    kinds = {(a.family, a.slope) for a in acts}
    if len(kinds) > 1:  # several consumers: see :func:`alternatives`
        names = sorted({a.name for a in acts})
        return None, False, False, f"consumed by different activations ({', '.join(names)})"
    act = replace(acts[0], reaches_weight=any(a.reaches_weight for a in acts))
    # A normalization on any path lowers the findings: the lenient reading (precision first).
    return act, any(c.normalized for c in found), any(c.residual for c in found), ""


def alternatives(found: list[Consumer]) -> list[tuple[Activation, bool, bool]]:
    """Each distinct consumer of an output as (activation, normalized, residual), all named by every name.

    The record of such a layer stands for all of them only where the rules say the same of each
    (the frontend asks the engine); otherwise the layer is unresolved ("consumed by different ...").
    """
    acts = [c for c in found if c.act is not None]
    name = "/".join(sorted({c.act.name for c in acts if c.act is not None}))
    out: dict[tuple[object, ...], tuple[Activation, bool, bool]] = {}
    for c in acts:
        assert c.act is not None
        key = (c.act.family, c.act.slope, c.act.reaches_weight, c.normalized, c.residual)
        out.setdefault(key, (replace(c.act, name=name), c.normalized, c.residual))
    return list(out.values())
