"""Inlining same-file code: a function, method or base constructor called from init code runs in place.

Parameters are bound to the evaluated arguments (missing ones with a literal
default take it, the rest become symbolic sizes), the body is interpreted by the
caller's interpreter, and what it returns is joined over its return statements.
Recursion adds nothing; nesting beyond ``MAX_DEPTH`` gives up on the file.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from ..python.syntax import suite
from .branches import join, rejoin
from .context import BudgetExceeded, Host
from .tree import Scope
from .values import Func, SelfRef, Sym

MAX_DEPTH = 8


class Inliner:
    """Runs same-file functions and methods for one interpreter, without recursion and to a bounded depth."""

    def __init__(self, it: Host) -> None:
        self.it = it
        self.depth = 0
        self.stack: list[int] = []  # ids of the function nodes being run

    def super_call(self, method: str, e: cst.Call, env: dict[str, object]) -> object:
        """``super().m(...)``: the next definition of ``m`` above the running method's class runs here.

        Bases in this file and in other project files are read; a framework base's convention
        answers for what it does (SPEC 8.33); an nn.Sequential base takes the modules.
        """
        it = self.it
        scope = it.scope
        ctx = it.ctx
        here = ctx.defined_in.get(self.stack[-1]) if self.stack else None
        start = ctx.scopes.get(here, scope) if here else scope
        for base in start.local_bases:
            framework = base in ctx.scopes and ctx.framework_base(ctx.scopes[base])  # its convention answers
            fn = ctx.method(ctx.scopes[base], method) if base in ctx.scopes and not framework else None
            if fn is not None:
                return self.call_function(Func(fn, scope), e, env)
        if method == "__init__":
            if scope.sequential_base:
                pos, _ = it.args(e, env)
                it.torch.sequential_init(pos)
            return None
        return it.reflect.super_convention(start, method, e, env)

    def enter(self, node: cst.CSTNode, action: Any) -> Any:
        """Run ``action`` for the body of ``node`` unless that recurses; too deep gives up on the file."""
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
        """Inline a function or method: bind its parameters, run its body, return what it returns."""
        pos, kw = self.it.args(e, env)
        return self.call_values(fn, pos, kw)

    def call_values(self, fn: Func, pos: list[object], kw: dict[str, object]) -> object:
        """Inline a function or method called with evaluated arguments (in the globals of its own file)."""
        it = self.it
        it.ctx.invoked.add(id(fn.node))
        with it.ctx.running(fn.node):
            return self._run(fn, pos, kw)

    def _run(self, fn: Func, pos: list[object], kw: dict[str, object]) -> object:
        it = self.it
        local = self.bind_params(fn.node, pos, kw, fn.bound)
        saved_returns, saved_stmt, saved_fn, saved_returned = it.returns, it.stmt, it.current_fn, it.returned_states
        it.returns, it.returned_states = [], []
        it.current_fn = fn.node.name.value
        self.enter(fn.node, lambda: it.run(suite(fn.node.body), local))
        for exit_ in it.returned_states:
            rejoin(exit_)
        returns, it.returns, it.stmt, it.current_fn, it.returned_states = it.returns, saved_returns, saved_stmt, saved_fn, saved_returned
        if not returns:
            return None
        value = returns[0]
        for other in returns[1:]:
            value = join(value, other, True, True)
        return value

    def bind_params(self, node: cst.FunctionDef, pos: list[object], kw: dict[str, object], bound: Scope | None) -> dict[str, object]:
        """The function's locals on entry: arguments, evaluated defaults, and a symbolic size for the rest."""
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
                local[name] = self.it.ev(p.default, {})
            elif name == "config" and bound is not None:
                local[name] = self.it.ctx.config_of(bound) or Sym(name)
            else:
                local[name] = Sym(name)
        return local
