"""The PyTorch source frontend on the forms SPEC 4 and 8 name: real libcst parses, no torch import."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from initlint import lint_source
from initlint.cli import main
from initlint.frontends.torch import layers as torch_source
from initlint.frontends.python.source import SourceFile
from initlint.records import LayerRecord

from .conftest import FIXTURES

HEADER = "import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def records(code: str) -> dict[str, LayerRecord]:
    text = textwrap.dedent(code)
    return {r.name: r for r in torch_source.records(SourceFile("m.py", text, cst.parse_module(text)))}


def one_layer(init: str, act: str = "F.relu", shape: str = "256, 128") -> LayerRecord:
    code = HEADER + textwrap.dedent(f"""
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear({shape})
                self.out = nn.Linear(128, 10)
                {init}

            def forward(self, x):
                return self.out({act}(self.fc(x)))
        """)
    return records(code)["Net.fc"]


IMPORTS = [
    ("import torch.nn as nn\nimport torch.nn.functional as F", "nn.Linear", "F.relu"),
    ("from torch import nn\nfrom torch.nn import functional as F", "nn.Linear", "F.relu"),
    ("from torch.nn import Linear, ReLU\nimport torch", "Linear", "ReLU()"),
    ("import torch", "torch.nn.Linear", "torch.relu"),
    ("import torch", "torch.nn.modules.linear.Linear", "torch.nn.functional.relu"),
    ("import torch.nn as tnn", "tnn.Linear", "tnn.ReLU()"),
]


@pytest.mark.parametrize("imports,linear,relu", IMPORTS)
def test_import_forms_resolve_to_the_same_layer(imports: str, linear: str, relu: str) -> None:
    apply = f"{relu}(h)" if not relu.endswith("()") else f"{relu[:-2]}()(h)"
    code = f"""
{imports}
import torch


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = {linear}(64, 32)
        self.out = {linear}(32, 1)

    def forward(self, x):
        h = self.fc(x)
        return self.out({apply})
"""
    rec = records(code)["Net.fc"]
    assert (rec.fan_in, rec.fan_out) == (64, 32)
    assert rec.activation is not None and rec.activation.name == "ReLU"
    assert rec.init is not None and rec.init.scheme == "torch-default" and rec.init.source == "default"


SPECS = [
    ("nn.init.kaiming_uniform_(self.fc.weight, a=math.sqrt(5))", dict(scheme="torch-default", mode="fan_in")),
    ("nn.init.kaiming_normal_(self.fc.weight, mode='fan_out', nonlinearity='relu')",
     dict(scheme="he", scale=2.0, mode="fan_out", distribution="normal", gain_for="relu")),
    ("nn.init.kaiming_normal_(self.fc.weight, nonlinearity='selu')",
     dict(scheme="variance-scaling", scale=0.5625, gain_nonlinearity="selu")),
    ("nn.init.kaiming_uniform_(self.fc.weight, a=0.2, nonlinearity='leaky_relu')",
     dict(scale=2 / 1.04, distribution="uniform", gain_for=None, gain_nonlinearity="leaky_relu")),
    ("nn.init.xavier_uniform_(self.fc.weight, gain=nn.init.calculate_gain('tanh'))",
     dict(scale=25 / 9, mode="fan_avg", gain_for="tanh", gain_nonlinearity="tanh")),
    ("nn.init.xavier_normal_(self.fc.weight)", dict(scheme="glorot", scale=1.0, mode="fan_avg")),
    ("nn.init.normal_(self.fc.weight, 0, 0.02)", dict(scheme="fixed-std", std=0.02, mean=0.0)),
    ("nn.init.normal_(self.fc.weight)", dict(scheme="fixed-std", std=1.0)),
    ("nn.init.uniform_(self.fc.weight, -0.1, 0.1)", dict(scheme="fixed-std", std=0.2 / math.sqrt(12), mean=0.0)),
    ("nn.init.uniform_(self.fc.weight)", dict(scheme="fixed-std", std=1 / math.sqrt(12), mean=0.5)),
    ("nn.init.trunc_normal_(self.fc.weight, std=0.02)", dict(scheme="fixed-std", std=0.02, distribution="normal")),
    ("nn.init.trunc_normal_(self.fc.weight, std=1.0, a=-2.0, b=2.0)",
     dict(std=0.87962566103423978, distribution="truncated_normal")),
    ("nn.init.constant_(self.fc.weight, 0)", dict(scheme="zero")),
    ("nn.init.ones_(self.fc.weight)", dict(scheme="constant", value=1.0)),
    ("self.fc.weight.data.fill_(0.3)", dict(scheme="constant", value=0.3)),
    ("self.fc.weight.data.zero_()", dict(scheme="zero")),
    ("nn.init.orthogonal_(self.fc.weight, gain=2)", dict(scheme="orthogonal", scale=4.0, mode="fan_max")),
    ("nn.init.eye_(self.fc.weight)", dict(scheme="identity")),
    ("with torch.no_grad():\n                    self.fc.weight.normal_(0.0, 0.5)", dict(scheme="fixed-std", std=0.5)),
    ("self.fc.weight.data.uniform_(-0.5, 0.5)", dict(scheme="fixed-std", std=1 / math.sqrt(12))),
    ("nn.init.xavier_uniform(self.fc.weight)", dict(scheme="glorot")),
    ("nn.init.normal_(self.fc.weight, std=0.1)\n                self.fc.weight.data.mul_(0.5)", dict(std=0.05)),
]


@pytest.mark.parametrize("init,expected", SPECS, ids=[s[0].split("(")[0] for s in SPECS])
def test_init_calls_map_to_specs(init: str, expected: dict[str, object]) -> None:
    rec = one_layer(init)
    assert rec.init is not None, rec.unresolved
    for key, value in expected.items():
        got = getattr(rec.init, key)
        assert got == pytest.approx(value) if isinstance(value, float) else got == value, (key, got)
    assert rec.init.source == "declared"
    assert rec.init.line is not None and rec.init.line > rec.origin.line


def test_default_spec_and_location() -> None:
    rec = one_layer("pass")
    assert rec.init is not None and rec.init.call == "PyTorch default U(±1/√fan_in)"
    assert (rec.init.scale, rec.init.mode, rec.init.distribution) == (pytest.approx(1 / 3), "fan_in", "uniform")
    assert (rec.origin.line, rec.origin.column) == (9, 19)
    assert rec.scope == "Net" and rec.weight_expr == "self.fc.weight"
    assert rec.init.line is None


@pytest.mark.parametrize(
    "layer,fans",
    [
        ("nn.Conv2d(16, 32, (3, 5), groups=4)", (60, 480)),
        ("nn.Conv2d(in_channels=16, out_channels=32, kernel_size=3)", (144, 288)),
        ("nn.ConvTranspose2d(64, 32, 4, stride=2, groups=2)", (256, 1024)),
        ("nn.Conv1d(80, 256, 5)", (400, 1280)),
        ("nn.Conv3d(3, 8, (1, 3, 3))", (27, 72)),
        ("nn.LazyLinear(32)", (None, 32)),
        ("nn.LazyConv2d(32, 3)", (None, 288)),
        ("nn.Bilinear(10, 20, 30)", (200, 600)),
        ("nn.Linear(HIDDEN, 2 * HIDDEN)", (64, 128)),
    ],
)
def test_fans_follow_pytorch_storage(layer: str, fans: tuple[int | None, int | None]) -> None:
    code = HEADER + f"HIDDEN = 64\nmodel = nn.Sequential({layer}, nn.ReLU())\n"
    rec = records(code)["model[0]"]
    assert (rec.fan_in, rec.fan_out) == fans


def test_constructor_defaults_give_fans_and_activation_classes() -> None:
    recs = records(HEADER + """
class Mlp(nn.Module):
    def __init__(self, dim=96, hidden=384, act_layer=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act_layer()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))
""")
    fc1 = recs["Mlp.fc1"]
    assert (fc1.fan_in, fc1.fan_out) == (96, 384)
    assert fc1.activation is not None and (fc1.activation.name, fc1.activation.family) == ("GELU", "smooth")
    assert fc1.activation.reaches_weight


def test_residual_add_is_followed_to_the_activation_of_the_sum() -> None:
    recs = records(HEADER + """
class Block(nn.Module):
    def __init__(self, c=64):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)) + x)
""")
    rec = recs["Block.conv"]
    assert rec.activation is not None and rec.activation.name == "ReLU"
    assert rec.normalized and rec.residual_end


def test_child_block_output_takes_the_callers_consumer() -> None:
    recs = records(HEADER + """
class Proj(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 32)

    def forward(self, x):
        return self.fc(x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = Proj()

    def forward(self, x):
        return torch.tanh(self.proj(x))


class Lonely(nn.Module):
    def __init__(self, block):
        super().__init__()
        self.block = block
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.block(self.fc(x))
""")
    assert recs["Proj.fc"].activation is not None and recs["Proj.fc"].activation.name == "Tanh"
    assert recs["Lonely.fc"].activation is None
    assert recs["Lonely.fc"].unresolved.startswith("activation from config") or "consumer" in recs["Lonely.fc"].unresolved


def test_block_whose_output_leaves_the_file_is_unresolved() -> None:
    recs = records(HEADER + """
class Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 16)

    def forward(self, x):
        return self.fc(x)


class Outer(nn.Module):
    def __init__(self, inner=Inner):
        super().__init__()
        self.inner = inner()
        self.cb = None

    def forward(self, x):
        return self.cb(self.inner(x))
""")
    assert recs["Inner.fc"].activation is None
    assert "consumer not visible" in recs["Inner.fc"].unresolved


def test_unresolved_reasons_name_the_cause() -> None:
    recs = records(HEADER + """
from .utils import init_weights


class A(nn.Module):
    def __init__(self, act_fn):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.act = act_fn
        self.fc2 = nn.Linear(8, 8)
        init_weights(self.fc2)

    def forward(self, x):
        return self.fc2(self.act(self.fc(x)))
""")
    assert recs["A.fc"].unresolved == "activation from config: self.act = act_fn"
    assert recs["A.fc"].activation is None and recs["A.fc"].init is not None
    assert recs["A.fc2"].unresolved == "initialized by helper init_weights imported from .utils"
    assert recs["A.fc2"].init is None


def test_parents_that_disagree_leave_the_child_unresolved() -> None:
    recs = records(HEADER + """
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 32)

    def forward(self, x):
        return F.relu(self.fc(x))


class NetA(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)

    def forward(self, x):
        return self.b(x)


class NetB(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = Block()
        self.apply(lambda m: nn.init.kaiming_normal_(m.weight) if isinstance(m, nn.Linear) else None)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        return self.b(x)
""")
    assert recs["Block.fc"].init is None
    assert recs["Block.fc"].unresolved == "parent modules apply different inits to this layer"


def test_comprehension_site_counts_layers_and_names_them() -> None:
    recs = records(HEADER + """
class Stack(nn.Module):
    def __init__(self, n=6):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(64, 64) for _ in range(n)])

    def forward(self, x):
        for layer in self.layers:
            x = F.silu(layer(x))
        return x
""")
    rec = recs["Stack.layers[i]"]
    assert rec.count == 6 and rec.activation is not None and rec.activation.name == "SiLU"


def test_raw_parameter_scaling_is_understood_only_as_a_matmul_weight() -> None:
    recs = records(HEADER + """
class P(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.w = nn.Parameter(torch.randn(d_in, d_out) * (2 / d_in) ** 0.5)
        self.table = nn.Parameter(torch.randn(100, d_out))
        self.junk = nn.Parameter(torch.empty(100, d_out))

    def forward(self, x):
        return F.relu(x @ self.w) + self.table[0]
""")
    w = recs["P.w"]
    assert w.kind == "parameter" and w.is_weight
    assert w.init is not None and (w.init.scheme, w.init.scale, w.init.mode) == ("he", pytest.approx(2.0), "fan_in")
    assert "P.table" not in recs  # not a weight: nothing to judge (SPEC 8.9)
    junk = recs["P.junk"]
    assert not junk.is_weight and junk.init is not None and junk.init.scheme == "uninitialized"


def test_selu_network_marks_its_dropout() -> None:
    recs = records(HEADER + "net = nn.Sequential(nn.Linear(8, 8), nn.SELU(), nn.Dropout(0.1), nn.Linear(8, 2))\n")
    drop = recs["net[2]"]
    assert drop.kind == "dropout" and drop.selu_network


def test_pathological_code_hits_the_budget_not_the_clock() -> None:
    methods = "\n".join(
        f"    def m{i}(self):\n        if self.flag:\n            self.m{i + 1}()\n        else:\n            self.m{i + 1}()\n"
        for i in range(30)
    )
    code = HEADER + f"""
class Deep(nn.Module):
    def __init__(self, flag):
        super().__init__()
        self.flag = flag
        self.fc = nn.Linear(8, 8)
        self.m0()

{methods}
    def m30(self):
        nn.init.ones_(self.fc.weight)

    def forward(self, x):
        return F.relu(self.fc(x))
"""
    rec = records(code)["Deep.fc"]
    assert rec.init is None and "budget" in rec.unresolved


def test_odd_code_never_raises() -> None:
    code = HEADER + """
class Weird(nn.Module, metaclass=type):
    def __init__(self, *args, **kwargs):
        super(Weird, self).__init__()
        layers, = [nn.Linear(*args)]
        self.a, self.b = nn.Linear(1, 2), nn.ReLU()
        self.c = nn.Sequential(*[m for m in (nn.Linear(2, 2),)], **kwargs)
        self.d = getattr(nn, kwargs.get("act", "ReLU"))()
        self.e = nn.ModuleDict(dict(x=nn.Linear(2, 2)))
        self.f = self
        self.apply(lambda m: None)
        self.g = nn.Linear(2, 2) if args else None
        for i, (p, q) in enumerate(zip(self.c, self.c)):
            p.weight[0] = q

    def forward(self, *xs, **kw):
        y = [self.a(x) for x in xs]
        z = self.f(self.c(y[0]))
        while z:
            z = self.b(z) @ z
        return {"a": z, **kw}
"""
    result = lint_source(code, "weird.py")
    assert result.error is None


def test_linting_never_imports_torch_onnx_or_numpy(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from initlint import lint_paths\n"
        f"report = lint_paths([{str(FIXTURES / 'torch')!r}])\n"
        "assert report.findings, 'fixtures should produce findings'\n"
        "heavy = sorted(m for m in ('torch', 'onnx', 'numpy', 'keras') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout


def test_cli_reports_fixture_findings_and_exit_code() -> None:
    path = str(FIXTURES / "torch" / "mlp_relu_tanh.py")
    result = CliRunner().invoke(main, [path])
    assert result.exit_code == 1  # INIT001 warnings reach the default --fail-on warning
    assert f"{path}:68:20: INIT001 [warning]" in result.output
    assert "layers (" in result.output.splitlines()[-1]
    clean = CliRunner().invoke(main, [str(FIXTURES / "torch" / "unet.py")])
    assert clean.exit_code == 0, clean.output


def test_cli_subprocess_shows_unresolved_reasons() -> None:
    path = str(FIXTURES / "torch" / "unresolved_cases.py")
    out = subprocess.run(
        [sys.executable, "-m", "initlint", path, "--show-unresolved"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode in (0, 1), out.stderr
    assert "activation from config: self.act = act_fn" in out.stdout
    assert "initialized by helper init_weights_vit imported from .init" in out.stdout
