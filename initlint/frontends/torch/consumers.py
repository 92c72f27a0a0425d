"""What the data-flow pass finds: per layer, what consumed its output, and the functional dropout calls.

A tensor is a :class:`Val`: the layers whose output it still is (with whether a
normalization or residual add sits in between) and the layers whose activation
produced it. Each consumption of an open output is an :class:`Event` on that
layer; ``layers`` turns agreeing events into an Activation and disagreeing ones
into "unresolved".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import libcst as cst

from ...records import Family
from .forms import OutputVal
from .tree import Layer, Scope


@dataclass(frozen=True)
class Pending:
    """A layer's output not yet activated, and what it passed on the way."""

    layer: Layer
    normalized: bool = False
    residual: bool = False
    mixed: bool = False  # concatenated or stacked with other tensors: the next layer's input is not this alone


@dataclass(frozen=True)
class Val:
    """A tensor: the layers whose output it still is, and the layers whose activation made it."""

    opens: frozenset[Pending] = frozenset()
    acts: frozenset[Layer] = frozenset()
    # layers whose activation made this tensor with only transparent ops since: no normalization, no residual
    # add (SPEC 8.34's sequential path; a concatenation of branches holds several)
    chain: frozenset[Layer] = frozenset()
    # computed from layer outputs by code the analysis does not model (an attention product, an unknown call
    # on them): not a constant, so multiplying an activation's output by it gates it
    data: bool = False

    def union(self, other: Val) -> Val:
        return Val(self.opens | other.opens, self.acts | other.acts, self.chain | other.chain, self.data or other.data)

    def marked(self, normalized: bool = False, residual: bool = False, mixed: bool = False) -> Val:
        return Val(
            frozenset(Pending(p.layer, p.normalized or normalized, p.residual or residual, p.mixed or mixed)
                      for p in self.opens),
            self.acts,
            frozenset() if normalized or residual else self.chain,
            self.data,
        )

    def branch(self) -> bool:
        """Whether it carries data rather than a constant: a layer's or activation's output, or computed data."""
        return bool(self.opens or self.acts or self.data)


EMPTY = Val()
DATA = Val(data=True)


def _branch(v: object) -> bool:
    if isinstance(v, Val):
        return v.branch()
    if isinstance(v, (tuple, OutputVal)):
        return any(_branch(item) for item in (v.values() if isinstance(v, OutputVal) else v))
    return False


@dataclass(frozen=True)
class Event:
    """One consumer of a layer's output on one path through forward."""

    # an activation, another weight, the model output, an attention product (linear, SPEC 4), unknown
    kind: Literal["act", "weight", "head", "attention", "unresolved"]
    name: str = ""  # act: the activation's name
    family: Family | None = None  # act
    slope: float = 0.0  # act: negative slope (-1: not a literal)
    reason: str = ""  # unresolved: why the consumer is not known
    normalized: bool = False  # a normalization sits between the layer and this consumer
    residual: bool = False  # a residual add sits between the layer and this consumer
    into: str = ""  # unresolved: passed to an instance of this other file's module class (qualified)


def is_input(layer: Layer) -> bool:
    """A stand-in, not a layer: for a forward's input (see :meth:`initlint.frontends.torch.flow.Flow.run_root`)
    or for the output of an instance of another file's module class (:func:`initlint.frontends.torch.flow.ext_mod`)."""
    return layer.kind in ("input", "output")


def only_outputs(v: Val) -> bool:
    """The tensor is the output of other files' module instances and nothing else (no layer, no activation)."""
    return bool(v.opens) and not v.acts and all(p.layer.kind == "output" for p in v.opens)


@dataclass(frozen=True)
class DropoutCall:
    """A functional dropout (``F.dropout(x, p)``) in a forward."""

    scope: Scope
    stmt: cst.CSTNode
    call: cst.Call
    kind: str  # dropout, alpha_dropout


@dataclass
class Consumers:
    """The data-flow pass's findings, filled as forward methods run."""

    events: dict[Layer, set[Event]] = field(default_factory=dict)
    reach: set[Layer] = field(default_factory=set)  # layers whose activation output reaches another weight
    feeds: dict[Layer, set[Layer]] = field(default_factory=dict)  # layer -> weight layers its output feeds
    selu_scopes: set[str] = field(default_factory=set)  # scopes whose forward applies SELU
    # layer -> per consumption, the layers whose activation output fed it along a sequential path (SPEC 8.34);
    # None marks an input that mixes in a raw layer output or an opaque value
    inputs: dict[Layer, list[frozenset[Layer] | None]] = field(default_factory=dict)
    dropouts: list[DropoutCall] = field(default_factory=list)
    applied: set[Layer] = field(default_factory=set)  # layers a forward applied (their output existed)
    touched: dict[Layer, str] = field(default_factory=dict)  # layers a forward read (``self.blocks``) -> how

    def consume(self, v: object, event: Event) -> None:
        """Every open output in ``v`` (a tensor or a tuple of them) is consumed by ``event``."""
        if not isinstance(v, Val):
            if isinstance(v, (tuple, OutputVal)):
                for item in v.values() if isinstance(v, OutputVal) else v:
                    self.consume(item, event)
            return
        for p in v.opens:
            if event.kind == "unresolved" and not event.into:
                self.events.setdefault(p.layer, set()).add(event)
            else:
                self.events.setdefault(p.layer, set()).add(replace(event, normalized=p.normalized, residual=p.residual))
        if event.kind == "weight":
            self.reach |= v.acts

    def opaque(
        self, *values: object, reason: str = "consumer not visible: an operation the analysis does not follow",
        taint: bool = True,
    ) -> Val:
        """An operation the analysis does not model consumes its inputs.

        With ``taint`` it also transforms activation outputs elementwise (``relu(x) ** 2``, gating), so the
        activation alone no longer describes what the layer feeds: those layers become unresolved too.
        Passing a value to an unknown module or function only hides its next consumer (no taint).
        """
        for v in values:
            self.consume(v, Event("unresolved", reason=reason))
            if taint:
                for item in v if isinstance(v, tuple) else v.values() if isinstance(v, OutputVal) else (v,):
                    if isinstance(item, Val):
                        for layer in item.acts:
                            self.events.setdefault(layer, set()).add(Event(
                                "unresolved", reason="its activation's output is transformed further (e.g. squared or gated)"))
        return DATA if any(_branch(v) for v in values) else Val()

    def fed(self, v: object, consumer: Layer) -> None:
        """Remember which weight layer each open output feeds (a zero layer feeding a zero layer, SPEC 8.6).

        Not through a residual add or a concatenation: a zero conv's output added to (or stacked with) a
        non-zero path (ControlNet) leaves the next layer's input non-zero, so both still receive gradients.
        """
        if isinstance(v, Val):
            for p in v.opens:
                if not p.residual and not p.mixed:
                    self.feeds.setdefault(p.layer, set()).add(consumer)

    def link(self, v: object, consumer: Layer) -> None:
        """What fed ``consumer`` on this call: the activated layer(s) of a sequential path, or None."""
        if isinstance(v, Val):
            opens = [p for p in v.opens if not is_input(p.layer)]
            self.inputs.setdefault(consumer, []).append(None if opens else v.chain)
        else:
            self.inputs.setdefault(consumer, []).append(None)

    def weight_use(self, layer: Layer, use: str, x: object) -> Val:
        """``x`` flows into the weight of ``layer`` (used as ``use``); the result is that layer's open output."""
        layer.uses.add(use)
        self.applied.add(layer)
        self.consume(x, Event("weight"))
        self.fed(x, layer)
        self.link(x, layer)
        return Val(frozenset({Pending(layer)}))
