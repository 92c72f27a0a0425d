"""Containers decide (SPEC 8.32): a layer's initializer over every in-project construction path.

For a layer of class C, the paths are the chains of project classes that build C (found from
the summaries: a class whose body names C, or a call ``K(C, ...)``), up to a class nothing
builds. On each path the outermost container whose init code touches the layer decides
(read from that container's file as :class:`~initlint.records.Effect` s); with none, C's own
init. All paths agree: that init. They disagree: each is judged and the worst reported,
naming the containers. Any path re-initializes in a way the analysis cannot read: unresolved,
"may be re-initialized by X".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..records import RETURNED, Activation, Effect, Entry, InitSpec, LayerRecord
from .model import ProjectModel

MAX_PATHS = 64
ANY_CLASS = "*"  # the frontend's generic probe: a module of any other file's class
MAX_DEPTH = 10


@dataclass(frozen=True)
class Outcome:
    """One path's verdict on a layer's init: a spec (None = the layer's own) or why it is unknown."""

    spec: InitSpec | None
    reason: str = ""
    container: str = ""  # the container that decided (short class name), "" = the layer's own init
    via: str = ""


class Effects:
    """Effects of every analysed file, by (container, target class, torch class)."""

    def __init__(self, effects: Iterable[Effect]) -> None:
        self.by_key: dict[tuple[str, str, str, str], list[Effect]] = {}
        self.probed: set[tuple[str, str]] = set()
        for e in effects:
            self.probed.add((e.container, e.target))
            self.by_key.setdefault((e.container, e.target, e.layer_class, e.attr), []).append(e)

    def outcome(self, container: str, target: str, layer_class: str, attr: str = "") -> Outcome | None:
        """What the container did to those layers (``attr``: to the target's layer of that attribute): an Outcome,
        or None when it left them alone."""
        found = [e for e in self.by_key.get((container, target, layer_class, attr), []) if e.init is not None or e.reason]
        if not found:
            return None
        short = container.rsplit(".", 1)[-1]
        unknown = [e for e in found if e.init is None]
        if unknown:
            why = unknown[0].reason
            if not why.startswith("may be re-initialized"):
                why = f"may be re-initialized by {short}" + (f" ({why})" if why else "")
            return Outcome(None, why, short, unknown[0].via)
        specs = {_plain(e.init) for e in found}
        if len(specs) > 1:
            return Outcome(None, f"{short} initializes these layers in different ways", short)
        return Outcome(found[0].init, "", short, found[0].via)


def _plain(spec: InitSpec | None) -> InitSpec | None:
    return replace(spec, line=None, column=None, note="") if spec is not None else None


def decide(records: tuple[LayerRecord, ...], path: str, model: ProjectModel,
           effects: Effects) -> tuple[tuple[LayerRecord, ...], dict[int, list[tuple[LayerRecord, str]]]]:
    """The file's records with containers' inits applied, and per record index its alternative verdicts."""
    summary = model.linker.by_path.get(path)
    if summary is None:
        return records, {}
    out: list[LayerRecord] = []
    variants: dict[int, list[tuple[LayerRecord, str]]] = {}
    for i, rec in enumerate(records):
        if rec.framework != "torch" or rec.kind in ("dropout", "alpha_dropout") or not rec.layer_class \
                or summary.cls(rec.scope) is None:
            out.append(rec)
            continue
        owner = f"{summary.module}.{rec.scope}"
        if rec.activation is not None and not rec.unresolved:
            passed = model.consumer_arguments(owner)
            if passed:  # the consumer came from a constructor default that containers replace
                rec = replace(rec, activation=None, unresolved=f"consumer set by the containers: {', '.join(passed[:3])}")
        built = model.built_as(owner)
        if built == [owner]:
            outcomes = _outcomes(owner, rec.layer_class, model, effects)
        else:  # a base class built only through other files' subclasses: their paths are its paths
            attr = rec.name[len(rec.scope):].lstrip(".")
            outcomes = [o for sub in built for o in _subclass_outcomes(sub, owner, rec.layer_class, attr, model, effects)]
            outcomes = [] if all(o.spec is None and not o.reason for o in outcomes) else outcomes
        if not outcomes:
            out.append(rec)
            continue
        if rec.unresolved.startswith("consumer set by the containers"):
            out.append(replace(rec, init=outcomes[0].spec or rec.init) if len(outcomes) == 1 else rec)
            continue
        unknown = sorted({o.reason for o in outcomes if o.reason})
        if unknown:
            out.append(replace(rec, unresolved=unknown[0], init=None))
            continue
        distinct: dict[object, Outcome] = {}
        for o in outcomes:
            distinct.setdefault(_plain(o.spec) if o.spec is not None else _plain(rec.init), o)
        options = [_apply(rec, o) for o in distinct.values()]
        out.append(options[0][0])
        if len(options) > 1:
            variants[i] = options
    return tuple(out), variants


def _apply(rec: LayerRecord, o: Outcome) -> tuple[LayerRecord, str]:
    if o.spec is None:
        return rec, "its own init"
    via = f" via {o.via}" if o.via else ""
    label = f"in {o.container}{via}"
    spec = replace(o.spec, note=(o.spec.note + "; " if o.spec.note else "") + f"set {label}", line=None, column=None)
    return replace(rec, init=spec, unresolved="" if rec.unresolved.startswith(_INIT_REASONS) else rec.unresolved), label


# Reasons the frontend gives when it could not read an init (a container that decides replaces them).
_INIT_REASONS = ("initialized by", "may be re-initialized", "init depends", "parent modules apply")


def _outcomes(owner: str, layer_class: str, model: ProjectModel, effects: Effects) -> list[Outcome]:
    """One outcome per construction path of the class (none when no other file's class builds it)."""
    owner_module = owner.rpartition(".")[0]
    out: list[Outcome] = []
    for path in model.paths(owner, MAX_DEPTH, MAX_PATHS):
        decided: Outcome | None = None
        for container in reversed(path[1:]):  # outermost first
            if container.rpartition(".")[0] == owner_module and all(
                    c.rpartition(".")[0] == owner_module for c in path[1:path.index(container) + 1]):
                continue  # a same-file container: the file's own analysis applied it
            probed = (container, owner) in effects.probed
            target = owner if probed else ANY_CLASS  # built through a parameter: what it does to any such layer
            o = effects.outcome(container, target, layer_class)
            if o is not None:
                decided = o
                break
            if model.reinitializes(container) and not probed and (container, ANY_CLASS) not in effects.probed:
                decided = Outcome(None, f"may be re-initialized by {container.rsplit('.', 1)[-1]} "
                                        f"({model.linker.resolve(container).summary.path.rsplit('/', 1)[-1]})",  # type: ignore[union-attr]
                                  container.rsplit(".", 1)[-1])
                break
        out.append(decided or _handed(path, model) or Outcome(None))
    if all(o.spec is None and not o.reason for o in out):
        return []  # every path keeps the layer's own init
    return out


def _subclass_outcomes(sub: str, base: str, layer_class: str, attr: str, model: ProjectModel,
                       effects: Effects) -> list[Outcome]:
    """One outcome per construction path of ``sub``, a subclass in another file that builds ``base``'s layer
    ``attr``: its containers' init code, outermost first, then its own (read from its file's analysis)."""
    short = sub.rsplit(".", 1)[-1]
    out: list[Outcome] = []
    for path in model.paths(sub, MAX_DEPTH, MAX_PATHS):
        decided: Outcome | None = None
        for container in reversed(path):
            name = container.rsplit(".", 1)[-1]
            if (container, sub) in effects.probed:
                decided = effects.outcome(container, sub, layer_class, attr) or effects.outcome(container, sub, layer_class)
            elif container == sub and model.own_init_code(sub, base) or \
                    container != sub and model.reinitializes(container):
                found = model.linker.resolve(container)
                where = f" ({found.summary.path.rsplit('/', 1)[-1]})" if found is not None else ""
                decided = Outcome(None, f"may be re-initialized by {name}{where}", name)
            if decided is not None:
                break
        out.append(decided or _handed(path, model) or Outcome(None, "", short))
    return out


def _handed(path: list[str], model: ProjectModel) -> Outcome | None:
    """Unknown when a class on the path is also handed to a function (containers the analysis does not see)
    and the project re-initializes somewhere."""
    if not model.any_reinitializes():
        return None
    handed = next(((c, h) for c in path for h in [model.handed(c)] if h), None)
    if handed is None:
        return None
    short = handed[0].rsplit(".", 1)[-1]
    return Outcome(None, f"may be re-initialized by what {short} is handed to ({handed[1]})", short)


class Uses:
    """Every analysed file's entries (what a class does first with its input) and exits (what each container
    does with an instance's output), answering the ``into`` keys of records and entries (SPEC 8.13, 8.32)."""

    def __init__(self, entries: Iterable[Entry], model: ProjectModel | None = None) -> None:
        self.model = model
        self.entries: dict[str, Entry] = {}
        self.exits: dict[str, dict[str, list[Entry]]] = {}  # class -> container -> exits
        for e in entries:
            if e.container:
                self.exits.setdefault(e.cls, {}).setdefault(e.container, []).append(e)
            else:
                self.entries[e.cls] = e

    def of(self, key: str) -> list[Entry] | None:
        """The entries a key stands for (a class's entry; for a returned output, its containers' exits);
        None when one of them is not known. No container in the project: the model's output (SPEC 8.13)."""
        if not key.startswith(RETURNED):
            entry = self.entries.get(key)
            return [entry] if entry is not None else None
        cls = key[len(RETURNED):]
        if self.model is None or self.model.handed(cls):
            return None
        out: list[Entry] = []
        for each in (cls, *self.model.subclasses(cls)):  # a subclass's instances run the class's forward too
            for container in self.model.builders(each):
                found = self.exits.get(each, {}).get(container)
                if not found or any(e.activation is None and not e.into for e in found):
                    return None  # a container whose use of the output the analysis did not see
                out += found
        return out or [Entry(cls, HEAD)]


HEAD = Activation("identity", "linear", 0.0, reaches_weight=False)


def fed(records: tuple[LayerRecord, ...], uses: Uses) -> tuple[LayerRecord, ...]:
    """Layers whose output is passed to other files' module classes, or returned to containers: those
    classes' entries and the containers' exits, with what the layer's other uses consume, are its consumer
    when they all agree (else it stays unresolved)."""
    out = []
    for rec in records:
        found = _consumers(rec.into, uses) if rec.into and rec.unresolved.startswith(_FOLLOWED) else None
        if found is not None:
            consumers, normalized, residual = found
            if rec.provisional is not None:
                consumers.append(rec.provisional)
            if len({(a.name, a.family, a.slope) for a in consumers}) == 1:
                rec = replace(rec, activation=replace(consumers[0], reaches_weight=any(a.reaches_weight for a in consumers)),
                              normalized=rec.normalized or normalized, residual_end=rec.residual_end or residual,
                              unresolved="", into=(), provisional=None)
        out.append(rec)
    return tuple(out)


def _consumers(keys: tuple[str, ...], uses: Uses, depth: int = 0) -> tuple[list[Activation], bool, bool] | None:
    """What the entries and exits of ``keys`` consume, following those that pass it on (None: one unknown)."""
    acts: list[Activation] = []
    normalized = residual = False
    for key in keys:
        found = uses.of(key) if depth <= MAX_DEPTH else None
        if found is None:
            return None
        for entry in found:
            if entry.activation is not None:
                acts.append(entry.activation)
            normalized, residual = normalized or entry.normalized, residual or entry.residual
            if entry.into:
                deeper = _consumers(entry.into, uses, depth + 1)
                if deeper is None:
                    return None
                acts += deeper[0]
                normalized, residual = normalized or deeper[1], residual or deeper[2]
    return acts, normalized, residual


PASSED = "consumer not visible: passed to"
_FOLLOWED = (PASSED, "consumer not visible: output returned to caller")
