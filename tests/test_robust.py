"""Robustness and safety of the source path: bad input never stops a run, hangs it, or runs code.

Every test here uses real inputs through the real api and CLI; the one exception is
the safety-net test, which makes a frontend raise to prove an unexpected exception
becomes one error line while the other files are still linted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint import api, limits
from initlint.api import lint_file, lint_paths, lint_source
from initlint.cli import main
from initlint.frontends.torch import layers as torch_source
from initlint.settings import Settings

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


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The real command in a fresh process (a crash or a hang fails the test instead of the run)."""
    return subprocess.run([sys.executable, "-m", "initlint", *args, "--no-cache", "--jobs", "1"],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


# -- the safety net ----------------------------------------------------------------------------


def test_internal_error_is_one_line_and_the_other_files_still_report(tmp_path: Path, monkeypatch) -> None:
    real = torch_source.analyse

    def analyse(source, project=None):  # a frontend bug that only this file triggers
        if source.path.endswith("boom.py"):
            raise KeyError("no such layer")
        return real(source, project)

    monkeypatch.setattr(torch_source, "analyse", analyse)
    (tmp_path / "a_good.py").write_text(BAD)
    (tmp_path / "boom.py").write_text(BAD)
    (tmp_path / "z_good.py").write_text(BAD)
    result = CliRunner().invoke(main, [str(tmp_path), "--format", "json", "--no-cache", "--jobs", "1"])
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert [(Path(f["path"]).name, f["code"], f["line"]) for f in doc["findings"]] == [
        ("a_good.py", "INIT003", 7), ("z_good.py", "INIT003", 7)]
    assert result.stderr.strip() == (
        f"error: internal error in {tmp_path / 'boom.py'}: KeyError: 'no such layer' (please report)")
    assert doc["summary"]["files"] == 3


# -- real inputs that used to crash or could crash ------------------------------------------------

DEEP = {
    # libcst's native parser overflows its stack on these (a segfault no except can catch).
    "parens.py": "import torch\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
    "and_chain.py": "import torch\nx = " + "a and " * 10000 + "1\n",
    # and needs tens of seconds for these before any Python code runs again.
    "calls.py": "import torch\nx = f" + "()" * 2500 + "\n",
    "newer_syntax.py": "import torch\ntype X = int\nx = " + "[" * 3000 + "]" * 3000 + "\n",
}


def test_pathological_nesting_is_a_clean_skip_in_a_real_process(tmp_path: Path) -> None:
    for name, text in DEEP.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "model.py").write_text(BAD)
    proc = cli(str(tmp_path), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert [f["code"] for f in json.loads(proc.stdout)["findings"]] == ["INIT003"]
    errors = error_lines(proc.stderr)
    assert len(errors) == len(DEEP) and "Traceback" not in proc.stderr
    for name in DEEP:
        (line,) = [e for e in errors if name in e]
        assert "skipped:" in line and "nested" in line, line


def test_deep_but_valid_expressions_are_still_linted() -> None:
    """Generated code with long flat sums and data tables stays within the limits."""
    text = BAD + "\nTABLE = [" + "1.0, " * 3000 + "]\nTOTAL = " + " + ".join(["x"] * 400) + "\n"
    result = lint_source(text, "gen.py", Settings(timeout=0))
    assert result.error is None and [f.code for f in result.findings] == ["INIT003"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("import torch\nx = '\ud800'\n", "not valid Unicode text"),
        ("import torch\nx = 1\x00\n", "syntax error"),
        ("import torch\ndef f(:\n", "syntax error"),
        ("import torch\nif x:\n\tif y:\n        pass\n", "syntax error"),
        ("import torch\nx = '''never closed\n", "syntax error"),
        ("import torch\\", "syntax error"),
    ],
)
def test_broken_text_gives_one_line_naming_the_file(text: str, reason: str) -> None:
    result = lint_source(text, "broken.py")
    assert result.error is not None and result.error.startswith("broken.py") and reason in result.error
    assert "\n" not in result.error and "internal error" not in result.error


def test_crlf_bom_and_form_feeds_do_not_change_findings(tmp_path: Path) -> None:
    expected = [(f.line, f.code) for f in lint_source(BAD, "m.py").findings]
    assert expected == [(7, "INIT003")]
    variants = {
        "crlf.py": BAD.replace("\n", "\r\n").encode(),
        "cr.py": BAD.replace("\n", "\r").encode(),
        "bom.py": b"\xef\xbb\xbf" + BAD.encode(),
        "latin1.py": b"# -*- coding: latin-1 -*-\n" + BAD.replace("import", "import", 1).encode("latin-1"),
        "formfeed.py": BAD.replace("\n\n\nclass", "\n\x0c\n\nclass").encode(),
    }
    for name, data in variants.items():
        (tmp_path / name).write_bytes(data)
        shift = 1 if name == "latin1.py" else 0
        got = [(f.line, f.code) for f in lint_file(tmp_path / name).findings]
        assert got == [(7 + shift, "INIT003")], name


def test_warnings_from_the_users_code_are_not_printed(tmp_path: Path) -> None:
    (tmp_path / "escapes.py").write_text(BAD + 'PATTERN = "\\d+"\nassert (x, "always true")\n')
    proc = cli(str(tmp_path / "escapes.py"), cwd=tmp_path)
    assert proc.returncode == 1 and "Warning" not in proc.stderr, proc.stderr


# -- resource bounds ---------------------------------------------------------------------------


def test_file_size_limit(tmp_path: Path) -> None:
    assert Settings().max_file_size == 2_000_000
    big = tmp_path / "big.py"
    big.write_text(BAD + "# padding\n" * 200)
    (tmp_path / "small.py").write_text(BAD)
    size = big.stat().st_size
    proc = cli(str(tmp_path), "--max-file-size", "1000", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2
    assert [Path(f["path"]).name for f in json.loads(proc.stdout)["findings"]] == ["small.py"]
    assert error_lines(proc.stderr) == [
        f"error: {big}: skipped: {size} bytes is over the 1000-byte limit (--max-file-size)"]
    assert cli(str(tmp_path), "--max-file-size", "0", cwd=tmp_path).returncode == 1  # 0: no limit
    # The limit also holds for bytes handed to the api directly (the cache and the pool read files themselves).
    assert "over the 1000-byte limit" in api.lint_bytes("big.py", big.read_bytes(), Settings(max_file_size=1000)).error


def _slow_source() -> str:
    """About 25 kB of layers: tens of milliseconds of analysis, far over the 1 ms these tests allow."""
    return BAD + "".join(f"\nclass N{i}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                         f"        self.fc = nn.Linear({i + 1}, 8)\n" for i in range(250))


def test_timeout_is_a_clean_error_and_leaves_no_alarm_behind(tmp_path: Path) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text(_slow_source())
    (tmp_path / "fine.py").write_text(BAD)
    before = signal.getsignal(signal.SIGALRM)
    report = lint_paths([str(tmp_path)], Settings(timeout=0.001))
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["slow.py"].error == f"{slow}: skipped: timed out after 0.001 s (--timeout)"
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before
    assert lint_paths([str(tmp_path / "fine.py")], Settings(timeout=30)).findings  # the next file is unaffected


def test_timeout_through_the_cli_is_not_cached(tmp_path: Path) -> None:
    (tmp_path / "slow.py").write_text(_slow_source())
    env = {**os.environ, "INITLINT_CACHE_DIR": str(tmp_path / "cache")}
    run = [sys.executable, "-m", "initlint", "slow.py", "--jobs", "1"]
    first = subprocess.run([*run, "--timeout", "0.001"], capture_output=True, text=True, cwd=tmp_path, env=env,
                           timeout=300)
    assert first.returncode == 2 and "skipped: timed out after 0.001 s (--timeout)" in first.stderr
    second = subprocess.run([*run, "--timeout", "0"], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=300)
    assert second.returncode == 1 and "timed out" not in second.stderr, second.stderr


def test_deadline_defers_to_an_enclosing_timer() -> None:
    signal.setitimer(signal.ITIMER_REAL, 100.0)
    try:
        with limits.deadline(0.001):
            assert 99 < signal.getitimer(signal.ITIMER_REAL)[0] <= 100  # not replaced
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_devices_are_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "model.py").write_text(BAD)
    for cache in ([], ["--no-cache"]):  # the cache reads files itself to key them
        # A symlink out of the folder is read only when named (see the next test).
        proc = subprocess.run([sys.executable, "-m", "initlint", str(tmp_path), str(tmp_path / "zero.py"), "--jobs", "1",
                               *cache],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 2
        assert sorted(error_lines(proc.stderr)) == [
            f"error: {tmp_path / 'pipe.py'}: skipped: not a regular file",
            f"error: {tmp_path / 'zero.py'}: skipped: not a regular file",
        ]
        assert "INIT003" in proc.stdout


def test_symlinks_out_of_a_linted_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("import torch\nx = 'da\u00a0ta'  # not valid Python\nprint(\x00)\n")
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "model.py").write_text(BAD)
    (project / "pkg" / "leak.py").symlink_to(outside / "secret.py")
    (project / "linked_dir").symlink_to(outside, target_is_directory=True)
    (project / "pkg" / "inside.py").symlink_to(project / "pkg" / "model.py")
    files = list(api.iter_files([str(project)], Settings()))
    assert sorted(Path(f).name for f in files) == ["inside.py", "model.py"]
    # Named explicitly, a file is read wherever it points.
    assert list(api.iter_files([str(project / "pkg" / "leak.py")], Settings())) == [str(project / "pkg" / "leak.py")]


# -- never executing what is linted ---------------------------------------------------------------

HOSTILE = '''import os, socket, subprocess, sys
import torch.nn as nn
open({marker!r}, "w").write("imported")
os.system("touch " + {system!r})
socket.create_connection(("127.0.0.1", 9)).close()


def _decorate(fn):
    open({marker!r}, "w").write("decorator ran")
    return fn


class Net(nn.Module):
    open({marker!r}, "w").write("class body ran")

    @_decorate
    def __init__(self, width=open({marker!r}, "w").write("default ran")):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        nn.init.ones_(self.fc.weight)

    def forward(self, x):
        return self.fc(x).relu()


if __name__ == "__main__":
    subprocess.run(["touch", {system!r}])
'''


def test_linting_never_imports_or_runs_the_file(tmp_path: Path) -> None:
    marker, system = tmp_path / "MARKER", tmp_path / "SYSTEM"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for name in ("__init__.py", "model.py", "conftest.py", "setup.py", "__main__.py"):
        (pkg / name).write_text(HOSTILE.format(marker=str(marker), system=str(system)))
    (pkg / "broken.py").write_text(HOSTILE.format(marker=str(marker), system=str(system)) + "def (:\n")
    proc = cli(str(pkg), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr  # broken.py: syntax error
    assert len(json.loads(proc.stdout)["findings"]) == 5
    assert not marker.exists() and not system.exists()
    assert cli(str(pkg / "model.py"), "--diff", cwd=tmp_path).returncode in (0, 1)
    assert not marker.exists() and not system.exists()


def test_check_imports_only_the_named_target(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    target_marker, sibling_marker = tmp_path / "TARGET_RAN", tmp_path / "SIBLING_RAN"
    (tmp_path / "sibling.py").write_text(f"open({str(sibling_marker)!r}, 'w').write('x')\nimport torch\n")
    (tmp_path / "target.py").write_text(
        f"open({str(target_marker)!r}, 'w').write('x')\n"
        "import torch.nn as nn\n\n\ndef build():\n    return nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))\n"
    )
    proc = subprocess.run([sys.executable, "-m", "initlint", "check", "target.py:build"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    assert target_marker.exists() and not sibling_marker.exists()


# -- numbers no network has (each of these once raised inside a frontend or a check) -------------

_NET = """import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = {layer}
        self.out = nn.Linear(8, 2)
        {init}

    def forward(self, x):
        return self.out(F.relu(self.fc(x)))
"""
_PLAIN = "nn.Linear(8, 8)"


@pytest.mark.parametrize(
    ("layer", "init", "expected"),
    [
        ("nn.Linear(10**400, 8)", "pass", [(10, "INIT005")]),  # fans unknown: judged by declaration
        ("nn.Conv2d(3, 8, 10**400)", "pass", [(10, "INIT005")]),
        ("nn.Bilinear(4, 10**400, 8)", "pass", []),
        (_PLAIN, "nn.init.normal_(self.fc.weight, 0, 1e308)", []),
        (_PLAIN, "nn.init.normal_(self.fc.weight, 0, 10**400)", []),
        (_PLAIN, "nn.init.normal_(self.fc.weight, 0, math.sqrt(10**400))", []),
        (_PLAIN, "nn.init.normal_(self.fc.weight, 0, math.exp(1000))", []),
        (_PLAIN, "nn.init.xavier_normal_(self.fc.weight, gain=float('nan'))", []),
        (_PLAIN, "nn.init.trunc_normal_(self.fc.weight, std=1.0, a=-1e-9, b=1e-9)", []),
        (_PLAIN, "self.blocks = nn.ModuleList(nn.Linear(8, 8) for _ in range(0, 10, 0))", [(10, "INIT005")]),
        (_PLAIN, "self.blocks = nn.ModuleList(nn.Linear(8, 8) for _ in range(10**30))", [(10, "INIT005")]),
    ],
)
def test_out_of_range_numbers_are_not_judged(layer: str, init: str, expected: list[tuple[int, str]]) -> None:
    result = lint_source(_NET.format(layer=layer, init=init), "net.py", Settings(timeout=0))
    assert result.error is None
    assert [(f.line, f.code) for f in result.findings] == expected
    if "init" in init and "trunc_normal_" not in init:  # out-of-range arguments: unresolved, and counted so
        (fc,) = [r for r in result.records if r.name.endswith(".fc")]
        assert fc.init is None and fc.unresolved, fc


def test_a_long_chain_of_tiny_factors_states_a_finite_factor() -> None:
    layers = "".join(f"        self.l{i} = nn.Linear(512, 512)\n        nn.init.normal_(self.l{i}.weight, 0, 1e-9)\n"
                     for i in range(40))
    flow = "".join(f"        x = F.relu(self.l{i}(x))\n" for i in range(40))
    text = ("import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Deep(nn.Module):\n"
            f"    def __init__(self):\n        super().__init__()\n{layers}\n    def forward(self, x):\n{flow}"
            "        return x\n")
    result = lint_source(text, "deep.py", Settings(timeout=0))
    assert result.error is None and len(result.findings) == 40
    assert all("shrinks ~1e+304x in std" in f.message for f in result.findings), result.findings[0].message


@pytest.mark.parametrize("name", ["fixes/torch_module_default.in.py", "torch/resnet.py", "torch/init_sites.py"])
def test_form_feeds_and_unicode_separators_do_not_move_lines(name: str) -> None:
    """Only \\n, \\r\\n and \\r end a line in Python; str.splitlines also splits at \\x0c, \\x1c-\\x1e, U+2028."""
    path = Path(__file__).parent / "fixtures" / name
    if not path.exists():
        pytest.skip(f"{name} not in this checkout")
    text = path.read_text()
    expected = [(f.line, f.column, f.code) for f in lint_source(text, "m.py").findings]
    assert expected
    got = [(f.line, f.column, f.code) for f in lint_source(text.replace("\n", "\x0c\n"), "m.py").findings]
    assert got == expected
    shifted = [(line + 1, column, code) for line, column, code in expected]
    got = [(f.line, f.column, f.code) for f in lint_source("# \u2028 \x1c \x85\n" + text, "m.py").findings]
    assert got == shifted


def test_fix_on_deeply_nested_code_is_declined_not_crashed(tmp_path: Path) -> None:
    deep = " + ".join(["x"] * 900)
    # The deep statement is not the one the fix edits: the fixer never walks it, so the fix is made.
    model = tmp_path / "m.py"
    model.write_text(BAD + f"\nTOTAL = {deep}\n")
    proc = cli(str(model), "--fix", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "fixed 1 finding in 1 file" in proc.stderr
    assert model.read_text() == BAD.replace("nn.init.ones_(self.fc.weight)", 'nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")') + f"\nTOTAL = {deep}\n"
    # Nor when it is in the same class: only the edited statement line is written anew.
    beside = BAD.replace("        nn.init.ones_(self.fc.weight)\n", f"        nn.init.ones_(self.fc.weight)\n        self.total = {deep}\n")
    model.write_text(beside)
    proc = cli(str(model), "--fix", cwd=tmp_path)
    assert proc.returncode == 0 and "fixed 1 finding in 1 file" in proc.stderr, proc.stderr[-2000:]
    assert model.read_text() == beside.replace("nn.init.ones_(self.fc.weight)", 'nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")')
    # The statement line to edit nests too deeply itself: declined with the reason, the file left alone.
    inside = BAD.replace("        nn.init.ones_(self.fc.weight)\n", f"        nn.init.ones_(self.fc.weight); self.total = {deep}\n")
    model.write_text(inside)
    proc = cli(str(model), "--fix", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert "nests too deeply to rewrite" in proc.stderr
    assert model.read_text() == inside


def test_denormal_keras_scale_is_described_not_crashed() -> None:
    text = ("import keras\nfrom keras import layers, initializers\n\nmodel = keras.Sequential([keras.Input(shape=(32,)),\n"
            "    layers.Dense(64, activation='relu', kernel_initializer=initializers.VarianceScaling(scale=1e-320)),\n"
            "    layers.Dense(10)])\n")
    result = lint_source(text, "k.py", Settings(timeout=0))
    assert result.error is None
    assert all("1e-320" in f.init or "e-32" in f.init for f in result.findings)
