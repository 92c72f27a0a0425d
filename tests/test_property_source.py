"""Property tests of the source path: mutated fixtures and generated Python never crash initlint.

Contract for any input: a FileResult with findings, or one clean error line that
starts with the file's name; never ``internal error``; findings located inside the
file; reporters render it; the same input gives the same bytes. CI runs a fixed
seed (``derandomize=True``) and a modest number of examples;
``INITLINT_FUZZ_SCALE=10`` multiplies them (see docs/robustness.md).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tokenize
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from initlint.api import lint_bytes, lint_source
from initlint.frontends.python.positions import code_lines, source_lines
from initlint.records import FileResult, Report
from initlint.reporters import json as json_reporter
from initlint.reporters import text as text_reporter
from initlint.settings import Settings

from .conftest import ROOT

SCALE = max(1, int(os.environ.get("INITLINT_FUZZ_SCALE", "1")))
CORPUS = sorted(
    p for folder in ("tests/fixtures", "tests/corpus", "examples") for p in (ROOT / folder).rglob("*.py")
)
TEXTS = [p.read_text(encoding="utf-8") for p in CORPUS]
SETTINGS = Settings(timeout=0)  # a slow example must fail as slow, not pass as a clean timeout error


def fuzz_settings(examples: int) -> Callable[..., object]:
    return settings(
        max_examples=examples * SCALE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# -- mutations: each takes the text and three draws (two positions in [0, 1), a number) ----------


def _at(items: list[str], u: float) -> int:
    return min(int(u * len(items)), max(len(items) - 1, 0))


def delete_line(text: str, u: float, v: float, n: int) -> str:
    lines = text.splitlines(keepends=True)
    del lines[_at(lines, u): _at(lines, u) + 1 + n % 3]
    return "".join(lines)


def duplicate_line(text: str, u: float, v: float, n: int) -> str:
    lines = text.splitlines(keepends=True)
    i = _at(lines, u)
    return "".join(lines[: i + 1] + lines[i: i + 1 + n % 4] + lines[i + 1:])


def swap_lines(text: str, u: float, v: float, n: int) -> str:
    lines = text.splitlines(keepends=True)
    if lines:
        i, j = _at(lines, u), _at(lines, v)
        lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


def truncate(text: str, u: float, v: float, n: int) -> str:
    return text[: int(u * len(text))]


def insert_chars(text: str, u: float, v: float, n: int) -> str:
    junk = "".join(chr(c) for c in (n % 0x110000, n % 128, (n * 7919) % 0xD800, 0, 0xFEFF, 0x2028) if c)[: 1 + n % 6]
    i = int(u * len(text))
    return text[:i] + junk + text[i:]


def tabs(text: str, u: float, v: float, n: int) -> str:
    lines = text.splitlines(keepends=True)
    step = 1 + n % 4
    return "".join(line.replace("    ", "\t", 1) if k % step == 0 else line for k, line in enumerate(lines))


def line_endings(text: str, u: float, v: float, n: int) -> str:
    ending = ("\r\n", "\r", "\n\r", "\x0c\n")[n % 4]
    if v < 0.5:
        return text.replace("\n", ending)
    i = int(u * len(text))
    return text[:i] + text[i:].replace("\n", ending, 1 + n % 5)


def long_line(text: str, u: float, v: float, n: int) -> str:
    size = 1000 + n % 8000  # libcst needs ~0.4 ms per list element: keep examples around a second
    filler = (
        f"x = [{'1, ' * (size // 3)}]\n",
        f"# {'torch ' * (size // 6)}\n",
        f"y = {'a' * size}\n",
        f"z = '{'s' * size}'\n",
        f"w = {' + '.join(['nn.Linear(4, 4)'] * (size // 18))}\n",
    )[n % 5]
    lines = text.splitlines(keepends=True)
    i = _at(lines, u)
    return "".join(lines[:i] + [filler] + lines[i:])


def deep_nesting(text: str, u: float, v: float, n: int) -> str:
    depth = (3, 40, 150, 400, 1100)[n % 5]  # 1100: past the parse-hazard limit, rejected before libcst
    lines = text.splitlines(keepends=True)
    i = _at(lines, u)
    kind = int(v * 6)
    if kind == 0:
        new = f"x = {'(' * (depth % 260)}1{')' * (depth % 260)}\n"
    elif kind == 1:
        new = f"x = {' + '.join(['a'] * depth)}\n"
    elif kind == 2:
        new = f"x = self{'.fc' * depth}(x)\n"
    elif kind == 3:
        new = f"x = {'F.relu(' * (depth % 200)}self.fc1(x){')' * (depth % 200)}\n"
    elif kind == 4:
        new = f"x = {' and '.join(['a'] * depth)}\n"
    else:
        levels = depth % 98
        new = "".join(" " * k + "if x:\n" for k in range(levels)) + " " * levels + "pass\n"
    return "".join(lines[:i] + [new] + lines[i:])


def replace_numbers(text: str, u: float, v: float, n: int) -> str:
    """Swap numeric literals for edge values: zero, negative, huge, float edge cases."""
    import re

    values = ("0", "-3", "10**400", "1e308", "1e-320", "float('nan')", "float('inf')", "0.0", "2**63", "True", "None")
    hits = list(re.finditer(r"(?<![\w.])\d+(?:\.\d*)?(?:e-?\d+)?(?![\w.])", text))
    if not hits:
        return text
    chosen = hits[_at(hits, u): _at(hits, u) + 1 + n % 4]
    out, last = [], 0
    for k, match in enumerate(chosen):
        out += [text[last: match.start()], values[(n + k) % len(values)]]
        last = match.end()
    return "".join(out) + text[last:]


def replace_names(text: str, u: float, v: float, n: int) -> str:
    """Swap framework names (activations, layers, initializers) for one another."""
    names = ("relu", "tanh", "selu", "sigmoid", "gelu", "Linear", "Conv2d", "Dense", "ReLU", "SELU",
             "kaiming_normal_", "xavier_uniform_", "normal_", "zeros_", "ones_", "he_normal", "lecun_normal",
             "Sequential", "ModuleList", "forward", "__init__", "self", "x", "apply", "modules", "Parameter")
    old = names[n % len(names)]
    new = names[int(v * len(names)) % len(names)]
    i = int(u * len(text))
    return text[:i] + text[i:].replace(old, new, 1 + n % 3)


def delete_span(text: str, u: float, v: float, n: int) -> str:
    i = int(u * len(text))
    return text[:i] + text[i + 1 + n % 40:]


MUTATIONS = (delete_line, duplicate_line, swap_lines, truncate, insert_chars, tabs, line_endings, long_line,
             deep_nesting, replace_numbers, replace_names, delete_span)
unit = st.floats(min_value=0, max_value=1, exclude_max=True, allow_nan=False)
mutation = st.tuples(st.sampled_from(MUTATIONS), unit, unit, st.integers(0, 2**16))
mutated = st.builds(
    lambda i, ops: (CORPUS[i].name, _apply(TEXTS[i], ops)),
    st.integers(0, len(CORPUS) - 1),
    st.lists(mutation, min_size=1, max_size=3),
)


def _apply(text: str, ops: list[tuple[Callable[[str, float, float, int], str], float, float, int]]) -> str:
    for op, u, v, n in ops:
        text = op(text, u, v, n)
    return text


# -- the contract -----------------------------------------------------------------------------


def check_contract(result: FileResult, path: str, text: str) -> None:
    """Findings or one clean error naming the file; never an internal error; reporters cope."""
    if result.error is not None:
        assert "internal error" not in result.error, result.error
        assert result.error.startswith(path), result.error
        assert "\n" not in result.error and "Traceback" not in result.error, result.error
    lines = text.count("\n") + text.count("\r") + 2  # any line-ending convention
    for finding in result.findings:
        assert finding.severity in ("error", "warning", "advice")
        assert finding.line is None or 1 <= finding.line <= lines, (finding.line, lines)
        # one headline a person reads at a glance; the derivation follows on its own lines, none empty
        assert finding.headline and len(finding.headline) <= 200, finding.headline
        assert all(finding.message.split("\n")), finding.message
    report = Report((result,))
    json.loads(json_reporter.render(report, True, False), parse_constant=_no_constant)
    text_reporter.render(report, True, False)


def _no_constant(name: str) -> None:
    raise AssertionError(f"JSON output contains {name}")


def lint_text(text: str, path: str = "mutated.py") -> FileResult:
    result = lint_source(text, path, SETTINGS)
    check_contract(result, path, text)
    return result


@fuzz_settings(60)
@given(mutated)
def test_mutated_fixtures_lint_cleanly(case: tuple[str, str]) -> None:
    name, text = case
    lint_text(text, name)


@fuzz_settings(20)
@given(st.integers(0, len(CORPUS) - 1), st.lists(st.tuples(unit, st.binary(min_size=1, max_size=8)), max_size=4),
       st.sampled_from([b"", b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n", b"# coding: bogus\n"]))
def test_mutated_bytes_lint_cleanly(index: int, inserts: list[tuple[float, bytes]], prefix: bytes) -> None:
    data = TEXTS[index].encode("utf-8")
    for u, junk in inserts:
        i = int(u * len(data))
        data = data[:i] + junk + data[i:]
    data = prefix + data
    result = lint_bytes("mutated.py", data, SETTINGS)
    check_contract(result, "mutated.py", data.decode("utf-8", "replace"))


# Model-shaped code: imports, a Module or Keras model with layers, activations and init calls,
# drawn from small tables so that generated files reach the frontends' resolution paths.
_LAYERS = ("nn.Linear({a}, {b})", "nn.Conv2d({a}, {b}, {k})", "nn.ConvTranspose2d({a}, {b}, {k}, groups={g})",
           "nn.Bilinear({a}, {a}, {b})", "nn.Embedding({a}, {b})", "nn.LazyLinear({b})",
           "nn.Parameter(torch.randn({a}, {b}))", "nn.Parameter(torch.empty({a}, {b}))")
_ACTS = ("nn.ReLU()", "nn.Tanh()", "nn.SELU()", "nn.GELU()", "nn.LeakyReLU({s})", "nn.Sigmoid()", "nn.Softmax(-1)",
         "nn.Identity()", "nn.Dropout(0.1)", "nn.AlphaDropout(0.1)", "nn.BatchNorm1d({b})", "nn.PReLU()")
_INITS = ("nn.init.kaiming_normal_({w}, nonlinearity='{nl}')", "nn.init.xavier_uniform_({w}, gain={s})",
          "nn.init.normal_({w}, 0, {s})", "nn.init.zeros_({w})", "nn.init.ones_({w})", "nn.init.constant_({w}, {s})",
          "nn.init.orthogonal_({w}, gain={s})", "nn.init.trunc_normal_({w}, std={s})", "{w}.data.fill_({s})",
          "nn.init.kaiming_uniform_({w}, a={s})", "nn.init.uniform_({w}, -{s}, {s})")
_FLOW = ("x = F.relu(self.l{i}(x))", "x = torch.tanh(self.l{i}(x))", "x = self.l{i}(x)", "x = self.l{i}(x).relu()",
         "x = self.a{i}(self.l{i}(x))", "x = x @ self.l{i}", "x = F.leaky_relu(self.l{i}(x), {s})",
         "x = self.l{i}(x) + x", "return self.l{i}(x)", "x = F.selu(self.l{i}(x))")
_K_LAYERS = ("layers.Dense({b}, activation='{act}', kernel_initializer='{ki}')",
             "layers.Conv2D({b}, {k}, activation='{act}')", "layers.Activation('{act}')",
             "layers.Dense({b}, kernel_initializer=initializers.VarianceScaling({s}, '{mode}', '{dist}'))",
             "layers.BatchNormalization()", "layers.Dropout(0.2)", "layers.ReLU()", "layers.LeakyReLU({s})")
_NUMS = st.sampled_from(["0", "1", "3", "16", "64", "256", "-1", "n", "2 ** 10", "10**400", "in_f", "4096"])
_SCALES = st.sampled_from(["0", "0.02", "1", "1.0", "math.sqrt(5)", "-1", "1e308", "float('nan')", "2 ** 0.5", "s"])


@st.composite
def torch_model(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 6))
    fill = {"a": _NUMS, "b": _NUMS, "k": _NUMS, "g": _NUMS, "s": _SCALES,
            "nl": st.sampled_from(["relu", "tanh", "selu", "linear", "leaky_relu", "bogus", ""])}

    def fmt(template: str, **extra: str) -> str:
        values = {key: draw(strategy) for key, strategy in fill.items()}
        return template.format(**values, **extra)

    lines = ["import math", "import torch", "import torch.nn as nn", "import torch.nn.functional as F", "",
             "", "class Net(nn.Module):", "    def __init__(self, n=8, in_f=4, s=0.1):", "        super().__init__()"]
    for i in range(n):
        lines.append(f"        self.l{i} = " + fmt(draw(st.sampled_from(_LAYERS))))
        if draw(st.booleans()):
            lines.append(f"        self.a{i} = " + fmt(draw(st.sampled_from(_ACTS))))
        if draw(st.booleans()):
            lines.append("        " + fmt(draw(st.sampled_from(_INITS)), w=f"self.l{i}.weight"))
    if draw(st.booleans()):
        lines += ["        for m in self.modules():", "            if isinstance(m, nn.Linear):",
                  "                " + fmt(draw(st.sampled_from(_INITS)), w="m.weight")]
    if draw(st.booleans()):
        lines.append(f"        self.seq = nn.Sequential({', '.join(fmt(draw(st.sampled_from(_LAYERS + _ACTS))) for _ in range(n))})")
    lines += ["", "    def forward(self, x):"]
    lines += ["        " + fmt(draw(st.sampled_from(_FLOW)), i=str(draw(st.integers(0, n)))) for _ in range(n)]
    lines.append("        return x")
    return "\n".join(lines) + "\n"


@st.composite
def keras_model(draw: st.DrawFn) -> str:
    n = draw(st.integers(1, 6))
    fill = {"b": _NUMS, "k": _NUMS, "s": _SCALES,
            "act": st.sampled_from(["relu", "tanh", "selu", "softmax", "linear", "gelu", "bogus", ""]),
            "ki": st.sampled_from(["he_normal", "glorot_uniform", "lecun_normal", "zeros", "ones", "bogus"]),
            "mode": st.sampled_from(["fan_in", "fan_out", "fan_avg", "bogus"]),
            "dist": st.sampled_from(["normal", "uniform", "truncated_normal", "untruncated_normal", "bogus"])}

    def fmt(template: str) -> str:
        return template.format(**{key: draw(strategy) for key, strategy in fill.items()})

    body = ", ".join(fmt(draw(st.sampled_from(_K_LAYERS))) for _ in range(n))
    shape = draw(st.sampled_from(["(32,)", "(28, 28, 1)", "(None,)", "()", "(0,)", "(n,)"]))
    if draw(st.booleans()):
        return ("import keras\nfrom keras import layers, initializers\n\n"
                f"model = keras.Sequential([keras.Input(shape={shape}), {body}])\n")
    calls = "\n".join(f"x = {fmt(draw(st.sampled_from(_K_LAYERS)))}(x)" for _ in range(n))
    return ("from tensorflow import keras\nfrom tensorflow.keras import layers, initializers\n\n"
            f"inputs = keras.Input(shape={shape})\nx = inputs\n{calls}\nmodel = keras.Model(inputs, x)\n")


@fuzz_settings(40)
@given(st.one_of(torch_model(), keras_model()))
def test_generated_models_lint_cleanly(text: str) -> None:
    lint_text(text, "generated.py")


@fuzz_settings(20)
@given(st.one_of(torch_model(), keras_model()), st.lists(mutation, max_size=2))
def test_generated_models_mutated_lint_cleanly(text: str, ops: list) -> None:
    lint_text(_apply(text, ops), "generated.py")


def test_hypothesmith_programs_lint_cleanly() -> None:
    """Arbitrary grammatical Python (hypothesmith), with a torch import so that it is parsed."""
    hypothesmith = pytest.importorskip("hypothesmith")

    @fuzz_settings(10)
    @given(hypothesmith.from_grammar())
    def run(source: str) -> None:
        lint_text("import torch\nimport torch.nn as nn\n" + source, "grammar.py")

    run()


def _tokenized_code_lines(text: str) -> list[str]:
    """The oracle of :func:`code_lines`: the tokenizer's comments and strings blanked (None: it does not tokenize)."""
    out = source_lines(text)
    blanked = {tokenize.COMMENT, tokenize.STRING} | ({tokenize.FSTRING_START, tokenize.FSTRING_MIDDLE, tokenize.FSTRING_END}
                                                     if hasattr(tokenize, "FSTRING_MIDDLE") else set())
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in blanked:
            (r0, c0), (r1, c1) = tok.start, tok.end
            for r in range(r0, r1 + 1):
                line = out[r - 1]
                a, b = (c0 if r == r0 else 0), (c1 if r == r1 else len(line))
                out[r - 1] = line[:a] + " " * (b - a) + line[b:]
    return out


def test_code_lines_blank_what_the_tokenizer_calls_comments_and_strings() -> None:
    """The regex scan of :func:`code_lines` against the tokenizer, on every fixture and on grammatical Python."""
    hypothesmith = pytest.importorskip("hypothesmith")
    for text in TEXTS + ['x = rb"a\\\nb" + f\'{y}\' # c\nz = """q\\"""" + \'\'\'\n\'\'\'\n']:
        assert code_lines(text) == _tokenized_code_lines(text)

    @fuzz_settings(40)
    @given(hypothesmith.from_grammar())
    def run(source: str) -> None:
        if "\r" in source or "{" in source:  # a lone CR: plain lines; braces: f-string fields tokenize apart on 3.12
            return
        try:
            expected = _tokenized_code_lines(source)
        except (tokenize.TokenError, SyntaxError):
            return
        assert code_lines(source) == expected

    run()


# -- determinism --------------------------------------------------------------------------------


def _render(result: FileResult) -> str:
    return json_reporter.render(Report((result,)), True, False)


@fuzz_settings(10)
@given(mutated)
def test_same_input_same_output(case: tuple[str, str]) -> None:
    name, text = case
    assert _render(lint_source(text, name, SETTINGS)) == _render(lint_source(text, name, SETTINGS))


def test_output_independent_of_hash_seed(tmp_path: Path) -> None:
    """The CLI prints the same bytes under two PYTHONHASHSEED values (sets and dicts of strings)."""
    import random

    rng = random.Random(1234)
    for k in range(12):
        index = rng.randrange(len(CORPUS))
        ops = [(rng.choice(MUTATIONS), rng.random(), rng.random(), rng.randrange(2**16)) for _ in range(rng.randrange(3))]
        (tmp_path / f"m{k:02d}_{CORPUS[index].name}").write_text(_apply(TEXTS[index], ops), encoding="utf-8")
    outputs = set()
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        for fmt in ("json", "text"):
            proc = subprocess.run(
                [sys.executable, "-m", "initlint", str(tmp_path), "--format", fmt, "--no-cache", "--jobs", "1",
                 "--show-unresolved"],
                capture_output=True, env=env, cwd=tmp_path, timeout=300,
            )
            assert b"Traceback" not in proc.stderr and b"internal error" not in proc.stderr, proc.stderr.decode()
            outputs.add((fmt, proc.returncode, proc.stdout, proc.stderr))
    assert len(outputs) == 2, "output differs between hash seeds"


# -- --fix on mutated files ---------------------------------------------------------------------


@fuzz_settings(15)
@given(mutated)
def test_fix_changes_nothing_or_writes_parsing_idempotent_code(case: tuple[str, str]) -> None:
    """``--fix`` either leaves a file alone or writes one that parses and a second ``--fix`` keeps."""
    import ast
    import warnings

    import libcst as cst

    from initlint.fixes import plan_source

    name, text = case
    planned = plan_source(text, lint_text(text, name), SETTINGS)
    if not planned.changed:
        return
    cst.parse_module(planned.new_text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ast.parse(text)
        except (SyntaxError, ValueError):
            pass
        else:  # what CPython accepted before the fix it accepts after it
            ast.parse(planned.new_text)
    again = plan_source(planned.new_text, lint_text(planned.new_text, name), SETTINGS)
    assert again.new_text == planned.new_text, again.diff()
