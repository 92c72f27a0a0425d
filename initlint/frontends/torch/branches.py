"""Branch merging for the constructor interpreter: what names, attributes and init states are after an ``if``.

Both branches run from the same :class:`Snapshot`; names that disagree become an
``AltMod`` (two modules) or unknown, init states that disagree become unresolved,
and entries appended on one branch only become an :class:`Alt` in the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tree import Alt, AltMod, InitState, Layer, ListMod, Mod, PassMod
from .values import NONE, ListBuild


@dataclass(frozen=True)
class Snapshot:
    """The interpreter's mutable state at one point: names, attributes, init states and list contents."""

    env: dict[str, object]
    attrs: dict[str, object]
    states: dict[int, tuple[Layer, InitState, dict[str, InitState]]]  # id(layer) -> (layer, state, overrides)
    lists: dict[int, tuple[ListBuild | ListMod, list[object]]]  # id(list) -> (list, its entries)


def snapshot(env: dict[str, object], attrs: dict[str, object], layers: list[Layer]) -> Snapshot:
    """Copy what a branch may change."""
    lists = {id(v): (v, list(v.entries)) for v in list(env.values()) + list(attrs.values())
             if isinstance(v, (ListBuild, ListMod))}
    return Snapshot(
        env=dict(env),
        attrs=dict(attrs),
        states={id(l): (l, l.state, dict(l.overrides)) for l in layers},
        lists=lists,
    )


def restore(snap: Snapshot, env: dict[str, object], attrs: dict[str, object]) -> None:
    """Put the state back as it was at ``snap``."""
    env.clear()
    env.update(snap.env)
    attrs.clear()
    attrs.update(snap.attrs)
    for layer, state, overrides in snap.states.values():
        layer.state = state
        layer.overrides = dict(overrides)
    for obj, entries in snap.lists.values():
        obj.entries = list(entries) if isinstance(obj, ListBuild) else tuple(entries)


def merge(
    base: Snapshot, a: Snapshot, b: Snapshot, env: dict[str, object], attrs: dict[str, object],
    ret_a: bool, ret_b: bool, returned: list[Snapshot] | None = None,
) -> None:
    """Set the state to the join of two branches that both started at ``base``.

    A branch that returned drops out of the names and lists the code after the ``if`` sees, but what it did to
    init states happened on its path: states join both branches, and its snapshot goes to ``returned``, joined
    again with the state where the function ends (``rejoin``: code after the ``if`` may set the state anew).
    """
    if ret_a != ret_b and returned is not None:
        returned.append(a if ret_a else b)
    done_a, done_b = a, b
    if ret_a and not ret_b:
        a = b
    elif ret_b and not ret_a:
        b = a
    env.clear()
    for key in set(a.env) | set(b.env):
        env[key] = join(a.env.get(key), b.env.get(key), key in a.env, key in b.env)
    attrs.clear()
    for key in set(a.attrs) | set(b.attrs):
        attrs[key] = join(a.attrs.get(key), b.attrs.get(key), key in a.attrs, key in b.attrs)
    for key, (layer, state0, over0) in base.states.items():
        sa, oa = done_a.states[key][1], done_a.states[key][2]
        sb, ob = done_b.states[key][1], done_b.states[key][2]
        layer.state = join_state(state0, sa, sb)
        layer.overrides = {
            k: join_state(over0.get(k, InitState(None)), oa.get(k, over0.get(k)), ob.get(k, over0.get(k)))
            for k in set(oa) | set(ob)
        }
    for key, (layer, _, _) in a.states.items():
        if key not in base.states:
            layer.state = a.states[key][1]
    for key, (obj, entries) in base.lists.items():
        n = len(entries)
        ea = a.lists.get(key, (obj, entries))[1][n:]
        eb = b.lists.get(key, (obj, entries))[1][n:]
        merged = list(entries) + ([Alt(tuple(ea), tuple(eb))] if (ea or eb) and ea != eb else list(ea))
        obj.entries = merged if isinstance(obj, ListBuild) else tuple(merged)


def rejoin(exit_: Snapshot) -> None:
    """At a function's end: each weight's init joined with the one it had where a branch returned early."""
    for layer, state, overrides in exit_.states.values():
        layer.state = join_state(state, state, layer.state)
        layer.overrides = {k: join_state(InitState(None), overrides.get(k), layer.overrides.get(k))
                           for k in set(overrides) | set(layer.overrides)}


def join(a: object, b: object, has_a: bool, has_b: bool) -> object:
    """The value of a name after two branches."""
    if not has_a:
        return b
    if not has_b:
        return a
    if a is b or (type(a) is type(b) and not isinstance(a, (Mod, ListBuild)) and a == b):
        return a
    if isinstance(a, Mod) and isinstance(b, Mod):
        return AltMod((a, b))
    if isinstance(a, Mod) and b is NONE:
        return AltMod((a, PassMod("Identity")))
    if isinstance(b, Mod) and a is NONE:
        return AltMod((PassMod("Identity"), b))
    if isinstance(a, ListBuild) and isinstance(b, ListBuild):
        return a
    return None


def join_state(base: InitState, a: InitState | None, b: InitState | None) -> InitState:
    """A weight's init after two branches: the same on both, else unknown (one branch may not run)."""
    a = a or base
    b = b or base
    if a is b or (a.spec == b.spec and a.reason == b.reason):
        return a
    return InitState(None, "init depends on a condition the analysis cannot evaluate")
