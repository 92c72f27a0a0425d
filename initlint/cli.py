"""The ``initlint`` command line: composes the api ladder and the reporters.

``initlint [PATHS]`` lints; ``initlint rules``, ``initlint explain CODE`` (and
``initlint check TARGET`` for live models) are subcommands. Exit codes:
0 nothing at or above ``--fail-on``, 1 findings at or above it, 2 usage error or
an input that could not be read or parsed.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from . import __version__
from .rulebook import DOC_SECTIONS, rule, rules
from .settings import Settings

FORMATS = ("text", "json", "sarif", "github")
SEVERITIES = ("error", "warning", "advice")


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to the ``lint`` command.

    ``initlint --help`` shows the lint options too: linting is what ``initlint`` does.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint", *args]
        return super().parse_args(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """The command, with an output that cannot be written reported as one line (exit 2), not a traceback."""
        if sys.stdout is None:  # started with standard output closed (`initlint . >&-`)
            sys.stderr.write("error: standard output is closed: nothing can be reported\n") if sys.stderr else None
            sys.exit(2)
        try:
            return super().main(*args, **kwargs)
        except OSError as err:  # ENOSPC, EIO, EBADF ... while writing the report (click handles EPIPE itself)
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the interpreter's final flush must not fail again
            except OSError:
                pass
            click.echo(f"error: cannot write the output: {err.strerror or err}", err=True)
            sys.exit(2)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lint_command = self.commands["lint"]
        rows = [r for p in lint_command.get_params(ctx)
                if isinstance(p, click.Option) and (r := p.get_help_record(ctx)) is not None]
        with formatter.section("Lint options (initlint [OPTIONS] [PATHS]...)"):
            formatter.write_dl(rows)
        super().format_options(ctx, formatter)


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


class _Finite(click.FloatRange):
    """A FloatRange that also refuses NaN (which compares as inside every range)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        out = super().convert(value, param, ctx)
        if math.isnan(out):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return out


def _codes(value: str | None, option: str = "") -> tuple[str, ...]:
    """The rule codes of ``--select`` / ``--ignore``, checked like the configuration's (``error:`` line, exit 2)."""
    from .config import ConfigError, check_codes

    if value is None:
        return ()
    codes = tuple(c.strip() for c in value.split(",") if c.strip())
    try:
        if not codes:
            raise ConfigError(f"{option}: no rule code given (e.g. {option} INIT001,INIT00)")
        return check_codes(codes, option)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)


def _flag_codes(value: str | None, flag: str) -> tuple[str, ...] | None:
    """A code-list flag's codes (None when not given); an unknown code is a usage error (exit 2)."""
    return None if value is None else _codes(value, flag)


def use_colour(choice: str, stream: Any) -> bool:
    """``--color``: always, never, or auto (a terminal, and ``NO_COLOR`` unset or empty, see no-color.org)."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


_HARD_EXIT: list[bool] = []  # set by a command after which the process may end without finalizing


def run() -> NoReturn:
    """The ``initlint`` program: :func:`main`, then, after a lint, an exit that skips the interpreter's finalization.

    Finalizing frees every object of the run one by one after a last collection over them all, about a
    tenth of a whole-project run; the operating system takes the memory back at once. The output
    streams are flushed first. (``initlint check`` ran the user's code: it exits the usual way.)
    """
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if not _HARD_EXIT or not (code is None or isinstance(code, int)):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what was lost is lost either way
            pass
    os._exit(code or 0)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="initlint")
def main() -> None:
    """Lint the weight initialization of PyTorch and Keras models and ONNX graphs.

    \b
    initlint [OPTIONS] [PATHS]...   lint .py, .ipynb and .onnx files (default: .)
    initlint rules                  list the rules
    initlint explain CODE           document one rule
    initlint check TARGET           check a live model (imports and runs TARGET)

    \b
    Exit codes: 0 nothing at or above --fail-on (or --exit-zero), 1 findings
    at or above it, 2 usage error or an input that could not be read or parsed.
    """


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--select", help="Comma-separated code prefixes to report (replaces the config's selection).")
@click.option("--extend-select", help="Comma-separated code prefixes to report in addition to the selection.")
@click.option("--ignore", help="Comma-separated code prefixes not to report.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even with findings (still 2 for unreadable inputs).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file instead of standard output.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only: no summary line, tables or fix tally.")
@click.option("--verbose", "-v", is_flag=True, help="Also print each finding's derivation and every graph's layer table.")
@click.option("--color", "color", type=click.Choice(("auto", "always", "never")), default="auto", show_default=True,
              help="Colour the text output (auto: on a terminal unless NO_COLOR is set).")
@click.option("--stdin-filename", help="The name of the source read from standard input (PATH '-', or no PATH).")
@click.option("--show-unresolved", is_flag=True, help="List the layers that could not be resolved, with the reason.")
@click.option("--show-suppressed", is_flag=True, help="Also list findings silenced by suppression comments.")
@click.option("--fail-on-unused-suppression", is_flag=True,
              help="Exit 1 when a suppression comment lists a code that suppresses nothing.")
@click.option("--fix", "fix", is_flag=True, help="Rewrite files so fixable findings go away (changes training numerics).")
@click.option("--diff", "diff", is_flag=True, help="Print the --fix edits as a unified diff; change nothing.")
@click.option("--propagate", is_flag=True, expose_value=False, callback=_onnx_option,
              help="ONNX: run one seeded N(0,1) batch through onnxruntime and check the signal (INIT008).")
@click.option("--input-shape", expose_value=False, callback=_onnx_option,
              help="ONNX --propagate: the batch shape, batch dimension included (e.g. 128,3,32,32).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="A pyproject.toml to read [tool.initlint] from [default: the nearest one with that table].")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip files git ignores when walking folders [default: respect].")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: one per core; 1: none].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.initlint_cache/).")
@click.option("--timeout", type=_Finite(min=0, max=1_000_000),
              help="Seconds per file before it is skipped [default: 60; 0: none].")
@click.option("--max-file-size", type=click.IntRange(min=0, max=10**12),
              help="Bytes; larger .py files are skipped [default: 2000000; 0: no limit].")
@click.option("--no-project", is_flag=True, help="Judge each file alone, without the containers, base classes and helpers of the rest of its project.")
def lint(paths: Sequence[str], fmt: str, select: str | None, ignore: str | None, fail_on: str | None,
         show_unresolved: bool, jobs: int | None, no_cache: bool, config_file: str | None = None,
         show_suppressed: bool = False, fix: bool = False, diff: bool = False, timeout: float | None = None,
         max_file_size: int | None = None, extend_select: str | None = None, exit_zero: bool = False,
         output_file: str | None = None, statistics: bool = False, quiet: bool = False, verbose: bool = False,
         color: str = "auto", stdin_filename: str | None = None, fail_on_unused_suppression: bool = False,
         respect_gitignore: bool | None = None, no_project: bool = False) -> None:
    """Lint PATHS (files or directories; default: the current directory; '-': standard input)."""
    _HARD_EXIT[:] = [True]  # this process holds nothing but initlint's own objects: see run()
    from .api import lint_paths
    from .cache import Cache
    from .config import ConfigError, settings_for

    overrides: dict[str, Any] = {
        "select": _flag_codes(select, "--select"),
        "extend_select": _flag_codes(extend_select, "--extend-select"),
        "ignore": _flag_codes(ignore, "--ignore"),
        "fail_on": fail_on, "timeout": timeout, "max_file_size": max_file_size,  # None: not given
        "respect_gitignore": respect_gitignore,
        "project": False if no_project else None,
    }
    overrides.update(click.get_current_context().meta.get("onnx_overrides", {}))
    stdin = "-" in paths or (stdin_filename is not None and not paths)  # as ruff: a name alone means stdin
    if stdin and len(paths) > 1:
        raise click.UsageError("'-' (standard input) cannot be combined with other paths")
    where = [stdin_filename or "."] if stdin else list(paths)
    try:
        settings = settings_for(where, config_file, **overrides)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    not_written: list[str] = []
    if stdin:
        report, fixed = _lint_stdin(stdin_filename or "-", settings, fix, diff)
        if fixed is not None:  # --fix on standard input: the fixed source goes to standard output
            click.echo(fixed, nl=False)
            sys.exit(2 if report.errors else 0)
    else:
        cache = None if no_cache else Cache.for_settings(settings)
        targets = list(paths) or ["."]
        annotate = None if statistics else {"json": "fix", "sarif": "edits"}.get(fmt)
        report = lint_paths(targets, settings, jobs=jobs, cache=cache, annotate=None if fix or diff else annotate)
        if not report.results:
            click.echo(f"warning: no .py, .ipynb or .onnx files found under {', '.join(targets)}", err=True)
        if fix or diff:
            changed, not_written = _fix(report, settings, write=not diff, quiet=quiet)
            if diff:
                sys.exit(2 if report.errors else 1 if changed and not exit_zero else 0)
            report = lint_paths(targets, settings, jobs=jobs, cache=cache, annotate=annotate)
    out = click.open_file(output_file, "w", encoding="utf-8") if output_file else None
    stream = out or sys.stdout
    colour = use_colour(color, stream) and fmt == "text"
    try:
        click.echo(_render(report, settings, fmt, statistics, show_unresolved, show_suppressed,
                           verbose, quiet, colour, stdin), nl=False, file=out, color=colour)
    finally:
        if out is not None:
            out.close()
    for error in report.errors + not_written:
        click.echo(f"error: {error}", err=True)
    if report.errors or not_written:
        sys.exit(2)
    failed = any(settings.fails(f.severity) for f in report.findings)
    failed = failed or (fail_on_unused_suppression and any(r.unused_suppressions for r in report.results))
    sys.exit(1 if failed and not exit_zero else 0)


def _render(report: Any, settings: Settings, fmt: str, statistics: bool, show_unresolved: bool, show_suppressed: bool,
            verbose: bool, quiet: bool, colour: bool, stdin: bool = False) -> str:
    from .reporters import REPORTERS

    if statistics:
        from .reporters import text

        if fmt == "json":
            import json

            rows = [{"code": code, "name": name, "count": n} for n, code, name in text.statistics(report)]
            return json.dumps(rows, indent=2) + "\n"
        return text.render_statistics(report)
    options: dict[str, Any] = {"show_suppressed": True} if show_suppressed else {}
    if fmt == "text":
        options.update(verbose=verbose, quiet=quiet)
    if fmt in ("json", "sarif") and stdin:
        from .fixes import annotate  # path runs annotate on the workers, right after each file's lint

        report = annotate(report, settings, edits=fmt == "sarif")
    return REPORTERS[fmt](report, show_unresolved, colour, **options)


def _lint_stdin(name: str, settings: Settings, fix: bool, diff: bool) -> tuple[Any, str | None]:
    """Lint source read from standard input as ``name``; with ``--fix``, also the fixed source (else None)."""
    from .api import lint_bytes
    from .records import Report

    data = click.get_binary_stream("stdin").read()
    result = lint_bytes(name, data, settings)
    report = Report((result,))
    if not (fix or diff) or name.endswith((".ipynb", ".onnx")):
        return report, None
    from .fixes import plan_source
    from .lint import decode

    planned = plan_source(decode(data), result, settings)
    if diff:
        click.echo(planned.diff(), nl=False)
        sys.exit(2 if report.errors else 1 if planned.changed else 0)
    return report, planned.new_text


def _fix(report: Any, settings: Settings, write: bool, quiet: bool = False) -> tuple[bool, list[str]]:
    """Plan the fixes of every linted file; print the diff (``write=False``) or write the files.

    Findings without a fix are listed on stderr with the reason. Returns whether any file
    changes, and an error line for each file that could not be written (left unchanged).
    """
    from .fixes import plan_result
    from .fixes import write as write_file
    from .reporters.text import location

    planned = [p for p in (plan_result(r, settings, relint=True) for r in report.results) if p is not None]
    changed = [p for p in planned if p.changed]
    not_written: list[str] = []
    written = []
    for p in changed:
        if not write:
            click.echo(p.diff(), nl=False)
        elif (why := write_file(p)) is not None:
            not_written.append(f"{p.path}: {why}")
        else:
            written.append(p)
    for p in planned:
        for finding, why in p.unfixed:
            click.echo(f"{location(finding)}: {finding.code} has no automatic fix: {why}", err=True)
    if write and not quiet:
        fixed = sum(len(p.fixes) for p in written)
        click.echo(f"fixed {fixed} finding{'s' if fixed != 1 else ''} in {len(written)} "
                   f"file{'s' if len(written) != 1 else ''}", err=True)
    return bool(changed), not_written


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
@click.option("--input-dtype", help="Input dtype, e.g. long for token ids (drawn below the first Embedding's size) "
              "[default: token ids when the forward starts with an Embedding, else the model's float dtype].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for building the model and the batch.")
@click.option("--signal-threshold", type=_Finite(min=1.0, min_open=True, max=1e12),
              help="INIT008: largest allowed change of forward / gradient std across the network [default: 10].")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), help="Write the signal curve to this PNG.")
@click.option("--apply-demo", is_flag=True, help="Also show the model after apply_recommended_init (before/after).")
@click.option("--select", help="Comma-separated code prefixes to report.")
@click.option("--ignore", help="Comma-separated code prefixes not to report.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 [default: warning].")
def check(target: str, kwargs_json: str, input_shape: str | None, input_dtype: str | None, seed: int, signal_threshold: float | None, fmt: str,
          plot_file: str | None, apply_demo: bool, select: str | None, ignore: str | None, fail_on: str | None) -> None:
    """Check a live model: TARGET is path/to/file.py:Name or package.module:Name (a class or a factory).

    This IMPORTS AND RUNS the target's code (module top level, constructor, one forward and
    backward pass on CPU): only check code you trust. Measures every weight, traces the
    activation consuming each layer, and propagates one seeded N(0,1) batch (INIT008).
    """
    import json

    from .config import ConfigError, settings_for

    where = target.rpartition(":")[0]
    try:  # [tool.initlint] of the target's project (user activations, thresholds) under the flags
        settings = settings_for([where if where.endswith(".py") else "."], None, fail_on=fail_on,
                                signal_threshold=signal_threshold,
                                select=_codes(select, "--select") if select is not None else None,
                                ignore=_codes(ignore, "--ignore") if ignore is not None else None)
    except ConfigError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    try:
        from .api import check_target
        from .frontends.live.targets import LiveError, parse_dtype, parse_shape
    except ModuleNotFoundError as err:
        _missing(err)
    signal_threshold = settings.signal_threshold
    progress = (lambda msg: click.echo(f"initlint: {msg}", err=True)) if sys.stderr.isatty() else None
    try:
        kwargs = json.loads(kwargs_json)
        if not isinstance(kwargs, dict):
            raise LiveError("--kwargs must be a JSON object")
        shape = parse_shape(input_shape) if input_shape else None
        dtype = parse_dtype(input_dtype) if input_dtype else None
        result, model = check_target(target, kwargs=kwargs, input_shape=shape, seed=seed, input_dtype=dtype,
                                     threshold=signal_threshold, settings=settings, progress=progress)
        demo = (_apply_demo(model, result, seed, settings, dtype)
                if apply_demo and result.tracer != "keras graph" else None)
    except (LiveError, json.JSONDecodeError) as err:
        click.echo(f"error: {target}: {err}", err=True)
        sys.exit(2)
    except ModuleNotFoundError as err:  # the target's own imports, or a framework it needs
        _missing(err, target)
    except KeyboardInterrupt:
        raise
    except SystemExit as err:  # the model's code called sys.exit(): that is not initlint's verdict
        click.echo(f"error: {target}: the model's code called sys.exit({err.code!r}); the check did not finish",
                   err=True)
        sys.exit(2)
    except BaseException as err:  # noqa: BLE001 - the target's code (forward, hooks, deepcopy) may raise anything
        message = " ".join(str(err).split())[:300]
        click.echo(f"error: {target}: the check failed: {type(err).__name__}: {message}", err=True)
        sys.exit(2)
    _report_live(result, demo, fmt, plot_file)
    sys.exit(1 if any(settings.fails(f.severity) for f in result.findings) else 0)


_EXTRAS = {"torch": "torch", "numpy": "torch", "keras": "keras", "matplotlib": "plot"}


def _missing(err: ModuleNotFoundError, target: str = "") -> NoReturn:
    """A missing framework: one line with the install command, exit 2 (never a traceback)."""
    name = (err.name or "").partition(".")[0]
    extra = _EXTRAS.get(name)
    if extra:
        hint = f"pip install 'initlint[{extra}]'"
        click.echo(f"error: initlint check needs {name}, which is not installed (install with: {hint})", err=True)
    else:
        click.echo(f"error: {target or 'initlint check'}: cannot import {name or err}: {err}", err=True)
    sys.exit(2)


def _apply_demo(model: Any, before: Any, seed: int, settings: Settings, dtype: Any = None) -> tuple[list[Any], Any]:
    """Re-initialize a copy of the model with the advisor and check it again."""
    import copy

    from .advisor import apply_recommended_init
    from .api import check_model

    twin = copy.deepcopy(model)
    changes = apply_recommended_init(twin, before.input_shape, seed=seed, settings=settings, include_kept=True,
                                     input_dtype=dtype)
    after = check_model(twin, before.input_shape, seed=seed, threshold=before.signal.threshold if before.signal else None,
                        path=before.path, settings=settings, input_dtype=dtype)
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
