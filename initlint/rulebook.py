"""The rulebook: rule metadata and the activation-family table, read from ``rules/*.toml``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any, Literal, cast

from .records import Family, Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAMILIES: tuple[Family, ...] = ("relu", "smooth", "tanh", "sigmoid", "linear", "selu")


Normalized = Literal["silent", "advice", "keep"]


@dataclass(frozen=True)
class Rule:
    """One rule code's data: name, severity, thresholds, how the engine treats it, and documentation."""

    code: str
    name: str
    severity: Severity
    summary: str
    thresholds: dict[str, float]
    docs: dict[str, str]
    precedence: int | None = None  # SPEC 8.4: one layer finding per layer, the lowest wins; None: reported alongside
    when_normalized: Normalized = "keep"  # SPEC 8.1
    chained: bool = False  # SPEC 8.34: the compounded factor over a chain is stated
    fixable: bool = False  # --fix can rewrite the source

    def threshold(self, key: str) -> float:
        return float(self.thresholds[key])


DOC_SECTIONS = (
    ("what", "What it does"),
    ("why", "Why is this bad"),
    ("example", "Example"),
    ("use_instead", "Use instead"),
    ("fix_safety", "Fix safety"),
    ("limitations", "Known limitations"),
    ("references", "References"),
)
CODE_SECTIONS = frozenset({"example", "use_instead"})  # documentation sections that are Python code


def rules_dir() -> Path:
    """The rules folder: inside the installed package, else the checkout's top-level ``rules/``."""
    packaged = Path(__file__).parent / "rules"
    if (packaged / "rules.toml").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _load(name: str) -> dict[str, Any]:
    with open(rules_dir() / name, "rb") as fh:
        return tomllib.load(fh)


@lru_cache(maxsize=None)
def rules() -> dict[str, Rule]:
    """Every rule by code, in code order."""
    data = _load("rules.toml")
    out = {}
    for code in sorted(data):
        entry = data[code]
        out[code] = Rule(
            code=code,
            name=entry["name"],
            severity=cast(Severity, entry["severity"]),
            summary=entry["summary"],
            thresholds={k: float(v) for k, v in entry.get("thresholds", {}).items()},
            docs={key: entry.get(key, "").strip() for key, _ in DOC_SECTIONS},
            precedence=entry.get("precedence"),
            when_normalized=cast(Normalized, entry.get("when_normalized", "keep")),
            chained=bool(entry.get("chained", False)),
            fixable=bool(entry.get("fixable", False)),
        )
    return out


@lru_cache(maxsize=None)
def precedence() -> tuple[str, ...]:
    """The layer rules in SPEC 8.4's order: of those firing on one layer only the first is reported."""
    layer = [r for r in rules().values() if r.precedence is not None]
    return tuple(r.code for r in sorted(layer, key=lambda r: r.precedence or 0))


def rule(code: str) -> Rule:
    return rules()[code]


@lru_cache(maxsize=None)
def family_data() -> dict[str, Any]:
    return _load("families.toml")


def normalise(name: str) -> str:
    """Activation name as a table key: lower case, no underscores, no dashes."""
    return name.lower().replace("_", "").replace("-", "")


def activation_family(name: str, extra: dict[str, str] | None = None) -> Family | None:
    """The family of an activation name (``"LeakyReLU"``, ``"leaky_relu"``), or None if unknown.

    ``extra`` maps user-declared names (qualified or bare) to families and wins.
    """
    if extra:
        if name in extra:
            return cast(Family, extra[name])
        key = normalise(name)
        for user_name, fam in extra.items():
            if normalise(user_name) == key:
                return cast(Family, fam)
    fam = family_data()["activations"].get(normalise(name))
    if fam is None and extra:
        # A qualified declaration ("mypkg.layers.SquaredReLU") also names the class where the
        # frontend sees it bare, and a bare one the class however it is imported; built-in names win.
        short = normalise(name).rpartition(".")[2]
        for user_name, user_fam in extra.items():
            if normalise(user_name).rpartition(".")[2] == short:
                return cast(Family, user_fam)
    return cast(Family | None, fam)


def default_slope(framework: str, name: str) -> float:
    """The initial negative slope of a leaky rectifier when none is written (SPEC 8.26)."""
    return float(family_data()["slopes"].get(framework, {}).get(normalise(name), 0.0))


def family_info(family: Family) -> dict[str, str]:
    return cast(dict[str, str], family_data()["families"][family])


@dataclass(frozen=True)
class ModelBase:
    """A framework model base class's init convention (``rules/conventions.toml`` ``[model_bases]``)."""

    pattern: str
    init_methods: tuple[str, ...] = ()
    apply: str = ""
    base_init: str = "none"
    std_attribute: str = ""
    std_default: float | None = None
    config_class_attribute: str = ""
    module: bool = True  # False: a config or pipeline mixin, not an nn.Module
    tied_output: str = ""  # method returning the output layer tied to the input embedding (SPEC 8.38)
    tie_attribute: str = ""  # config attribute that unties it when false
    tied_keys: str = ""  # class attribute naming tied parameters (``{"lm_head.weight": ...}``), same condition


def _memoized(method: Callable[[Conventions, str], Any]) -> Callable[[Conventions, str], Any]:
    """A lookup by qualified name, answered once per name (the tables never change once built)."""
    name = method.__name__

    @wraps(method)
    def lookup(self: Conventions, qualified: str) -> Any:
        key = (name, qualified)
        memo = self._memo
        if key not in memo:
            memo[key] = method(self, qualified)
        return memo[key]

    return lookup


@dataclass(frozen=True)
class Conventions:
    """Framework conventions as data (SPEC 8.33); every key a pattern on qualified names."""

    model_bases: tuple[ModelBase, ...]
    init_functions: tuple[tuple[str, str], ...]
    apply_functions: tuple[tuple[str, int, int, bool], ...]
    activation_registries: tuple[tuple[str, str], ...]
    identity: tuple[str, ...]
    never_initialize: tuple[str, ...]
    not_run: tuple[str, ...] = ()  # globs of files a framework ships but never imports (source templates)
    loss_calls: tuple[str, ...] = ()  # calls computing a loss of their first tensor: it is a head's output
    passing_methods: tuple[str, ...] = ()  # methods handing their tensor arguments back (a KV cache's ``update``)
    _memo: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def never_runs(self, path: str) -> bool:
        """Whether the file at ``path`` (absolute) is a template the framework ships but never imports."""
        return any(_matches(path, glob) for glob in self.not_run)

    @_memoized
    def model_base(self, qualified: str) -> ModelBase | None:
        return next((b for b in self.model_bases if _matches(qualified, b.pattern)), None)

    @_memoized
    def init_function(self, qualified: str) -> str | None:
        return next((fn for pattern, fn in self.init_functions if _matches(qualified, pattern)), None)

    @_memoized
    def apply_function(self, qualified: str) -> tuple[int, int, bool] | None:
        return next(((f, m, n) for pattern, f, m, n in self.apply_functions if _matches(qualified, pattern)), None)

    @_memoized
    def activation_registry(self, qualified: str) -> str | None:
        return next((kind for pattern, kind in self.activation_registries if _matches(qualified, pattern)), None)

    @_memoized
    def is_identity(self, qualified: str) -> bool:
        return any(_matches(qualified, p) for p in self.identity)

    @_memoized
    def is_loss_call(self, name: str) -> bool:
        """``name``: a qualified function, or the name of a method as written (``loss_function``)."""
        return any(_matches(name, p) for p in self.loss_calls)

    def passes_arguments(self, method: str) -> bool:
        return method in self.passing_methods

    @_memoized
    def never_initializes(self, qualified: str) -> bool:
        return any(_matches(qualified, p) for p in self.never_initialize)

    @_memoized
    def knows(self, qualified: str) -> bool:
        """Does the table say what calling this name does (so its source, if in the project, is not read)?"""
        return (self.init_function(qualified) is not None or self.apply_function(qualified) is not None
                or self.activation_registry(qualified) is not None or self.is_identity(qualified)
                or self.never_initializes(qualified))


def _matches(qualified: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    return fnmatchcase(qualified, pattern)


def read_conventions(data: dict[str, Any], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge one conventions table (``rules/conventions.toml`` or an extra rule file) into ``into``."""
    out = into if into is not None else {"model_bases": {}, "init_functions": {}, "apply_functions": {},
                                         "activation_registries": {}, "identity": [], "never_initialize": [],
                                         "not_run": [], "loss_calls": [], "passing_methods": []}
    for key in ("model_bases", "init_functions", "apply_functions", "activation_registries"):
        out[key].update(data.get(key, {}))
    for key in ("identity", "never_initialize", "not_run", "loss_calls", "passing_methods"):
        out[key] += list(data.get(key, {}).get("names", []))
    return out


def build_conventions(merged: dict[str, Any]) -> Conventions:
    bases = tuple(
        ModelBase(pattern, tuple(v.get("init_methods", ())), v.get("apply", ""), v.get("base_init", "none"),
                  v.get("std_attribute", ""), v.get("std_default"), v.get("config_class_attribute", ""),
                  bool(v.get("module", True)), v.get("tied_output", ""), v.get("tie_attribute", ""),
                  v.get("tied_keys", ""))
        for pattern, v in merged["model_bases"].items()
    )
    applies = tuple((p, int(v.get("fn", 0)), int(v.get("module", 1)), bool(v.get("named", False)))
                    for p, v in merged["apply_functions"].items())
    return Conventions(bases, tuple(merged["init_functions"].items()), applies,
                       tuple(merged["activation_registries"].items()), tuple(merged["identity"]),
                       tuple(merged["never_initialize"]), tuple(merged["not_run"]), tuple(merged["loss_calls"]),
                       tuple(merged["passing_methods"]))


@lru_cache(maxsize=None)
def conventions(extra: tuple[tuple[str, str], ...] = ()) -> Conventions:
    """The shipped conventions, plus those of extra rule files (given as (path, toml text) pairs)."""
    merged = read_conventions(_load("conventions.toml"))
    for _path, text in extra:
        read_conventions(tomllib.loads(text), merged)
    return build_conventions(merged)


def initializes_nothing(called: str) -> bool:
    """Whether a call of ``called`` (as written or qualified) is known to leave every weight as it is.

    A bare table name (no dot) also matches the last part of a dotted call."""
    table = conventions()
    last = called.rsplit(".", 1)[-1]
    return table.never_initializes(called) or (last in table.never_initialize)
