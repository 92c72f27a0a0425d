"""Reporters: a Report in, text out. One module per ``--format``."""

from __future__ import annotations

from collections.abc import Callable

from ..api import Report
from . import github, json, sarif, text

Reporter = Callable[[Report, bool], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
}
