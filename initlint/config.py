"""``[tool.initlint]`` in ``pyproject.toml``: find it, validate it, turn it into :class:`Settings`.

One configuration per run. It is the nearest ``pyproject.toml`` that has a
``[tool.initlint]`` table, searched upward from the common root of the linted
paths (the current directory when none are given); a ``pyproject.toml``
without the table is skipped, as ruff does, so a sub-project's packaging file
does not hide the repository's lint settings. Patterns in ``exclude``,
``extend-exclude`` and ``per-file-ignores`` and the paths in
``extra-rule-files`` are relative to the directory of that file.
Precedence: command-line flags, then the file, then the defaults.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from .rulebook import FAMILIES, rules
from .settings import SEVERITY_RANK, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CODE_PREFIX = re.compile(r"^INIT\d{0,3}$")


class ConfigError(Exception):
    """A configuration file that cannot be used; the message names the file and the key."""


def find_pyproject(start: str | os.PathLike[str]) -> Path | None:
    """The nearest ``pyproject.toml`` with a ``[tool.initlint]`` table at or above ``start``."""
    here = Path(start).resolve()
    if here.is_file() or not here.exists():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate):
            return candidate
    return None


def common_root(paths: Sequence[str]) -> str:
    """Where the search starts for a run: the common folder of ``paths``, else the current directory."""
    if not paths:
        return os.getcwd()
    absolute = [os.path.abspath(p) for p in paths]
    try:
        return os.path.commonpath(absolute)
    except ValueError:  # different drives
        return os.getcwd()


def _has_table(path: Path) -> bool:
    # A cheap test before parsing: most pyproject files have no initlint table.
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "tool.initlint" in text


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw ``[tool.initlint]`` table of one ``pyproject.toml``."""
    name = str(path)
    try:
        with open(name, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as err:
        raise ConfigError(f"{name}: cannot read: {err.strerror or err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{name}: invalid TOML: {err}") from None
    table = data.get("tool", {}).get("initlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [tool.initlint] must be a table")
    return table


# -- validation: one small parser per key -----------------------------------


def _where(path: str, key: str) -> str:
    return f"{path}: [tool.initlint] {key}"


def _flag(path: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: [tool.initlint] {key} must be true or false, not {value!r}")
    return value


def _string_list(path: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{_where(path, key)}: expected a list of strings, got {value!r}")
    return tuple(value)


def _codes(path: str, key: str, value: Any) -> tuple[str, ...]:
    codes = tuple(c.strip().upper() for c in _string_list(path, key, value))
    known = rules()
    for code in codes:
        if not CODE_PREFIX.match(code) or not any(k.startswith(code) for k in known):
            raise ConfigError(f"{_where(path, key)}: unknown rule code or prefix {code!r}")
    return codes


def _severity(path: str, key: str, value: Any) -> str:
    if value not in SEVERITY_RANK:
        raise ConfigError(f"{_where(path, key)}: expected one of error, warning, advice; got {value!r}")
    return str(value)


def _threshold(path: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 1:
        raise ConfigError(f"{_where(path, key)}: expected a number greater than 1, got {value!r}")
    return float(value)


def _seconds(path: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ConfigError(f"{_where(path, key)}: expected seconds >= 0 (0: no limit), got {value!r}")
    return float(value)


def _bytes(path: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{_where(path, key)}: expected a whole number of bytes >= 0 (0: no limit), got {value!r}")
    return value


def _per_file_ignores(path: str, key: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, key)}: expected a table of glob = [codes], got {value!r}")
    return {str(glob): _codes(path, f"{key}.{glob!r}", codes) for glob, codes in value.items()}


def _activations(path: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, key)}: expected a table of \"name\" = \"family\", got {value!r}")
    out = {}
    for name, family in value.items():
        if family not in FAMILIES:
            raise ConfigError(
                f"{_where(path, key)}: {name!r} = {family!r} is not a family "
                f"(one of {', '.join(FAMILIES)})"
            )
        out[str(name)] = str(family)
    return out


_PARSERS: dict[str, tuple[str, Callable[[str, str, Any], Any]]] = {
    # key in pyproject -> (Settings field, parser)
    "select": ("select", _codes),
    "ignore": ("ignore", _codes),
    "fail-on": ("fail_on", _severity),
    "exclude": ("exclude", _string_list),
    "extend-exclude": ("extend_exclude", _string_list),
    "per-file-ignores": ("per_file_ignores", _per_file_ignores),
    "signal-threshold": ("signal_threshold", _threshold),
    "timeout": ("timeout", _seconds),
    "max-file-size": ("max_file_size", _bytes),
    "activations": ("activations", _activations),
    "extra-rule-files": ("", _string_list),
    "project": ("project", _flag),
}


def _unknown(path: str, key: str, known: Sequence[str], table: str = "[tool.initlint]") -> ConfigError:
    hint = difflib.get_close_matches(key.replace("_", "-"), known, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (known keys: {', '.join(known)})"
    return ConfigError(f"{path}: {table} unknown key {key!r}{suggestion}")


def parse(table: Mapping[str, Any], path: str, root: str | None = None) -> dict[str, Any]:
    """Validated ``Settings`` fields from a ``[tool.initlint]`` table (``root``: where relative paths start)."""
    root = root if root is not None else os.path.dirname(os.path.abspath(path))
    fields: dict[str, Any] = {}
    extra_activations: dict[str, str] = {}
    conventions: list[tuple[str, str]] = []
    for key, value in table.items():
        if key not in _PARSERS:
            raise _unknown(path, key, list(_PARSERS))
        field_name, parser = _PARSERS[key]
        parsed = parser(path, key, value)
        if key == "extra-rule-files":
            for name in parsed:
                activations, convention_text = _extra_rule_file(os.path.join(root, name), path)
                extra_activations.update(activations)
                if convention_text:
                    conventions.append((os.path.join(root, name), convention_text))
        else:
            fields[field_name] = parsed
    if conventions:
        fields["conventions"] = tuple(conventions)
    if extra_activations:
        # The pyproject's own table wins over extra files.
        fields["activations"] = {**extra_activations, **fields.get("activations", {})}
    fields["config_root"] = root
    return fields


_CONVENTION_TABLES = ("model_bases", "init_functions", "apply_functions", "activation_registries", "identity",
                      "never_initialize")


def _extra_rule_file(name: str, config: str) -> tuple[dict[str, str], str]:
    """An extra rule file: its ``[activations]`` (the format of ``rules/families.toml``) and, as TOML text,
    its framework conventions (the tables of ``rules/conventions.toml``, SPEC 8.33)."""
    try:
        with open(name, "rb") as fh:
            raw = fh.read()
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as err:
        raise ConfigError(f"{config}: [tool.initlint] extra-rule-files: cannot read {name}: {err.strerror or err}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{name}: invalid TOML: {err}") from None
    known = ["activations", *_CONVENTION_TABLES]
    for key in data:
        if key not in known:
            raise _unknown(name, key, known, table="extra rule file")
    try:
        from .rulebook import build_conventions, read_conventions

        build_conventions(read_conventions({k: v for k, v in data.items() if k in _CONVENTION_TABLES}))
    except (TypeError, ValueError, AttributeError) as err:
        raise ConfigError(f"{name}: framework conventions not understood: {err}") from None
    conventions = raw.decode("utf-8") if any(k in data for k in _CONVENTION_TABLES) else ""
    return _activations(name, "activations", data.get("activations", {})), conventions


def settings_for(paths: Sequence[str], config: str | None = None, **overrides: Any) -> Settings:
    """The run's settings: ``overrides`` (command-line flags, None = not given) over the config file over defaults.

    ``config`` names the file explicitly; otherwise the nearest one is searched from :func:`common_root`.
    """
    if config is not None:
        fields = parse(load(config), config)
    else:
        found = find_pyproject(common_root(paths))
        fields = parse(load(found), str(found)) if found else {}
    fields.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **fields)


# -- applying per-file-ignores ------------------------------------------------


def _relative(path: str, root: str | None) -> str:
    absolute = os.path.abspath(path)
    base = os.path.abspath(root) if root else os.getcwd()
    try:
        rel = os.path.relpath(absolute, base)
    except ValueError:
        return absolute.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def ignored_codes(path: str, settings: Settings) -> tuple[str, ...]:
    """The code prefixes ``per-file-ignores`` switches off for ``path``.

    A glob matches the path relative to the config's folder, or the file's basename
    (``"tests/*" = ["INIT005"]``, ``"*_test.py" = ["INIT"]``).
    """
    if not settings.per_file_ignores:
        return ()
    rel = _relative(path, settings.config_root)
    base = os.path.basename(rel)
    out: list[str] = []
    for glob, codes in settings.per_file_ignores.items():
        pattern = glob.rstrip("/")
        if fnmatch(rel, pattern) or fnmatch(base, pattern) or fnmatch(rel, pattern + "/*"):
            out.extend(codes)
    return tuple(out)
