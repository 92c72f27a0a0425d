"""A long fuzz round of the source path: generated hostile files through the real CLI, then ``--fix``.

Usage (from the repository root; deterministic for a given ``--seed``):

    python scripts/fuzz_source.py --count 10000 --seed 1 --out /tmp/initlint-fuzz

Inputs, in batches of ``--batch`` files, each class a share of ``--count``:

* ``parser``: chains and nestings that crash or stall libcst's native parser (``and``/``+``/
  ``**``/attribute/call/subscript/``not``/unary/conditional/lambda chains, brackets,
  walrus, nested f-strings, ``elif`` runs), at random lengths around the limits, with or
  without a later syntax error or a Python 3.12-only statement;
* ``growth``: list/tuple doubling (``+=``, ``extend``, ``+``, starred), nested loops over
  huge ranges, integer towers, at module level or in a constructor, torch and Keras;
* ``mutated``: the fixtures, corpus and examples mutated (tests/test_property_source.py);
* ``model``: model-shaped torch/Keras files generated from tables, then mutated;
* ``grammar``: arbitrary grammatical Python from hypothesmith (when installed).

Each batch is linted by ``python -m initlint DIR --format json --jobs 2 --timeout 20
--no-cache`` in a fresh process capped at 3 GiB of address space and 600 s, and then
fixed (``--fix``) in a copy. A failure is: an exit status other than 0/1/2 (a crash), the
wall-clock cap (a hang), ``Traceback`` or ``internal error`` on stderr, an error line that
names no file of the batch, JSON that does not parse (or holds NaN), a file missing from
the summary, a temporary file left behind by ``--fix``, or a fixed file that lost a line
the fix did not mean to touch: a deleted line, an edited line that held neither a call nor
one of its keyword arguments, or whose indentation or comment is gone (data loss). The counts are printed at the end (and the
failing batches kept under ``--out``); the exit status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import test_property_source as props

GiB = 1 << 30
CHAINS = {
    "and": lambda n: " and ".join(["a"] * n),
    "plus": lambda n: " + ".join(["a"] * n),
    "pow": lambda n: " ** ".join(["a"] * n),
    "attr": lambda n: "a" + ".b" * n,
    "call": lambda n: "f" + "()" * n,
    "spaced_call": lambda n: "(f" + " #.\n ()" * n + ")",
    "subscript": lambda n: "a" + "[0]" * n,
    "not": lambda n: "not " * n + "a",
    "neg": lambda n: "-" * n + "a",
    "ifelse": lambda n: "a if b else " * n + "c",
    "lambda": lambda n: "lambda: " * n + "1",
    "parens": lambda n: "(" * n + "1" + ")" * n,
    "list": lambda n: "[" * n + "]" * n,
    "walrus": lambda n: "(y := " * n + "1" + ")" * n,
    "fstring": lambda n: "f'{" * n + "1" + "}'" * n,
    "strings": lambda n: " ".join(["'s'"] * n),
    "compare": lambda n: " < ".join(["a"] * n),
}


def parser_case(rng: random.Random) -> str:
    kind = rng.choice(sorted(CHAINS) + ["elif"])
    n = rng.choice([50, 150, 200, 400, 900, 1000, 1100, 2000, 3000, 10000, 30000])
    if kind in ("fstring", "walrus", "parens", "list", "spaced_call", "subscript", "call", "attr") and n > 10000:
        n = 10000
    head = "import torch\n" + ("type X = int\n" if rng.random() < 0.3 else "")
    if kind == "elif":
        body = "if a:\n    pass\n" + "elif a:\n    pass\n" * n
    else:
        body = "".join(f"x{i} = {CHAINS[kind](n)}\n" for i in range(rng.choice([1, 1, 2, 5])))
    tail = "def (:\n" if rng.random() < 0.5 else ""
    return head + body + tail


_HEAD = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"


def growth_case(rng: random.Random) -> str:
    k = rng.randrange(10, 60)
    kind = rng.randrange(9)
    indent = "        " if rng.random() < 0.6 else ""
    head = _HEAD if indent else "import torch.nn as nn\n"
    if kind == 0:
        body = "layers = [nn.Linear(4, 4)]\n" + "layers += layers\n" * k + "seq = nn.Sequential(*layers)\n"
    elif kind == 1:
        body = "layers = [nn.Linear(4, 4)]\n" + "layers.extend(layers)\n" * k + "seq = nn.Sequential(*layers)\n"
    elif kind == 2:
        body = "layers = (nn.Linear(4, 4),)\n" + "layers = layers + layers\n" * k + "seq = nn.Sequential(*layers)\n"
    elif kind == 3:
        body = "layers = [nn.Linear(4, 4)]\n" + "layers = [*layers, *layers, *layers]\n" * k + "seq = nn.ModuleList(layers)\n"
    elif kind == 4:
        loops = " ".join(f"for _{i} in range(2**{rng.randrange(1, 64)}-1)" for i in range(k * 4))
        body = f"seq = nn.ModuleList([nn.Linear(4, 4) {loops}])\n"
    elif kind == 5:
        body = "n = 2\n" + "n = n ** n\n" * k + "seq = nn.Linear(n, 4)\n" + f"m = 2 ** (2 ** {rng.randrange(40, 64)})\n"
    elif kind == 6:
        body = "seq = nn.ModuleList()\n" + "".join("    " * i + f"for i{i} in range(10**{rng.randrange(1, 19)}):\n"
                                                    for i in range(min(k, 90))) + "    " * min(k, 90) + "seq.append(nn.Linear(4, 4))\n"
    elif kind == 7:
        return ("import keras\nfrom keras import layers\nn = 10\n" + "n = n * n\n" * k
                + "x = keras.Input(shape=(4,))\n" + "".join("    " * i + f"for i{i} in range(3):\n" for i in range(min(k, 90)))
                + "    " * min(k, 90) + "x = layers.Dense(4)(x)\nmodel = keras.Model(x, x)\n")
    else:
        body = "s = 'ab'\n" + "s = s + s\n" * k + "seq = nn.Linear(len(s), 4)\n"
    body = "".join((indent + line if line.strip() else line) for line in body.splitlines(keepends=True))
    if indent:
        body = body.replace(f"{indent}seq = ", f"{indent}self.seq = ")
    return head + body


def mutated_case(rng: random.Random) -> str:
    text = rng.choice(props.TEXTS)
    for _ in range(rng.randrange(1, 4)):
        text = rng.choice(props.MUTATIONS)(text, rng.random(), rng.random(), rng.randrange(2**16))
    return text


def draw(strategy: object, count: int, seed: int) -> list[str]:
    """``count`` examples of a hypothesis strategy, deterministically for ``seed``."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    out: list[str] = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(example: str) -> None:
        out.append(example)

    collect()
    return out[:count]


def model_cases(count: int, seed: int) -> list[str]:
    from hypothesis import strategies as st

    rng = random.Random(seed)
    texts = draw(st.one_of(props.torch_model(), props.keras_model()), count, seed)
    return [mutated_from(t, rng) if rng.random() < 0.7 else t for t in texts]


def mutated_from(text: str, rng: random.Random) -> str:
    for _ in range(rng.randrange(1, 3)):
        text = rng.choice(props.MUTATIONS)(text, rng.random(), rng.random(), rng.randrange(2**16))
    return text


def grammar_cases(count: int, seed: int) -> list[str]:
    try:
        import hypothesmith
    except ImportError:
        return []
    return ["import torch\nimport torch.nn as nn\n" + s for s in draw(hypothesmith.from_grammar(), count, seed)]


def cli(args: list[str], cwd: Path, timeout: float) -> tuple[int | None, str, str, float]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * GiB, 3 * GiB))

    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "initlint", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, preexec_fn=limit, env={**os.environ, "PYTHONPATH": str(ROOT)},
                              check=False)
    except subprocess.TimeoutExpired as err:
        return None, str(err.stdout or ""), str(err.stderr or ""), time.monotonic() - start
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def check_batch(folder: Path, names: list[str], failures: Counter[str], notes: list[str]) -> int:
    """Lint, then fix a copy; count failures by kind. Returns the number of error lines."""
    code, out, err, _ = cli([str(folder), "--format", "json", "--jobs", "2", "--timeout", "20", "--no-cache",
                             "--show-unresolved"], folder, 600)
    where = folder.name
    if code is None:
        failures["hang"] += 1
        notes.append(f"{where}: lint did not return within 600 s")
        return 0
    if code not in (0, 1, 2):
        failures["crash"] += 1
        notes.append(f"{where}: lint exit status {code}: {err[-300:]}")
    if "Traceback" in err:
        failures["traceback"] += 1
        notes.append(f"{where}: traceback: {err[-500:]}")
    if "internal error" in err:
        failures["internal error"] += 1
        notes.append(f"{where}: {[line for line in err.splitlines() if 'internal error' in line][:3]}")
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    if len(errors) != len(lines) or any(not any(n in line for n in names) for line in errors):
        failures["stray output"] += 1
        notes.append(f"{where}: stderr lines that are not one error naming a file: {lines[:3]}")

    def no_constant(name: str) -> None:
        raise ValueError(name)

    try:
        doc = json.loads(out, parse_constant=no_constant)
        if doc["summary"]["files"] != len(names):
            failures["file missing"] += 1
            notes.append(f"{where}: {doc['summary']['files']} files in the summary, {len(names)} given")
    except (ValueError, KeyError) as exc:
        failures["bad json"] += 1
        notes.append(f"{where}: {exc}")
    # --fix on a copy: nothing but the fixed lines may change, nothing may be left behind.
    copy = folder.with_name(folder.name + "-fix")
    shutil.copytree(folder, copy)
    code, out, err, _ = cli([str(copy), "--fix", "--jobs", "2", "--timeout", "20", "--no-cache"], copy, 600)
    if code is None or code not in (0, 1, 2) or "Traceback" in err or "internal error" in err:
        failures["fix failed"] += 1
        notes.append(f"{where}: --fix exit {code}: {err[-500:]}")
    left = sorted(p.name for p in copy.iterdir() if p.name not in names)
    if left:
        failures["fix left files"] += 1
        notes.append(f"{where}: --fix left {left[:3]}")
    for name in names:
        before, after = (folder / name).read_bytes(), (copy / name).read_bytes()
        if before != after and not _only_fixes(before, after):
            failures["data loss"] += 1
            notes.append(f"{where}/{name}: --fix changed lines it did not fix")
    shutil.rmtree(copy)
    return len(errors)


_LINES = re.compile(rb"\r\n|\r|\n")  # where Python ends a line


_KEYWORD = re.compile(rb"^\s*[A-Za-z_]\w*\s*=[^=].*,\s*(#.*)?$")  # a keyword argument on its own line of a call


def _holds_a_call(line: bytes) -> bool:
    """Whether a fix may edit ``line``: it opens a call, passes a keyword argument of one, or is blank."""
    return b"(" in line or not line.strip() or _KEYWORD.match(line) is not None


def _only_fixes(before: bytes, after: bytes) -> bool:
    """Whether ``after`` is ``before`` with edits of the kind fixes make, and nothing lost.

    Fixes insert lines (imports, init calls) and edit calls in place (a keyword added, an
    init call replaced): no line is deleted, every edited line held a call or one of its keyword arguments, and an edited
    block keeps its first line's indentation and every comment of its lines.
    """
    old, new = _LINES.split(before), _LINES.split(after)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "delete":
            return False
        if tag == "replace":
            first = old[i1]
            indent = first[: len(first) - len(first.lstrip())]
            block = b"\n".join(new[j1:j2])
            if not new[j1].startswith(indent) or not all(_holds_a_call(line) for line in old[i1:i2]):
                return False
            comments = [line[line.index(b"#"):] for line in old[i1:i2] if b"#" in line]
            if any(c not in block for c in comments):
                return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--out", type=Path, default=Path("/tmp/initlint-fuzz"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    share = {"parser": 0.12, "growth": 0.08, "mutated": 0.45, "model": 0.2, "grammar": 0.15}
    n = {k: int(args.count * v) for k, v in share.items()}
    n["mutated"] += args.count - sum(n.values())
    started = time.monotonic()
    cases: list[tuple[str, str]] = []
    cases += [("parser", parser_case(rng)) for _ in range(n["parser"])]
    cases += [("growth", growth_case(rng)) for _ in range(n["growth"])]
    cases += [("mutated", mutated_case(rng)) for _ in range(n["mutated"])]
    cases += [("model", t) for t in model_cases(n["model"], args.seed)]
    grammar = grammar_cases(n["grammar"], args.seed)
    cases += [("grammar", t) for t in grammar]
    cases += [("mutated", mutated_case(rng)) for _ in range(n["grammar"] - len(grammar))]  # without hypothesmith
    rng.shuffle(cases)
    print(f"generated {len(cases)} inputs in {time.monotonic() - started:.0f} s: {dict(Counter(k for k, _ in cases))}",
          flush=True)
    if args.out.exists():
        shutil.rmtree(args.out)
    failures: Counter[str] = Counter()
    notes: list[str] = []
    error_lines = 0
    for b in range(0, len(cases), args.batch):
        folder = args.out / f"batch{b // args.batch:04d}"
        folder.mkdir(parents=True)
        names = []
        for i, (kind, text) in enumerate(cases[b: b + args.batch]):
            name = f"{kind}_{b + i:05d}.py"
            (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
            names.append(name)
        before = sum(failures.values())
        error_lines += check_batch(folder, names, failures, notes)
        if sum(failures.values()) == before:
            shutil.rmtree(folder)
        print(f"{min(b + args.batch, len(cases))}/{len(cases)} inputs, {time.monotonic() - started:.0f} s, "
              f"failures {dict(failures)}", flush=True)
    print(f"\n{len(cases)} inputs ({dict(Counter(k for k, _ in cases))}), {error_lines} clean error lines, "
          f"{sum(failures.values())} failures {dict(failures)} in {time.monotonic() - started:.0f} s")
    for note in notes[:50]:
        print("  " + note)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
