"""The ``initlint`` command line: composes the api ladder and the reporters.

``initlint [PATHS]`` lints; ``initlint rules``, ``initlint explain CODE`` (and
``initlint check TARGET`` for live models) are subcommands. Exit codes:
0 nothing at or above ``--fail-on``, 1 findings at or above it, 2 usage error or
an input that could not be read or parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from . import __version__
from .rulebook import DOC_SECTIONS, rule, rules
from .settings import Settings

FORMATS = ("text", "json", "sarif", "github")
SEVERITIES = ("error", "warning", "advice")


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to the ``lint`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint", *args]
        return super().parse_args(ctx, args)


def _onnx_option(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep ``--propagate`` / ``--input-shape`` as Settings overrides (they only affect ONNX audits)."""
    if not value:
        return
    store = ctx.meta.setdefault("onnx_overrides", {})
    if param.name == "propagate":
        store["propagate"] = True
        return
    try:
        shape = tuple(int(part) for part in str(value).replace("x", ",").split(",") if part.strip())
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise click.BadParameter(f"{value!r}: expected comma-separated positive integers, e.g. 128,3,32,32")
    store["input_shape"] = shape


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="initlint")
def main() -> None:
    """Lint the weight initialization of PyTorch and Keras models and ONNX graphs.

    \b
    initlint [PATHS]...        lint .py and .onnx files (default: .)
    initlint rules             list the rules
    initlint explain CODE      document one rule
    initlint check TARGET      check a live model (imports and runs TARGET)
    """


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--select", help="Comma-separated code prefixes to report (e.g. INIT001,INIT00).")
@click.option("--ignore", help="Comma-separated code prefixes not to report.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--show-unresolved", is_flag=True, help="List the layers that could not be resolved, with the reason.")
@click.option("--propagate", is_flag=True, expose_value=False, callback=_onnx_option,
              help="ONNX: run one seeded N(0,1) batch through onnxruntime and check the signal (INIT008).")
@click.option("--input-shape", expose_value=False, callback=_onnx_option,
              help="ONNX --propagate: the batch shape, batch dimension included (e.g. 128,3,32,32).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: one per core; 1: none].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.initlint_cache/).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="A pyproject.toml to read [tool.initlint] from [default: the nearest one with that table].")
@click.option("--show-suppressed", is_flag=True, help="Also list findings silenced by suppression comments.")
@click.option("--fix", "fix", is_flag=True, help="Rewrite files so fixable findings go away (changes training numerics).")
@click.option("--diff", "diff", is_flag=True, help="Print the --fix edits as a unified diff; change nothing.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Seconds per file before it is skipped [default: 60; 0: none].")
@click.option("--max-file-size", type=click.IntRange(min=0),
              help="Bytes; larger .py files are skipped [default: 2000000; 0: no limit].")
@click.option("--no-project", is_flag=True, help="Judge each file alone, not as part of its project (SPEC 8.32).")
def lint(paths: Sequence[str], fmt: str, select: str | None, ignore: str | None, fail_on: str | None,
         show_unresolved: bool, jobs: int | None, no_cache: bool, config_file: str | None = None,
         show_suppressed: bool = False, fix: bool = False, diff: bool = False, timeout: float | None = None,
         max_file_size: int | None = None, no_project: bool = False) -> None:
    """Lint PATHS (files or directories; default: the current directory)."""
    from .api import lint_paths
    from .cache import Cache
    from .config import ConfigError, settings_for
    from .reporters import REPORTERS

    overrides: dict[str, Any] = {}
    if select:
        overrides["select"] = _codes(select)
    if ignore:
        overrides["ignore"] = _codes(ignore)
    if fail_on:
        overrides["fail_on"] = fail_on
    overrides.update(timeout=timeout, max_file_size=max_file_size, project=False if no_project else None)  # None: not given
    overrides.update(click.get_current_context().meta.get("onnx_overrides", {}))
    try:
        settings = settings_for(list(paths), config_file, **overrides)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    cache = None if no_cache else Cache.for_settings(settings)
    report = lint_paths(list(paths) or ["."], settings, jobs=jobs, cache=cache)
    if fix or diff:
        changed = _fix(report, settings, write=not diff)
        if diff:
            sys.exit(2 if report.errors else 1 if changed else 0)
        report = lint_paths(list(paths) or ["."], settings, jobs=jobs, cache=cache)
    options: dict[str, Any] = {"show_suppressed": True} if show_suppressed else {}
    if fmt in ("json", "sarif"):
        from .fixes import annotate

        report = annotate(report, settings, edits=fmt == "sarif")
    colour = fmt == "text" and sys.stdout.isatty()
    click.echo(REPORTERS[fmt](report, show_unresolved, colour, **options), nl=False)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        sys.exit(2)
    sys.exit(1 if any(settings.fails(f.severity) for f in report.findings) else 0)


def _fix(report: Any, settings: Settings, write: bool) -> bool:
    """Plan the fixes of every linted file; print the diff (``write=False``) or write the files.

    Findings without a fix are listed on stderr with the reason. Returns whether any file changes.
    """
    from .fixes import plan_result
    from .fixes import write as write_file
    from .reporters.text import location

    planned = [p for p in (plan_result(r, settings) for r in report.results) if p is not None]
    changed = [p for p in planned if p.changed]
    for p in changed:
        if write:
            write_file(p)
        else:
            click.echo(p.diff(), nl=False)
    for p in planned:
        for finding, why in p.unfixed:
            click.echo(f"{location(finding)}: {finding.code} has no automatic fix: {why}", err=True)
    if write:
        fixed = sum(len(p.fixes) for p in changed)
        click.echo(f"fixed {fixed} finding{'s' if fixed != 1 else ''} in {len(changed)} "
                   f"file{'s' if len(changed) != 1 else ''}", err=True)
    return bool(changed)


@main.command("rules")
def rules_command() -> None:
    """List every rule: code, name, severity, summary."""
    for r in rules().values():
        click.echo(f"{r.code}  {r.name:<28} {r.severity:<8} {r.summary}")


@main.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Document one rule (what it does, why, example, fix, limitations, references)."""
    code = code.upper()
    if code not in rules():
        raise click.UsageError(f"unknown rule code {code!r}; see `initlint rules`")
    r = rule(code)
    click.echo(f"{r.code} {r.name} ({r.severity})\n\n{r.summary}\n")
    for key, heading in DOC_SECTIONS:
        if r.docs.get(key):
            click.echo(f"## {heading}\n{r.docs[key]}\n")


@main.command("check")
@click.argument("target")
@click.option("--kwargs", "kwargs_json", default="{}", show_default=True,
              help='JSON object of keyword arguments for the class or factory, e.g. \'{"depth": 50}\'.')
@click.option("--input-shape", help="Input shape with the batch, e.g. 128,3,32,32 [default: from the first layer].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for building the model and the batch.")
@click.option("--signal-threshold", type=click.FloatRange(min=1.0, min_open=True),
              help="INIT008: largest allowed change of forward / gradient std across the network [default: 10].")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), help="Write the signal curve to this PNG.")
@click.option("--apply-demo", is_flag=True, help="Also show the model after apply_recommended_init (before/after).")
@click.option("--select", help="Comma-separated code prefixes to report.")
@click.option("--ignore", help="Comma-separated code prefixes not to report.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 [default: warning].")
def check(target: str, kwargs_json: str, input_shape: str | None, seed: int, signal_threshold: float | None, fmt: str,
          plot_file: str | None, apply_demo: bool, select: str | None, ignore: str | None, fail_on: str | None) -> None:
    """Check a live model: TARGET is path/to/file.py:Name or package.module:Name (a class or a factory).

    This IMPORTS AND RUNS the target's code (module top level, constructor, one forward and
    backward pass on CPU): only check code you trust. Measures every weight, traces the
    activation consuming each layer, and propagates one seeded N(0,1) batch (INIT008).
    """
    import json

    from .api import check_target
    from .config import ConfigError, settings_for
    from .frontends.live.targets import LiveError, parse_shape

    where = target.rpartition(":")[0]
    try:  # [tool.initlint] of the target's project (user activations, thresholds) under the flags
        settings = settings_for([where if where.endswith(".py") else "."], None, fail_on=fail_on,
                                signal_threshold=signal_threshold, select=_codes(select) or None,
                                ignore=_codes(ignore) or None)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    signal_threshold = settings.signal_threshold
    progress = (lambda msg: click.echo(f"initlint: {msg}", err=True)) if sys.stderr.isatty() else None
    try:
        kwargs = json.loads(kwargs_json)
        if not isinstance(kwargs, dict):
            raise LiveError("--kwargs must be a JSON object")
        shape = parse_shape(input_shape) if input_shape else None
        result, model = check_target(target, kwargs=kwargs, input_shape=shape, seed=seed,
                                     threshold=signal_threshold, settings=settings, progress=progress)
        demo = _apply_demo(model, result, seed, settings) if apply_demo and result.tracer != "keras graph" else None
    except (LiveError, json.JSONDecodeError) as err:
        click.echo(f"error: {target}: {err}", err=True)
        sys.exit(2)
    _report_live(result, demo, fmt, plot_file)
    sys.exit(1 if any(settings.fails(f.severity) for f in result.findings) else 0)


def _apply_demo(model: Any, before: Any, seed: int, settings: Settings) -> tuple[list[Any], Any]:
    """Re-initialize a copy of the model with the advisor and check it again."""
    import copy

    from .advisor import apply_recommended_init
    from .api import check_model

    twin = copy.deepcopy(model)
    changes = apply_recommended_init(twin, before.input_shape, seed=seed, settings=settings, include_kept=True)
    after = check_model(twin, before.input_shape, seed=seed, threshold=before.signal.threshold if before.signal else None,
                        path=before.path, settings=settings)
    return changes, after


def _report_live(result: Any, demo: tuple[list[Any], Any] | None, fmt: str, plot_file: str | None) -> None:
    import json

    from .reporters import live

    if plot_file:
        try:
            live.plot(result, plot_file)
        except (RuntimeError, OSError) as err:
            click.echo(f"error: --plot {plot_file}: {err}", err=True)
            sys.exit(2)
    if fmt == "json":
        doc = live.document(result)
        if demo is not None:
            changes, after = demo
            doc["apply_demo"] = {"changes": [vars(c) for c in changes], "after": live.document(after)}
        click.echo(json.dumps(doc, indent=2))
        return
    colour = sys.stdout.isatty()
    click.echo(live.render_text(result, colour), nl=False)
    if demo is not None:
        changes, after = demo
        click.echo("\napply_recommended_init(model):")
        for change in changes:
            click.echo(f"  {change}")
        click.echo("\nafter:")
        click.echo(live.table(after.layers) + live.curve_text(after), nl=False)
        click.echo(live.text_reporter.render(live.Report((after,)), False, colour), nl=False)
