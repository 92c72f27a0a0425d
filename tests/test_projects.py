"""Fixture projects (SPEC 8.32-8.33): multi-file packages scored like the single-file fixtures.

Each folder under tests/projects/ is a project (it holds a pyproject.toml). Linted as a project,
every `.py` file must give exactly the findings its `# expect:` markers name, and the layers marked
`# expect-unresolved` must be unresolved; `# alone:` markers name what the file gives linted on its own
(the single-file analysis), so the test shows what the project changed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from initlint import lint_file, lint_paths, runner
from initlint.cache import Cache
from initlint.fixes import annotate
from initlint.project import session
from initlint.project.session import Session
from initlint.records import is_layer
from initlint.settings import Settings

from .conftest import FIXTURES, expected_findings, expected_unresolved

PROJECTS = Path(__file__).resolve().parent / "projects"
CASES = sorted(p for p in PROJECTS.rglob("*.py"))
ALONE = re.compile(r"#\s*alone:\s*(?P<code>INIT\d{3})\s+(?P<severity>error|warning|advice)")


def _project_of(path: Path) -> Path:
    return next(p for p in path.parents if (p / "pyproject.toml").is_file())


def _found(report: object, path: Path) -> set[tuple[int, str, str]]:
    return {(f.line, f.code, f.severity) for f in report.findings if Path(f.path).resolve() == path}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def whole() -> dict[Path, object]:
    return {p: lint_paths([str(p)]) for p in sorted(PROJECTS.iterdir()) if p.is_dir()}


@pytest.mark.parametrize("path", CASES, ids=[str(p.relative_to(PROJECTS)) for p in CASES])
def test_project_file(path: Path, whole: dict[Path, object]) -> None:
    report = whole[_project_of(path)]
    text = path.read_text()
    messages = "\n".join(f"{f.line}: {f.code} {f.severity} {f.message}" for f in report.findings  # type: ignore[attr-defined]
                         if Path(f.path).resolve() == path)
    assert _found(report, path) == expected_findings(text), messages
    unresolved = expected_unresolved(text)
    if unresolved:
        result = next(r for r in report.results if Path(r.path).resolve() == path)  # type: ignore[attr-defined]
        lines = {r.origin.line for r in result.records if is_layer(r) and r.unresolved}
        assert unresolved <= lines


@pytest.mark.parametrize("path", [p for p in CASES if ALONE.search(p.read_text())],
                         ids=lambda p: str(p.relative_to(PROJECTS)))
def test_alone_the_file_is_judged_on_its_own_init(path: Path) -> None:
    """The single-file analysis (lint_file) still judges a class in isolation: the project is what changes it."""
    want = {(n, m["code"], m["severity"]) for n, line in enumerate(path.read_text().splitlines(), start=1)
            for m in [ALONE.search(line)] if m}
    got = {(f.line, f.code, f.severity) for f in lint_file(path).findings}
    assert want <= got


def test_one_file_run_reads_the_rest_of_the_project(whole: dict[Path, object]) -> None:
    """A pre-commit style run on one file finds the project root and decides with the containers elsewhere."""
    blocks = PROJECTS / "vision" / "models" / "blocks.py"
    one = lint_paths([str(blocks)])
    assert [r.path for r in one.results] == [str(blocks)]
    assert _found(one, blocks) == _found(whole[PROJECTS / "vision"], blocks)
    bottleneck = {r.name: r for r in one.results[0].records}["Bottleneck.conv1"]
    assert bottleneck.init is not None and bottleneck.init.scheme == "he" and "in Net" in bottleneck.init.note


def test_disagreeing_containers_are_named(whole: dict[Path, object]) -> None:
    report = whole[PROJECTS / "vision"]
    fc1 = [f for f in report.findings if f.layer == "Mlp.fc1"]  # type: ignore[attr-defined]
    assert len(fc1) == 1
    assert "containers disagree" in fc1[0].message and "in ConvNet" in fc1[0].message and "in ViT" in fc1[0].message


def test_a_changed_container_changes_the_block_verdict_through_the_cache(tmp_path: Path) -> None:
    project = tmp_path / "vision"
    shutil.copytree(PROJECTS / "vision", project)
    settings = Settings()
    blocks = project / "models" / "blocks.py"
    first = lint_paths([str(project)], settings, cache=Cache(tmp_path / "c", settings))
    assert not [f for f in first.findings if f.layer.startswith("Bottleneck.")]
    warm = Cache(tmp_path / "c", settings)
    again = lint_paths([str(blocks)], settings, cache=warm)
    assert warm.hits >= 1 and warm.misses == 0
    assert _found(again, blocks) == _found(first, blocks)
    net = project / "models" / "net.py"  # Net now draws Glorot: before ReLU that is INIT001 on Bottleneck's convs
    net.write_text(net.read_text().replace('nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")',
                                           "nn.init.xavier_uniform_(m.weight)"))
    changed = lint_paths([str(blocks)], settings, cache=Cache(tmp_path / "c", settings))
    codes = {(f.layer, f.code) for f in changed.findings}
    assert ("Bottleneck.conv1", "INIT001") in codes and ("Bottleneck.conv2", "INIT001") in codes


def test_a_base_built_only_through_subclasses_follows_their_paths_through_the_cache(tmp_path: Path) -> None:
    """banks.ExpertBank is built only as moe.Experts, whose container fills it; a one-file run reads moe.py. Once
    another file builds the base itself, its own path (nothing fills it) counts again, through a warm cache."""
    project = tmp_path / "vision"
    shutil.copytree(PROJECTS / "vision", project)
    settings = Settings()
    banks = project / "models" / "banks.py"
    first = lint_paths([str(banks)], settings, cache=Cache(tmp_path / "c", settings))
    assert {f.layer for f in first.findings} == {"IdleBank.slots"}
    bank = {r.name: r for r in first.results[0].records}["ExpertBank.bank"]
    assert bank.init is not None and bank.init.std == 0.02 and "in Moe" in bank.init.note
    (project / "models" / "plain.py").write_text(
        "from torch import nn\n\nfrom .banks import ExpertBank\n\n\n"
        "class Plain(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.bank = ExpertBank()\n")
    changed = lint_paths([str(banks)], settings, cache=Cache(tmp_path / "c", settings))
    assert {(f.layer, f.code) for f in changed.findings} >= {("ExpertBank.bank", "INIT010")}


def test_a_same_file_base_built_elsewhere_is_judged_again_through_a_warm_cache(tmp_path: Path) -> None:
    """The file's analysis drops the records of a base built only through its subclasses; that depends on the
    other files, so a file that starts building the base changes the cached file's key."""
    (tmp_path / "pyproject.toml").write_text("")
    src = (FIXTURES / "torch" / "base_built_by_subclasses.py").read_text()
    moe = tmp_path / "moe.py"
    moe.write_text(src)
    settings = Settings()
    first = lint_paths([str(moe)], settings, cache=Cache(tmp_path / "c", settings))
    assert "Proj.up" not in {f.layer for f in first.findings}
    (tmp_path / "user.py").write_text("from torch import nn\n\nfrom moe import Proj\n\n\n"
                                      "class User(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                                      "        self.proj = Proj()\n")
    warm = Cache(tmp_path / "c", settings)
    changed = lint_paths([str(moe)], settings, cache=warm)
    assert warm.misses >= 1 and "Proj.up" in {f.layer for f in changed.findings}


def test_the_index_reads_only_files_changed_since_it_was_indexed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "vision"
    shutil.copytree(PROJECTS / "vision", project)
    past = time.time() - 60
    for path in project.rglob("*.py"):
        os.utime(path, (past, past))
    settings = Settings()
    blocks = str(project / "models" / "blocks.py")
    Session.open([blocks], settings, Cache(tmp_path / "c", settings))
    reads: list[str] = []
    real = session.read_source
    monkeypatch.setattr(session, "read_source", lambda path, limit: reads.append(path) or real(path, limit))
    assert Session.open([blocks], settings, Cache(tmp_path / "c", settings)) is not None
    assert reads == []  # every file as indexed: none read
    net = project / "models" / "net.py"
    net.write_text(net.read_text().replace('nonlinearity="relu"', 'nonlinearity="tanh"'))  # the same size
    again = Session.open([blocks], settings, Cache(tmp_path / "c", settings))
    assert reads == [str(net)] and "tanh" in repr(again.model.linker.by_path[str(net)])  # type: ignore[union-attr]
    Session.open([blocks], settings, Cache(tmp_path / "c", settings))
    assert reads == [str(net)] * 2  # written just now: read again, it may change within the clock's resolution


@pytest.mark.parametrize("jobs", [1, 2])
def test_annotated_where_linted_or_after_the_containers_decided_and_cached_plain(tmp_path: Path, jobs: int) -> None:
    """JSON/SARIF fixes are described on the worker that linted the file, again here for a file whose
    findings the containers changed (feed.py) or that came from the cache; the cache keeps results plain."""
    project = tmp_path / "vision"
    shutil.copytree(PROJECTS / "vision", project)
    shutil.copy(PROJECTS.parent / "fixtures" / "fixes" / "torch_sequential.in.py", project / "models" / "extra.py")
    padding = "# names no framework\n" * 2000
    for i in range(1 + runner.MIN_PARALLEL_BYTES // len(padding)):  # past a pool's worth of source
        (project / f"plain_{i}.py").write_text(padding)
    settings = Settings()

    def rows(report: object) -> list[tuple[object, ...]]:
        return [(f.path, f.line, f.code, f.message, f.fix, f.edits) for f in report.findings]  # type: ignore[attr-defined]

    plain = lint_paths([str(project)], settings)
    expected = rows(annotate(plain, settings, edits=True))  # annotated afterwards, in this process
    fixed = {Path(str(path)).name for path, _l, _c, _m, fix, edits in expected if fix and edits}
    assert {"feed.py", "extra.py"} <= fixed
    store = tmp_path / "cache"
    for cache in (None, Cache(store, settings), Cache(store, settings)):  # no cache, cold, warm
        assert rows(lint_paths([str(project)], settings, jobs=jobs, cache=cache, annotate="edits")) == expected
    warm = Cache(store, settings)
    assert rows(lint_paths([str(project)], settings, jobs=jobs, cache=warm)) == rows(plain)
    assert warm.hits > 0 and warm.misses == 0

EXTERNAL_BASE = '''import torch.nn as nn
import torch.nn.functional as F
from lightning_like import Module


class Net(Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 64)
        self.out = nn.Linear(64, 10)
        self.configure_init()

    def init_layer(self, m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight)

    def forward(self, x):
        return self.out(F.relu(self.fc(x)))
'''


def test_extra_rule_files_add_framework_conventions(tmp_path: Path) -> None:
    """A base class outside the project: unresolved by default, judged once a convention says what it does."""
    from click.testing import CliRunner

    from initlint.cli import main

    (tmp_path / "model.py").write_text(EXTERNAL_BASE)
    (tmp_path / "pyproject.toml").write_text("[tool.initlint]\n")
    plain = CliRunner().invoke(main, [str(tmp_path), "--no-cache", "--show-unresolved"])
    assert "initialized by self.configure_init() of base class lightning_like.Module" in plain.output
    assert "INIT002" not in plain.output

    (tmp_path / "conventions.toml").write_text(
        '[model_bases."lightning_like.*Module"]\ninit_methods = ["configure_init"]\napply = "init_layer"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nextra-rule-files = ["conventions.toml"]\n')
    judged = CliRunner().invoke(main, [str(tmp_path), "--no-cache", "--format", "json"])
    import json

    found = {(f["layer"], f["code"], f["severity"]) for f in json.loads(judged.output)["findings"]}
    assert found == {("Net.fc", "INIT002", "error"), ("Net.out", "INIT002", "error")}


CACHED_HEAD = '''import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.k = nn.Linear(64, 64)
        self.head = nn.Linear(64, 10)
        for m in (self.k, self.head):
            nn.init.normal_(m.weight)

    def forward(self, x, memory, labels):
        keys, = memory.push(self.k(x))
        logits = self.head(F.scaled_dot_product_attention(x, keys, keys))
        return self.criterion_of(logits, labels)
'''


def test_extra_rule_files_add_passing_methods_and_loss_calls(tmp_path: Path) -> None:
    """``memory.push(k)`` hands ``k`` back and ``self.criterion_of(logits, ...)`` is a loss, once a rule file says so."""
    from click.testing import CliRunner

    from initlint.cli import main

    (tmp_path / "model.py").write_text(CACHED_HEAD)
    (tmp_path / "pyproject.toml").write_text("[tool.initlint]\n")
    plain = CliRunner().invoke(main, [str(tmp_path), "--no-cache", "--show-unresolved"])
    assert "Net.k: consumer not visible: .push()" in plain.output, plain.output
    assert "Net.head: consumer not visible: passed to self.criterion_of" in plain.output, plain.output
    (tmp_path / "conventions.toml").write_text(
        '[passing_methods]\nnames = ["push"]\n\n[loss_calls]\nnames = ["criterion_of"]\n')
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nextra-rule-files = ["conventions.toml"]\n')
    judged = CliRunner().invoke(main, [str(tmp_path), "--no-cache", "--show-unresolved"])
    assert "2 layers (2 resolved, 0 unresolved)" in judged.output, judged.output
    assert "Net.k: " in judged.output and "Net.head: " in judged.output and "INIT002" in judged.output


def test_a_bad_conventions_table_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from initlint.cli import main

    (tmp_path / "model.py").write_text(EXTERNAL_BASE)
    (tmp_path / "conventions.toml").write_text('[model_base."x"]\ninit_methods = []\n')
    (tmp_path / "pyproject.toml").write_text('[tool.initlint]\nextra-rule-files = ["conventions.toml"]\n')
    result = CliRunner().invoke(main, [str(tmp_path), "--no-cache"])
    assert result.exit_code == 2
    assert "unknown key 'model_base'" in result.output and "did you mean 'model_bases'" in result.output


def test_a_template_the_framework_never_runs_is_no_container_even_when_linted(tmp_path: Path) -> None:
    """transformers' modular_*.py (conventions [not_run]) decides no block's init, linted or not, and is not judged."""
    models = tmp_path / "transformers" / "models" / "tiny"
    models.mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("")
    (models / "modeling_tiny.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = nn.Linear(64, 64)\n        nn.init.kaiming_normal_(self.fc.weight)\n\n"
        "    def forward(self, x):\n        return torch.relu(self.fc(x))\n"
    )
    (models / "modular_tiny.py").write_text(
        "from torch import nn\n\nfrom .modeling_tiny import Block\n\n\nclass Model(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.block = Block()\n        self.head = nn.Linear(64, 10)\n"
        "        for m in self.modules():\n            if isinstance(m, nn.Linear):\n                nn.init.normal_(m.weight)\n\n"
        "    def forward(self, x):\n        return self.head(self.block(x))\n"
    )
    for paths in ([str(tmp_path / "transformers")], [str(models / "modeling_tiny.py"), str(models / "modular_tiny.py")]):
        report = lint_paths(paths)
        assert [f for f in report.findings if f.path.endswith("modeling_tiny.py")] == [], paths
        block = next(r for r in report.results if r.path.endswith("modeling_tiny.py"))
        assert [r.unresolved for r in block.records if is_layer(r)] == [""], paths
        template = next(r for r in report.results if r.path.endswith("modular_tiny.py"))
        assert not template.findings and [r.unresolved.split(":")[0] for r in template.records if is_layer(r)] == [
            "a template the framework never runs (conventions [not_run])"], paths


def test_a_framework_convention_init_gets_no_hint_that_replaces_its_call(tmp_path: Path) -> None:
    """``super()._init_weights(module)`` into transformers' own base inits every submodule: replacing that call
    with an init of one weight would drop the rest, so the finding names no replacement (SPEC 6: valid code or nothing)."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "modeling_tiny.py").write_text(
        "import torch\nfrom torch import nn\nfrom transformers import PreTrainedModel\n\n\n"
        "class TinyPreTrainedModel(PreTrainedModel):\n    def _init_weights(self, module):\n"
        "        super()._init_weights(module)\n\n\n"
        "class TinyModel(TinyPreTrainedModel):\n    def __init__(self, config):\n        super().__init__(config)\n"
        "        self.fc = nn.Linear(128, 128)\n        self.head = nn.Linear(128, 2)\n        self.post_init()\n\n"
        "    def forward(self, x):\n        return self.head(torch.relu(self.fc(x)))\n"
    )
    report = lint_paths([str(tmp_path)])
    found = [f for f in report.findings if f.layer == "TinyModel.fc"]
    assert [f.code for f in found] == ["INIT006"], [f.message for f in report.findings]
    assert "replacing the call" not in found[0].message and "kaiming_normal_(module" not in found[0].message


def test_a_head_named_in_tied_weights_keys_is_tied_unless_the_config_unties_it(tmp_path: Path) -> None:
    """transformers 5: ``_tied_weights_keys = {"lm_head.weight": ...}`` ties the head when ``tie_word_embeddings``
    defaults to true (SPEC 8.38: exempt, and said so); the fixture's config sets it false (judged: INIT002)."""
    from click.testing import CliRunner

    from initlint.cli import main

    project = tmp_path / "vision"
    shutil.copytree(PROJECTS / "vision", project)
    lm = project / "hf" / "modeling_tiny_lm.py"
    lm.write_text(lm.read_text().replace("tie_word_embeddings: bool = False", "tie_word_embeddings: bool = True"))
    result = CliRunner().invoke(main, [str(project), "--no-cache", "--show-unresolved"])
    assert "TinyForCausalLM.lm_head: weight tied to the input embedding (_tied_weights_keys" in result.output, result.output
    assert "INIT002 [error] TinyForCausalLM.lm_head" not in result.output
