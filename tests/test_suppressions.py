"""Suppression comments on the layer's line and on the init call's line; malformed ones are errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint import lint_source
from initlint.cli import main
from initlint.engine import findings
from initlint.records import Activation, FileResult, InitSpec, LayerRecord, Origin
from initlint.settings import Settings
from initlint.suppressions import apply, parse_comment, scan

RELU = Activation("ReLU", "relu")
XAVIER = InitSpec("glorot", "declared", 1.0, "fan_avg", "uniform", call="nn.init.xavier_uniform_", line=9)
DEFAULT = InitSpec("torch-default", "default", 1 / 3, "fan_in", "uniform", call="PyTorch default")


def judged(text: str) -> FileResult:
    """A file with an INIT001 warning at line 8 (init call at line 9) and an INIT005 advice at line 10."""
    records = (
        LayerRecord("Net.fc1", "linear", "torch", Origin("net.py", 8, 9), 512, 512, XAVIER, RELU, scope="Net"),
        LayerRecord("Net.fc2", "linear", "torch", Origin("net.py", 10, 9), 512, 512, DEFAULT, RELU, scope="Net"),
    )
    return FileResult("net.py", records, tuple(findings(records, Settings())))


def source(line8: str = "", line9: str = "", line10: str = "") -> str:
    lines = ["import torch.nn as nn", "", "", "class Net(nn.Module):", "    def __init__(self):",
             "        super().__init__()", "        # layers",
             "        self.fc1 = nn.Linear(512, 512)" + line8,
             "        nn.init.xavier_uniform_(self.fc1.weight)" + line9,
             "        self.fc2 = nn.Linear(512, 512)" + line10]
    return "\n".join(lines) + "\n"


def codes(result: FileResult) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in result.findings]


def test_baseline() -> None:
    result = apply(judged(source()), source())
    assert codes(result) == [(8, "INIT001"), (10, "INIT005")] and result.error is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"line8": "  # initlint: ignore[INIT001]"},
        {"line9": "  # initlint: ignore[INIT001]"},  # the init call's line (Finding.related_line)
        {"line8": "  # noqa: INIT001"},
        {"line9": "  # noqa: E501, INIT001"},
        {"line8": "  # initlint: ignore[INIT005, INIT001]"},
        {"line8": "  # NOQA:INIT001,INIT005"},
    ],
)
def test_suppressed_on_either_line(kwargs: dict[str, str]) -> None:
    text = source(**kwargs)
    result = apply(judged(text), text)
    assert codes(result) == [(10, "INIT005")]
    assert [(f.line, f.code) for f in result.suppressed] == [(8, "INIT001")]
    assert result.error is None


@pytest.mark.parametrize(
    "comment",
    [
        "  # noqa",  # bare noqa does not silence initlint (SPEC 8.22)
        "  # noqa: E501",
        "  # initlint: ignore[INIT005]",  # another code
        "  # noqa: INIT0011",
    ],
)
def test_not_suppressed(comment: str) -> None:
    text = source(line8=comment)
    result = apply(judged(text), text)
    assert codes(result) == [(8, "INIT001"), (10, "INIT005")] and not result.suppressed


def test_hash_inside_a_string_is_not_a_comment() -> None:
    text = source(line8='; s = "# initlint: ignore[INIT001]"')
    result = apply(judged(text), text)
    assert (8, "INIT001") in codes(result)


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("  # initlint: ignore", "bare '# initlint: ignore' needs codes"),
        ("  # initlint: ignore[]", "lists no codes"),
        ("  # initlint: ignore[INIT999]", "unknown rule code(s) INIT999"),
    ],
)
def test_malformed_comment_is_an_error(comment: str, message: str) -> None:
    text = source(line10=comment)
    result = apply(judged(text), text)
    assert result.error is not None and result.error.startswith("net.py:10: ") and message in result.error
    # the findings are still reported
    assert codes(result) == [(8, "INIT001"), (10, "INIT005")]


def test_parse_comment() -> None:
    assert parse_comment("# initlint: ignore[INIT001,INIT003]") == (frozenset({"INIT001", "INIT003"}), None)
    assert parse_comment("# noqa: INIT001 F401") == (frozenset({"INIT001"}), None)
    assert parse_comment("# noqa") == (frozenset(), None)
    assert parse_comment("# type: ignore") == (frozenset(), None)
    assert scan("x = 1  # initlint: ignore\n", "a.py").errors == ("a.py:1: bare '# initlint: ignore' needs codes, "
                                                                 "e.g. '# initlint: ignore[INIT001]'",)


def test_bare_ignore_is_an_error_without_findings() -> None:
    result = lint_source("import torch\nx = 1  # initlint: ignore\n", "plain.py")
    assert result.error == "plain.py:2: bare '# initlint: ignore' needs codes, e.g. '# initlint: ignore[INIT001]'"


MODEL = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)  # initlint: ignore[INIT005]
        self.fc2 = nn.Linear(512, 512)
        nn.init.xavier_uniform_(self.fc2.weight)  # noqa: INIT001
        self.fc3 = nn.Linear(512, 512)
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.head(x)
"""


def test_cli_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(MODEL)
    plain = CliRunner().invoke(main, ["--no-cache", str(path)])
    assert "net.py:11:" in plain.output and "INIT005" in plain.output
    assert "net.py:8:" not in plain.output and "net.py:9:" not in plain.output
    shown = CliRunner().invoke(main, ["--no-cache", "--show-suppressed", str(path)])
    assert "net.py:8:20: suppressed INIT005 [advice]" in shown.output
    assert "net.py:9:20: suppressed INIT001 [warning]" in shown.output
    path.write_text(MODEL.replace("# initlint: ignore[INIT005]", "# initlint: ignore"))
    bare = CliRunner().invoke(main, ["--no-cache", str(path)])
    assert bare.exit_code == 2
    assert f"{path}:8: bare '# initlint: ignore' needs codes" in bare.output
