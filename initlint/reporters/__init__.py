"""Reporters: a Report in, text out. One module per ``--format``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..records import Report

Reporter = Callable[..., str]


def _lazy(module: str) -> Reporter:
    """The ``render`` of ``module``, imported on first use: a run imports only the reporter it prints with."""

    def render(report: Report, *args: Any, **kwargs: Any) -> str:
        return str(importlib.import_module(f"{__name__}.{module}").render(report, *args, **kwargs))

    return render


# sarif pulls in the fix planner; a plain text run should not pay for it.
REPORTERS: dict[str, Reporter] = {name: _lazy(name) for name in ("text", "json", "sarif", "github")}
