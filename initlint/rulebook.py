"""The rulebook: rule metadata and the activation-family table, read from ``rules/*.toml``."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
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


@lru_cache(maxsize=None)
def never_initialize() -> frozenset[str]:
    """Calls known not to initialize what they receive (``rules/conventions.toml`` ``[never_initialize]``)."""
    return frozenset(_load("conventions.toml").get("never_initialize", {}).get("names", ()))


def initializes_nothing(called: str) -> bool:
    """Whether a call of ``called`` (as written or qualified) is known to leave every weight as it is."""
    names = never_initialize()
    return called in names or called.rsplit(".", 1)[-1] in names
