"""The Keras frontend on the project model (SPEC 8.32): constructor parameters, call sites, tensor ops, lists of
layers, helper methods, inheritance and other files, on real libcst parses and real projects on disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from initlint import lint_paths, lint_source
from initlint.cache import Cache
from initlint.frontends.keras import layers as keras_source
from initlint.frontends.python.source import SourceFile
from initlint.records import LayerRecord
from initlint.settings import Settings


def records(code: str) -> dict[str, LayerRecord]:
    text = textwrap.dedent(code)
    source = SourceFile("m.py", text, cst.parse_module(text), Settings())
    return {r.name: r for r in keras_source.records(source)}


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def by_name(report: object) -> dict[str, LayerRecord]:
    return {rec.name: rec for r in report.results for rec in r.records}  # type: ignore[attr-defined]


def findings(report: object) -> set[tuple[str, str, str]]:
    return {(f.layer, f.code, f.severity) for f in report.findings}  # type: ignore[attr-defined]


BLOCK = """
import keras
from keras import ops


def clone_initializer(initializer):
    return initializer


class FeedForward(keras.layers.Layer):
    def __init__(self, units, activation="relu", kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, shape):
        self.inner = keras.layers.Dense(self.units, activation=self.activation,
                                        kernel_initializer=clone_initializer(self.kernel_initializer))

    def call(self, x):
        return self.inner(x)
"""


def test_a_public_blocks_constructor_defaults_decide() -> None:
    """``kernel_initializer="glorot_uniform"`` stored through keras.initializers.get and passed through
    clone_initializer (a conventions identity), ``activation="relu"`` through keras.activations.get."""
    inner = records(BLOCK)["FeedForward.inner"]
    assert inner.init is not None and inner.init.scheme == "glorot" and inner.init.source == "declared"
    assert inner.activation is not None and inner.activation.family == "relu" and not inner.unresolved


def test_call_sites_in_the_file_decide_when_they_agree_and_name_the_parameter_when_not() -> None:
    agree = records(BLOCK + """
def build():
    x = keras.Input((8, 16))
    x = FeedForward(16, activation="tanh", kernel_initializer="lecun_normal")(x)
    x = FeedForward(16, "tanh", "lecun_normal")(x)
    return keras.Model(x, x)
""")["FeedForward.inner"]
    assert agree.init is not None and agree.init.scheme == "lecun" and agree.activation.family == "tanh"  # type: ignore[union-attr]
    disagree = records(BLOCK + """
def build():
    x = keras.Input((8, 16))
    x = FeedForward(16, activation="tanh")(x)
    x = FeedForward(16)(x)
    return keras.Model(x, x)
""")["FeedForward.inner"]
    assert disagree.activation is None
    assert "parameter 'activation'" in disagree.unresolved and "in build" in disagree.unresolved
    passes_kwargs = records(BLOCK + """
def build(**options):
    x = keras.Input((8, 16))
    return FeedForward(16, **options)(x)
""")["FeedForward.inner"]
    assert "**options" in passes_kwargs.unresolved


def test_the_callers_in_other_files_decide_with_their_helpers(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/blocks.py": BLOCK,
        "pkg/utils.py": """
            import keras

            def gelu_approximate(x):
                return keras.activations.gelu(x, approximate=True)

            def pkg_initializer(stddev=0.02):
                return keras.initializers.TruncatedNormal(stddev=stddev)
        """,
        "pkg/model.py": """
            import keras
            from pkg.blocks import FeedForward
            from pkg.utils import gelu_approximate, pkg_initializer

            class Model(keras.Model):
                def __init__(self, width=16, **kwargs):
                    x = keras.Input((8, width))
                    y = FeedForward(width, activation=gelu_approximate, kernel_initializer=pkg_initializer())(x)
                    super().__init__(inputs=x, outputs=y, **kwargs)
        """,
    })
    blocks = root / "pkg" / "blocks.py"
    inner = by_name(lint_paths([str(blocks)]))["FeedForward.inner"]  # one file linted: the project decides
    assert inner.init is not None and inner.init.scheme == "fixed-std"
    assert inner.init.std == pytest.approx(0.02 * 0.8796, rel=1e-3)
    assert inner.activation is not None and inner.activation.name == "gelu"
    assert not findings(lint_paths([str(blocks)]))  # alone it is Glorot before ReLU: INIT001 warning
    alone = lint_paths([str(blocks)], Settings(project=False))
    assert ("FeedForward.inner", "INIT001", "warning") in findings(alone)


def test_a_changed_caller_changes_the_blocks_verdict_through_the_cache(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {
        "pkg/__init__.py": "",
        "pkg/blocks.py": BLOCK,
        "pkg/model.py": """
            import keras
            from pkg.blocks import FeedForward

            def build():
                x = keras.Input((8, 16))
                return keras.Model(x, FeedForward(16, kernel_initializer="he_normal")(x))
        """,
    })
    settings = Settings()
    blocks = root / "pkg" / "blocks.py"
    first = lint_paths([str(blocks)], settings, cache=Cache(tmp_path / "c", settings))
    assert not findings(first)
    model = root / "pkg" / "model.py"
    model.write_text(model.read_text().replace('"he_normal"', '"glorot_normal"'))
    again = lint_paths([str(blocks)], settings, cache=Cache(tmp_path / "c", settings))
    assert ("FeedForward.inner", "INIT001", "warning") in findings(again)


def test_tensor_ops_shape_queries_attention_and_gates() -> None:
    found = records("""
        import keras
        from keras import ops

        class Attention(keras.layers.Layer):
            def __init__(self, heads=4, **kwargs):
                super().__init__(**kwargs)
                self.heads = heads
                self.q = keras.layers.Dense(64, name="q")
                self.k = keras.layers.Dense(64, name="k")
                self.gate = keras.layers.Dense(64, name="gate")
                self.up = keras.layers.Dense(64, name="up")
                self.scaled = keras.layers.Dense(64, name="scaled")

            def call(self, x, positions):
                batch = ops.shape(x)[0]
                q = ops.transpose(ops.reshape(self.q(x), (batch, -1, self.heads, 16)), (0, 2, 1, 3))
                k = ops.cast(self.k(x), "float32")
                attended = ops.dot_product_attention(q, k, k)
                gated = ops.multiply(self.up(x), ops.sigmoid(self.gate(x)))
                rotated = self.scaled(x) * ops.cos(positions)
                return attended + gated + ops.relu(rotated)
    """)
    assert found["Attention.q"].activation.family == "linear"  # type: ignore[union-attr]
    assert found["Attention.k"].activation.family == "linear"  # type: ignore[union-attr]
    assert found["Attention.gate"].activation.family == "sigmoid"  # type: ignore[union-attr]
    assert "multiplied with another branch" in found["Attention.up"].unresolved
    assert found["Attention.scaled"].activation.name == "relu"  # type: ignore[union-attr]  # x * cos(pos) passes


def test_lists_dicts_helper_methods_and_layers_chosen_on_branches() -> None:
    found = records("""
        import keras
        from keras import ops

        class Stack(keras.Model):
            def __init__(self, deep=True, **kwargs):
                super().__init__(**kwargs)
                self.blocks = []
                for i in range(3):
                    self.blocks.append(keras.layers.Dense(32, name="hidden"))
                self.heads = {}
                self.heads["a"] = keras.layers.Dense(8, name="head")
                if deep:
                    self.proj = keras.layers.Dense(32, name="proj_a")
                else:
                    self.proj = keras.layers.Dense(32, name="proj_b")

            def _mlp(self, x):
                for block in self.blocks:
                    x = ops.relu(block(x))
                return x

            def call(self, x):
                x = ops.tanh(self.proj(x))
                return self.heads["a"](self._mlp(x))
    """)
    assert found["Stack.hidden"].activation.name == "relu"  # type: ignore[union-attr]
    assert found["Stack.proj_a"].activation.name == "tanh"  # type: ignore[union-attr]
    assert found["Stack.proj_b"].activation.name == "tanh"  # type: ignore[union-attr]
    assert found["Stack.head"].activation.family == "linear"  # type: ignore[union-attr]


def test_a_normalization_written_out_and_a_std_sized_by_the_code() -> None:
    found = records("""
        import keras
        from keras import ops

        class RMSNorm(keras.layers.Layer):
            def call(self, x):
                return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-6)

        class MLP(keras.layers.Layer):
            def __init__(self, hidden_dim, intermediate_dim, **kwargs):
                super().__init__(**kwargs)
                self.wi = keras.layers.Dense(intermediate_dim, activation="relu", name="wi")
                self.wo = keras.layers.Dense(hidden_dim, name="wo", kernel_initializer=keras.initializers.RandomNormal(
                    mean=0, stddev=intermediate_dim ** -0.5))
                self.norm = RMSNorm()
                self.out = keras.layers.Dense(hidden_dim, name="out")

            def call(self, x):
                return ops.gelu(self.norm(self.out(self.wo(self.wi(x)))))
    """)
    wo = found["MLP.wo"]
    assert wo.init is not None and (wo.init.scheme, wo.init.mode, wo.init.scale) == ("lecun", "fan_in", 1.0)
    out = found["MLP.out"]
    assert out.normalized and out.activation.name == "gelu"  # type: ignore[union-attr]


def test_subclasses_functions_passed_as_parameters_and_block_factories(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/base.py": BLOCK,
        "pkg/sub.py": """
            import keras
            from pkg.base import FeedForward

            class Wide(FeedForward):
                def build(self, shape):
                    self.inner = keras.layers.Dense(4 * self.units, activation=self.activation,
                                                    kernel_initializer=self.kernel_initializer, name="wide")

            def stack(x, block):
                return block(x)

            def stem(x):
                return keras.layers.Dense(8, name="stem")(x)

            def build():
                x = keras.Input((8, 16))
                x = stack(x, stem)
                x = keras.layers.ReLU()(x)
                return keras.Model(x, Wide(16, kernel_initializer="he_normal")(x))
        """,
    })
    found = by_name(lint_paths([str(root)]))
    wide = found["Wide.wide"]
    assert wide.init is not None and wide.init.scheme == "he" and wide.activation.family == "relu"  # type: ignore[union-attr]
    assert found["stem.stem"].activation.name == "ReLU"  # type: ignore[union-attr]
    # FeedForward's own layer: Wide overrides build, so Wide's construction does not build it; no other
    # construction in the project: a public block, judged on its defaults.
    assert found["FeedForward.inner"].init.scheme == "glorot"  # type: ignore[union-attr]


def test_alternative_heads_are_not_chained_and_one_fan_says_so() -> None:
    report = lint_source(textwrap.dedent("""
        import keras

        def build(flatten=True, channels=None):
            x = keras.Input((7, 7, channels))
            if flatten:
                x = keras.layers.Conv2D(512, 1, activation="relu", name="a1")(x)
                x = keras.layers.Conv2D(512, 1, activation="relu", name="a2")(x)
            else:
                x = keras.layers.Conv2D(4096, 7, activation="relu", name="b1")(x)
                x = keras.layers.Conv2D(4096, 1, activation="relu", name="b2")(x)
            return keras.Model(x, keras.layers.Dense(10, name="out")(x))
    """), "m.py")
    messages = {f.layer: f.message for f in report.findings}
    assert "square layers" not in messages["build.b1"] and "only fan_out = 200704 is known" in messages["build.b1"]
    # a1 -> a2 is one path, b1 -> b2 another: each chain has two layers, never four
    assert "Over the 2 such layers from build.a1 to build.a2" in messages["build.a1"]
    assert all("Over the 4" not in m for m in messages.values())


def test_a_hard_sigmoid_written_out_is_not_its_relu6() -> None:
    """``relu6(x + 3) / 6`` is a hard sigmoid (SPEC 1: sigmoid family): the shift is not transparent."""
    found = records("""
        import keras
        from keras import layers

        def hard_sigmoid(x):
            return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)

        def build():
            inputs = keras.Input((4, 4, 8))
            x = layers.Conv2D(8, 1, name="c")(inputs)
            scaled = layers.Conv2D(8, 1, name="s")(inputs) * 0.5
            return keras.Model(inputs, [hard_sigmoid(x), layers.ReLU()(scaled)])
    """)
    assert found["build.c"].activation is None and "x + 3.0" in found["build.c"].unresolved
    assert found["build.s"].activation.name == "ReLU"  # type: ignore[union-attr]  # a scale passes


def linted(code: str) -> tuple[dict[str, LayerRecord], set[tuple[str, str, str]]]:
    report = lint_source(textwrap.dedent(code), "m.py")
    return {r.name: r for r in report.records}, {(f.layer, f.code, f.severity) for f in report.findings}


def test_several_consumers_are_judged_as_one_only_where_each_draws_the_same_verdict() -> None:
    """A trunk feeding a normalized ReLU path and a 1x1 shortcut: on Keras' default neither consumer draws a
    finding (SPEC 8.1 silences INIT005 under normalization), so the layer is judged; unnormalized, ReLU draws
    INIT005 (square 576->576: Glorot 2x below He) and the shortcut nothing, so it stays unresolved."""
    code = """
        import keras
        from keras import layers

        def build():
            inputs = keras.Input((16, 16, 64))
            trunk = layers.Conv2D(64, 3, padding="same", name="trunk")(inputs)
            {norm}
            shortcut = layers.Conv2D(128, 1, name="shortcut")(trunk)
            x = layers.Activation("relu")(trunk)
            x = layers.Conv2D(128, 3, padding="same", name="conv")(x)
            return keras.Model(inputs, layers.Add()([x, shortcut]))
    """
    found, issues = linted(code.format(norm="trunk = layers.BatchNormalization()(trunk)"))
    trunk = found["build.trunk"]
    assert not trunk.unresolved and trunk.activation is not None and trunk.activation.name == "linear/relu"
    assert not any(layer == "build.trunk" for layer, _, _ in issues)
    found, issues = linted(code.format(norm=""))
    assert found["build.trunk"].activation is None
    assert found["build.trunk"].unresolved == "consumed by different activations (linear, relu)"


CHOICE = """
    import keras
    from keras import layers

    def build(minimalistic=False):
        if minimalistic:
            activation = relu
        else:
            activation = {other}
        inputs = keras.Input((32, 32, 16))
        x = layers.Conv2D(16, 1, kernel_initializer={init}, name="conv")(inputs)
        x = activation(x)
        return keras.Model(inputs, layers.Conv2D(10, 1, name="head")(x))

    def relu(x):
        return layers.ReLU()(x)

    def hard_swish(x):
        return layers.Activation("hard_swish")(x)

    def tanh(x):
        return layers.Activation("tanh")(x)
"""


def test_a_name_bound_to_one_function_or_another_calls_either() -> None:
    """``activation = relu`` or ``hard_swish`` on the two branches (MobileNetV3): both consume the tensor. Keras'
    default on a square 16->16 layer is 2x below He before either (one finding, naming both); He is right before
    either; He before ReLU or tanh draws different verdicts, so the layer is unresolved."""
    found, issues = linted(CHOICE.format(other="hard_swish", init='"glorot_uniform"'))
    conv = found["build.conv"]  # Glorot written out: a warning before ReLU, advice before hard_swish
    assert conv.activation is None and conv.unresolved == "consumed by different activations (ReLU, hard_silu)"
    found, issues = linted(CHOICE.format(other="hard_swish", init="None").replace("kernel_initializer=None, ", ""))
    conv = found["build.conv"]
    assert conv.activation is not None and conv.activation.name == "ReLU/hard_silu" and (conv.fan_in, conv.fan_out) == (16, 16)
    assert ("build.conv", "INIT005", "advice") in issues
    found, issues = linted(CHOICE.format(other="hard_swish", init='"he_normal"'))
    assert found["build.conv"].activation is not None and not any(layer == "build.conv" for layer, _, _ in issues)
    found, issues = linted(CHOICE.format(other="tanh", init='"he_normal"'))
    assert found["build.conv"].activation is None and "different activations" in found["build.conv"].unresolved


def test_a_name_that_is_none_on_one_branch_is_the_tensor_where_used() -> None:
    """``x_preact = None; if pre: x_preact = relu(bn(x))``, then ``shortcut = x_preact`` or a pooled ``x``
    (ResNet-vd): the pooled tensor reaches the shortcut conv. A tensor whose only use is a name that, after
    a branch, may be a value the analysis does not follow: the reason says so instead of "not used"."""
    code = """
        import keras
        from keras import layers

        def block(x, pre=False, stride=2):
            x_preact = {none}
            if pre:
                x_preact = layers.ReLU()(layers.BatchNormalization()(x))
            if x_preact is not None:
                shortcut = x_preact
            elif stride > 1:
                shortcut = layers.AveragePooling2D(2)(x)
            else:
                shortcut = x
            return layers.Conv2D(16, 1, name="short")(shortcut)

        def build():
            inputs = keras.Input((8, 8, 16))
            x = layers.Conv2D(16, 3, padding="same", name="stem")(inputs)
            return keras.Model(inputs, block(x))
    """
    found, _ = linted(code.format(none="None"))
    assert found["build.stem"].activation is not None and found["build.stem"].activation.name == "ReLU/linear"
    found, _ = linted("""
        import keras
        from keras import layers
        import settings

        def build(flag):
            inputs = keras.Input((8, 8, 16))
            y = layers.Conv2D(16, 3, name="c")(inputs)
            if flag:
                y = settings.value
            return keras.Model(inputs, layers.Dense(10)(y))
    """)
    assert found["build.c"].unresolved == "y is, after a branch, this tensor or a value the analysis does not follow"


SIZED = """
import keras
from keras import layers


class Block(layers.Layer):
    def __init__(self, dim, dims=(8, 16), **kwargs):
        super().__init__(**kwargs)
        self.dim = int(dim)
        self.conv1 = layers.Conv2D(dim, 3, padding="same", activation="relu")
        self.conv2 = layers.Conv2D(self.dim, 3, padding="same", activation="relu")
        self.up = layers.Dense(4 * self.dim, activation="gelu")
        self.down = layers.Dense(dim // 2, activation="relu")
        self.fixed = layers.Dense(dim // 2, activation="relu",
                                  kernel_initializer=keras.initializers.RandomNormal(stddev=0.02))
        self.loop = [layers.Dense(d, activation="relu") for d in dims]

    def call(self, x):
        x = self.up(self.conv2(self.conv1(x)))
        x = self.fixed(self.down(x))
        for layer in self.loop:
            x = layer(x)
        return x


class Model(keras.Model):
    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.block = Block(dim)
        self.head = layers.Dense(10)

    def call(self, x):
        return self.head(self.block(x))


def build(dims):
    def apply(inputs):
        x = layers.Dense(dims[0], activation="relu", name="a")(inputs)
        return layers.Dense(dims[0], activation="relu", name="b")(x)
    return apply
"""


def test_widths_in_a_parameter_give_fans_in_a_known_ratio() -> None:
    """``Conv2D(dim, 3)`` after ``Conv2D(dim, 3)``: fans 9*dim -> 9*dim whatever dim is (a caller passes
    it), so Keras' default before ReLU is 2x below He with the numbers per unit of dim; ``Dense(4 * dim)``
    after it: Glorot's 2/(5 dim) is within 1.25x of He(fan_out), no finding (SPEC 8.3). A fixed std does
    not scale with dim: its fans stay unknown. ``dims[0]`` or a loop's ``d`` is no parameter: no ratio."""
    found, issues = linted(SIZED)
    conv2, up, down = found["Block.conv2"], found["Block.up"], found["Block.down"]
    assert (conv2.fan_in, conv2.fan_out, conv2.fan_unit) == (9, 9, "dim")
    assert (up.fan_in, up.fan_out, up.fan_unit) == (1, 4, "dim") and ("Block.up", "INIT005", "advice") not in issues
    assert (down.fan_in, down.fan_out, down.fan_unit) == (8, 1, "dim/2")  # 4*dim -> dim//2
    assert ("Block.down", "INIT005", "advice") not in issues  # Glorot 2/(9 u) is within 1.13x of He(fan_in)'s 2/(8 u)
    assert found["Block.fixed"].fan_in is None and found["Block.fixed"].fan_unit == ""
    assert found["Block.dense"].fan_unit == "" and found["build.apply.b"].fan_in is None  # the list over dims; dims[0]
    assert ("Block.conv1", "INIT005", "advice") in issues and found["Block.conv1"].fan_in is None  # its input: not shown
    report = lint_source(textwrap.dedent(SIZED), "m.py")
    message = next(f.message for f in report.findings if f.layer == "Block.conv2")
    assert ("With fan_in = 9*dim, fan_out = 9*dim, variance 0.111/dim (std 0.333/sqrt(dim)) is 2x below "
            "He's 0.222/dim (std 0.471/sqrt(dim))") in message


def test_one_layer_applied_twice_with_different_consumers() -> None:
    """A shared convolution: once before a normalized ReLU, once before the next layer. Keras' default draws
    nothing before either, so the site is judged; He written out draws advice before the next layer only, so
    it stays unresolved ("on different uses")."""
    code = """
        import keras
        from keras import layers

        def build():
            a, b = keras.Input((8, 8, 16)), keras.Input((8, 8, 16))
            shared = layers.Conv2D(16, 3, padding="same", {init}name="shared")
            x = layers.ReLU()(layers.BatchNormalization()(shared(a)))
            y = layers.Conv2D(16, 1, name="next")(shared(b))
            return keras.Model([a, b], layers.Add()([x, y]))
    """
    found, issues = linted(code.format(init=""))
    assert found["build.shared"].activation is not None and not found["build.shared"].unresolved
    assert not any(layer == "build.shared" for layer, _, _ in issues)
    found, _ = linted(code.format(init='kernel_initializer="he_normal", '))
    assert found["build.shared"].unresolved == "consumed by different activations on different uses"
