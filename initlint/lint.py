"""Linting one input: source text, a ``.py`` file's bytes, or an ``.onnx`` graph.

The single-file steps under :mod:`initlint.runner` (many files, pool, cache) and
:mod:`initlint.api` (the public ladder). Reading, decoding and parsing happen here;
frontends turn the parse into records and the engine judges them. onnx is imported
only when a graph is audited.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import libcst as cst

from . import config, engine, limits, notebooks, rulebook, suppressions
from .frontends.keras.context import KerasProject
from .frontends.keras.tables import may_record
from .frontends.python.names import mentions_framework
from .frontends.python.source import SourceFile
from .frontends.python.syntax import parse_module
from .frontends.torch import layers as torch_layers
from .frontends.torch.context import Project
from .records import Effect, Entry, FileResult, Finding, LayerRecord, is_layer
from .settings import SEVERITY_RANK, Settings


def decode(data: bytes) -> str:
    """Source bytes as text, honouring a PEP 263 coding cookie and a UTF-8 BOM."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    return data.decode(encoding)


def parse_error(path: str, err: cst.ParserSyntaxError) -> str:
    message = re.sub(r"^parser error: error at \d+:\d+: ", "", err.message)
    return f"{path}:{err.raw_line}:{err.raw_column + 1}: syntax error: {message}"


# The last module parsed here and its text: planning the fixes of the file just linted (JSON/SARIF)
# reuses the parse instead of parsing the file a second time, and so does linting the same text
# again. libcst trees are immutable.
_LAST_PARSE: list[Any] = []


def parsed(text: str) -> cst.Module | None:
    """The module of ``text`` if it is the source this process parsed last (or :func:`parsed_as` gives), else None."""
    if _LAST_PARSE and _LAST_PARSE[0] == text:
        return _LAST_PARSE[1]
    return None


@contextmanager
def parsed_as(text: str, module: cst.Module) -> Iterator[None]:
    """Within the block, ``module`` is the parse of ``text``: the fixer's edited tree of the text it made,
    which a parse of that text would give (libcst parses it to the same nodes), so its re-lint does not parse."""
    _LAST_PARSE[:] = [text, module]
    try:
        yield
    finally:
        _LAST_PARSE.clear()


def records_for_source(source: SourceFile, project: Project | None = None
                       ) -> tuple[list[LayerRecord], list[Effect], list[Entry]]:
    """Every source frontend whose framework the file mentions, on the one parse (and, for torch in a project,
    the init effects on other files' classes and the entries of the file's module classes)."""
    records: list[LayerRecord] = []
    effects: list[Effect] = []
    entries: list[Entry] = []
    if torch_layers.reads(source.text, project):
        records, effects, entries = torch_layers.analyse(source, project)
    if may_record(source.text):
        from .frontends.keras import layers as keras_layers  # a run that meets no Keras file does not load it

        records += keras_layers.records(source, project if isinstance(project, KerasProject) else None,
                                        engine.same_judgement)
    return records, effects, entries


def lint_source(text: str, path: str = "<string>", settings: Settings | None = None,
                project: Project | None = None, checked: limits.Checked | None = None,
                on_parse: Callable[[cst.Module, str], None] | None = None) -> FileResult:
    """Lint Python source text. Never imports or executes it; never raises (see :mod:`initlint.limits`).

    ``project``: the rest of the project as context (SPEC 8.32); without it the file stands alone.
    ``checked``: (text, ``check_source(text)``) when already computed; used if the text is ``text``.
    ``on_parse``: called with the file's libcst module (and ``text``) as soon as it is parsed.
    """
    settings = settings or Settings()
    known = checked[1] if checked is not None and checked[0] == text else None
    return limits.guarded(path, settings.timeout, lambda: _lint_source(text, path, settings, project, known, on_parse))


def analysed(text: str, project: Project | None = None) -> bool:
    """Whether a file is parsed at all: it names a framework, or defines the project's module classes.

    Any other file is skipped unparsed: neither the cost gate of :mod:`initlint.limits` nor libcst sees it.
    """
    return mentions_framework(text) or project is not None and project.builds_modules


def _lint_source(text: str, path: str, settings: Settings, project: Project | None = None,
                 checked: tuple[str | None, ast.Module | None] | None = None,
                 on_parse: Callable[[cst.Module, str], None] | None = None) -> FileResult:
    if not analysed(text, project):
        return FileResult(path, skipped=True)
    hazard, tree = checked if checked is not None else limits.check_source(text)
    if hazard:
        return FileResult(path, error=f"{path}: {hazard}")
    if tree is not None and "\0" not in text and not torch_layers.may_record(text, tree, project) and not may_record(text):
        # CPython reads it (a NUL is an error libcst reports) and no frontend can make a record of it: not parsed
        return suppressions.apply(FileResult(path), text, _reported(path, settings))
    module = parsed(text)
    if module is None:
        module = project.own_parse(text) if project is not None else None  # made when another file read it
        try:
            module = module or parse_module(text)
        except cst.ParserSyntaxError as err:
            return FileResult(path, error=parse_error(path, err))
        except UnicodeEncodeError as err:  # lone surrogates in a str handed to the API
            return FileResult(path, error=f"{path}: not valid Unicode text: {err.reason}")
        _LAST_PARSE[:] = [text, module]
    if on_parse is not None:
        on_parse(module, text)
    raw, effects, entries = records_for_source(SourceFile(path, text, module, settings, tree), project)
    records = tuple(engine.plausible(r) for r in raw)
    if rulebook.conventions(settings.conventions).never_runs(os.path.abspath(path)):  # a template (modular_*.py)
        records = tuple(replace(r, init=None, activation=None, unresolved=NOT_RUN) if is_layer(r) else r for r in records)
    records, variants = sized(records, {}, settings)
    found = [f for f in judged(records, variants, settings) if not _per_file_ignored(f.code, path, settings)]
    result = FileResult(path, records=tuple(records), findings=tuple(found), effects=tuple(effects),
                        entries=tuple(entries) if project is not None else ())
    return suppressions.apply(result, text, _reported(path, settings))


NOT_RUN = "a template the framework never runs (conventions [not_run]): its classes are judged where they are generated"


def _reported(path: str, settings: Settings) -> Any:
    """Whether a code is reported in ``path`` (selected, and not ignored for the file): for unused suppressions."""
    return lambda code: settings.selected(code) and not _per_file_ignored(code, path, settings)


def rejudge(result: FileResult, records: tuple[LayerRecord, ...], variants: dict[int, list[tuple[LayerRecord, str]]],
            text: str, settings: Settings) -> FileResult:
    """Judge a file's records again after the project decided some inits (SPEC 8.32).

    A layer whose construction paths disagree is judged once per path; the worst finding is
    kept and names the containers of that path.
    """
    records, variants = sized(tuple(engine.plausible(r) for r in records), variants, settings)
    found = judged(records, variants, settings)
    found = [f for f in sorted(found, key=Finding.sort_key) if not _per_file_ignored(f.code, result.path, settings)]
    return suppressions.apply(replace(result, records=records, findings=tuple(found), suppressed=()), text,
                              _reported(result.path, settings))


def judged(records: tuple[LayerRecord, ...], variants: dict[int, list[tuple[LayerRecord, str]]],
           settings: Settings) -> list[Finding]:
    """The findings, with a layer that has variants judged once per variant: the worst kept, naming its variant."""
    found = engine.findings(records, settings)
    for i, options in variants.items():
        base = records[i]
        best: tuple[int, Finding | None, str] = (-1, None, "")
        for rec, label in options:
            trial = list(records)
            trial[i] = engine.plausible(rec)
            for f in engine.findings(trial, settings):
                if f.record is not None and f.record.origin == base.origin:
                    rank = SEVERITY_RANK[f.severity]
                    if rank > best[0]:
                        best = (rank, f, label)
        found = [f for f in found if not (f.record is not None and f.record.origin == base.origin)]
        if best[1] is not None:
            labels = ", ".join(label for _r, label in options)
            found.append(replace(best[1], message=f"{best[1].message}\nThe containers disagree ({labels}); "
                                                  f"this is the worst, {best[2]}."))
    return found


_SIZED = ("INIT001", "INIT002", "INIT004", "INIT005", "INIT006")  # what the fans can change (SPEC 8.3)


def sized(records: tuple[LayerRecord, ...], variants: dict[int, list[tuple[LayerRecord, str]]], settings: Settings
          ) -> tuple[tuple[LayerRecord, ...], dict[int, list[tuple[LayerRecord, str]]]]:
    """Layers their containers build with other sizes (SPEC 8.32): judged with each container's fans.

    All containers agree: those fans. They differ: one variant per container. A container that sets a size
    the analysis cannot evaluate, where the class's own size (a default) or another container's is known,
    is vague: when only such containers would give a finding the fans can change, the layer is unresolved
    (never judged on sizes it only has by default, nor by declaration where known sizes say otherwise).
    """
    out = list(records)
    more = dict(variants)
    for i, rec in enumerate(records):
        if not rec.container_fans or rec.unresolved or i in variants:
            continue
        paths: list[tuple[str, int | None, int | None]] = []
        vague: list[str] = []
        known = any(fi is not None and fo is not None for _c, fi, fo in rec.container_fans)
        for c, fi, fo in rec.container_fans:
            if (fi is None or fo is None) and known or (fi is None and rec.fan_in is not None) \
                    or (fo is None and rec.fan_out is not None):
                if _flags(replace(rec, fan_in=fi, fan_out=fo, container_fans=()), settings):
                    vague.append(c)
            else:
                paths.append((c, fi, fo))
        if vague and not any(_flags(replace(rec, fan_in=fi, fan_out=fo, container_fans=()), settings)
                             for _c, fi, fo in paths):
            out[i] = replace(rec, activation=None, container_fans=(), unresolved=(
                f"sizes set by containers the analysis cannot evaluate (in {', '.join(sorted(set(vague))[:3])})"))
            continue
        fans = {(fi, fo): c for c, fi, fo in paths}
        if len(fans) <= 1:
            (fi, fo), = fans or {(rec.fan_in, rec.fan_out): ""}
            out[i] = replace(rec, fan_in=fi, fan_out=fo, container_fans=())
            continue
        more[i] = [(replace(rec, fan_in=fi, fan_out=fo, container_fans=()), f"in {c} with fans {fi or '?'}/{fo or '?'}")
                   for (fi, fo), c in fans.items()]
    return tuple(out), more


def _flags(rec: LayerRecord, settings: Settings) -> bool:
    """Does the layer, judged alone, draw a finding its fans can change?"""
    return any(f.code in _SIZED for f in engine.findings([engine.plausible(rec)], settings))


def _per_file_ignored(code: str, path: str, settings: Settings) -> bool:
    return any(code.startswith(prefix) for prefix in config.ignored_codes(path, settings))


def lint_file(path: str | os.PathLike[str], settings: Settings | None = None) -> FileResult:
    """Lint one ``.py`` or ``.ipynb`` file or audit one ``.onnx`` file; unreadable input gives ``error``, never an exception."""
    name = str(path)
    settings = settings or Settings()
    if name.endswith(".onnx"):
        return audit_onnx(name, settings)
    data = limits.read_source(name, settings.max_file_size)
    if isinstance(data, str):
        return FileResult(name, error=f"{name}: {data}")
    return lint_bytes(name, data, settings)


def lint_bytes(name: str, data: bytes, settings: Settings, project: Project | None = None,
               checked: limits.Checked | None = None, on_parse: Callable[[cst.Module, str], None] | None = None) -> FileResult:
    """Lint the bytes of one ``.py`` (or ``.ipynb``) file already read (the cache keys on them)."""
    if settings.max_file_size and len(data) > settings.max_file_size:
        return FileResult(name, error=f"{name}: {limits.too_large(len(data), settings.max_file_size)}")
    if name.endswith(".ipynb"):
        return lint_notebook(name, data, settings)
    try:
        text = decode(data)
    except (UnicodeDecodeError, SyntaxError, LookupError) as err:
        reason = err.reason if isinstance(err, UnicodeDecodeError) else str(err)
        return FileResult(name, error=f"{name}: not valid UTF-8 (or declared encoding): {reason}")
    return lint_source(text, name, settings, project, checked, on_parse)


def lint_notebook(name: str, data: bytes, settings: Settings) -> FileResult:
    """Lint a notebook's code cells as one module; findings are located in their cells."""
    try:
        notebook = notebooks.parse(data, name)
    except notebooks.NotebookError as err:
        return FileResult(name, error=str(err))
    return notebooks.locate(lint_source(notebook.text, name, settings), notebook)


def audit_onnx(path: str, settings: Settings | None = None) -> FileResult:
    """Audit an ONNX graph: measure its weights and judge them against their consumers."""
    settings = settings or Settings()
    try:
        from .frontends.onnx import (
            graph as onnx_graph,  # lazy: onnx is an optional extra
        )
    except ImportError as err:
        return FileResult(path, error=f"{path}: cannot audit ONNX: {err} (install with: pip install 'initlint[onnx]')")
    return limits.guarded(path, settings.timeout, lambda: _audit_onnx(onnx_graph, path, settings))


def _audit_onnx(onnx_graph: Any, path: str, settings: Settings) -> FileResult:
    result = onnx_graph.audit(path, settings, agree=engine.same_verdicts)
    if result.error:
        return result
    records = tuple(engine.plausible(r) for r in result.records)
    found = [f for f in engine.findings(records, settings) if not _per_file_ignored(f.code, path, settings)]
    return replace(result, records=records, findings=tuple(found))
