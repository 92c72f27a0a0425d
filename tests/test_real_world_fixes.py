"""Wrong findings seen on real packages (issue 12), each pinned on its fixture: messages, names, chains, listing."""

from __future__ import annotations

import json

from click.testing import CliRunner

from initlint import formulas, lint_file
from initlint.cli import main
from initlint.rulebook import initializes_nothing

from .conftest import FIXTURES

TORCH = FIXTURES / "torch"


def _messages(name: str) -> dict[int, str]:
    return {f.line: f.message for f in lint_file(TORCH / name).findings}


def test_forward_sentence_uses_fan_in_when_fan_out_judged() -> None:
    message = _messages("first_conv_forward_fan.py")[9]
    assert "3.6x above He(fan_out)'s" in message
    assert "the forward signal shrinks ~2.4x in std (6x in variance) per layer" in message
    assert "grows" not in message


def test_exact_ratio_is_not_within() -> None:
    assert not formulas.within(1.4999999999999998, 1.5)  # what float rounding makes of 1/(3*11) vs 2/(11+88)
    assert formulas.within(1.4999, 1.5) and not formulas.exceeds(2.0000000001, 2.0) and formulas.exceeds(2.01, 2.0)
    assert 13 in _messages("exact_ratio.py")


def test_chains_follow_one_path() -> None:
    messages = _messages("chains_data_flow.py")
    trunk = "\nOver the 3 such layers from Trunk.fc1 to Trunk.fc3 the signal shrinks ~15x in std."
    assert all(messages[line].endswith(trunk) for line in (13, 14, 15))
    for line in (28, 29, 41, 43, 44, 59, 61):  # branches, alternative heads, a normalization between
        assert "Over the" not in messages[line], messages[line]


def test_layer_names() -> None:
    names = {r.origin.line: r.name for r in lint_file(TORCH / "layer_names.py").records}
    assert names[12] == "ConvFCHead[i]"
    assert names[23] == "Encoder.shared[i]"
    assert all(".[" not in n and "None[" not in n for n in names.values())


def test_show_unresolved_adds_up_to_the_summary(tmp_path) -> None:
    path = tmp_path / "loops.py"
    path.write_text(
        "import torch.nn as nn\n\n\nclass Stack(nn.Module):\n"
        "    def __init__(self, act, depth=4):\n        super().__init__()\n"
        "        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(depth)])\n        self.act = act\n\n"
        "    def forward(self, x):\n        for layer in self.layers:\n"
        "            x = self.act(layer(x))\n        return x\n"
    )
    result = CliRunner().invoke(main, ["--no-cache", "--show-unresolved", str(path)])
    assert "(4 layers built here)" in result.output, result.output
    assert "4 layers (0 resolved, 4 unresolved)" in result.output
    args = ["--no-cache", "--format", "json", "--show-unresolved", str(path)]
    doc = json.loads(CliRunner().invoke(main, args).output)
    assert sum(u["count"] for u in doc["unresolved"]) == doc["summary"]["unresolved"] == 4


def test_never_initialize_table() -> None:
    assert initializes_nothing("_log_api_usage_once")
    assert initializes_nothing("torch._C._log_api_usage_once")
    assert initializes_nothing("copy.deepcopy")
    assert not initializes_nothing("init_weights")
    assert not initializes_nothing("named_apply")


def test_reasons_for_layers_forward_uses(tmp_path) -> None:
    """"Not used in a forward" only for layers forward never mentions; applied or read layers say what happened."""
    path = tmp_path / "reasons.py"
    path.write_text(
        "import torch.nn as nn\nfrom .lib import mystery\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.applied = nn.Linear(8, 8)\n"
        "        self.read = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])\n"
        "        self.unused = nn.Linear(8, 8)\n\n"
        "    def forward(self, x):\n"
        "        y = self.applied(x)\n        stash = {0: y}\n"
        "        for i in mystery.order(len(self.read)):\n            x = x\n"
        "        return x\n"
    )
    reasons = {r.origin.line: r.unresolved for r in lint_file(path).records}
    assert reasons[8].startswith("consumer not visible: forward applies it"), reasons
    assert reasons[9] == "consumer not visible: forward uses self.read in a way the analysis does not follow", reasons
    assert reasons[10] == "consumer not visible: not used in a forward the analysis follows", reasons


def test_post_init_through_a_same_file_base(tmp_path) -> None:
    """XForY(XPreTrainedModel(PreTrainedModel)) calling self.post_init(): its blocks are never judged on the default."""
    path = tmp_path / "modeling_x.py"
    path.write_text(
        "import torch.nn as nn\nfrom transformers import PreTrainedModel\n\n\n"
        "class XHead(nn.Module):\n    def __init__(self, d=256):\n        super().__init__()\n"
        "        self.fc = nn.Linear(d, d)\n        self.out = nn.Linear(d, 1)\n\n"
        "    def forward(self, x):\n        return self.out(nn.functional.relu(self.fc(x)))\n\n\n"
        "class XPreTrainedModel(PreTrainedModel):\n    pass\n\n\n"
        "class XForRegression(XPreTrainedModel):\n    def __init__(self, config):\n        super().__init__(config)\n"
        "        self.head = XHead()\n        self.post_init()\n\n"
        "    def forward(self, x):\n        return self.head(x)\n"
    )
    result = lint_file(path)
    assert not [f for f in result.findings if "PyTorch default" in f.message], result.findings
    fc = next(r for r in result.records if r.name == "XHead.fc")
    assert fc.init is not None or "post_init" in fc.unresolved, fc
