"""Construction paths (SPEC 8.32): a layer's activation and initializer over every way its unit is built.

A layer of a block class reads constructor parameters (``kernel_initializer="glorot_uniform"``
stored on ``self`` and passed on, through ``clone_initializer`` and ``keras.initializers.get``).
Each parameter read at its default is bound, in turn, to what every call site of the unit in
the project passes (a site that passes nothing keeps the default; ``**kwargs`` make it
unknown), the argument read in the caller's scope, so a caller's own parameters are followed
to *its* callers in the same way. A unit no one calls is a public building block: its
defaults decide. All paths agree: that value. They disagree, or one cannot be read: the
layer is unresolved, naming the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from ...records import Activation, InitSpec
from .construct import LayerBuilder
from .graph import MISSING, Layer, Param, ParamKey, plain_literal
from .layer_args import activation, initializer
from .program import Program, Site, TopLevel
from .scope import DEFAULT, Binding, Reading

MAX_PATHS = 64  # ways one layer may be constructed before the analysis gives up on it
MAX_DEPTH = 6  # callers of callers followed at most this far

Init = InitSpec | str | None
Act = Activation | str | None


@dataclass(frozen=True)
class Variant:
    """What a layer's settings are on one construction path (its callers, innermost first)."""

    init: Init
    act: Act
    path: tuple[str, ...] = ()
    params: tuple[str, ...] = ()  # the parameters bound on the way, outermost first


@dataclass(frozen=True)
class Decision:
    """The settings every path agrees on, or why there is no single answer."""

    init: Init
    act: Act
    reason: str = ""  # non-empty: unresolved
    callers: tuple[str, ...] = ()  # the callers whose arguments decided (for messages)
    init_only: bool = False  # the reason is the initializer's alone (the activation is ``act``)


class Paths:
    """Call sites of the units of one file and of the project, and the settings they give a layer."""

    def __init__(self, program: Program, module: str, project: object | None,
                 opener: object | None) -> None:
        self.program = program
        self.module = module
        self.project = project  # KerasProject (None: the file stands alone)
        self.opener = opener  # module -> Program of another project file
        self._decided: dict[int, Decision] = {}

    # -- call sites ---------------------------------------------------------------------

    def program_of(self, module: str) -> Program | None:
        if module == self.module:
            return self.program
        return self.opener(module) if self.opener is not None else None  # type: ignore[operator]

    def class_def(self, module: str, unit: str) -> tuple[cst.ClassDef, TopLevel] | None:
        """The class statement of ``unit`` (of ``module``'s program, or a project class by qualified name)."""
        program = self.program_of(module)
        if program is not None and program.top is not None and unit not in program.top.units and "." in unit:
            module, _, unit = unit.rpartition(".")
            program = self.program_of(module)
        top = program.top if program is not None else None
        cls = top.units.get(unit) if top is not None else None
        return (cls, top) if isinstance(cls, cst.ClassDef) and top is not None else None

    def sites(self, module: str, unit: str, method: str = "", depth: int = 0) -> list[Site]:
        """Every call of ``unit`` (of ``module``): in its own file, and in the project files that name it.

        A class's constructions include those of its subclasses without an ``__init__`` and their
        ``super().__init__`` calls, except subclasses that override ``method`` (the one building the layer).
        """
        home = self.program_of(module)
        programs = [(module, home)] if home is not None else []
        if self.project is not None and module:
            target = f"{module}.{unit}".removesuffix(".__init__")
            programs += [(caller, self.program_of(caller)) for caller in self.project.callers(target)]  # type: ignore[attr-defined]
        out: list[Site] = []
        base = unit.removesuffix(".__init__") if unit.endswith(".__init__") else None
        for where, program in dict((m, p) for m, p in programs if p is not None).items():
            local = where == module
            out += [s for s in program.calls.get(unit if local else f"{module}.{unit}", []) if method not in s.overrides]
            if base is None or depth >= MAX_DEPTH:
                continue
            for sub, defined in program.inherits.get(base if local else f"{module}.{base}", []):
                if method not in defined:
                    out += self.sites(where, sub, method, depth + 1)
        return out

    def signature(self, module: str, unit: str) -> tuple[Param, ...]:
        home = self.program_of(module)
        return home.signatures.get(unit, ()) if home is not None else ()

    # -- settings over paths --------------------------------------------------------------

    def evaluate(self, layer: Layer, bindings: dict[ParamKey, Binding]) -> tuple[Init, Act, set[ParamKey]]:
        """The layer's initializer and activation with these parameters bound (and the unbound ones read)."""
        reading = Reading(dict(bindings))
        where = layer.where
        init: Init = layer.init
        act: Act = layer.activation
        if where is not None and layer.init_expr is not None:
            init = initializer(where, layer.init_expr, reading)
        if where is not None and layer.act_expr is not None:
            builder = LayerBuilder(where, self.program, lambda e: None)
            act = activation(where, layer.act_expr, builder.construct, reading)
        return init, act, reading.deps

    def variants(self, layer: Layer) -> list[Variant] | str:
        """The layer's settings on every construction path, or why there are too many to follow."""
        out: list[Variant] = []
        presets, redirects = layer.where.inherited() if layer.where is not None else ({}, {})
        todo: list[tuple[dict[ParamKey, Binding], tuple[str, ...], tuple[str, ...]]] = [(dict(presets), (), ())]
        while todo:
            if len(out) + len(todo) > MAX_PATHS:
                return f"built on more than {MAX_PATHS} construction paths"
            bindings, path, names = todo.pop()
            init, act, deps = self.evaluate(layer, bindings)
            unbound = sorted(deps - bindings.keys())
            if not unbound or len(path) >= MAX_DEPTH:
                out.append(Variant(init, act, path, names))
                continue
            module, unit, _ = unbound[0]
            params = self.signature(module, unit)
            if not params:  # read a parameter of a unit the analysis does not see: keep what it gave
                out.append(Variant(init, act, path, names))
                continue
            # a subclass's constructions (or its callers' keywords) pass a base class's parameters
            site_module, site_unit, keywords = redirects.get((module, unit), (module, unit, False))
            sites = self.sites(site_module, site_unit, layer.method)
            if not sites:  # nothing in the project builds it: a public building block, its defaults decide
                todo.append(({**bindings, **{p.key: DEFAULT for p in params}}, path, names))
            read = (*names, *(k[2] for k in unbound if k[:2] == (module, unit)))
            for site in sites:
                label = site.where if site.where != "<module>" else (site.scope.top.module or "the module")
                todo.append(({**bindings, **site.scope.bind_args(params, site.call, keywords)}, (*path, label), read))
        return out

    def decided(self, layer: Layer) -> Decision:
        """The layer's settings if every construction path agrees (SPEC 8.32), else the reason."""
        key = id(layer)
        if key not in self._decided:
            self._decided[key] = self._decide(layer)
        return self._decided[key]

    def _decide(self, layer: Layer) -> Decision:
        found = self.variants(layer)
        if isinstance(found, str):
            return Decision(None, None, found)
        for v in found:
            if isinstance(v.act, str):
                return Decision(None, None, v.act + _where(v.path))
        acts = {(v.act.family, v.act.slope) if isinstance(v.act, Activation) else None for v in found}
        for v in found:
            if isinstance(v.init, str):  # the activation may still be known: a std the code sizes (.dims) is read later
                return Decision(None, found[0].act if len(acts) == 1 else None, v.init + _where(v.path),
                                init_only=len(acts) == 1)
        inits = {plain_init(v.init) for v in found}
        if len(inits) > 1 or len(acts) > 1:
            what = "initializer" if len(inits) > 1 else "activation"
            callers = ", ".join(sorted({v.path[-1] for v in found if v.path}))
            names = ", ".join(repr(n) for n in dict.fromkeys(n for v in found for n in v.params))
            return Decision(None, None, f"its {what} comes from parameter {names}, which callers set differently "
                                        f"(in {callers})")
        callers = tuple(sorted({v.path[0] for v in found if v.path}))
        act = found[0].act
        names = sorted({v.act.name for v in found if isinstance(v.act, Activation)})
        if isinstance(act, Activation) and len(names) > 1:  # one family, several spellings (silu, gelu): name them
            act = replace(act, name="/".join(names))
        return Decision(found[0].init, act, "", callers)

    def overridden(self, deps: frozenset[ParamKey]) -> str:
        """The first parameter (read at its literal default) that some call site sets otherwise, else ''."""
        for module, unit, name in sorted(deps):
            params = self.signature(module, unit)
            param = next((p for p in params if p.name == name), None)
            if param is None or param.default is None:
                continue  # no default: a size in it is a multiple of the parameter (.dims.width), whatever is passed
            default = literal_default(param)
            for site in self.sites(module, unit):
                binding = site.scope.bind_args(params, site.call).get(param.key, DEFAULT)
                if binding == DEFAULT:
                    continue
                if not isinstance(binding, tuple) or default is MISSING:
                    return name
                caller, arg = binding
                if caller.literal(arg) != default:
                    return name
        return ""


def literal_default(param: Param) -> object:
    """A parameter default as a Python value (plain literals only), else MISSING."""
    return plain_literal(param.default)


def _where(path: tuple[str, ...]) -> str:
    return f" (as built by {path[-1]})" if path else ""


def plain_init(init: Init) -> object:
    """An initializer without where it was written: two constructions agree when these are equal."""
    if isinstance(init, InitSpec):
        return replace(init, call="", line=None, column=None, note="")
    return init
