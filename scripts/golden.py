"""Snapshot every record and every output format over a set of inputs, to prove a refactor changes nothing.

    python scripts/golden.py OUT.txt [PATHS...]   (default: tests/fixtures tests/corpus examples)

Writes, per path: each file's records (fields with a value, sorted), then the CLI's
text (with --show-unresolved), JSON, SARIF and github output and the ``--diff`` of
``--fix``. Two snapshots taken before and after a change compare with ``cmp``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, fields, is_dataclass
from typing import Any

DEFAULT_PATHS = ("tests/fixtures", "tests/corpus", "examples")


def _plain(value: Any) -> Any:
    """A record field as a JSON-able value; dataclasses flattened with empty fields dropped."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if f.name == "extra" and isinstance(item, dict):
                out.update({k: _plain(v) for k, v in item.items()})  # extra keys and typed fields alike
            elif not _empty(item):
                out[f.name] = _plain(item)
        return {k: v for k, v in sorted(out.items()) if not _empty(v)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return repr(value)
    return value


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, (str, tuple, list, dict)) and not value)


def records(paths: list[str]) -> str:
    from initlint.api import lint_paths

    report = lint_paths(paths, jobs=1, cache=None)
    lines = []
    for result in report.results:
        lines.append(f"## {result.path} error={result.error!r} skipped={result.skipped}")
        for rec in result.records:
            lines.append(json.dumps(_plain(rec), sort_keys=True))
        for finding in result.findings + result.suppressed:
            lines.append(json.dumps(_plain(asdict(finding) | {"record": None}), sort_keys=True))
    return "\n".join(lines)


def cli(args: list[str]) -> str:
    proc = subprocess.run([sys.executable, "-m", "initlint", "--no-cache", "--jobs", "1", *args],
                          capture_output=True, text=True, check=False)
    return f"$ initlint {' '.join(args)}\nexit {proc.returncode}\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def main(argv: list[str]) -> int:
    out, paths = argv[0], argv[1:] or list(DEFAULT_PATHS)
    parts = []
    for path in paths:
        parts.append(records([path]))
        parts.append(cli([path, "--show-unresolved"]))
        for fmt in ("json", "sarif", "github"):
            parts.append(cli([path, "--format", fmt]))
        parts.append(cli([path, "--diff"]))
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
