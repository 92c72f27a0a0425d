"""The PyTorch source frontend's picture of a file: layer sites, module values, scopes.

The constructor interpreter (``interpreter``) fills these; the data-flow pass
(``flow``) reads them; ``layers`` turns them into LayerRecords.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ...records import Family, InitSpec


@dataclass
class InitState:
    """What the init code visible so far did to one weight: a spec, or why it is unknown."""

    spec: InitSpec | None
    reason: str = ""  # unresolved: why
    stmt: cst.CSTNode | None = None  # the init call's small statement and call (for its line)
    call: cst.Call | None = None
    via: str = ""  # the init code that set it (a method name), when set by a container


@dataclass(eq=False)
class Layer:
    """One construction site of a weight layer, raw parameter or dropout."""

    cls: str  # torch class name (Linear, Conv2d, Parameter, Dropout ...)
    kind: str
    owner: str  # the scope (class, Sequential variable, function) that builds it
    stmt: cst.CSTNode | None
    call: cst.Call | None
    fan_in: int | None = None
    fan_out: int | None = None
    count: int = 1
    path: str | None = None  # attribute path inside the owner: "fc1", "features[3]"
    in_class: bool = True
    state: InitState = field(default_factory=lambda: InitState(None))
    overrides: dict[str, InitState] = field(default_factory=dict)  # parent scope -> its init
    note: str = ""
    # raw parameters: shape as evaluated (ints or names), and how the forward uses it
    shape: tuple[object, ...] | None = None
    param_scale: tuple[float, object] | None = None  # variance = coef / dim (dim None: fixed)
    uses: set[str] = field(default_factory=set)  # "x@w", "w@x", "linear", "einsum:<in dims>"
    rank: int | None = None
    foreign: bool = False  # built by code of another project file (a base class's constructor)
    probe: str = ""  # a stand-in for the layers of this project class (built in another file)
    tied: str = ""  # why its weight is the input embedding's (SPEC 8.38)

    @property
    def is_param(self) -> bool:
        return self.kind == "parameter"

    @property
    def is_dropout(self) -> bool:
        return self.kind in ("dropout", "alpha_dropout")


class Mod:
    """A module value as the interpreter sees it."""


@dataclass(eq=False)
class LayerMod(Mod):
    layer: Layer


@dataclass(eq=False)
class ParamMod(Mod):
    layer: Layer


@dataclass(frozen=True)
class ActMod(Mod):
    name: str
    family: Family
    slope: float = 0.0


@dataclass(frozen=True)
class NormMod(Mod):
    cls: str


@dataclass(eq=False)
class PassMod(Mod):
    cls: str
    dropout: Layer | None = None


@dataclass(frozen=True)
class Repeat:
    """Entries built in a loop: the sequence repeats them."""

    entries: tuple[object, ...]


@dataclass(frozen=True)
class Alt:
    """Entries appended under a condition the analysis cannot evaluate: one of two sub-sequences."""

    first: tuple[object, ...]
    second: tuple[object, ...]


@dataclass(eq=False)
class SeqMod(Mod):
    entries: tuple[object, ...]  # Mod | Repeat | Alt
    keys: tuple[str, ...] | None = None  # OrderedDict names


@dataclass(eq=False)
class ListMod(Mod):
    entries: tuple[object, ...]


@dataclass(eq=False)
class DictMod(Mod):
    items: dict[str, Mod]


@dataclass(eq=False)
class ChildMod(Mod):
    cls: str


@dataclass(eq=False)
class ExtMod(Mod):
    """An instance of a module class defined in another project file (SPEC 8.32).

    Its layers are not this file's: ``probes`` stand for them (one per torch layer class of
    each project class it builds), so that this file's init code can be seen acting on them.
    """

    qualified: str
    probes: dict[str, list[Layer]] = field(default_factory=dict)  # project class -> probe layers
    nested: dict[str, ExtMod] = field(default_factory=dict)  # the project classes it builds


@dataclass(frozen=True)
class OpaqueMod(Mod):
    reason: str


@dataclass(frozen=True)
class SinkMod(Mod):
    """A module that ends a layer's path without being an activation: attention or a loss."""

    kind: str  # "attention" (nn.MultiheadAttention: consumes q, k, v linearly) or "loss" (judges the output)
    cls: str = ""


@dataclass(eq=False)
class AltMod(Mod):
    options: tuple[Mod, ...]


@dataclass
class Scope:
    """A module class of the file (or a Sequential built at module level / in a function)."""

    name: str
    node: cst.ClassDef | None
    methods: dict[str, cst.FunctionDef] = field(default_factory=dict)
    local_bases: list[str] = field(default_factory=list)
    foreign_bases: list[str] = field(default_factory=list)  # qualified, not torch.nn
    attrs: dict[str, object] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)  # class-level literals (expansion = 4)
    layers: list[Layer] = field(default_factory=list)
    seq: SeqMod | None = None  # nn.Sequential subclasses: super().__init__(*modules)
    uses_selu: bool = False
    sequential_base: bool = False  # subclasses nn.Sequential
    torch_base: str = ""  # the torch.nn class it derives from directly (``Conv3d``, ``GroupNorm``), if any
    is_module: bool = False
    external: str = ""  # a class of another project file (its qualified name): context, not this file's
    class_refs: dict[str, str] = field(default_factory=dict)  # class attributes naming classes, qualified


def flat(entries: tuple[object, ...]) -> list[Mod]:
    """Every module value in a sequence, once (for naming and dispatch)."""
    out: list[Mod] = []
    for entry in entries:
        if isinstance(entry, Repeat):
            out += flat(entry.entries)
        elif isinstance(entry, Alt):
            out += flat(entry.first) + flat(entry.second)
        elif isinstance(entry, Mod):
            out.append(entry)
    return out


def mods_under(mod: object) -> list[Mod]:
    """The module and its submodules (containers opened; child classes not)."""
    if isinstance(mod, (SeqMod, ListMod)):
        return [mod] + [m for e in flat(mod.entries) for m in mods_under(e)]
    if isinstance(mod, DictMod):
        return [mod] + [m for e in mod.items.values() for m in mods_under(e)]
    if isinstance(mod, AltMod):
        return [m for e in mod.options for m in mods_under(e)]
    return [mod] if isinstance(mod, Mod) else []


def name_mod(mod: object, path: str, provisional: bool = False) -> None:
    """Give layers their attribute path (``fc1``, ``features[3]``, ``net.fc1``) when first bound.

    A provisional path (a local variable's name, kept with a leading ``~``) yields to the first real one.
    """
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
                    name_mod(item, f"{path}[i]", provisional)
            elif isinstance(entry, Alt):
                for item in flat(entry.first) + flat(entry.second):
                    name_mod(item, f"{path}[i]", provisional)
            else:
                name_mod(entry, sub, provisional)
    elif isinstance(mod, DictMod):
        for key, item in mod.items.items():
            name_mod(item, f"{path}.{key}" if path else key, provisional)
    elif isinstance(mod, AltMod):
        for item in mod.options:
            name_mod(item, path, provisional)
