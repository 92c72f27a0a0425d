"""Hostile input on the source path: no crash, hang, runaway memory, lost byte or traceback.

Regression cases of the hardening issue, generated here (nothing large is committed) and
run through the real CLI in fresh processes, capped in memory and time where the failure
was a blow-up: a crash, a hang or 2 GB fails the test, not the test run. Each class:
the native parser (nesting gate, watched workers), the interpreter's size budgets,
``--fix`` writes, the cache, configuration and flags, and ``initlint check``.
"""

from __future__ import annotations

import difflib
import json
import os
import pickle
import resource
import signal
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint import limits, lint_source, runner
from initlint.api import lint_paths
from initlint.cache import Cache, valid
from initlint.cli import main
from initlint.fixes import plan_result, write
from initlint.project.session import Session
from initlint.records import FileResult, Finding, LayerRecord, Origin, Report
from initlint.reporters import json as json_reporter
from initlint.reporters import text as text_reporter
from initlint.settings import Settings

from .conftest import FIXTURES

# One INIT003 (ones_ before ReLU) at line 7.
BAD = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(256, 256)
        self.head = nn.Linear(256, 10)
        nn.init.ones_(self.fc.weight)

    def forward(self, x):
        return self.head(self.fc(x).relu())
"""
GiB = 1 << 30


def run(*args: str, cwd: Path, timeout: float = 120, memory: int | None = None, fsize: int | None = None,
        env: dict[str, str] | None = None, **popen: object) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process, optionally capped in address space or file size."""

    def limit() -> None:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        if fsize:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-m", "initlint", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, preexec_fn=limit, env=env, check=False, **popen)  # type: ignore[call-overload]


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


# -- 1. the native parser -------------------------------------------------------------------------

# Shapes that crashed libcst's native parser (SIGSEGV) or held it for minutes, most after a later
# syntax error or with syntax newer than the running interpreter: CPython cannot measure them.
PARSER_CASES = {
    "and_chain_then_syntax_error.py": "import torch\nx = " + " and ".join(["a"] * 30000) + "\ndef (:\n",
    "plus_chain_20kb.py": "import torch\nx = " + " + ".join(["a"] * 5000) + "\ndef (:\n",
    "attribute_chain.py": "import torch\nx = a" + ".b" * 20000 + "\ndef (:\n",
    "call_chain.py": "import torch\nx = f" + "()" * 20000 + "\ndef (:\n",
    "spaced_call_chain.py": "import torch\nx = (f" + " #.\n ()" * 3000 + ")\ndef (:\n",
    "subscript_chain.py": "import torch\nx = a" + "[0]" * 3000 + "\ndef (:\n",
    "python312_only.py": "import torch\ntype X = int\nx = " + " + ".join(["a"] * 5000) + "\n",
    "python312_attributes.py": "import torch\ntype X = int\nx = a" + ".b" * 20000 + "\n",
    "nested_fstrings.py": "import torch\nx = " + "f'{" * 2000 + "1" + "}'" * 2000 + "\n",
    "walrus_brackets.py": "import torch\nx = " + "(y := " * 2000 + "1" + ")" * 2000 + "\n",
    "not_chain.py": "import torch\nx = " + "not " * 30000 + "1\ndef (:\n",
    "lambda_chain.py": "import torch\nx = " + "lambda: " * 10000 + "1\ndef (:\n",
    "conditional_chain.py": "import torch\nx = " + "a if b else " * 10000 + "1\ndef (:\n",
    "elif_chain.py": "import torch\nif a:\n    pass\n" + "elif a:\n    pass\n" * 10000,
}


def test_the_gate_measures_what_cpython_cannot_parse() -> None:
    for name, text in PARSER_CASES.items():
        hazard, tree = limits.check_source(text)
        assert tree is None and hazard is not None and hazard.startswith("skipped: "), name
    # Ordinary code, however long, passes: the gate counts chains and brackets, not size.
    table = "import torch\nW = [" + ", ".join(f"{i / 7:.4f}" for i in range(20000)) + "]\ndef (:\n"
    assert limits.scan(table).hazard() is None
    assert limits.scan("x = " + " + ".join(["a.b"] * 400) + "\n").depth >= 400


def test_parser_killers_are_one_line_each_with_one_and_two_jobs(tmp_path: Path) -> None:
    for name, text in PARSER_CASES.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "model.py").write_text(BAD)
    for i in range(3):  # past the size that starts a pool
        (tmp_path / f"plain_{i}.py").write_text("# no framework here\n" * 6000)
    outputs = set()
    for jobs in ("1", "2"):
        proc = run(str(tmp_path), "--format", "json", "--no-cache", "--jobs", jobs, "--timeout", "20", cwd=tmp_path,
                   timeout=300, memory=3 * GiB)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        assert [f["code"] for f in json.loads(proc.stdout)["findings"]] == ["INIT003"]
        lines = errors(proc.stderr)
        assert len(lines) == len(PARSER_CASES), lines
        for name in PARSER_CASES:
            (line,) = [e for e in lines if f"/{name}:" in e]
            assert "skipped:" in line and ("nested" in line or "elif" in line), line
        outputs.add((proc.stdout, proc.stderr))
    assert len(outputs) == 1  # --jobs 2 prints what --jobs 1 prints


def _slow_valid_source(statements: int = 30) -> str:
    """Valid code under every limit that libcst's native parser still needs seconds for (~0.3 s a statement);
    it names a layer class, so that the lint must parse it."""
    return "import torch.nn as nn\nLAYER = nn.Linear\n" + "".join(f"x{i} = a" + ".b" * 900 + "\n" for i in range(statements))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_timeout_stops_a_native_parse(tmp_path: Path, jobs: str) -> None:
    (tmp_path / "slow.py").write_text(_slow_valid_source())
    (tmp_path / "model.py").write_text(BAD)
    (tmp_path / "padding.py").write_text("# no framework here\n" * 15000)  # a pool for --jobs 2
    assert limits.check_source(_slow_valid_source())[0] is None  # not refused: it must be stopped
    proc = run(str(tmp_path), "--no-cache", "--jobs", jobs, "--timeout", "1", cwd=tmp_path, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert errors(proc.stderr) == [f"error: {tmp_path / 'slow.py'}: skipped: timed out after 1 s (--timeout)"]
    assert "INIT003" in proc.stdout


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
def test_a_worker_that_dies_costs_only_its_file(tmp_path: Path) -> None:
    """Workers killed by SIGSEGV mid-parse (as libcst's stack overflow does): one line each, the run goes on."""
    for name in ("slow_a.py", "slow_b.py"):
        (tmp_path / name).write_text(_slow_valid_source(60))  # the largest: the two workers start with them
    (tmp_path / "padding.py").write_text("# no framework here\n" * 3000)  # past the size that starts a pool
    for i in range(6):
        (tmp_path / f"model_{i}.py").write_text(BAD)
    proc = subprocess.Popen([sys.executable, "-m", "initlint", str(tmp_path), "--no-cache", "--jobs", "2",
                             "--timeout", "0", "--format", "json"], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(proc.pid)
        time.sleep(1.0)  # both are now inside the native parse of a slow file (largest first)
        for pid in workers:
            os.kill(pid, signal.SIGSEGV)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert len(workers) == 2
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    assert sorted(errors(err)) == [
        f"error: {tmp_path / name}: skipped: the process analysing it died (killed by SIGSEGV; please report)"
        for name in ("slow_a.py", "slow_b.py")]
    assert len(json.loads(out)["findings"]) == 6  # the replacement workers linted the rest



def test_a_file_naming_no_framework_reaches_neither_the_gate_nor_libcst(tmp_path: Path) -> None:
    """Skipped unparsed, also when libcst would crash on it and it is large: no scan, no worker, no error."""
    text = "x = " + " and ".join(["a"] * 30000) + "\n" + "# padding\n" * 30000
    assert limits.check_source(text)[0] is not None and len(text) > runner.ISOLATED_BYTES  # libcst would crash
    assert lint_source(text, "plain.py").skipped  # in this process: a libcst parse would have crashed it
    path = tmp_path / "plain.py"
    path.write_text(text)
    data = path.read_bytes()
    assert not runner._costly(runner.Task(str(path), len(data), data))  # nothing to parse: linted here, at once
    assert runner._costly(runner.Task(str(path), len(data) + 13, b"import torch\n" + data))
    proc = run(str(path), "--no-cache", "--jobs", "1", "--format", "json", cwd=tmp_path, timeout=60, memory=3 * GiB)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert json.loads(proc.stdout)["summary"]["files"] == 1


def _hostile_project(root: Path) -> Path:
    """A project whose model inherits from a file libcst would crash on, beside files the index cannot read."""
    (root / "pyproject.toml").write_text("")
    (root / "base.py").write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n\n\nz = "
                                  + " and ".join(["a"] * 30000) + "\n")  # CPython parses it; libcst would crash
    model = root / "model.py"
    model.write_text(BAD.replace("import torch.nn as nn\n", "import torch.nn as nn\nfrom base import Base\n")
                     .replace("class Net(nn.Module)", "class Net(Base)"))
    (root / "deep.py").write_text("y = " + "-" * 5000 + "a\n")
    (root / "chain.py").write_text("x = " + " + ".join(["a"] * 30000) + "\n")
    (root / "nul.py").write_bytes(b"x = 1\x00\nclass C:\n    pass\n")
    (root / "latin.py").write_bytes(b"x = '\xe9\xff'\nclass D:\n    pass\n")
    (root / "huge_number.py").write_text("X = 0x" + "f" * 5000 + "\nclass E:\n    pass\n")  # 6000 digits in decimal
    os.mkfifo(root / "fifo.py")
    return model


def test_hostile_files_are_left_out_of_the_project_index(tmp_path: Path) -> None:
    model = _hostile_project(tmp_path)
    session = Session.open([str(model)], Settings())
    assert session is not None
    assert sorted(Path(p).name for p in session.model.linker.by_path) == ["base.py", "huge_number.py", "model.py"]
    assert session.model.linker.by_path[str(tmp_path / "huge_number.py")].constants == ()  # past 2**63: unknown
    for target in (model, tmp_path):
        for jobs in ("1", "2"):
            proc = run(str(target), "--no-cache", "--jobs", jobs, "--format", "json", cwd=tmp_path, timeout=120,
                       memory=3 * GiB)
            assert "Traceback" not in proc.stderr and proc.returncode in (1, 2), (target, jobs, proc.stderr[-2000:])
            assert [f["code"] for f in json.loads(proc.stdout)["findings"]] == ["INIT003"]
            expected = [] if target == model else [
                f"error: {tmp_path / 'base.py'}: skipped: expression nested 30002 levels deep (limit 1000)",
                f"error: {tmp_path / 'fifo.py'}: skipped: not a regular file",
                f"error: {tmp_path / 'latin.py'}: not valid UTF-8 (or declared encoding): invalid or missing "
                "encoding declaration"]
            assert errors(proc.stderr) == expected, (target, jobs)

# -- 2. the interpreter: budgets on sizes ---------------------------------------------------------

_HEAD = "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
_FORWARD = "\n    def forward(self, x):\n        return self.seq(x)\n"
_LOOPS = " ".join(f"for _{i} in range(2**63-1)" for i in range(250))
GROWTH = {
    "list_iadd.py": _HEAD + "        layers = [nn.Linear(4, 4)]\n" + "        layers += layers\n" * 40
    + "        self.seq = nn.Sequential(*layers)\n" + _FORWARD,
    "list_extend.py": _HEAD + "        layers = [nn.Linear(4, 4)]\n" + "        layers.extend(layers)\n" * 40
    + "        self.seq = nn.Sequential(*layers)\n" + _FORWARD,
    "starred.py": _HEAD + "        layers = [nn.Linear(4, 4)]\n" + "        layers = [*layers, *layers]\n" * 40
    + "        self.seq = nn.Sequential(*layers)\n" + _FORWARD,
    "tuple_doubling.py": _HEAD + "        layers = (nn.Linear(4, 4),)\n" + "        layers = layers + layers\n" * 40
    + "        self.seq = nn.Sequential(*layers)\n" + _FORWARD,
    "modulelist_extend.py": _HEAD + "        self.seq = nn.ModuleList([nn.Linear(4, 4)])\n"
    + "        self.seq.extend(self.seq)\n" * 40,
    "module_level.py": "import torch.nn as nn\nlayers = [nn.Linear(4, 4)]\n" + "layers += layers\n" * 40
    + "model = nn.Sequential(*layers)\n",
    "module_level_tuple.py": "import torch.nn as nn\nlayers = (nn.Linear(4, 4),)\n" + "layers += layers\n" * 40
    + "model = nn.Sequential(*layers)\n",
    "loops_250.py": _HEAD + f"        self.seq = nn.ModuleList([nn.Linear(4, 4) {_LOOPS}])\n",
    "loops_19.py": _HEAD + "        self.seq = nn.ModuleList([nn.Linear(4, 4) "
    + " ".join(f"for _{i} in range(2**63-1)" for i in range(19)) + "])\n",
    "huge_range.py": _HEAD + "        self.seq = nn.ModuleList()\n        for i in range(2**62):\n"
    "            self.seq.append(nn.Linear(4, 4))\n",
    "power_tower.py": _HEAD + "        n = 2 ** (2 ** 62)\n        self.seq = nn.Linear(n, 4)\n",
    "keras_int_growth.py": "import keras\nfrom keras import layers\nn = 10\n" + "n = n * n\n" * 40
    + "model = keras.Sequential([keras.Input((4,)), layers.Dense(n, activation='relu', kernel_initializer='he_normal')])\n",
    "keras_nested_loops.py": "import keras\nfrom keras import layers\nx = keras.Input(shape=(4,))\n"
    + "".join("    " * i + f"for i{i} in range(3):\n" for i in range(40)) + "    " * 40
    + "x = layers.Dense(4)(x)\nmodel = keras.Model(x, x)\n",
}


def test_growth_is_bounded_in_memory_time_and_digits(tmp_path: Path) -> None:
    for name, text in GROWTH.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "model.py").write_text(BAD)
    proc = run(str(tmp_path), "--no-cache", "--jobs", "1", "--timeout", "0", "--show-unresolved", "--format", "json",
               cwd=tmp_path, memory=2 * GiB, timeout=120)
    assert proc.returncode == 1, proc.stderr[-3000:]  # model.py's INIT003; no error line
    assert proc.stderr == ""
    doc = json.loads(proc.stdout)
    assert [(Path(f["path"]).name, f["code"]) for f in doc["findings"]] == [("model.py", "INIT003")]
    assert doc["summary"]["layers"] < 10**7  # counted loops stop at a million layers; bigger ones count once
    text = run(str(tmp_path), "--no-cache", "--jobs", "1", "--show-unresolved", cwd=tmp_path, memory=2 * GiB)
    assert text.returncode == 1 and "Traceback" not in text.stderr
    budget = [line for line in text.stdout.splitlines() if "grows past 10000 entries" in line]
    assert {line.split(":")[0] for line in budget} == {
        str(tmp_path / n) for n in ("list_iadd.py", "list_extend.py", "starred.py",
                                    "module_level.py")}


def test_reporters_render_any_count() -> None:
    record = LayerRecord(name="fc", kind="linear", framework="torch", origin=Origin("m.py", 1, 1), count=10**5000)
    report = Report((FileResult("m.py", records=(record, record)),))
    assert "1000000000000 layers" not in text_reporter.render(report, False, False)  # two records: the sum
    assert "2000000000000 layers" in text_reporter.render(report, False, False)
    assert json.loads(json_reporter.render(report, False, False))["summary"]["layers"] == 2 * 10**12


# -- 3. --fix: no byte lost -----------------------------------------------------------------------


def _fix(path: Path, *extra: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return run(str(path.name), "--fix", "--no-cache", "--jobs", "1", *extra, cwd=path.parent, **kw)  # type: ignore[arg-type]


def test_a_write_error_leaves_the_file_whole(tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    model.write_text(BAD)
    proc = _fix(model, fsize=len(BAD) + 10)  # the fixed file is longer: the write fails with EFBIG
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert errors(proc.stderr) == ["error: model.py: cannot write: File too large; the file is unchanged"]
    assert model.read_text() == BAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]  # no temporary file left


def test_read_only_files_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a_locked.py").write_text(BAD)
    (tmp_path / "a_locked.py").chmod(0o444)
    (tmp_path / "b_open.py").write_text(BAD)
    proc = run(".", "--fix", "--no-cache", "--jobs", "1", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert errors(proc.stderr) == ["error: ./a_locked.py: the file is read-only; not rewritten"]
    assert (tmp_path / "a_locked.py").read_text() == BAD
    assert "kaiming_normal_" in (tmp_path / "b_open.py").read_text()


def test_an_edit_made_after_planning_is_never_overwritten(tmp_path: Path) -> None:
    model = tmp_path / "model.py"
    model.write_text(BAD)
    planned = plan_result(lint_paths([str(model)]).results[0], Settings(), relint=True)
    assert planned is not None and planned.changed
    model.write_text(BAD + "\n\ndef added_meanwhile():\n    return 1\n")  # the user saves while --fix runs
    assert write(planned) == "the file changed since it was read; not rewritten (run --fix again)"
    assert model.read_text().endswith("def added_meanwhile():\n    return 1\n")


def test_mode_symlinks_and_hard_links(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(BAD)
    real.chmod(0o640)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    proc = _fix(link)
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and "kaiming_normal_" in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    twin = tmp_path / "twin.py"
    twin.write_text(BAD)
    os.link(twin, tmp_path / "twin_link.py")
    proc = _fix(twin)
    assert proc.returncode == 2
    assert errors(proc.stderr) == [
        "error: twin.py: the file has 2 hard links, which a rewrite would separate; not rewritten"]
    assert twin.read_text() == BAD


@pytest.mark.parametrize(("name", "data", "fixed"), [
    # form feeds: before a blank line, in front of a statement libcst re-indents, in front of the fixed line
    ("form_feeds.py", BAD.replace("\n\n\nclass", "\n\x0c\n\nclass").replace(
        "        self.head", "\x0c        self.head").replace("        nn.init.ones_", "\x0c        nn.init.ones_"), True),
    ("nul_in_string.py", BAD.replace("super().__init__()", "super().__init__()\n        s = '\x00'"), True),
    ("nul_in_comment.py", BAD.replace("super().__init__()", "super().__init__()  # \x00 a NUL"), True),
    ("crlf.py", BAD.replace("\n", "\r\n"), True),
    ("latin1.py", "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD, True),
    ("unicode_escape.py", "# coding: unicode_escape\n" + BAD, False),
])
def test_fix_round_trips_every_byte_or_declines(tmp_path: Path, name: str, data: str, fixed: bool) -> None:
    path = tmp_path / name
    encoding = "latin-1" if "latin-1" in data else "utf-8"
    raw = data.encode(encoding)
    path.write_bytes(raw)
    before = lint_paths([str(path)]).findings
    assert [f.code for f in before] == ["INIT003"] and before[0].line is not None  # NUL keeps the positions
    proc = _fix(path)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    after = path.read_bytes()
    if not fixed:
        assert proc.returncode == 1 and after == raw
        assert "INIT003 has no automatic fix: its bytes do not survive decoding and encoding again" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    # Exactly the fixed line changed; every other byte (form feeds, NUL, CR) is where it was.
    old_lines, new_lines = raw.split(b"\n"), after.split(b"\n")
    assert len(old_lines) == len(new_lines)
    changed = [(o, n) for o, n in zip(old_lines, new_lines) if o != n]
    assert len(changed) == 1
    old, new = changed[0]
    assert b"ones_" in old and b"kaiming_normal_" in new
    assert old[: len(old) - len(old.lstrip(b"\x0c "))] == new[: len(new) - len(new.lstrip(b"\x0c "))]



@pytest.mark.parametrize("case", ["torch_sequential", "torch_no_alias", "keras_functional", "keras_sequential"])
def test_fix_keeps_bare_cr_files_byte_for_byte(tmp_path: Path, case: str) -> None:
    """Lines ended by a bare CR (libcst drops the one ending the file): the fixed file is the golden
    output with CR line ends, byte for byte, the imports and init calls added at the top level included."""
    fixes = FIXTURES / "fixes"
    path = tmp_path / f"{case}.py"
    path.write_bytes((fixes / f"{case}.in.py").read_bytes().replace(b"\n", b"\r"))
    proc = _fix(path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_bytes() == (fixes / f"{case}.out.py").read_bytes().replace(b"\n", b"\r")


def test_fix_keeps_the_comments_libcst_drops_at_the_end(tmp_path: Path) -> None:
    """A file ending in an indented block, comments and spaces without a line end: libcst's code of
    the module drops the comments; a fix that adds an import and init calls leaves them in place."""
    source = (FIXTURES / "fixes" / "torch_no_alias.in.py").read_text().replace(
        "stack: Sequential", "if True:\n    stack: Sequential") + "\n # a note at the end\n\t\t# another\n   "
    path = tmp_path / "tail.py"
    path.write_text(source)
    proc = _fix(path)
    assert proc.returncode == 0, proc.stderr
    old, new = source.splitlines(keepends=True), path.read_text().splitlines(keepends=True)
    inserted = [line for line in difflib.ndiff(old, new) if line[:2] in ("- ", "+ ")]
    assert inserted == ["+ import torch\n",
                        '+         torch.nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")\n',
                        '+     torch.nn.init.kaiming_normal_(stack[0].weight, nonlinearity="relu")\n']

# -- 4. the cache ---------------------------------------------------------------------------------


@pytest.fixture
def cached(tmp_path: Path) -> tuple[Path, Cache, str]:
    """A project with one model whose entry is written, and that entry's key."""
    project = tmp_path / "project"
    project.mkdir()
    model = project / "model.py"
    model.write_text(BAD)
    cache = Cache(tmp_path / "cache", Settings())
    lint_paths([str(model)], cache=cache)
    context = Session.open([str(model)], Settings(), cache).context_key(str(model))  # what the project adds to the key
    return model, cache, cache.key(str(model), model.read_bytes(), context)


def _entry(cache: Cache, key: str) -> Path:
    return cache.directory / key[:2] / key[2:]


def _forged(result: FileResult) -> list[tuple[str, object]]:
    finding = result.findings[0]
    record = result.records[0]
    return [
        ("bad severity", replace(result, findings=(replace(finding, severity="fatal"),))),
        ("findings as a string", replace(result, findings="INIT003")),
        ("huge count", replace(result, records=(replace(record, count=10**400),) + result.records[1:])),
        ("line as a string", replace(result, findings=(replace(finding, line="7"),))),
        ("a dict for a record", replace(result, records=({"name": "fc"},))),
        ("clean, for another path", FileResult("elsewhere.py")),
    ]


def test_forged_entries_are_misses(cached: tuple[Path, Cache, str]) -> None:
    model, cache, key = cached
    genuine = cache.get(key, str(model))
    assert genuine is not None and [f.code for f in genuine.findings] == ["INIT003"]
    assert valid(genuine, FileResult)
    for what, forged in _forged(genuine):
        _entry(cache, key).write_bytes(pickle.dumps(forged))
        again = Cache(cache.root, Settings())
        assert again.get(key, str(model)) is None, what
        report = lint_paths([str(model)], cache=again)
        assert [f.code for f in report.findings] == ["INIT003"], what
    extra = Finding.__new__(Finding)
    extra.__dict__.update({**genuine.findings[0].__dict__, "__class__": "x"})
    assert not valid(extra, Finding)


def test_a_committed_clean_entry_is_never_looked_up(cached: tuple[Path, Cache, str], tmp_path: Path) -> None:
    """Whoever writes the cache folder without this user's secret cannot name the entry a run reads."""
    model, cache, key = cached
    attacker = Cache(cache.root, Settings(), secret=b"\x00" * 32)
    forged_key = attacker.key(str(model), model.read_bytes())
    assert forged_key != key
    attacker.put(forged_key, FileResult(str(model)))
    assert [f.code for f in lint_paths([str(model)], cache=Cache(cache.root, Settings())).findings] == ["INIT003"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_and_device_entries_neither_block_nor_fill_memory(cached: tuple[Path, Cache, str], tmp_path: Path) -> None:
    model, cache, key = cached
    entry = _entry(cache, key)
    for plant in ("fifo", "zero"):
        entry.unlink()
        if plant == "fifo":
            os.mkfifo(entry)
        else:
            entry.symlink_to("/dev/zero")
        env = {**os.environ, "INITLINT_CACHE_DIR": str(cache.root)}
        proc = run(str(model), "--jobs", "1", cwd=tmp_path, env=env, timeout=60, memory=2 * GiB)
        assert proc.returncode == 1 and "INIT003" in proc.stdout, proc.stderr


def test_a_cache_folder_that_is_a_link_out_of_the_project_is_not_used(tmp_path: Path) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    (project / "pyproject.toml").write_text("[tool.initlint]\n")
    (project / "model.py").write_text(BAD)
    (project / ".initlint_cache").symlink_to(outside, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "INITLINT_CACHE_DIR"}
    for _ in range(2):
        proc = run("model.py", "--jobs", "1", cwd=project, env=env)
        assert proc.returncode == 1 and "INIT003" in proc.stdout
    assert list(outside.iterdir()) == []
    # Inside a real cache folder, a planted link is never written through either.
    (project / ".initlint_cache").unlink()
    (project / ".initlint_cache").mkdir()
    (project / ".initlint_cache" / ".gitignore").symlink_to(outside / "written")
    proc = run("model.py", "--jobs", "1", cwd=project, env=env)
    assert proc.returncode == 1
    assert not (outside / "written").exists()


# -- 5. configuration and flags -------------------------------------------------------------------


@pytest.mark.parametrize(("table", "message"), [
    ("timeout = 1e10", "timeout: expected seconds >= 0 and <= 1000000 (0: no limit), got 10000000000.0"),
    ("timeout = inf", "timeout: expected seconds >= 0 and <= 1000000 (0: no limit), got inf"),
    ("timeout = nan", "timeout: expected seconds >= 0 and <= 1000000 (0: no limit), got nan"),
    ("max-file-size = 9223372036854775807", "max-file-size: expected a whole number of bytes >= 0 and <= 1000000000000"),
    ("signal-threshold = inf", "signal-threshold: expected a number greater than 1 (and finite), got inf"),
    ('fail-on = ["error"]', "fail-on: expected one of error, warning, advice; got ['error']"),
    ('extra-rule-files = ["/dev/zero"]', "extra-rule-files: cannot read the rule file '/dev/zero': not a regular file"),
    ('extra-rule-files = ["fifo.toml"]', "fifo.toml': not a regular file"),
    ('extra-rule-files = ["latin1.toml"]', "latin1.toml: not valid UTF-8 (TOML files must be): byte 0xe9 on line 2"),
    ('extra-rule-files = ["a\\u0000b.toml"]', "embedded null byte"),
    ("exclude = " + "[" * 3000 + "]" * 3000, "invalid TOML: arrays or tables nested too deeply"),
    ('select = ["INT001"]', "select: unknown rule code or prefix 'INT001' (did you mean 'INIT001'?)"),
    ('activations = {x = ["relu"]}', "activations: 'x' = ['relu'] is not a family"),
])
def test_config_values_are_checked_and_files_read_with_limits(tmp_path: Path, table: str, message: str) -> None:
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.toml")
    (tmp_path / "latin1.toml").write_bytes(b'[activations]\n"caf\xe9" = "relu"\n')
    (tmp_path / "pyproject.toml").write_text(f"[tool.initlint]\n{table}\n")
    (tmp_path / "model.py").write_text(BAD)
    proc = run("model.py", "--no-cache", cwd=tmp_path, timeout=60, memory=2 * GiB)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line


def test_a_pyproject_that_is_not_utf8_is_reported_not_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.initlint]\nfail-on = "error"\n# caf\xe9\n')
    (tmp_path / "model.py").write_text(BAD)
    proc = run("model.py", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (f"error: {tmp_path / 'pyproject.toml'}: not valid UTF-8 (TOML files must be): "
                           "byte 0xe9 on line 3\n")
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    proc = run("model.py", "--no-cache", "--config", "pyproject.toml", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == "error: pyproject.toml: [tool] must be a table, got 5\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--select", "FOO"], ("error: --select: unknown rule code or prefix 'FOO' (codes are INIT001-INIT010; "
                           "see `initlint rules`)")),
    (["--select", "INT001"], "error: --select: unknown rule code or prefix 'INT001' (did you mean 'INIT001'?)"),
    (["--ignore", "INIT1"], "error: --ignore: unknown rule code or prefix 'INIT1'"),
    (["--select", ","], "error: --select: no rule code given (e.g. --select INIT001,INIT00)"),
])
def test_cli_codes_are_checked_like_the_configs(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "model.py").write_text(BAD)
    result = CliRunner().invoke(main, [str(tmp_path / "model.py"), "--no-cache", *args])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(message) and len(result.stderr.splitlines()) == 1
    assert CliRunner().invoke(main, [str(tmp_path / "model.py"), "--no-cache", "--select", "init00"]).exit_code == 1


def test_out_of_range_numeric_flags_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(BAD)
    for args in (["--timeout", "inf"], ["--timeout", "nan"], ["--max-file-size", str(10**20)]):
        result = CliRunner().invoke(main, [str(tmp_path / "model.py"), "--no-cache", *args])
        assert result.exit_code == 2 and "Invalid value" in result.stderr, args


# -- 8. initlint check ----------------------------------------------------------------------------

_LIVE = """import sys
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        {body}
"""


@pytest.mark.parametrize(("body", "message"), [
    ("raise SystemExit(0)", "the model's code called sys.exit(0); the check did not finish"),
    ("sys.exit(3)", "the model's code called sys.exit(3); the check did not finish"),
    ("raise BaseException('odd')", "the check failed: BaseException: odd"),
])
def test_check_maps_whatever_the_model_raises_to_one_line(tmp_path: Path, body: str, message: str) -> None:
    pytest.importorskip("torch")
    (tmp_path / "m.py").write_text(_LIVE.format(body=body))
    proc = run("check", "m.py:Net", cwd=tmp_path, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == f"error: m.py:Net: {message}\n"


@pytest.mark.parametrize("command", [["check", "m.py:Net"], ["m.py", "--no-cache"]])
def test_an_output_that_cannot_be_written_is_one_line(tmp_path: Path, command: list[str]) -> None:
    pytest.importorskip("torch")
    (tmp_path / "m.py").write_text(_LIVE.format(body="return self.fc(x).relu()"))
    proc = subprocess.run([sys.executable, "-m", "initlint", *command], cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=300,
                          preexec_fn=lambda: os.close(1), check=False)
    assert proc.returncode == 2 and proc.stderr == "error: standard output is closed: nothing can be reported\n"
    if Path("/dev/full").exists():
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, "-m", "initlint", *command], cwd=tmp_path, stdout=full,
                                  stderr=subprocess.PIPE, text=True, timeout=300, check=False)
        assert proc.returncode == 2 and proc.stderr == "error: cannot write the output: No space left on device\n"

