"""Framework-neutral records: what frontends produce and the engine judges.

Every frontend (torch source, Keras source, ONNX graph, live torch model)
turns its input into :class:`LayerRecord` objects; the rule engine turns
records into :class:`Finding` objects; reporters and fixers consume findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Family = Literal["relu", "smooth", "tanh", "sigmoid", "linear", "selu"]
Severity = Literal["error", "warning", "advice"]
Framework = Literal["torch", "keras", "onnx"]
Source = Literal["declared", "default", "measured"]
Mode = Literal["fan_in", "fan_out", "fan_avg", "fan_max"]
Distribution = Literal["normal", "truncated_normal", "uniform", "orthogonal", "constant"]

# What an initializer is, as far as the rules care.
#   he / glorot / lecun      fan-scaled with the paper's gain (scale 2 / 1 / 1)
#   variance-scaling         fan-scaled with any other gain (``scale`` / fan)
#   orthogonal               (semi-)orthogonal matrix times gain (scale = gain**2, mode fan_max)
#   torch-default            PyTorch's U(+-1/sqrt(fan_in)), variance 1/(3 fan_in)
#   fixed-std                a std that does not depend on the fans (``std``; ``mean``)
#   constant / zero          every entry equal (``value``)
#   uninitialized            torch.empty / torch.Tensor(n, m): whatever bytes were in memory
#   identity                 eye_ / dirac_ / Keras Identity
#   trained                  measured tensor that fits no initializer
#   inconclusive             measured tensor too small (or too ambiguous) to tell schemes apart
Scheme = Literal[
    "he",
    "glorot",
    "lecun",
    "variance-scaling",
    "orthogonal",
    "torch-default",
    "fixed-std",
    "constant",
    "zero",
    "uninitialized",
    "identity",
    "trained",
    "inconclusive",
]

Progress = Callable[[str], None]  # a callback told what a long run is doing

FAN_SCALED: frozenset[str] = frozenset(
    {"he", "glorot", "lecun", "variance-scaling", "orthogonal", "torch-default"}
)


@dataclass(frozen=True)
class InitSpec:
    """How a weight tensor is initialized (declared in source, a framework default, or measured).

    For fan-scaled schemes the variance is ``scale / fan(mode)`` where
    ``fan_avg = (fan_in + fan_out) / 2`` and ``fan_max = max(fan_in, fan_out)`` (an orthogonal
    matrix's mean square gain**2/max(rows, cols); exact for 2-D weights).
    For ``fixed-std`` the variance is ``std**2`` (second moment ``std**2 + mean**2``).
    """

    scheme: Scheme
    source: Source = "declared"
    scale: float | None = None
    mode: Mode | None = None
    distribution: Distribution | None = None
    std: float | None = None
    mean: float = 0.0
    value: float | None = None  # constant: every entry; identity and measured orthogonal: the gain
    gain_for: Family | None = None  # the gain was computed for an activation of this family
    gain_nonlinearity: str | None = None  # the exact string, e.g. "selu" for nonlinearity="selu"
    call: str = ""  # as written, e.g. "nn.init.xavier_uniform_" or "default"
    line: int | None = None  # line of the init call (related location)
    column: int | None = None
    note: str = ""  # why the analysis concluded this (e.g. "_init_weights is never applied")
    confidence: float | None = None  # measured specs: how sure the statistics are (0..1)
    measured_std: float | None = None  # measured specs: sample std of the entries


@dataclass(frozen=True)
class Activation:
    """The activation that consumes a layer's output."""

    name: str  # as recognised, e.g. "ReLU", "LeakyReLU", "softmax", "identity"
    family: Family
    slope: float = 0.0  # negative slope (LeakyReLU/PReLU/RReLU)
    reaches_weight: bool = True  # its output visibly reaches another weight layer (SPEC 8.5)


@dataclass(frozen=True)
class Origin:
    """Where a layer comes from: a source position, or a node/module name."""

    path: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class SignalPoint:
    """One weight layer's output on the propagation pass (SPEC 8.18).

    ``forward_std``: std over all elements of the layer's output; ``grad_std``: std of the
    gradient of ``sum(output * R)`` w.r.t. that output, ``grad_norm`` its norm per sample;
    ``dead_fraction``: share of exactly-zero outputs of its relu-family activation. None means
    not measured; inf/nan, overflowed. ``layer`` names the call (``fc (call 2)`` for a reused module).
    """

    layer: str
    forward_std: float | None = None
    grad_std: float | None = None
    dead_fraction: float | None = None
    head: bool = False  # its output reaches the model output without another weight layer
    residual_end: bool = False  # last layer of a residual branch
    shape: tuple[int, ...] | None = None  # output shape without the batch dimension
    grad_norm: float | None = None  # the gradient's norm per sample, sqrt(sum g² / batch) (SPEC 8.36)
    normalized: bool = False  # a normalization follows before the activation: its gradient is scale-free


@dataclass(frozen=True)
class Signal:
    """What a ``network`` record carries: the propagation curve INIT008 judges, or why there is none."""

    curve: tuple[SignalPoint, ...]
    threshold: float  # the factor the std may change by (SPEC 8.18; settings.signal_threshold)
    input_shape: tuple[int, ...] | None = None
    backward: bool = True  # False when only the forward pass could run (ONNX)
    skipped: str = ""  # why no pass was run


@dataclass(frozen=True)
class GraphNode:
    """Where a graph layer sits in its ONNX graph (for the per-layer table and ``--propagate``)."""

    op: str  # the node's op type
    weight: str  # the weight initializer's name
    output: str = ""  # the node's output tensor
    act_output: str = ""  # the consuming activation's output tensor
    head: bool = False  # the output reaches no further weight layer
    group: int = 1  # Conv/ConvTranspose groups
    note: str = ""  # e.g. that a BatchNorm may be folded into the weight


@dataclass(frozen=True)
class LayerRecord:
    """One weight-bearing layer (or, with kind ``dropout``, one dropout site).

    ``activation`` / ``init`` are None when unresolved; ``unresolved`` then says why.
    """

    name: str  # e.g. "Net.fc1", "features[3]", ONNX node name, "encoder.fc1"
    kind: str  # linear, conv, conv_transpose, bilinear, embedding, parameter, dropout, alpha_dropout
    framework: Framework
    origin: Origin
    fan_in: int | None = None
    fan_out: int | None = None
    init: InitSpec | None = None
    activation: Activation | None = None
    normalized: bool = False  # a normalization layer sits between layer and activation
    residual_end: bool = False  # output is added to a skip path (last layer of a residual branch)
    feeds_zero_layer: bool = False  # output feeds another zero-initialized weight layer
    is_weight: bool = True  # raw parameters: visibly used as a matmul weight (SPEC 8.9)
    count: int = 1  # layers built at this construction site (SPEC 8.16)
    scope: str = ""  # module / Sequential / model the layer belongs to (for chains)
    selu_network: bool = False  # dropout records: the enclosing network uses SELU
    unresolved: str = ""  # reason, empty when resolved
    shape: tuple[int, ...] | None = None  # measured tensors
    point: SignalPoint | None = None  # live models: this layer on the propagation pass
    declared: InitSpec | None = None  # live models: the initializer the source declares (INIT007)
    node: GraphNode | None = None  # graphs: the ONNX node
    signal: Signal | None = None  # ``network`` records
    weight_expr: str = ""  # the weight as code, for fix hints (``self.fc1.weight``); "" = ``<name>.weight``
    kernel_arg: str = ""  # Keras: the constructor keyword of the judged initializer (``depthwise_initializer``)
    # SPEC 8.34, chains along data flow. ``traced``: the frontend followed the data flow, so a chain is
    # formed only through ``upstream`` (else, for frontends that do not trace it, through ``scope``).
    traced: bool = False
    upstream: Origin | None = None  # the construction site of the previous weight layer on this layer's one path
    repeats: bool = False  # the layers this site builds follow one another on that path (a loop-built stack)
    init_site: str = ""  # torch source: where the recommended line goes ("in _init_weights inside `if ...:`, ...")
    layer_class: str = ""  # torch source: the layer's class (``Conv2d``), for init code dispatching on it
    # torch source in a project: the other files' module classes the output is passed to (qualified); their
    # :class:`Entry` s join ``provisional`` (what the other uses consume, None if none) as the consumer
    # (SPEC 8.32); until then ``unresolved`` says where it is passed
    into: tuple[str, ...] = ()
    provisional: Activation | None = None
    fan_unit: str = ""  # the fans are these multiples of a size the code names, not fixes (SPEC 8.3 on their ratio)
    # torch source: the fans each container of the file builds the layer with, when they are not the class's
    # own sizes (SPEC 8.32: judged per container); ``(container, fan_in, fan_out)``, None = not known
    container_fans: tuple[tuple[str, int | None, int | None], ...] = ()


@dataclass(frozen=True)
class Verdict:
    """What one check says about one record: ``message`` is the headline, then the derivation, one line each."""

    code: str
    severity: Severity
    message: str
    fix: str | None = None  # short description of the automatic edit, None when there is none
    factor: float | None = None  # per-layer variance factor (actual / required), for chains
    hint: str = ""  # what to write instead and where ("Use instead ..."; also the message's last line), "" if none


@dataclass(frozen=True)
class TextEdit:
    """A replacement in a file's original text: the characters [start, end) become ``text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Finding:
    """A reported problem, located and ready for reporters and fixers."""

    code: str
    name: str
    severity: Severity
    path: str
    line: int | None
    column: int | None
    layer: str
    framework: str
    init: str
    activation: str
    message: str
    fix: str | None = None
    related_line: int | None = None  # the init call's line
    edits: tuple[TextEdit, ...] = ()  # the ``--fix`` edit of this finding alone, when planned with edits
    record: LayerRecord | None = field(default=None, compare=False, repr=False)
    hint: str = ""  # "Use instead ...": what to write and where (also the last line of ``message``)
    cell: int | None = None  # notebooks: the cell (counting every cell from 1); ``line`` is the line in it

    @property
    def headline(self) -> str:
        """The message's first line: what is wrong, by how much (the rest is the derivation)."""
        return self.message.partition("\n")[0]

    @property
    def detail(self) -> list[str]:
        """The message's following lines (derivation and notes), without the hint."""
        return [line for line in self.message.split("\n")[1:] if line and line != self.hint]

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.path, self.cell or 0, self.line or 0, self.column or 0, self.code, self.layer)


@dataclass(frozen=True)
class Effect:
    """What a container's init code does to the layers of a module class of another project file (SPEC 8.32).

    Read from the container's file: its ``apply``/``modules()`` loops, helpers and framework
    conventions run over stand-ins for the other class's layers of each torch class.
    """

    container: str  # qualified class whose init code it is (``timm.models.vision_transformer.VisionTransformer``)
    target: str  # qualified project class whose layers it touches
    layer_class: str  # torch class of those layers (``Linear``; ``Parameter`` for raw parameters)
    init: InitSpec | None  # None: touched in a way the analysis cannot read
    reason: str = ""  # why it is unknown
    via: str = ""  # the init code (``_init_weights``, ``named_apply(init_weights_vit_timm)``)
    path: str = ""  # the container's file
    attr: str = ""  # the layer's attribute in the target (a base class's layer, built by a statement of another file); "" any


@dataclass(frozen=True)
class Entry:
    """What a module class's forward does first with its input: the consumer of whatever a container feeds it.

    Read from the class's own file (its forward run on a stand-in input); used for the layers of other
    files whose output is passed to an instance of the class (SPEC 8.32).

    With ``container`` set it is an *exit* instead: what ``container``'s forward does with the output of an
    instance of ``cls`` (SPEC 8.13: the consumer of the layer ``cls`` returns; ``activation`` None and no
    ``into``: the container's use is not known).
    """

    cls: str  # qualified class
    activation: Activation | None  # None: only ``into`` decides
    normalized: bool = False
    residual: bool = False
    # the input (output) is (also) passed to these classes first: their entries join; a key made by
    # :func:`returned` stands for whatever consumes that class's output in its containers
    into: tuple[str, ...] = ()
    container: str = ""  # an exit: the qualified class whose forward uses the instance's output


RETURNED = "^"  # marks an ``into`` key: the output of the class, consumed in its containers (SPEC 8.13)


def returned(cls: str) -> str:
    """The ``into`` key for "what consumes the output of ``cls`` where its containers use it"."""
    return RETURNED + cls


@dataclass(frozen=True)
class FileResult:
    """Everything the lint of one input produced."""

    path: str
    records: tuple[LayerRecord, ...] = ()
    findings: tuple[Finding, ...] = ()
    error: str | None = None  # one clear line when the input could not be read or parsed
    suppressed: tuple[Finding, ...] = ()
    skipped: bool = False  # no framework mentioned: not parsed
    # (comment line, code, notebook cell or 0) of listed codes that suppress nothing; line 0: a file-level comment
    unused_suppressions: tuple[tuple[int, str, int], ...] = ()
    cells: tuple[tuple[int, int], ...] = ()  # notebooks: (first line in the joined module, cell number) per code cell
    effects: tuple[Effect, ...] = ()  # torch source in a project: what its classes' init code does to other files' layers
    entries: tuple[Entry, ...] = ()  # torch source in a project: what its module classes do first with their input


@dataclass(frozen=True)
class LiveResult(FileResult):
    """A :class:`FileResult` of a live check, plus what it measured.

    ``layers``: one table row per weight layer; ``signal``: the INIT008 curve and its threshold;
    ``tracer``: "fx", "recorded" or "keras graph" (which found the consumers).
    """

    model: str = ""
    input_shape: tuple[int, ...] = ()
    tracer: str = ""
    layers: tuple[dict[str, Any], ...] = ()
    signal: Signal | None = None


@dataclass(frozen=True)
class Summary:
    files: int
    layers: int
    resolved: int
    unresolved: int
    errors: int
    warnings: int
    advice: int


@dataclass(frozen=True)
class Report:
    """The result of a run: one FileResult per input file, in path order."""

    results: tuple[FileResult, ...]

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.results if r.error]

    def summary(self) -> Summary:
        layers = [rec for r in self.results for rec in r.records if is_layer(rec)]
        sev = [f.severity for f in self.findings]
        return Summary(
            files=len(self.results),
            layers=sum(_count(rec) for rec in layers),
            resolved=sum(_count(rec) for rec in layers if not rec.unresolved),
            unresolved=sum(_count(rec) for rec in layers if rec.unresolved),
            errors=sev.count("error"),
            warnings=sev.count("warning"),
            advice=sev.count("advice"),
        )


# A record's count is capped here (no network has more layers), so that no sum of counts is too long
# to print: Python refuses to write an integer of over 4300 digits.
MAX_REPORTED_COUNT = 10**12


def _count(record: LayerRecord) -> int:
    count = record.count if isinstance(record.count, int) else 1
    return min(max(count, 0), MAX_REPORTED_COUNT)


def is_layer(record: LayerRecord) -> bool:
    """Weight layers count in the summary; dropout sites and network-level records do not."""
    return record.kind not in ("dropout", "alpha_dropout", "network")
