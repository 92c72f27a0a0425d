"""The Keras source frontend on real libcst parses: records, fans, initializers, activations, flow."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import libcst as cst
import pytest

from initlint import lint_source
from initlint.formulas import TRUNCNORM_STD_2
from initlint.frontends.keras import layers as keras_source
from initlint.frontends.python.source import SourceFile
from initlint.records import LayerRecord
from initlint.settings import Settings

from .conftest import ROOT


def records(code: str, settings: Settings | None = None) -> dict[str, LayerRecord]:
    text = textwrap.dedent(code)
    source = SourceFile("m.py", text, cst.parse_module(text), settings or Settings())
    return {r.name: r for r in keras_source.records(source)}


def one(code: str, name: str) -> LayerRecord:
    found = records(code)
    assert name in found, sorted(found)
    return found[name]


SEQ = """
import keras
from keras import layers, initializers
model = keras.Sequential([
    keras.Input(shape=(256,)),
    layers.Dense(256, activation="relu", kernel_initializer={init}, name="fc"),
    layers.Dense(10),
])
"""


def init_of(expr: str):
    spec = one(SEQ.format(init=expr), "model.fc").init
    assert spec is not None
    return spec


# -- initializers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "scheme", "scale", "mode", "distribution"),
    [
        ('"he_normal"', "he", 2.0, "fan_in", "truncated_normal"),
        ('"he_uniform"', "he", 2.0, "fan_in", "uniform"),
        ('"glorot_normal"', "glorot", 1.0, "fan_avg", "truncated_normal"),
        ('"lecun_uniform"', "lecun", 1.0, "fan_in", "uniform"),
        ("initializers.HeNormal(seed=3)", "he", 2.0, "fan_in", "truncated_normal"),
        ("keras.initializers.lecun_normal()", "lecun", 1.0, "fan_in", "truncated_normal"),
        ('initializers.VarianceScaling(2.0, "fan_out", "truncated_normal")', "he", 2.0, "fan_out", "truncated_normal"),
        ('initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="normal")', "he", 2.0, "fan_in",
         "truncated_normal"),
        ('initializers.VarianceScaling(1.0, "fan_in", "untruncated_normal")', "lecun", 1.0, "fan_in", "normal"),
        ("initializers.VarianceScaling(scale=0.1)", "variance-scaling", 0.1, "fan_in", "truncated_normal"),
        ('initializers.VarianceScaling(1 / 3, "fan_in", "uniform")', "variance-scaling", 1 / 3, "fan_in", "uniform"),
        ('{"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}', "he", 2.0, "fan_out",
         "truncated_normal"),
        ("initializers.Orthogonal(gain=2.0)", "orthogonal", 4.0, "fan_max", "orthogonal"),
    ],
)
def test_fan_scaled_initializers(expr: str, scheme: str, scale: float, mode: str, distribution: str) -> None:
    spec = init_of(expr)
    assert (spec.scheme, spec.mode, spec.distribution, spec.source) == (scheme, mode, distribution, "declared")
    assert spec.scale == pytest.approx(scale)


@pytest.mark.parametrize(
    ("expr", "std", "mean"),
    [
        ('"random_normal"', 0.05, 0.0),
        ('"normal"', 0.05, 0.0),
        ("initializers.RandomNormal(mean=0.1, stddev=0.2)", 0.2, 0.1),
        ('"random_uniform"', 0.1 / math.sqrt(12), 0.0),
        ("initializers.RandomUniform(0.0, 1.0)", 1 / math.sqrt(12), 0.5),
        ('"truncated_normal"', 0.05 * TRUNCNORM_STD_2, 0.0),
        ("initializers.TruncatedNormal(stddev=0.02)", 0.02 * TRUNCNORM_STD_2, 0.0),
    ],
)
def test_fixed_std_initializers(expr: str, std: float, mean: float) -> None:
    spec = init_of(expr)
    assert spec.scheme == "fixed-std"
    assert spec.std == pytest.approx(std)
    assert spec.mean == pytest.approx(mean)


@pytest.mark.parametrize(
    ("expr", "scheme", "value"),
    [('"zeros"', "zero", 0.0), ('"ones"', "constant", 1.0), ("initializers.Constant(0.5)", "constant", 0.5),
     ("initializers.Constant(0)", "zero", 0.0), ('"identity"', "identity", None)],
)
def test_constant_initializers(expr: str, scheme: str, value: float | None) -> None:
    spec = init_of(expr)
    assert (spec.scheme, spec.value) == (scheme, value)


def test_default_kernel_is_glorot_uniform() -> None:
    rec = one("""
        import keras
        m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu", name="fc")])
    """, "m.fc")
    assert rec.init is not None
    assert (rec.init.scheme, rec.init.source, rec.init.scale, rec.init.mode, rec.init.distribution) == (
        "glorot", "default", 1.0, "fan_avg", "uniform")
    assert rec.init.call == "Keras default glorot_uniform"
    assert rec.kernel_arg == "kernel_initializer"


@pytest.mark.parametrize(
    ("expr", "reason"),
    [('"xavier_uniform"', "not a Keras initializer"), ('"Glorot_Uniform"', "not a Keras initializer"),
     ("make_init()", "not resolved"), ("initializers.VarianceScaling(scale=s)", "not a literal")],
)
def test_unknown_initializers_are_unresolved(expr: str, reason: str) -> None:
    rec = one(SEQ.format(init=expr), "model.fc")
    assert rec.init is None
    assert reason in rec.unresolved


def test_module_constants_and_parameter_defaults() -> None:
    found = records("""
        from tensorflow.keras import layers, initializers
        INIT = "he_normal"
        CONV_INIT = initializers.VarianceScaling(scale=2.0, mode="fan_out")

        def block(x, filters=32, act="relu", init=INIT):
            x = layers.Conv2D(filters, 3, padding="same", kernel_initializer=init, name="a")(x)
            x = layers.Activation(act)(x)
            x = layers.Conv2D(filters, 3, kernel_initializer=CONV_INIT, activation=act, name="b")(x)
            return x
    """)
    a, b = found["block.a"], found["block.b"]
    assert a.init is not None and a.init.scheme == "he" and a.activation is not None and a.activation.name == "relu"
    assert b.init is not None and (b.init.scheme, b.init.mode) == ("he", "fan_out")
    assert (b.fan_in, b.fan_out) == (32 * 9, 32 * 9)  # input channels from a's literal-default filters


# -- fans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "fans"),
    [
        ("layers.Dense(64)", (48, 64)),
        ("layers.Conv2D(64, 3)", (48 * 9, 64 * 9)),
        ("layers.Conv2D(64, (3, 5), groups=4)", (12 * 15, 64 * 15)),
        ("layers.Conv2DTranspose(16, 4, strides=2)", (16 * 16, 48 * 16)),
        ("layers.DepthwiseConv2D(3, depth_multiplier=2)", (48 * 9, 2 * 9)),
        ("layers.SeparableConv2D(32, 3, depth_multiplier=2)", (96, 32)),
        ("layers.Conv2D(64, 3, data_format='channels_first')", (None, 64 * 9)),
    ],
)
def test_conv_fans_follow_keras(layer: str, fans: tuple[int | None, int | None]) -> None:
    rec = one(f"""
        import keras
        from keras import layers
        inputs = keras.Input(shape=(32, 32, 48))
        x = {layer[:-1]}, name="k")(inputs)
        model = keras.Model(inputs, layers.ReLU()(x))
    """, "<module>.k")
    assert (rec.fan_in, rec.fan_out) == fans


def test_kernel_arg_names_the_judged_kernel() -> None:
    found = records("""
        import keras
        from keras import layers
        m = keras.Sequential([
            keras.Input((8, 8, 4)),
            layers.DepthwiseConv2D(3, name="dw"),
            layers.SeparableConv2D(8, 3, name="sep"),
            layers.Conv1DTranspose(8, 3, name="tr") if False else layers.Conv2D(8, 1, name="pw"),
        ])
    """)
    assert found["m.dw"].kernel_arg == "depthwise_initializer"
    assert found["m.sep"].kernel_arg == "pointwise_initializer"
    assert found["m.dw"].kind == found["m.sep"].kind == "conv"


def test_fans_flow_through_flatten_pooling_and_concatenation() -> None:
    found = records("""
        import keras
        from keras import layers
        inputs = keras.Input(shape=(28, 28, 1))
        x = layers.Flatten()(inputs)
        a = layers.Dense(100, name="a")(x)
        b = layers.Dense(28, name="b")(x)
        c = layers.Concatenate()([a, b])
        y = layers.Dense(10, name="c")(c)
        model = keras.Model(inputs, y)
    """)
    assert (found["<module>.a"].fan_in, found["<module>.c"].fan_in) == (784, 128)


# -- activations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "name", "family", "slope"),
    [
        ('layers.Activation("relu")', "relu", "relu", 0.0),
        ('layers.Activation("swish")', "silu", "smooth", 0.0),
        ('layers.Activation("leaky_relu")', "leaky_relu", "relu", 0.2),
        ("layers.LeakyReLU()", "LeakyReLU", "relu", 0.3),
        ("layers.LeakyReLU(alpha=0.1)", "LeakyReLU", "relu", 0.1),
        ("layers.LeakyReLU(negative_slope=0.2)", "LeakyReLU", "relu", 0.2),
        ("layers.ReLU(max_value=6.0)", "ReLU6", "relu", 0.0),
        ("layers.ReLU(negative_slope=0.05)", "LeakyReLU", "relu", 0.05),
        ("layers.PReLU()", "PReLU", "relu", 0.0),
        ("layers.ELU()", "ELU", "relu", 0.0),
        ("layers.Softmax()", "Softmax", "linear", 0.0),
        ('layers.Activation("hard_swish")', "hard_silu", "smooth", 0.0),
        ("layers.Activation(keras.activations.tanh)", "tanh", "tanh", 0.0),
    ],
)
def test_activation_layers(after: str, name: str, family: str, slope: float) -> None:
    rec = one(f"""
        import keras
        from keras import layers
        model = keras.Sequential([keras.Input((16,)), layers.Dense(16, name="fc"), {after}, layers.Dense(1)])
    """, "model.fc")
    assert rec.activation is not None
    assert (rec.activation.name, rec.activation.family, rec.activation.slope) == (name, family, pytest.approx(slope))


@pytest.mark.parametrize(
    ("call", "name", "slope"),
    [
        ("keras.activations.relu(x)", "relu", 0.0),
        ("keras.activations.leaky_relu(x)", "leaky_relu", 0.2),
        ("keras.ops.leaky_relu(x, negative_slope=0.1)", "leaky_relu", 0.1),
        ("tf.nn.leaky_relu(x, alpha=0.3)", "leaky_relu", 0.3),
        ("tf.nn.relu6(x)", "relu6", 0.0),
        ("tf.tanh(x)", "tanh", 0.0),
        ("tf.nn.selu(x)", "selu", 0.0),
        ("keras.activations.relu(x, negative_slope=0.1)", "leaky_relu", 0.1),
    ],
)
def test_activation_functions_on_tensors(call: str, name: str, slope: float) -> None:
    rec = one(f"""
        import keras
        import tensorflow as tf
        inputs = keras.Input(shape=(16,))
        x = keras.layers.Dense(16, name="fc")(inputs)
        x = {call}
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
    """, "<module>.fc")
    assert rec.activation is not None
    assert (rec.activation.name, rec.activation.slope) == (name, pytest.approx(slope))


def test_user_declared_activation_layer() -> None:
    code = """
        import keras
        model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(16, name="fc"), SquaredReLU()])
    """
    assert one(code, "model.fc").unresolved
    rec = records(code, Settings(activations={"SquaredReLU": "relu"}))["model.fc"]
    assert rec.activation is not None and rec.activation.family == "relu"


def test_output_layer_is_a_linear_head_and_reaches_weight() -> None:
    found = records("""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((16,)),
            layers.Dense(16, activation="sigmoid", name="gate"),
            layers.Dense(16, name="proj"),
            layers.Dense(3, activation="tanh", name="out"),
        ])
    """)
    assert found["model.gate"].activation.reaches_weight  # type: ignore[union-attr]
    assert found["model.proj"].activation.family == "linear"  # type: ignore[union-attr]
    assert not found["model.out"].activation.reaches_weight  # type: ignore[union-attr]


# -- flow -----------------------------------------------------------------------------------


def test_normalization_and_residual_marks() -> None:
    found = records("""
        import keras
        from keras import layers
        def block(x, filters=16):
            y = layers.Conv2D(filters, 3, padding="same", name="c1")(x)
            y = layers.BatchNormalization()(y)
            y = layers.ReLU()(y)
            y = layers.Conv2D(filters, 3, padding="same", name="c2")(y)
            y = layers.Add()([x, y])
            return layers.Activation("relu")(y)
    """)
    c1, c2 = found["block.c1"], found["block.c2"]
    assert c1.normalized and not c1.residual_end
    assert c2.residual_end and not c2.normalized
    assert c2.activation is not None and c2.activation.family == "relu"


def test_returned_tensors_are_followed_into_callers() -> None:
    found = records("""
        import keras
        from keras import layers
        def conv_bn(x, filters):
            x = layers.Conv2D(filters, 3, name="conv")(x)
            return layers.BatchNormalization()(x)
        def build():
            inputs = keras.Input((32, 32, 3))
            x = conv_bn(inputs, 16)
            x = layers.Activation("gelu")(x)
            x = conv_bn(x, 32)
            x = layers.Activation("gelu")(x)
            return keras.Model(inputs, x)
    """)
    conv = found["conv_bn.conv"]
    assert conv.activation is not None and conv.activation.name == "gelu" and conv.normalized


def test_callers_that_disagree_leave_the_layer_unresolved() -> None:
    rec = one("""
        import keras
        from keras import layers
        def proj(x):
            return layers.Dense(8, name="p")(x)
        def build():
            inputs = keras.Input((8,))
            a = layers.ReLU()(proj(inputs))
            b = layers.Activation("tanh")(proj(inputs))
            return keras.Model(inputs, [a, b])
    """, "proj.p")
    assert rec.activation is None and "different activations" in rec.unresolved


def test_subclassed_model_and_block_class() -> None:
    found = records("""
        import tensorflow as tf
        class Block(tf.keras.layers.Layer):
            def __init__(self, units=32):
                super().__init__()
                self.fc = tf.keras.layers.Dense(units)
            def call(self, x):
                return self.fc(x)
        class Net(tf.keras.Model):
            def __init__(self):
                super().__init__()
                self.block = Block(32)
                self.head = tf.keras.layers.Dense(10)
            def call(self, x):
                return self.head(tf.nn.elu(self.block(x)))
    """)
    assert found["Block.fc"].activation.name == "elu"  # type: ignore[union-attr]
    assert found["Net.head"].activation.family == "linear"  # type: ignore[union-attr]
    assert found["Block.fc"].scope == "Block"


def test_branches_meet_and_loops_feed_themselves() -> None:
    found = records("""
        import keras
        from keras import layers
        def build(use_bn=True, depth=3):
            inputs = keras.Input((64,))
            x = inputs
            for _ in range(depth):
                x = layers.Dense(64, name="d")(x)
                if use_bn:
                    x = layers.BatchNormalization()(x)
                x = layers.ReLU()(x)
            return keras.Model(inputs, layers.Dense(1)(x))
    """)
    d = found["build.d"]
    assert d.activation is not None and d.activation.family == "relu"
    assert d.normalized  # on one of the paths: the lenient reading
    assert (d.fan_in, d.fan_out) == (64, 64)  # the input and every later iteration are 64 wide


def test_a_loop_site_with_changing_fans_has_unknown_fans() -> None:
    rec = one("""
        import keras
        inputs = keras.Input((32,))
        x = inputs
        for _ in range(2):
            x = keras.layers.Dense(64, activation="relu", name="d")(x)
        model = keras.Model(inputs, x)
    """, "<module>.d")
    assert (rec.fan_in, rec.fan_out) == (None, 64)  # 32 -> 64 first, 64 -> 64 after


def test_dropout_records_know_their_network() -> None:
    found = records("""
        import keras
        from keras import layers
        selu = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="selu"), layers.Dropout(0.1, name="dr")])
        plain = keras.Sequential([keras.Input((8,)), layers.Dense(8, activation="relu"), layers.Dropout(0.1, name="dr")])
    """)
    assert found["selu.dr"].selu_network and found["selu.dr"].kind == "dropout"
    assert not found["plain.dr"].selu_network


def test_origin_is_the_construction_call() -> None:
    text = textwrap.dedent("""
        import keras
        model = keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(
                4, activation="relu", kernel_initializer="glorot_uniform"),
            keras.layers.Dense(1),
        ])
    """)
    result = lint_source(text, "m.py")
    assert [(f.line, f.column, f.code) for f in result.findings] == [(5, 5, "INIT001")]


def test_star_import_and_aliases() -> None:
    found = records("""
        from tensorflow.keras.layers import *
        from tensorflow.keras.models import Sequential as Seq
        m = Seq([Input(shape=(10,)), Dense(10, activation="relu", name="fc"), Dense(2)])
    """)
    assert found["m.fc"].fan_in == 10 and found["m.fc"].activation.family == "relu"  # type: ignore[union-attr]


def test_non_keras_names_are_ignored() -> None:
    assert records("""
        import keras
        from mylib import Dense
        x = Dense(10, activation="relu")
    """) == {}


def test_application_code_shapes() -> None:
    """keras.src.* imports (the library's own applications) and the Functional class."""
    found = records("""
        from keras.src import layers
        from keras.src.models import Functional
        def tiny(classes=10, classifier_activation="softmax"):
            img_input = layers.Input(shape=(32, 32, 3))
            x = layers.Conv2D(16, 3, activation="relu", kernel_initializer="he_normal", name="c")(img_input)
            x = layers.GlobalAveragePooling2D()(x)
            x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
            return Functional(img_input, x, name="tiny")
    """)
    assert found["tiny.c"].fan_in == 27
    assert found["tiny.predictions"].activation.name == "softmax"  # type: ignore[union-attr]
    assert found["tiny.predictions"].fan_in == 16


def test_source_path_never_imports_frameworks() -> None:
    code = f"""
import sys
from initlint import lint_paths
report = lint_paths([{str(ROOT / 'tests' / 'fixtures' / 'keras')!r}])
assert report.summary().layers > 100
heavy = [m for m in ("keras", "tensorflow", "torch", "numpy", "onnx") if m in sys.modules]
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_parameter_defaults_that_callers_replace_are_not_trusted() -> None:
    found = records("""
        import keras
        from keras import layers
        def block(x, width=64, act="relu", init="glorot_uniform"):
            x = layers.Dense(width, kernel_initializer=init, name="fc")(x)
            return layers.Activation(act)(x)
        def same(x, act="relu"):
            return layers.Dense(8, activation=act, name="fc")(x)
        def build():
            inputs = keras.Input((64,))
            x = block(inputs, act="tanh")
            x = block(x, 32)
            x = same(x, act="relu")
            x = same(x)
            return keras.Model(inputs, layers.Dense(1)(x))
    """)
    fc = found["block.fc"]
    assert fc.activation is None and "parameter 'act'" in fc.unresolved
    assert fc.fan_out is None  # width is 64 by default but 32 at one call
    assert found["same.fc"].activation is not None and not found["same.fc"].unresolved


def test_keras_example_findings() -> None:
    report = lint_source((ROOT / "examples" / "keras_model.py").read_text(), "keras_model.py")
    got = {(f.line, f.code, f.severity) for f in report.findings}
    assert got == {(25, "INIT001", "warning"), (29, "INIT005", "advice"), (42, "INIT004", "error"),
                   (44, "INIT009", "advice")}
    assert all(not r.unresolved for r in report.records)


def test_layer_factories_conditional_tensors_and_dict_outputs() -> None:
    found = records("""
        import keras
        from keras import layers
        def conv(filters):
            return layers.Conv2D(filters, 3, padding="same", kernel_initializer="he_normal", name="c")
        def block(filters=16):
            return keras.Sequential([layers.Dense(filters, name="d"), layers.Activation("tanh")])
        def build(use_proj=False):
            inputs = keras.Input((8, 8, 4))
            x = conv(8)(inputs)
            x = layers.ReLU()(x)
            y = layers.Dense(4, name="p")(x) if use_proj else x
            y = layers.ELU()(y)
            z = block()(layers.Flatten()(y))
            return keras.Model(inputs, {"out": layers.Dense(2, name="head")(z)})
    """)
    assert found["conv.c"].activation.name == "ReLU"  # type: ignore[union-attr]
    assert found["build.p"].activation.name == "ELU"  # type: ignore[union-attr]
    assert found["block.d"].activation.name == "tanh"  # type: ignore[union-attr]
    assert found["build.head"].activation.family == "linear"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("stack", "fan_in"),
    [
        ('layers.Conv2D(8, 3)', 26 * 26 * 8),
        ('layers.Conv2D(8, 3, padding="same", strides=2)', 14 * 14 * 8),
        ('layers.Conv2D(8, 5, strides=(2, 2))', 12 * 12 * 8),
        ("layers.MaxPooling2D()", 14 * 14 * 1),
        ("layers.MaxPooling2D(pool_size=(3, 3), strides=2)", 13 * 13 * 1),
        ('layers.AveragePooling2D(2, padding="same")', 14 * 14 * 1),
        ("layers.UpSampling2D()", 56 * 56 * 1),
        ("layers.ZeroPadding2D(2)", 32 * 32 * 1),
        ('layers.Conv2DTranspose(4, 3, strides=2, padding="same")', 56 * 56 * 4),
        ("layers.Conv2DTranspose(4, 3, strides=2)", 57 * 57 * 4),
    ],
)
def test_spatial_sizes_reach_flatten(stack: str, fan_in: int) -> None:
    rec = one(f"""
        import keras
        from keras import layers
        model = keras.Sequential([
            keras.Input((28, 28, 1)), {stack}, layers.Flatten(), layers.Dense(10, name="head")
        ])
    """, "model.head")
    assert rec.fan_in == fan_in


def test_closures_over_tensors_of_an_enclosing_function() -> None:
    found = records("""
        import keras
        def outer():
            x = keras.Input((4,))
            def inner(y):
                return keras.layers.Dense(4, name="d")(x + y)
            return inner
    """)
    assert found["outer.inner.d"].unresolved


def test_lists_of_layers_built_by_comprehension() -> None:
    found = records("""
        import tensorflow as tf
        class Tower(tf.keras.Model):
            def __init__(self, depth=3):
                super().__init__()
                self.blocks = [tf.keras.layers.Dense(64, activation="relu", name="hidden") for _ in range(depth)]
                self.head = tf.keras.layers.Dense(1)
            def call(self, x):
                for block in self.blocks:
                    x = block(x)
                return self.head(x)
    """)
    hidden = found["Tower.hidden"]
    assert hidden.activation is not None and hidden.activation.family == "relu" and not hidden.unresolved
    assert found["Tower.head"].fan_in == 64


def test_time_distributed_wraps_the_judged_layer() -> None:
    rec = one("""
        import keras
        from keras import layers
        inputs = keras.Input((10, 32))
        x = layers.TimeDistributed(layers.Dense(32, name="td"))(inputs)
        x = layers.ReLU()(x)
        model = keras.Model(inputs, layers.LSTM(8)(x))
    """, "<module>.td")
    assert (rec.fan_in, rec.fan_out) == (32, 32)
    assert rec.activation is not None and rec.activation.name == "ReLU"
