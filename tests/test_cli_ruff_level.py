"""The command line at the level of the linters people already use (ruff's flags and conventions).

Every test runs the real CLI: click's CliRunner in process, or ``python -m initlint`` as a process.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint.cli import main

from .conftest import ROOT

APPLY_IDIOM = '''import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 10)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
'''

FACTORY = '''import torch.nn as nn


def make_mlp():
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 20), nn.ReLU(), nn.Linear(20, 1))


def make_named():
    net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 1))
    return net


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(10, 10) for _ in range(3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x).relu()
        return x
'''

PLAIN = '''import torch.nn as nn
import torch.nn.functional as F


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 10)
        nn.init.xavier_uniform_(self.fc1.weight)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))
'''


def cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input, env=env)
    return result.exit_code, result.stdout, result.stderr


def process(*args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "initlint", *args], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env=full_env, timeout=300, check=False)


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, text=True, capture_output=True, check=True).stdout


def hints(out: str) -> list[str]:
    return [line.strip() for line in out.splitlines() if line.strip().startswith("Use instead")]


def code_of(hint: str) -> str:
    return hint.split(": ", 1)[1]


# -- 1. selection: the config first, then the command line; unknown codes are usage errors --------------


def test_command_line_select_brings_back_what_the_config_ignores(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nignore = ["INIT005"]\n')
    (tmp_path / "m.py").write_text(FACTORY)
    code, out, _ = cli(str(tmp_path), "--no-cache")
    assert code == 0 and "INIT005" not in out
    code, out, _ = cli(str(tmp_path), "--no-cache", "--select", "INIT005", "--fail-on", "advice")
    assert code == 1 and "INIT005" in out
    code, out, _ = cli(str(tmp_path), "--no-cache", "--extend-select", "INIT005", "--fail-on", "advice")
    assert code == 1 and "INIT005" in out
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nselect = ["INIT001"]\nextend-select = ["INIT005"]\n')
    code, out, _ = cli(str(tmp_path), "--no-cache", "--fail-on", "advice")
    assert code == 1 and "INIT005" in out


@pytest.mark.parametrize("flag", ["--select", "--ignore", "--extend-select"])
@pytest.mark.parametrize("value", ["INIT2", "E501", "INIT0001", "INIT011"])
def test_unknown_codes_on_the_command_line_exit_2(tmp_path: Path, flag: str, value: str) -> None:
    (tmp_path / "m.py").write_text(PLAIN)
    code, out, err = cli(str(tmp_path), flag, value)
    assert code == 2 and out == ""
    assert err.startswith(f"error: {flag}: unknown rule code or prefix {value!r}")


def test_check_rejects_unknown_codes_before_importing_anything(tmp_path: Path) -> None:
    code, _, err = cli("check", str(tmp_path / "missing.py") + ":Net", "--select", "E501")
    assert code == 2 and "--select: unknown rule code or prefix 'E501'" in err


# -- 2. "Use instead" names where the line goes, and is valid code or absent -------------------------------


def test_use_instead_for_the_apply_idiom_names_the_branch(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(APPLY_IDIOM)
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache")
    assert code == 1
    (hint,) = hints(out)
    assert "in _init_weights inside `if isinstance(m, nn.Linear):`" in hint and "line 14" in hint
    assert code_of(hint) == 'nn.init.kaiming_normal_(m.weight, nonlinearity="relu")'
    assert "self.fc1.weight" not in out  # a line after `self.fc1 = ...` would be overwritten by apply


def test_use_instead_is_valid_code_or_absent(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(FACTORY + "\n\n" + PLAIN.replace("import torch.nn as nn\n", ""))
    _, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--fail-on", "advice")
    found = hints(out)
    assert len(found) >= 3
    for hint in found:
        ast.parse(code_of(hint))  # a statement, as written
    assert "make_mlp[" not in "\n".join(found)  # a function is not a container
    assert any("net[0].weight" in h for h in found)  # the named Sequential can be initialized by its name
    loop = [h for h in found if "for layer in self.layers" in h]
    assert loop and code_of(loop[0]).startswith("nn.init.kaiming_normal_(layer.weight")
    factory_lines = [line for line in out.splitlines() if re.match(r".*m\.py:5:\d+: INIT005", line)]
    assert any("self.fc1.weight" in h and "replacing the call at line" in h for h in found)
    assert factory_lines  # the returned Sequential's layers are still reported, without a code hint


def test_use_instead_for_in_place_fills_and_init_loops(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('''import torch
import torch.nn as nn


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Conv2d(3, 16, 3)
        self.gate = nn.Linear(256, 256)
        self.gate.weight.data.normal_(0.0, 1.0)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, 0.001)

    def forward(self, x):
        return torch.tanh(self.gate(torch.relu(self.body(x)).flatten(1)))
''')
    _, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--fail-on", "advice")
    found = hints(out)
    assert "Use instead, replacing the call at line 10: nn.init.xavier_uniform_(self.gate.weight)" in found
    loop = [h for h in found if "line 13" in h]
    assert loop == ['Use instead, inside `if isinstance(m, nn.Conv2d):`, replacing the call at '
                    'line 13: nn.init.kaiming_normal_(m.weight, nonlinearity="relu")']


# -- 4. --diff headers git apply accepts -----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_diff_without_paths_is_accepted_by_git_apply(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "net.py").write_text(FACTORY.replace("return nn.Sequential", "seq = nn.Sequential")
                                              .replace("nn.Linear(20, 1))\n", "nn.Linear(20, 1))\n    return seq\n", 1)
                                              + "\n\nmodel = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "x")
    proc = process("--diff", "--no-cache", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("--- a/src/net.py\n+++ b/src/net.py\n")
    (tmp_path / "fix.patch").write_text(proc.stdout)
    check = subprocess.run(["git", "apply", "--check", "fix.patch"], cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True)
    again = process("--diff", "--no-cache", "src", cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""  # applying the diff is the fix


# -- 5. less noise ----------------------------------------------------------------------------------------------


def test_headline_is_short_and_the_derivation_is_verbose_only(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(PLAIN)
    first = process("m.py", "--no-cache", cwd=tmp_path).stdout.splitlines()[0]
    _, out, _ = cli(str(tmp_path / "m.py"), "--no-cache")
    assert len(first) <= 160 and "INIT001 [warning] Plain.fc1:" in first and "1.7x too low" in first
    assert "variance 0.00154" not in out  # the derivation
    _, verbose, _ = cli(str(tmp_path / "m.py"), "--no-cache", "-v")
    assert "variance 0.00154 (std 0.0393) is 1.7x below He's" in verbose
    _, js, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--format", "json")
    (finding,) = json.loads(js)["findings"]
    assert finding["message"].split("\n")[0] in first and "variance 0.00154" in finding["message"]


def test_normalized_explanation_is_printed_once(tmp_path: Path) -> None:
    layers = "\n".join(f"        self.fc{i} = nn.Linear(64, 64)\n        self.bn{i} = nn.BatchNorm1d(64)" for i in range(3))
    calls = "\n".join(f"        nn.init.xavier_uniform_(self.fc{i}.weight)" for i in range(3))
    body = "\n".join(f"        x = F.relu(self.bn{i}(self.fc{i}(x)))" for i in range(3))
    (tmp_path / "m.py").write_text(
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass N(nn.Module):\n    def __init__(self):\n"
        f"        super().__init__()\n{layers}\n{calls}\n\n    def forward(self, x):\n{body}\n        return x\n")
    _, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "-v")
    assert out.count("INIT001 [advice]") == 3
    assert out.count("A normalization layer sits between") == 1


def test_onnx_table_only_with_findings_or_verbose(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((64, 64)) * np.sqrt(2 / 64)).astype(np.float32)  # He before ReLU: fine
    head = (rng.standard_normal((10, 64)) * np.sqrt(1 / 64)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w"], ["h"], transB=1, name="fc"), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("Gemm", ["r", "v"], ["y"], transB=1, name="head")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(head, "v")])
    path = tmp_path / "ok.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    code, out, _ = cli(str(path))
    assert code == 0 and "weight layers" not in out and out.count("\n") == 1
    _, verbose, _ = cli(str(path), "-v")
    assert "ok.onnx: 2 weight layers" in verbose


# -- 6. initlint check without torch ----------------------------------------------------------------------------

BLOCK_TORCH = '''import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
from initlint.cli import main
sys.argv[0] = "initlint"
main()
'''


def test_check_without_torch_gives_an_install_hint(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(PLAIN)
    (tmp_path / "run.py").write_text(BLOCK_TORCH)
    proc = subprocess.run([sys.executable, "run.py", "check", "m.py:Plain"], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: initlint check needs torch, which is not installed "
                                   "(install with: pip install 'initlint[torch]')")
    assert "Traceback" not in proc.stderr and proc.stdout == ""


# -- 7. suppressions ----------------------------------------------------------------------------------------------

MULTILINE = '''import torch.nn as nn
import torch.nn.functional as F


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(
            784,
            512,
        )  # initlint: ignore[INIT005]
        self.fc2 = nn.Linear(512, 512)
        self.fc3 = nn.Linear(512, 10)
        nn.init.normal_(
            self.fc2.weight,  # noqa: INIT002
            std=1.0,
        )

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
'''


def test_suppression_on_any_line_of_a_multiline_call(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(MULTILINE)
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--fail-on", "advice")
    assert code == 0, out
    assert "INIT005" not in out and "INIT002" not in out and "unused" not in out
    _, shown, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--show-suppressed")
    assert "suppressed INIT005" in shown and "suppressed INIT002" in shown


def test_file_level_suppression_and_unused_ones(tmp_path: Path) -> None:
    text = PLAIN.replace("import torch.nn as nn\n", "# initlint: ignore-file[INIT001]\nimport torch.nn as nn\n")
    (tmp_path / "m.py").write_text(text)
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache")
    assert code == 0 and "INIT001" not in out.split("\n")[0] and "unused" not in out
    (tmp_path / "m.py").write_text(text.replace("ignore-file[INIT001]", "ignore-file[INIT003]").replace(
        "self.fc2 = nn.Linear(512, 10)", "self.fc2 = nn.Linear(512, 10)  # initlint: ignore[INIT005]"))
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache")
    assert code == 1  # the INIT001 warning; unused suppressions alone do not fail
    assert f"{tmp_path / 'm.py'}: unused suppression: ignore-file[INIT003] (no INIT003 finding in the file)" in out
    assert f"{tmp_path / 'm.py'}:10: unused suppression: INIT005 (no INIT005 finding here)" in out
    assert out.rstrip().endswith("; 2 unused suppressions")
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--select", "INIT00", "--ignore", "INIT001",
                       "--fail-on-unused-suppression")
    assert code == 1 and out.count("unused suppression:") == 2
    # a code that is not selected cannot be judged unused
    code, out, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--select", "INIT001", "--exit-zero")
    assert code == 0 and "unused suppression" not in out
    _, js, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--format", "json")
    assert {(u["code"], u["line"], u["file_level"]) for u in json.loads(js)["unused_suppressions"]} == {
        ("INIT003", None, True), ("INIT005", 10, False)}


def test_bare_ignore_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("# initlint: ignore-file\n" + PLAIN)
    code, _, err = cli(str(tmp_path / "m.py"), "--no-cache")
    assert code == 2 and "m.py:1: bare '# initlint: ignore-file' needs codes" in err


# -- 8. the flags ----------------------------------------------------------------------------------------------------


def test_exit_zero_output_file_statistics_quiet(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(PLAIN)
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    code, out, _ = cli(str(tmp_path / "m.py"), "--exit-zero", "--no-cache")
    assert code == 0 and "INIT001" in out
    assert cli(str(tmp_path), "--exit-zero", "--no-cache")[0] == 2  # an unreadable input still fails
    report = tmp_path / "out" / "report.sarif"
    report.parent.mkdir()
    code, out, _ = cli(str(tmp_path / "m.py"), "--format", "sarif", "--output-file", str(report), "--no-cache")
    assert code == 1 and out == ""
    assert json.loads(report.read_text())["runs"][0]["results"][0]["ruleId"] == "INIT001"
    code, out, _ = cli(str(tmp_path / "m.py"), "--statistics", "--no-cache")
    assert code == 1 and out == "    1\tINIT001\tinit-activation-mismatch\n"
    _, out, _ = cli(str(tmp_path / "m.py"), "--statistics", "--format", "json", "--no-cache")
    assert json.loads(out) == [{"code": "INIT001", "name": "init-activation-mismatch", "count": 1}]
    _, out, _ = cli(str(tmp_path / "m.py"), "-q", "--no-cache")
    assert "layers (" not in out and out.startswith(str(tmp_path / "m.py"))


def test_stdin_with_stdin_filename(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.initlint.per-file-ignores]\n"legacy/*" = ["INIT001"]\n')
    proc = process("-", "--stdin-filename", "src/net.py", "--no-cache", cwd=tmp_path, stdin=PLAIN)
    assert proc.returncode == 1 and proc.stdout.startswith("src/net.py:8:20: INIT001 [warning]")
    proc = process("-", "--stdin-filename", "legacy/net.py", cwd=tmp_path, stdin=PLAIN)
    assert proc.returncode == 0, proc.stdout  # per-file-ignores match the given name
    proc = process("-", "--fix", "--stdin-filename", "net.py", cwd=tmp_path, stdin=PLAIN)
    assert proc.returncode == 0 and 'kaiming_normal_(self.fc1.weight, nonlinearity="relu")' in proc.stdout
    ast.parse(proc.stdout)
    proc = process("--stdin-filename", "src/net.py", "--no-cache", cwd=tmp_path, stdin=PLAIN)  # a name alone: stdin
    assert proc.returncode == 1 and proc.stdout.startswith("src/net.py:8:20: INIT001")
    proc = process("-", "--format", "json", cwd=tmp_path, stdin=PLAIN)
    assert json.loads(proc.stdout)["findings"][0]["path"] == "-"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_gitignore_is_respected_when_walking(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for name in ("src/a.py", "generated/b.py", "src/c_gen.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(PLAIN)
    (tmp_path / ".gitignore").write_text("generated/\n*_gen.py\n")
    proc = process("--no-cache", cwd=tmp_path)
    assert proc.returncode == 1 and "a.py" in proc.stdout and "b.py" not in proc.stdout and "c_gen" not in proc.stdout
    assert "1 file," in proc.stdout
    proc = process("--no-cache", "--no-respect-gitignore", cwd=tmp_path)
    assert "3 files," in proc.stdout
    proc = process("--no-cache", "generated/b.py", cwd=tmp_path)  # named explicitly: linted
    assert "b.py" in proc.stdout
    (tmp_path / "pyproject.toml").write_text("[tool.initlint]\nrespect-gitignore = false\n")
    assert "3 files," in process("--no-cache", cwd=tmp_path).stdout


def test_colour_follows_no_color_and_the_flag(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(PLAIN)
    _, plain, _ = cli(str(tmp_path / "m.py"), "--no-cache")
    assert "\x1b[" not in plain
    _, coloured, _ = cli(str(tmp_path / "m.py"), "--no-cache", "--color", "always")
    assert "\x1b[" in coloured
    proc = process(str(tmp_path / "m.py"), "--no-cache", cwd=tmp_path, env={"NO_COLOR": "1"})
    assert "\x1b[" not in proc.stdout
    from initlint.cli import use_colour

    class Tty:
        def isatty(self) -> bool:
            return True

    os.environ.pop("NO_COLOR", None)
    assert use_colour("auto", Tty()) and not use_colour("never", Tty())
    os.environ["NO_COLOR"] = "1"
    try:
        assert not use_colour("auto", Tty()) and use_colour("always", Tty())
    finally:
        del os.environ["NO_COLOR"]


def test_help_shows_lint_options_and_empty_folder_says_so(tmp_path: Path) -> None:
    code, out, _ = cli("--help")
    assert code == 0
    for flag in ("--select", "--exit-zero", "--output-file", "--statistics", "--stdin-filename", "--fix", "--format"):
        assert flag in out
    code, out, err = cli(str(tmp_path), "--no-cache")
    assert code == 0 and f"warning: no .py, .ipynb or .onnx files found under {tmp_path}" in err
