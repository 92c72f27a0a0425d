"""``[tool.initlint]``: every key, validation errors, discovery, CLI over config, per-file-ignores."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from initlint.api import iter_files
from initlint.cli import main
from initlint.config import ConfigError, common_root, find_pyproject, ignored_codes, settings_for
from initlint.rulebook import activation_family, rules
from initlint.settings import Settings

# A hidden Linear on PyTorch's default before ReLU: INIT005 at line 7 (init001: xavier before ReLU, line 8).
MODEL = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(512, 512)
        self.fc2 = nn.Linear(512, 512)
        nn.init.xavier_uniform_(self.fc2.weight)
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.head(x)
"""


def write(folder: Path, table: str, name: str = "pyproject.toml") -> Path:
    path = folder / name
    path.write_text("[project]\nname = 'demo'\n\n" + textwrap.dedent(table))
    return path


def test_every_key(tmp_path: Path) -> None:
    (tmp_path / "extra.toml").write_text('[activations]\n"mypkg.Snake" = "smooth"\n"SquaredReLU" = "tanh"\n')
    config = write(
        tmp_path,
        """
        [tool.initlint]
        select = ["INIT00", "INIT010"]
        ignore = ["INIT006"]
        fail-on = "advice"
        exclude = ["generated/*"]
        extend-exclude = ["legacy.py"]
        signal-threshold = 20
        timeout = 5
        max-file-size = 100000
        extra-rule-files = ["extra.toml"]

        [tool.initlint.per-file-ignores]
        "tests/*" = ["INIT005", "INIT001"]

        [tool.initlint.activations]
        "mypkg.layers.SquaredReLU" = "relu"
        "SquaredReLU" = "relu"
        """,
    )
    s = settings_for([str(tmp_path)])
    assert s.select == ("INIT00", "INIT010")
    assert s.ignore == ("INIT006",)
    assert s.fail_on == "advice"
    assert s.exclude == ("generated/*",) and s.extend_exclude == ("legacy.py",)
    assert s.signal_threshold == 20.0
    assert s.timeout == 5.0 and s.max_file_size == 100_000
    assert s.per_file_ignores == {"tests/*": ("INIT005", "INIT001")}
    # the pyproject's own table wins over the extra rule file
    assert s.activations == {"mypkg.Snake": "smooth", "SquaredReLU": "relu", "mypkg.layers.SquaredReLU": "relu"}
    assert s.config_root == str(config.parent)
    assert activation_family("mypkg.layers.SquaredReLU", s.activations) == "relu"
    assert activation_family("squared_relu", s.activations) == "relu"
    assert activation_family("mypkg.Snake", s.activations) == "smooth"
    assert activation_family("SquaredReLU") is None  # not without the config


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('fail_on = "error"', "unknown key 'fail_on' (did you mean 'fail-on'?)"),
        ('colour = "always"', "unknown key 'colour'"),
        ('fail-on = "fatal"', "fail-on: expected one of error, warning, advice"),
        ('select = ["E501"]', "select: unknown rule code or prefix 'E501'"),
        ('ignore = "INIT001"\nselect = 3', "select: expected a list of strings"),
        ("signal-threshold = 0.5", "signal-threshold: expected a number greater than 1"),
        ('signal-threshold = "10"', "signal-threshold: expected a number greater than 1"),
        ("timeout = -1", "timeout: expected seconds >= 0"),
        ("max-file-size = 1.5", "max-file-size: expected a whole number of bytes"),
        ('per-file-ignores = ["tests/*"]', "per-file-ignores: expected a table"),
        ('per-file-ignores = {"tests/*" = ["INIT999"]}', "unknown rule code or prefix 'INIT999'"),
        ('activations = {"Snake" = "periodic"}', "'Snake' = 'periodic' is not a family"),
        ('extra-rule-files = ["missing.toml"]', "cannot read"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, message: str) -> None:
    config = write(tmp_path, f"[tool.initlint]\n{table}\n")
    with pytest.raises(ConfigError) as err:
        settings_for([str(tmp_path)])
    assert str(config) in str(err.value) and message in str(err.value)


def test_bad_extra_rule_file(tmp_path: Path) -> None:
    (tmp_path / "extra.toml").write_text('[families.relu]\nrecommended = "x"\n')
    write(tmp_path, '[tool.initlint]\nextra-rule-files = ["extra.toml"]\n')
    with pytest.raises(ConfigError, match=r"extra.toml: extra rule file unknown key 'families'"):
        settings_for([str(tmp_path)])


def test_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.initlint]\nselect = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        settings_for([str(tmp_path)])


def test_discovery_skips_pyproject_without_the_table(tmp_path: Path) -> None:
    write(tmp_path, '[tool.initlint]\nfail-on = "error"\n')
    sub = tmp_path / "pkg" / "models"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'sub'\n")  # no [tool.initlint]
    model = sub / "net.py"
    model.write_text(MODEL)
    assert find_pyproject(model) == tmp_path / "pyproject.toml"
    assert find_pyproject(sub) == tmp_path / "pyproject.toml"
    assert settings_for([str(model)]).fail_on == "error"
    assert common_root([str(sub / "a.py"), str(sub / "b.py")]) == str(sub)


def test_no_config_gives_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert settings_for([]) == Settings()


def test_cli_flags_override_config(tmp_path: Path) -> None:
    write(tmp_path, '[tool.initlint]\nfail-on = "error"\nselect = ["INIT001"]\nignore = ["INIT005"]\n')
    s = settings_for([str(tmp_path)], select=("INIT005",), ignore=None, fail_on="advice")
    assert s.fail_on == "advice"
    # ruff's layering: the command line's select starts over, so it brings back what the config ignores
    assert [c for c in rules() if s.selected(c)] == ["INIT005"]
    s = settings_for([str(tmp_path)], ignore=("INIT001",))  # the config's select, then the command line's ignore
    assert [c for c in rules() if s.selected(c)] == []
    s = settings_for([str(tmp_path)], extend_select=("INIT003",))
    assert [c for c in rules() if s.selected(c)] == ["INIT001", "INIT003"]


def test_explicit_config_file(tmp_path: Path) -> None:
    other = tmp_path / "ci"
    other.mkdir()
    config = write(other, '[tool.initlint]\nfail-on = "advice"\n', name="lint.toml")
    assert settings_for([str(tmp_path)], str(config)).fail_on == "advice"


def test_per_file_ignores_globs(tmp_path: Path) -> None:
    s = Settings(
        per_file_ignores={"tests/*": ("INIT005",), "*_legacy.py": ("INIT0",), "scripts/": ("INIT001",)},
        config_root=str(tmp_path),
    )
    assert ignored_codes(str(tmp_path / "tests" / "test_net.py"), s) == ("INIT005",)
    assert ignored_codes(str(tmp_path / "src" / "net_legacy.py"), s) == ("INIT0",)
    assert ignored_codes(str(tmp_path / "scripts" / "train.py"), s) == ("INIT001",)
    assert ignored_codes(str(tmp_path / "src" / "net.py"), s) == ()


def test_exclude_relative_to_config(tmp_path: Path) -> None:
    for rel in ("src/net.py", "generated/net.py", "src/legacy.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(MODEL)
    s = Settings(exclude=("generated",), extend_exclude=("legacy.py",), config_root=str(tmp_path))
    found = sorted(os.path.relpath(p, tmp_path) for p in iter_files([str(tmp_path)], s))
    assert found == [os.path.join("src", "net.py")]


def test_cli_reports_config_errors_with_exit_2(tmp_path: Path) -> None:
    write(tmp_path, '[tool.initlint]\nfail_on = "error"\n')
    (tmp_path / "net.py").write_text(MODEL)
    result = CliRunner().invoke(main, [str(tmp_path)])
    assert result.exit_code == 2
    assert "pyproject.toml: [tool.initlint] unknown key 'fail_on'" in result.output
    assert "Traceback" not in result.output


def test_cli_uses_config(tmp_path: Path) -> None:
    (tmp_path / "net.py").write_text(MODEL)
    plain = CliRunner().invoke(main, ["--no-cache", "--format", "json", str(tmp_path)])
    write(tmp_path, '[tool.initlint]\nper-file-ignores = {"net.py" = ["INIT005"]}\n')
    configured = CliRunner().invoke(main, ["--no-cache", "--format", "json", str(tmp_path)])
    flagged = CliRunner().invoke(main, ["--no-cache", "--format", "json", "--select", "INIT001", str(tmp_path)])
    assert '"INIT005"' in plain.output
    assert '"INIT005"' not in configured.output and '"INIT001"' in configured.output
    assert '"INIT005"' not in flagged.output and '"INIT001"' in flagged.output


CUSTOM = """import torch.nn as nn
from mypkg.layers import SquaredReLU


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 512)
        self.act = SquaredReLU()
        self.head = nn.Linear(512, 10)

    def forward(self, x):
        return self.head(self.act(self.fc(x)))
"""


@pytest.mark.parametrize("declared", ["mypkg.layers.SquaredReLU", "SquaredReLU"])
def test_user_activation_family_resolves_the_layer(tmp_path: Path, declared: str) -> None:
    (tmp_path / "net.py").write_text(CUSTOM)
    before = CliRunner().invoke(main, ["--no-cache", "--show-unresolved", str(tmp_path)])
    assert "unresolved Net.fc" in before.output and "INIT005" not in before.output
    write(tmp_path, f'[tool.initlint.activations]\n"{declared}" = "relu"\n')
    after = CliRunner().invoke(main, ["--no-cache", "--show-unresolved", str(tmp_path)])
    assert "net.py:8:19: INIT005 [advice]" in after.output and "SquaredReLU" in after.output
    assert "unresolved Net.fc" not in after.output
