"""The rule engine on hand-made records: SPEC 1's grading table and the 8.x decisions."""

from __future__ import annotations

import math

import pytest

from initlint import engine
from initlint.checks import CHECKS, Check
from initlint.records import Activation, InitSpec, LayerRecord, Origin, Verdict
from initlint.rulebook import activation_family
from initlint.settings import Settings

HE = InitSpec("he", scale=2.0, mode="fan_in", distribution="normal", call="kaiming_normal_", gain_for="relu")
GLOROT = InitSpec("glorot", scale=1.0, mode="fan_avg", distribution="uniform", call="xavier_uniform_")
LECUN = InitSpec("lecun", scale=1.0, mode="fan_in", distribution="normal", call="kaiming_normal_", gain_for="linear")
LECUN_UNIFORM = InitSpec("lecun", scale=1.0, mode="fan_in", distribution="uniform", call="lecun_uniform")
ORTHO1 = InitSpec("orthogonal", scale=1.0, mode="fan_max", distribution="orthogonal", call="orthogonal_")
ORTHO2 = InitSpec("orthogonal", scale=2.0, mode="fan_max", distribution="orthogonal", call="orthogonal_")
SELU_GAIN = InitSpec("variance-scaling", scale=9 / 16, mode="fan_in", distribution="normal",
                     gain_for="selu", gain_nonlinearity="selu", call="kaiming_normal_")
TORCH_DEFAULT = InitSpec("torch-default", source="default", scale=1 / 3, mode="fan_in", distribution="uniform",
                         call="PyTorch default")
KERAS_DEFAULT = InitSpec("glorot", source="default", scale=1.0, mode="fan_avg", distribution="uniform",
                         call="Keras default glorot_uniform")


def act(name: str, slope: float = 0.0, reaches_weight: bool = True) -> Activation:
    family = activation_family(name)
    assert family is not None
    return Activation(name, family, slope, reaches_weight)


def record(init: InitSpec, activation: Activation | None, fan_in: int | None = None, fan_out: int | None = None,
           **kw: object) -> LayerRecord:
    return LayerRecord(name="Net.fc", kind=str(kw.pop("kind", "linear")), framework="torch",
                       origin=Origin("m.py", 3, 9), fan_in=fan_in, fan_out=fan_out, init=init,
                       activation=activation, **kw)  # type: ignore[arg-type]


def verdicts(rec: LayerRecord) -> list[tuple[str, str]]:
    return [(v.code, v.severity) for v in engine.judge(rec, Settings())]


# SPEC 1, judged by declaration (fans unknown).
TABLE = [
    (HE, "ReLU", []), (HE, "GELU", []), (HE, "Tanh", [("INIT001", "advice")]),
    (HE, "Sigmoid", [("INIT001", "advice")]), (HE, "softmax", [("INIT001", "advice")]),
    (HE, "SELU", [("INIT004", "error")]),
    (GLOROT, "ReLU", [("INIT001", "warning")]), (GLOROT, "SiLU", [("INIT001", "advice")]),
    (GLOROT, "Tanh", []), (GLOROT, "Sigmoid", []), (GLOROT, "identity", []),
    (GLOROT, "SELU", [("INIT004", "advice")]),
    (LECUN, "ReLU", [("INIT001", "warning")]), (LECUN, "Mish", [("INIT001", "advice")]),
    (LECUN, "Tanh", []), (LECUN, "SELU", []), (LECUN_UNIFORM, "SELU", [("INIT004", "advice")]),
    (ORTHO1, "ReLU", [("INIT001", "warning")]), (ORTHO1, "GELU", [("INIT001", "advice")]), (ORTHO1, "Tanh", []),
    (ORTHO1, "SELU", [("INIT004", "advice")]),
    (ORTHO2, "ReLU", []), (ORTHO2, "Tanh", [("INIT001", "advice")]), (ORTHO2, "SELU", [("INIT004", "error")]),
    (SELU_GAIN, "SELU", [("INIT004", "error")]),
    (TORCH_DEFAULT, "ReLU", [("INIT005", "advice")]), (TORCH_DEFAULT, "SELU", [("INIT004", "error")]),
    (TORCH_DEFAULT, "softmax", []),
    (KERAS_DEFAULT, "relu", [("INIT005", "advice")]), (KERAS_DEFAULT, "tanh", []),
    (KERAS_DEFAULT, "selu", [("INIT004", "advice")]),
]


@pytest.mark.parametrize("init, name, expected", TABLE, ids=[f"{i.call}-{i.scale}-{n}" for i, n, _ in TABLE])
def test_grading_table(init: InitSpec, name: str, expected: list[tuple[str, str]]) -> None:
    assert verdicts(record(init, act(name))) == expected


def test_gain_for_this_activation_is_ok() -> None:
    tanh_gain = InitSpec("variance-scaling", scale=25 / 9, mode="fan_in", gain_for="tanh", call="kaiming_normal_")
    assert verdicts(record(tanh_gain, act("Tanh"))) == []
    relu_gain = InitSpec("variance-scaling", scale=2.0, mode="fan_avg", gain_for="relu", call="xavier_uniform_")
    assert verdicts(record(relu_gain, act("ReLU"))) == []


def test_math_agrees_within_1_5x() -> None:
    # SPEC 8.3: He on a 512->10 head is within 1.02x of Glorot: no finding.
    assert verdicts(record(HE, act("softmax"), 512, 10)) == []
    # Glorot before ReLU on 64->16: He-out (lenient fan, 8.2) is within 1.25x.
    assert verdicts(record(GLOROT, act("ReLU"), 64, 16)) == []
    assert verdicts(record(GLOROT, act("ReLU"), 256, 256)) == [("INIT001", "warning")]


def test_unnamed_gain_graded_by_variance() -> None:
    small = InitSpec("variance-scaling", scale=0.1, mode="fan_in", call="VarianceScaling")
    assert verdicts(record(small, act("ReLU"), 128, 128)) == [("INIT001", "warning")]
    near = InitSpec("variance-scaling", scale=1.2, mode="fan_in", call="VarianceScaling")
    assert verdicts(record(near, act("ReLU"), 128, 128)) == [("INIT001", "advice")]
    # Under-scaled heads are deliberate (8.28).
    assert verdicts(record(small, act("identity"), 128, 10)) == []


def test_leaky_slope_formula() -> None:
    # 8.10: nonlinearity="relu" before LeakyReLU(0.2) is fine.
    assert verdicts(record(HE, act("LeakyReLU", 0.2), 128, 128)) == []


def test_normalization_downgrades_and_silences() -> None:
    assert verdicts(record(GLOROT, act("ReLU"), 256, 256, normalized=True)) == [("INIT001", "advice")]
    assert verdicts(record(TORCH_DEFAULT, act("ReLU"), 256, 256, normalized=True)) == []
    const = InitSpec("constant", value=1.0, call="ones_")
    assert verdicts(record(const, act("ReLU"), normalized=True)) == [("INIT003", "error")]


def test_hidden_tanh_default_only_when_reaching_a_weight() -> None:
    assert verdicts(record(TORCH_DEFAULT, act("Tanh", reaches_weight=True), 128, 128)) == [("INIT005", "advice")]
    assert verdicts(record(TORCH_DEFAULT, act("Sigmoid", reaches_weight=False), 128, 128)) == []


def test_unscaled_and_fixed_std() -> None:
    randn = InitSpec("fixed-std", std=1.0, distribution="normal", call="torch.randn")
    assert verdicts(record(randn, act("ReLU"))) == [("INIT002", "error")]
    assert verdicts(record(randn, act("ReLU"), 512, 512)) == [("INIT002", "error")]
    assert verdicts(record(randn, act("identity"), 512, 10)) == [("INIT002", "error")]  # 8.30
    gpt = InitSpec("fixed-std", std=0.02, distribution="normal", call="normal_")
    assert verdicts(record(gpt, act("GELU"), 768, 768)) == [("INIT006", "advice")]  # He 2/768: 6.5x
    assert verdicts(record(gpt, act("GELU"), 768, 3072)) == []  # He 2/fan_out = 6.5e-4: 1.6x (8.2)
    assert verdicts(record(gpt, act("GELU"), 768, 768, normalized=True)) == []
    assert verdicts(record(gpt, act("identity"), 768, 768)) == []  # small head (8.28)
    assert verdicts(record(gpt, act("GELU"))) == []  # fans unknown: silent
    assert verdicts(record(gpt, act("ReLU"), 16, 16)) == [("INIT006", "advice")]  # 312x below He's 0.125
    ten = InitSpec("fixed-std", std=math.sqrt(8 * 2 / 100), call="normal_")
    assert verdicts(record(ten, act("ReLU"), 100, 100)) == [("INIT006", "advice")]
    embedding = record(randn, None, kind="embedding")
    assert verdicts(embedding) == []


def test_zero_init() -> None:
    zero = InitSpec("zero", value=0.0, call="zeros_")
    assert verdicts(record(zero, act("ReLU"))) == [("INIT003", "error")]
    assert verdicts(record(zero, act("ReLU"), residual_end=True)) == []
    assert verdicts(record(zero, act("GELU"))) == []
    assert verdicts(record(zero, act("identity"))) == []
    assert verdicts(record(zero, act("Tanh"), feeds_zero_layer=True)) == [("INIT003", "error")]


def test_uninitialized_and_precedence() -> None:
    empty = InitSpec("uninitialized", call="torch.empty")
    assert verdicts(record(empty, None, is_weight=False, kind="parameter")) == [("INIT010", "error")]


# SPEC 8.4 as written there, not read from the engine: one layer finding, the first of these.
SPEC_PRECEDENCE = ("INIT003", "INIT010", "INIT002", "INIT004", "INIT001", "INIT006", "INIT005")


def test_precedence_unscaled_before_selu_reports_init002_only() -> None:
    # N(0,1) before SELU is both unscaled (INIT002) and not LeCun normal (INIT004).
    randn = InitSpec("fixed-std", std=1.0, distribution="normal", call="nn.init.normal_")
    rec = record(randn, act("SELU"), 256, 256)
    both = (CHECKS["INIT002"](rec), CHECKS["INIT004"](rec))
    assert [v.code if v else None for v in both] == ["INIT002", "INIT004"]  # both rules fire on this layer
    assert verdicts(rec) == [("INIT002", "error")]
    assert verdicts(record(randn, act("SELU"), 256, 256, normalized=True)) == [("INIT002", "advice")]


def test_precedence_in_linted_source() -> None:
    from initlint.api import lint_source

    source = (
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n\n\n"
        "class SNN(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(256, 256)\n"
        "        self.out = nn.Linear(256, 10)\n"
        "        nn.init.normal_(self.fc.weight)\n\n"
        "    def forward(self, x):\n"
        "        return self.out(F.selu(self.fc(x)))\n"
    )
    (finding,) = lint_source(source).findings
    assert (finding.code, finding.layer, finding.line) == ("INIT002", "SNN.fc", 8)
    # The losing verdict must not even be counted into the site's message (SPEC 8.16 merges sites, not rules).
    assert "INIT004" not in finding.message and "This site builds" not in finding.message


def _firing(codes: tuple[str, ...]) -> dict[str, Check]:
    """Stand-in checks: every code in ``codes`` fires (as an error) on any record, the others stay silent."""
    def stub(code: str) -> Check:
        return lambda rec: Verdict(code, "error", f"{code} fired") if code in codes else None
    return {code: stub(code) for code in CHECKS}


@pytest.mark.parametrize("first", range(len(SPEC_PRECEDENCE)), ids=SPEC_PRECEDENCE)
def test_precedence_keeps_only_the_first_layer_code(first: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every layer code from ``first`` on fires; INIT007-INIT009 are about other things and stay alongside.
    firing = SPEC_PRECEDENCE[first:] + ("INIT007", "INIT008", "INIT009")
    monkeypatch.setattr(engine, "CHECKS", _firing(firing))
    codes = [v.code for v in engine.judge(record(HE, act("ReLU"), 64, 64), Settings())]
    assert sorted(codes) == sorted([SPEC_PRECEDENCE[first], "INIT007", "INIT008", "INIT009"])
    found = engine.findings([record(HE, act("ReLU"), 64, 64)], Settings())
    assert sorted(f.code for f in found) == sorted([SPEC_PRECEDENCE[first], "INIT007", "INIT008", "INIT009"])
    assert not any("This site builds" in f.message for f in found)


def test_select_ignore() -> None:
    rec = record(GLOROT, act("ReLU"))
    assert engine.judge(rec, Settings(ignore=("INIT001",))) == []
    assert engine.judge(rec, Settings(select=("INIT002",))) == []


def test_selu_dropout() -> None:
    drop = LayerRecord("Net.drop", "dropout", "torch", Origin("m.py", 7, 5), selu_network=True, scope="Net")
    assert verdicts(drop) == [("INIT009", "advice")]
    assert verdicts(LayerRecord("Net.drop", "dropout", "torch", Origin("m.py", 7, 5))) == []


def test_chain_factor_and_site_merge() -> None:
    recs = [
        LayerRecord(f"Net.fc{i}", "linear", "torch", Origin("m.py", 10 + i, 9), 256, 256, TORCH_DEFAULT, act("ReLU"),
                    scope="Net")
        for i in range(4)
    ]
    found = engine.findings(recs, Settings())
    assert [f.code for f in found] == ["INIT005"] * 4
    assert all("Over the 4 such layers in Net" in f.message for f in found)
    site = [LayerRecord("Net.blocks", "linear", "torch", Origin("m.py", 5, 9), 64, 64, GLOROT, act("ReLU"), count=6)]
    (merged,) = engine.findings(site, Settings())
    assert "This site builds 6 layers" in merged.message


def test_messages_state_numbers() -> None:
    (finding,) = engine.findings([record(GLOROT, act("ReLU"), 512, 512, weight_expr="self.fc.weight")], Settings())
    assert "2x below He's" in finding.message
    assert 'kaiming_normal_(self.fc.weight, nonlinearity="relu")' in finding.hint
    assert finding.message.endswith(finding.hint)
    assert len(finding.headline) < 100 and "2x too low" in finding.headline
    (nameless,) = engine.findings([record(GLOROT, act("ReLU"), 512, 512)], Settings())
    assert nameless.hint == ""  # a source layer with no name to initialize it by gets no code (never `Net.fc.weight`)
    assert finding.name == "init-activation-mismatch"
