"""Snapshot every record and every output format over a set of inputs, to prove a refactor changes nothing.

    python scripts/golden.py OUT.txt [PATHS...]   (default: tests/fixtures tests/corpus examples)
    python scripts/golden.py --live OUT.txt        (initlint check on tests/live_targets, ONNX --propagate)

Writes, per path: each file's records (fields with a value, sorted), then the CLI's
text (with --show-unresolved), JSON, SARIF and github output and the ``--diff`` of
``--fix``. Two snapshots taken before and after a change compare with ``cmp``.
"""

from __future__ import annotations

import json
import os
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
            lines.append(json.dumps({k: v for k, v in _plain(asdict(finding)).items() if k != "record" and not _empty(v)},
                                    sort_keys=True))
    return "\n".join(lines)


def cli(args: list[str]) -> str:
    flags = [] if args[0] == "check" else ["--no-cache", "--jobs", "1"]
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    proc = subprocess.run([sys.executable, "-m", "initlint", *flags, *args], env=env,
                          capture_output=True, text=True, check=False)
    return f"$ initlint {' '.join(args)}\nexit {proc.returncode}\n{proc.stdout}\n--- stderr\n{proc.stderr}"


LIVE_TARGETS = (
    ("mlp.py:build", '{"depth": 12, "activation": "relu"}'), ("mlp.py:build", '{"depth": 8, "activation": "tanh"}'),
    ("cnn_bn.py:SmallCNN", "{}"), ("cnn_bn.py:PlainCNN", "{}"), ("dynamic_flow.py:Gated", "{}"),
    ("init_overwritten.py:Overwritten", "{}"), ("init_runtime_skip.py:Encoder", "{}"),
    ("init_skips_conv1d.py:AudioNet", "{}"), ("nested_overwrite.py:Net", "{}"), ("residual.py:ResMLP", "{}"),
    ("keras_models.py:functional", "{}"), ("keras_models.py:build", '{"depth": 6}'),
)


def live() -> list[str]:
    """``initlint check`` on the live targets of the tests, text and JSON (with the advisor's demo)."""
    parts = []
    for target, kwargs in LIVE_TARGETS:
        name = f"tests/live_targets/{target}"
        parts.append(cli(["check", name, "--kwargs", kwargs]))
        parts.append(cli(["check", name, "--kwargs", kwargs, "--format", "json", "--apply-demo"]))
    for args in (["--propagate"], ["--propagate", "--format", "json"]):
        parts.append(cli(["examples/model.onnx", *args]))
    return parts


def main(argv: list[str]) -> int:
    if argv[:1] == ["--live"]:
        with open(argv[1], "w", encoding="utf-8") as fh:
            fh.write("\n".join(live()))
        return 0
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
