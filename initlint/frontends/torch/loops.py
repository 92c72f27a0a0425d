"""Sequences in ``forward``: what loops, comprehensions, zips and subscripts visit (SPEC 8.12, 8.16).

A module list is visited in order (loop-built entries twice); a tuple of values item by item; a
tensor stands for each of its slices (iterating or indexing a tensor hands its values on). An index
the analysis cannot evaluate picks *one of* the entries (an :class:`AltMod`): each is applied to
the same input and their outputs go on to the same place.

Pure helpers over the flow's values; the pass (``flow``) is handed in where a body must run.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from .consumers import Val
from .forms import OutputVal
from .tree import Alt, AltMod, DictMod, ListMod, Mod, Repeat, SeqMod, flat

# ``range(n)`` with a literal ``n`` up to this is iterated step by step; longer ranges are unknown.
MAX_RANGE = 16


def everything(values: tuple[object, ...]) -> object:
    """One value standing for any of several (the union of their tensors): for an unknown pick among them."""
    out: object = None
    for v in values:
        if isinstance(v, tuple):
            v = everything(v)
        if isinstance(v, Val):
            out = v if not isinstance(out, Val) else out.union(v)
    return out


def iteration(value: object) -> list[object] | None:
    """The items a forward loop visits, in order: modules (loop-built entries twice, SPEC 8.16), a tuple's items."""
    if isinstance(value, (ListMod, SeqMod)):
        out: list[object] = []
        for entry in value.entries:
            if isinstance(entry, Repeat):
                out += flat(entry.entries) * 2
            elif isinstance(entry, Alt):
                return None
            else:
                out.append(entry)
        return out
    if isinstance(value, DictMod):
        return list(value.items.values())
    if isinstance(value, tuple) and value:
        return list(value)  # modules, (name, module) pairs of ModuleDict.items(), tensors, numbers
    return None


def loop_items(value: object) -> list[object] | None:
    """What a ``for`` loop binds step by step; a tensor's rows are slices of it (any number of steps)."""
    items = iteration(value)
    if items is None and isinstance(value, Val):
        return [value, value]
    return items


def plain(entries: tuple[object, ...]) -> bool:
    """No entry is loop-built or conditional: positions are exact."""
    return not any(isinstance(x, (Repeat, Alt)) for x in entries)


def one_of(mods: list[Mod]) -> Mod | None:
    """A module chosen at run time among ``mods``: the only one, or any of them."""
    unique: list[Mod] = []
    for m in mods:
        if all(m is not u for u in unique):
            unique.append(m)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else AltMod(tuple(unique))


def pick(base: object, key: object) -> object:
    """``base[key]`` for a module container, a tuple or an output container; None when unknown."""
    if isinstance(base, AltMod):
        picked = [pick(option, key) for option in base.options]
        return one_of(picked) if all(isinstance(p, Mod) for p in picked) else None  # type: ignore[arg-type]
    if isinstance(base, DictMod):
        if isinstance(key, str):
            return base.items.get(key)
        return one_of(list(base.items.values())) if key is None else None
    if isinstance(base, (SeqMod, ListMod)):
        entries = base.entries
        if isinstance(key, int) and not isinstance(key, bool):
            inside = -len(entries) <= key < len(entries)
            if plain(entries) or inside and plain(entries[:key + 1] if key >= 0 else entries[key:]):
                return entries[key] if inside else None
        if key is None or isinstance(key, int) and not isinstance(key, bool):
            return one_of(flat(base.entries))  # an index the analysis does not know: one of the entries
        return None
    if isinstance(base, tuple) and isinstance(key, int) and not isinstance(key, bool):
        try:
            return base[key]
        except IndexError:
            return None
    if isinstance(base, OutputVal):
        if isinstance(key, str):
            return base.get(key)
        return everything(base.values())  # which field ``outputs[0]`` is depends on the class: any of them
    return None


def sliced(base: object, bounds: tuple[object, object, object]) -> object:
    """``base[a:b:c]`` of a module container or tuple: exact with literal bounds, else (one kind of entry) all."""
    if not isinstance(base, (SeqMod, ListMod, tuple)):
        return None
    known = all(b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds)
    entries = base if isinstance(base, tuple) else base.entries
    lower, upper, step = bounds
    if known and plain(entries) or known and upper is None and step is None and isinstance(lower, int) \
            and lower >= 0 and plain(entries[:lower]):  # ``self.resnets[1:]``: the loop-built rest, as built
        cut = entries[slice(*bounds)]  # type: ignore[misc]
        return cut if isinstance(base, tuple) else type(base)(cut)
    if isinstance(base, tuple):
        return everything(base)
    return base if len(flat(base.entries)) == 1 else None  # a loop-built stack: any part of it is alike


def subscript(flow: Any, base: object, e: cst.Subscript, env: dict[str, object], scope: object) -> object:
    """``base[key]`` or ``base[a:b]`` in a forward."""
    if len(e.slice) != 1:
        return None
    item = e.slice[0].slice
    if isinstance(item, cst.Slice):
        bounds = tuple(None if part is None else flow.ev(part, env, scope) for part in (item.lower, item.upper, item.step))
        return sliced(base, bounds)  # type: ignore[arg-type]
    key = flow.ev(item.value, env, scope)  # type: ignore[union-attr]
    return pick(base, key)


def unpack(value: object, n: int) -> tuple[object, ...] | None:
    """The ``n`` items a tuple target takes from ``value``: a tuple, a tensor (chunks of it), a module list."""
    if isinstance(value, tuple) and len(value) == n:
        return value
    if isinstance(value, Val):
        return (value,) * n
    if isinstance(value, (ListMod, SeqMod)) and plain(value.entries) and len(value.entries) == n:
        return value.entries
    return None


def bind(target: cst.BaseExpression, value: object, env: dict[str, object]) -> None:
    """Assign ``value`` to a target; writing into a tensor (``out[..., ::2] = x``) adds ``x`` to it."""
    if isinstance(target, cst.Name):
        env[target.value] = value
    elif isinstance(target, (cst.Tuple, cst.List)):
        items = unpack(value, len(target.elements))
        for i, el in enumerate(target.elements):
            bind(el.value, None if items is None else items[i], env)
    elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and isinstance(value, Val):
        into = env.get(target.value.value)
        if isinstance(into, Val):
            env[target.value.value] = into.union(value)


def grow(env: dict[str, object], func: cst.Attribute, args: list[object]) -> bool:
    """``out.append(x)`` / ``out.extend(xs)`` on a local list: the list (a tuple, or a tensor standing for any of
    its items) grows. False if not one."""
    name = func.value.value if isinstance(func.value, cst.Name) else None
    method = func.attr.value
    if name is None or not isinstance(env.get(name), (tuple, Val)) or method not in ("append", "extend") or len(args) != 1:
        return False
    items = env[name]
    added = args[0]
    if isinstance(items, Val):  # a list already standing for any of its tensors
        more = everything((added,))
        env[name] = items.union(more) if isinstance(more, Val) else items
    elif method == "append":
        env[name] = items + (added,)  # type: ignore[operator]
    else:
        env[name] = items + (added if isinstance(added, tuple) else (everything((added,)),))  # type: ignore[operator]
    return True


def comprehension(flow: Any, e: cst.BaseComp, env: dict[str, object], scope: object) -> object:
    """``[f(x) for x in xs]``: the element evaluated for each item; a tuple when the items are known exactly
    (one ``for`` over a tuple or a plain module list, no condition), else one value standing for any of them."""
    results: list[object] = []
    exact = [True]

    def visit(node: cst.CompFor | None, local: dict[str, object]) -> None:
        if node is None:
            results.append(flow.ev(e.elt, local, scope))  # type: ignore[attr-defined]
            return
        value = flow.ev(node.iter, local, scope)
        items = loop_items(value)
        if node.ifs or node.inner_for_in is not None or not isinstance(value, (tuple, ListMod, SeqMod)) \
                or isinstance(value, (ListMod, SeqMod)) and not plain(value.entries):
            exact[0] = False
        for item in items if items is not None else [None]:
            inner = dict(local)
            bind(node.target, item, inner)
            visit(node.inner_for_in, inner)

    visit(e.for_in, dict(env))
    if exact[0]:
        return tuple(results)
    return everything(tuple(results))


def zipped(flow: Any, it: cst.Call, target: cst.Tuple | cst.List, body: list[Any], env: dict[str, object],
           scope: object, returns: list[object]) -> bool:
    """``for a, blk in zip(xs, self.blocks)``: module lists set the steps (without one: two steps); any other
    operand pairs each step with any of its tensors (a tuple built at run time, a tensor's slices) or with
    an unknown value. False when the zip cannot be read."""
    if len(it.args) != len(target.elements) or any(a.star for a in it.args):
        return False
    values = [flow.ev(a.value, env, scope) for a in it.args]
    lists = [iteration(v) if isinstance(v, (ListMod, SeqMod, DictMod)) else None for v in values]
    sizes = {len(mods) for mods in lists if mods is not None}
    if len(sizes) > 1:
        return False
    steps = sizes.pop() if sizes else 2
    columns = [mods if mods is not None else [everything(v) if isinstance(v, tuple) else v] * steps
               for mods, v in zip(lists, values)]
    for items in zip(*columns):
        for el, item in zip(target.elements, items):
            bind(el.value, item, env)
        if flow.run(body, env, scope, returns):
            break
    return True


def builtin(name: str, args: list[object]) -> object:
    """``range(n)`` (literal, short), ``len(x)`` of a tuple or plain module list, ``zip``, ``enumerate``,
    ``list``/``tuple`` of a sequence, ``sum`` of one tensor; else None (unknown)."""
    if name in ("list", "tuple") and len(args) == 1 and isinstance(args[0], (tuple, Val)):
        return args[0]
    if name == "sum" and len(args) == 1 and isinstance(args[0], Val):
        return args[0]
    if name == "zip" and args:
        return zip_values(args)
    if name == "enumerate" and len(args) == 1:
        pairs = zip_values([None, args[0]])
        return None if pairs is None else tuple((k if isinstance(args[0], tuple) else None, p[1])  # type: ignore[index]
                                                for k, p in enumerate(pairs))
    if name == "len" and len(args) == 1:
        v = args[0]
        if isinstance(v, tuple):
            return len(v)
        if isinstance(v, (ListMod, SeqMod)) and plain(v.entries):
            return len(v.entries)
        return None
    if name == "range" and args and all(isinstance(a, int) and not isinstance(a, bool) for a in args) and len(args) <= 3:
        steps = range(*args)  # type: ignore[arg-type]
        return tuple(steps) if 0 < len(steps) <= MAX_RANGE else None
    return None


def zip_values(args: list[object]) -> tuple[object, ...] | None:
    """``zip(a, b)`` as a value: tuples of items, step by step. Tuples and plain module lists set the steps (the
    shortest); a tensor pairs each step with its slices; without a sized operand, two steps of unknown count."""
    columns: list[list[object] | None] = []
    for v in args:
        if isinstance(v, tuple):
            columns.append(list(v))
        elif isinstance(v, (ListMod, SeqMod)) and plain(v.entries):
            columns.append(list(v.entries))
        elif isinstance(v, Val) or v is None:
            columns.append(None)
        else:
            return None
    sized = [len(c) for c in columns if c is not None]
    if not sized and not any(isinstance(v, Val) for v in args):
        return None
    steps = min(sized) if sized else 2
    return tuple(tuple(c[k] if c is not None else v for c, v in zip(columns, args)) for k in range(steps))
