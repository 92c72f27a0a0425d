"""The checks, one module per rule code, each a pure function ``check(record) -> Verdict | None``.

A rule is a module ``initNNN_<rule-name>.py`` here (with ``CODE`` and ``check``) plus its
entry in ``rules/rules.toml``; the registry finds the modules by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from ..records import LayerRecord, Verdict

Check = Callable[[LayerRecord], "Verdict | None"]


def _discover() -> dict[str, Check]:
    modules = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("init"))
    found = (importlib.import_module(f"{__name__}.{name}") for name in modules)
    return {module.CODE: module.check for module in found}


CHECKS: dict[str, Check] = _discover()
