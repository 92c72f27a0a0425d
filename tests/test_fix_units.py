"""Fix planning on records built by hand: raw parameters, shared init calls, imports, edit primitives."""

from __future__ import annotations

import ast

import libcst as cst

from initlint.engine import findings
from initlint.fixes import plan_source, text_replacements
from initlint.fixes.edits import AddImport, InsertAfter, SetKeyword, Tree, apply
from initlint.records import Activation, FileResult, InitSpec, LayerRecord, Origin
from initlint.settings import Settings

RELU = Activation("ReLU", "relu")
TANH = Activation("Tanh", "tanh")
HEAD = Activation("identity", "linear", reaches_weight=False)

ADAPTER = '''"""A low-rank adapter."""

from __future__ import annotations

import torch
import torch.nn as nn


class Adapter(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Parameter(torch.randn(768, 64))
        self.up = nn.Parameter(torch.empty(64, 768))

    def forward(self, x):
        return torch.tanh(torch.relu(x @ self.down) @ self.up)
'''


def result(text: str, *records: LayerRecord) -> FileResult:
    return FileResult("adapter.py", records, tuple(findings(records, Settings())))


def planned(text: str, *records: LayerRecord) -> tuple[str, list[str], list[str]]:
    # verify=False: these records come from no frontend, so re-linting the result cannot confirm them
    out = plan_source(text, result(text, *records), verify=False)
    return out.new_text, [f.description for f in out.fixes], [why for _, why in out.unfixed]


def test_unscaled_randn_is_scaled_and_math_imported() -> None:
    draw = InitSpec("fixed-std", "declared", std=1.0, distribution="normal", call="torch.randn", line=12)
    down = LayerRecord("Adapter.down", "parameter", "torch", Origin("adapter.py", 12, 21), 768, 64, draw, RELU)
    text, descriptions, unfixed = planned(ADAPTER, down)
    assert unfixed == []
    assert descriptions == ["scale `torch.randn(768, 64)` to `torch.randn(768, 64) * math.sqrt(2 / 768)`"]
    assert "        self.down = nn.Parameter(torch.randn(768, 64) * math.sqrt(2 / 768))\n" in text
    # the standard-library import goes first, after the docstring and the __future__ import
    assert text.startswith('"""A low-rank adapter."""\n\nfrom __future__ import annotations\n\nimport math\nimport torch\n')
    ast.parse(text)


def test_uninitialized_parameter_gets_an_init_with_the_right_fan() -> None:
    empty = InitSpec("uninitialized", "declared", call="torch.empty", line=13)
    # used as ``h @ self.up``: the fan-in is the first dim (64), torch's kaiming reads shape[1] -> mode="fan_out"
    up = LayerRecord("Adapter.up", "parameter", "torch", Origin("adapter.py", 13, 19), 64, 768, empty, RELU)
    text, descriptions, _ = planned(ADAPTER, up)
    assert descriptions == ['insert `nn.init.kaiming_normal_(self.up, nonlinearity="relu", mode="fan_out")` after line 13']
    assert '        self.up = nn.Parameter(torch.empty(64, 768))\n        nn.init.kaiming_normal_(self.up, nonlinearity="relu", mode="fan_out")\n' in text


def test_uninitialized_parameter_before_tanh_needs_no_mode() -> None:
    empty = InitSpec("uninitialized", "declared", call="torch.empty", line=13)
    up = LayerRecord("Adapter.up", "parameter", "torch", Origin("adapter.py", 13, 19), 64, 768, empty, TANH)
    text, descriptions, _ = planned(ADAPTER, up)
    assert "nn.init.xavier_uniform_(self.up)" in text


def test_not_a_weight_has_no_fix() -> None:
    empty = InitSpec("uninitialized", "declared", call="torch.empty", line=13)
    up = LayerRecord("Adapter.up", "parameter", "torch", Origin("adapter.py", 13, 19), 64, 768, empty, None,
                     is_weight=False)
    text, descriptions, unfixed = planned(ADAPTER, up)
    assert text == ADAPTER and descriptions == []
    assert unfixed == ["not used as a weight: the right scale is unknown; fill it by hand"]


SHARED = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 512)
        self.mid = nn.Linear(512, 512)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
"""


def test_shared_init_call_is_rewritten_only_when_every_layer_agrees() -> None:
    xavier = InitSpec("glorot", "declared", 1.0, "fan_avg", "uniform", call="nn.init.xavier_uniform_", line=11)
    fc = LayerRecord("Net.fc", "linear", "torch", Origin("net.py", 7, 19), 512, 512, xavier, RELU)
    mid_relu = LayerRecord("Net.mid", "linear", "torch", Origin("net.py", 8, 20), 512, 512, xavier, RELU)
    mid_tanh = LayerRecord("Net.mid", "linear", "torch", Origin("net.py", 8, 20), 512, 512, xavier, TANH)
    mid_unknown = LayerRecord("Net.mid", "linear", "torch", Origin("net.py", 8, 20), 512, 512, xavier, None,
                              unresolved="activation from config")
    text, descriptions, _ = planned(SHARED, fc, mid_relu)
    assert 'nn.init.kaiming_normal_(m.weight, nonlinearity="relu")' in text and len(descriptions) == 2
    for other in (mid_tanh, mid_unknown):
        text, descriptions, unfixed = planned(SHARED, fc, other)
        assert text == SHARED and descriptions == []
        assert unfixed[0] == "the init call at line 11 also initializes Net.mid, which it suits or which is unresolved"


def test_set_keyword_layouts() -> None:
    source = (
        'a = Dense(64, activation="relu")\n'
        'b = Dense(\n    64,\n    activation="relu",\n)\n'
        'c = Dense(64, kernel_initializer="zeros")\n'
        'd = Conv2D(\n    64, (3, 3), activation="relu"\n)(x)\n'
    )
    tree = Tree.parse(source)
    calls = [tree.call_at(line, 5) for line in (1, 2, 6, 7)]
    assert all(calls)
    edits = [SetKeyword(c, "kernel_initializer", '"he_normal"') for c in calls if c is not None]
    assert apply(tree.module, edits) == (
        'a = Dense(64, activation="relu", kernel_initializer="he_normal")\n'
        'b = Dense(\n    64,\n    activation="relu",\n    kernel_initializer="he_normal",\n)\n'
        'c = Dense(64, kernel_initializer="he_normal")\n'
        'd = Conv2D(\n    64, (3, 3), activation="relu", kernel_initializer="he_normal"\n)(x)\n'
    )


def test_insert_and_import_keep_comments() -> None:
    source = "# header\nimport os  # why\n\nx = 1  # keep\ny = 2\n"
    tree = Tree.parse(source)
    stmt = tree.module.body[1]
    out = apply(tree.module, [InsertAfter(stmt, "z = x + 1"), AddImport("import math", stdlib=True), AddImport("import torch")])
    assert out == "# header\nimport math\nimport os  # why\nimport torch\n\nx = 1  # keep\nz = x + 1\ny = 2\n"
    assert isinstance(cst.parse_module(out), cst.Module)


def test_text_replacements_rebuild_the_new_text() -> None:
    old = "a\nb\nc\n"
    new = "a\nB\nc\nd\n"
    text = old
    for start, end, inserted in sorted(text_replacements(old, new), reverse=True):
        text = text[:start] + inserted + text[end:]
    assert text == new


def test_cheap_lookups_find_what_full_metadata_finds() -> None:
    """The fixer's positions (ast alignment) agree with libcst's PositionProvider on every fixture call."""
    from pathlib import Path

    import libcst as cst

    from initlint.fixes.edits import Tree, _FullMetadata

    fixtures = Path(__file__).resolve().parent / "fixtures"
    checked = 0
    for path in sorted(fixtures.rglob("*.py")):
        text = path.read_text()
        try:
            tree = Tree.parse(text)
        except cst.ParserSyntaxError:
            continue
        full = _FullMetadata(tree.module)
        for (line, column), calls in full.calls_at.items():
            if len(calls) != 1:
                continue
            cheap = tree.call_at(line, column)
            assert cheap is full.call_at(line, column), (path.name, line, column)
            if cheap is not None and id(cheap) in tree._owner:
                assert tree.statement_of(cheap) == full.statement_of(cheap), (path.name, line)
                checked += 1
    assert checked > 200


def test_annotation_on_the_workers_equals_annotating_afterwards(tmp_path) -> None:
    from initlint.api import lint_paths
    from initlint.fixes import annotate
    from initlint.settings import Settings

    fixtures = str(__import__("pathlib").Path(__file__).resolve().parent / "fixtures" / "torch")
    plain = annotate(lint_paths([fixtures], Settings(), jobs=1), Settings(), edits=True)
    on_workers = lint_paths([fixtures], Settings(), jobs=2, annotate="edits")
    assert [(f.code, f.line, f.fix, f.edits) for f in plain.findings] == [
        (f.code, f.line, f.fix, f.edits) for f in on_workers.findings]
    assert any(f.fix for f in plain.findings)


def test_pruned_transform_and_edited_tree_equal_a_full_transform_and_a_fresh_parse() -> None:
    """On every fixture with fixes: transforming only the statements that hold an edit
    gives libcst's whole-module result, and the fix planner's re-lint on the edited tree gives what a
    lint of a fresh parse of the fixed text gives."""
    from pathlib import Path

    from initlint.fixes import _edited
    from initlint.fixes.edits import edited
    from initlint.lint import lint_source, parsed_as

    tests = Path(__file__).resolve().parent
    checked = 0
    for path in sorted((tests / "fixtures").rglob("*.py")):
        text = path.read_text()
        plan = plan_source(text, lint_source(text, path.name))
        if not plan.fixes or plan.tree is None:
            continue
        edits = [e for fix in plan.fixes for e in fix.edits]
        assert edited(plan.tree.module, edits, plan.tree).code == apply(plan.tree.module, edits), path.name
        made = _edited(text, plan.tree, edits)
        assert made is not None and made[0] == plan.new_text, path.name
        fresh = lint_source(made[0], path.name)
        with parsed_as(*made):
            reused = lint_source(made[0], path.name)
        assert reused.records == fresh.records and reused.findings == fresh.findings, path.name
        checked += 1
    assert checked >= 30
