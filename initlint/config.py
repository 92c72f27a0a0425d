"""``[tool.initlint]`` in ``pyproject.toml``: find it, validate it, turn it into :class:`Settings`.

One configuration per run. It is the nearest ``pyproject.toml`` that has a
``[tool.initlint]`` table, searched upward from the common root of the linted
paths (the current directory when none are given); a ``pyproject.toml``
without the table is skipped, as ruff does, so a sub-project's packaging file
does not hide the repository's lint settings. Patterns in ``exclude``,
``extend-exclude`` and ``per-file-ignores`` and the paths in
``extra-rule-files`` are relative to the directory of that file.
Precedence: command-line flags, then the file, then the defaults. Rule selection is
layered as ruff layers it: the defaults select every rule, then the file's
``select`` / ``extend-select`` / ``ignore`` apply, then the command line's; a layer
with ``select`` starts over from its own list, and within one layer the more
specific prefix wins (so ``--select INIT005`` brings back a code the file ignores).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import stat
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
# The most a configuration file (pyproject.toml, an extra rule file) may weigh: read no further.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
# Upper bounds of the numeric settings (a larger value is a typo, and would overflow timers or reads).
MAX_TIMEOUT = 1_000_000.0  # seconds (11 days); 0 is "no limit"
MAX_FILE_SIZE = 10**12  # bytes; 0 is "no limit"


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
    # A cheap test before parsing: most pyproject files have no initlint table. On the bytes,
    # so that a file that is not valid UTF-8 is reported by load(), not silently skipped.
    data = _read_limited(str(path), "pyproject.toml")
    return not isinstance(data, bytes) or b"tool.initlint" in data


def _read_limited(name: str, what: str) -> bytes | str:
    """The bytes of a regular file of at most :data:`MAX_CONFIG_BYTES`, else why not.

    Opened without blocking (a FIFO would wait for a writer forever) and checked to be a
    regular file (``/dev/zero`` would never end) before a byte is read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except (OSError, ValueError) as err:  # ValueError: a NUL in the name
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        return f"cannot read {what} {name!r}: {reason}"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"cannot read {what} {name!r}: not a regular file"
        if info.st_size > MAX_CONFIG_BYTES:
            return f"cannot read {what} {name!r}: over {MAX_CONFIG_BYTES} bytes"
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as err:
        return f"cannot read {what} {name!r}: {err.strerror or err}"
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        return f"cannot read {what} {name!r}: over {MAX_CONFIG_BYTES} bytes"
    return data


def _parse_toml(name: str, data: bytes) -> dict[str, Any]:
    """A TOML document; a decode error, invalid TOML or nesting too deep is a ConfigError naming the file."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"{name}: not valid UTF-8 (TOML files must be): byte 0x{data[err.start]:02x} on line {line}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{name}: invalid TOML: {err}") from None
    except RecursionError:
        raise ConfigError(f"{name}: invalid TOML: arrays or tables nested too deeply") from None


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The raw ``[tool.initlint]`` table of one ``pyproject.toml``."""
    name = str(path)
    data = _read_limited(name, "the configuration")
    if isinstance(data, str):
        raise ConfigError(f"{name}: {data}")
    document = _parse_toml(name, data)
    tool = document.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{name}: [tool] must be a table, got {tool!r:.80}")
    table = tool.get("initlint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{name}: [tool.initlint] must be a table")
    return table


# -- validation: one small parser per key -----------------------------------


def _where(path: str, key: str) -> str:
    return f"{path}: [tool.initlint] {key}"


def _shown(value: Any) -> str:
    """A value for an error line: its repr, cut short (a configuration value may be huge)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"a {len(str(abs(value)))}-digit number"
    return text if len(text) <= 80 else text[:77] + "..."


def _string_list(path: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{_where(path, key)}: expected a list of strings, got {_shown(value)}")
    return tuple(value)


def check_codes(codes: Sequence[str], where: str) -> tuple[str, ...]:
    """``codes`` upper-cased, or ConfigError naming ``where`` (a key or a flag) and the first unknown one."""
    out = tuple(c.strip().upper() for c in codes if c.strip())
    known = rules()
    for code in out:
        if not CODE_PREFIX.match(code) or not any(k.startswith(code) for k in known):
            hint = difflib.get_close_matches(code, list(known), n=1, cutoff=0.6)
            suggestion = f"did you mean {hint[0]!r}?" if hint else f"codes are {min(known)}-{max(known)}; see `initlint rules`"
            raise ConfigError(f"{where}: unknown rule code or prefix {_shown(code)} ({suggestion})")
    return out


def _codes(path: str, key: str, value: Any) -> tuple[str, ...]:
    return check_codes(_string_list(path, key, value), _where(path, key))


def _severity(path: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or value not in SEVERITY_RANK:
        raise ConfigError(f"{_where(path, key)}: expected one of error, warning, advice; got {_shown(value)}")
    return value


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and not math.isnan(value)


def _threshold(path: str, key: str, value: Any) -> float:
    if not _number(value) or not 1 < value < float("inf"):
        raise ConfigError(f"{_where(path, key)}: expected a number greater than 1 (and finite), got {_shown(value)}")
    return float(value)


def _seconds(path: str, key: str, value: Any) -> float:
    if not _number(value) or not 0 <= value <= MAX_TIMEOUT:
        raise ConfigError(f"{_where(path, key)}: expected seconds >= 0 and <= {MAX_TIMEOUT:.0f} (0: no limit), "
                          f"got {_shown(value)}")
    return float(value)


def _bytes(path: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FILE_SIZE:
        raise ConfigError(f"{_where(path, key)}: expected a whole number of bytes >= 0 and <= {MAX_FILE_SIZE} "
                          f"(0: no limit), got {_shown(value)}")
    return value


def _bool(path: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{_where(path, key)}: expected true or false, got {value!r}")
    return value


def _per_file_ignores(path: str, key: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, key)}: expected a table of glob = [codes], got {_shown(value)}")
    return {str(glob): _codes(path, f"{key}.{glob!r}", codes) for glob, codes in value.items()}


def _activations(path: str, key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, key)}: expected a table of \"name\" = \"family\", got {_shown(value)}")
    out = {}
    for name, family in value.items():
        if not isinstance(family, str) or family not in FAMILIES:
            raise ConfigError(
                f"{_where(path, key)}: {_shown(name)} = {_shown(family)} is not a family "
                f"(one of {', '.join(FAMILIES)})"
            )
        out[str(name)] = str(family)
    return out


_PARSERS: dict[str, tuple[str, Callable[[str, str, Any], Any]]] = {
    # key in pyproject -> (Settings field, parser)
    "select": ("select", _codes),
    "extend-select": ("extend_select", _codes),
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
    "respect-gitignore": ("respect_gitignore", _bool),
    "project": ("project", _bool),
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
                      "never_initialize", "not_run", "loss_calls", "passing_methods")


def _extra_rule_file(name: str, config: str) -> tuple[dict[str, str], str]:
    """An extra rule file: its ``[activations]`` (the format of ``rules/families.toml``) and, as TOML text,
    its framework conventions (the tables of ``rules/conventions.toml``, SPEC 8.33)."""
    raw = _read_limited(name, "the rule file")
    if isinstance(raw, str):
        raise ConfigError(f"{config}: [tool.initlint] extra-rule-files: {raw}")
    data = _parse_toml(name, raw)
    known = ["activations", *_CONVENTION_TABLES]
    for key in data:
        if key not in known:
            raise _unknown(name, key, known, table="extra rule file")
    try:
        from .rulebook import build_conventions, read_conventions

        build_conventions(read_conventions({k: v for k, v in data.items() if k in _CONVENTION_TABLES}))
    except (TypeError, ValueError, AttributeError, RecursionError) as err:
        raise ConfigError(f"{name}: framework conventions not understood: {err}") from None
    conventions = raw.decode("utf-8") if any(k in data for k in _CONVENTION_TABLES) else ""
    return _activations(name, "activations", data.get("activations", {})), conventions


Selection = tuple[tuple[str, ...] | None, tuple[str, ...], tuple[str, ...]]  # select, extend-select, ignore


def resolve_selection(layers: Sequence[Selection]) -> tuple[str, ...]:
    """The rule codes enabled after applying each (select, extend_select, ignore) layer in turn.

    Starts from every rule. A layer with ``select`` (not None) starts over: a code is on when its
    longest matching select or extend-select prefix is longer than its longest ignore prefix. A
    layer without ``select`` only changes the codes it names, by the same comparison.
    """
    enabled = set(rules())
    for select, extend, ignore in layers:
        for code in rules():
            on = max((len(p) for p in (*(select or ()), *extend) if code.startswith(p)), default=-1)
            off = max((len(p) for p in ignore if code.startswith(p)), default=-1)
            if on > off:
                enabled.add(code)
            elif select is not None or off > -1:
                enabled.discard(code)
    return tuple(code for code in rules() if code in enabled)


def settings_for(paths: Sequence[str], config: str | None = None, **overrides: Any) -> Settings:
    """The run's settings: ``overrides`` (command-line flags, None = not given) over the config file over defaults.

    ``config`` names the file explicitly; otherwise the nearest one is searched from :func:`common_root`.
    ``select`` / ``extend_select`` / ``ignore`` are layered (see :func:`resolve_selection`): the file's
    first, then the overrides'; the result is the explicit list of enabled codes in ``Settings.select``.
    """
    if config is not None:
        fields = parse(load(config), config)
    else:
        found = find_pyproject(common_root(paths))
        fields = parse(load(found), str(found)) if found else {}
    layers: list[Selection] = []
    for source in (fields, overrides):
        select, extend, ignore = source.pop("select", None), source.pop("extend_select", None), source.pop("ignore", None)
        if select is not None or extend or ignore:
            layers.append((tuple(select) if select is not None else None, tuple(extend or ()), tuple(ignore or ())))
    fields.update({k: v for k, v in overrides.items() if v is not None})
    if len(layers) == 1:  # one layer: Settings.selected's longest-prefix rule is the same thing
        select, extend, ignore = layers[0]
        fields["select"], fields["ignore"] = (*(select if select is not None else Settings().select), *extend), ignore
    elif layers:
        fields["select"], fields["ignore"] = resolve_selection(layers), ()
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
