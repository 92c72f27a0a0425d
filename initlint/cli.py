"""The ``initlint`` command line: composes the api ladder and the reporters.

``initlint [PATHS]`` lints; ``initlint rules``, ``initlint explain CODE`` (and
``initlint check TARGET`` for live models) are subcommands. Exit codes:
0 nothing at or above ``--fail-on``, 1 findings at or above it, 2 usage error or
an input that could not be read or parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import click

from . import __version__
from .rulebook import DOC_SECTIONS, rule, rules
from .settings import Settings

FORMATS = ("text", "json")
SEVERITIES = ("error", "warning", "advice")


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to the ``lint`` command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["lint", *args]
        return super().parse_args(ctx, args)


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
    """


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--select", help="Comma-separated code prefixes to report (e.g. INIT001,INIT00).")
@click.option("--ignore", help="Comma-separated code prefixes not to report.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--show-unresolved", is_flag=True, help="List the layers that could not be resolved, with the reason.")
def lint(paths: Sequence[str], fmt: str, select: str | None, ignore: str | None, fail_on: str | None,
         show_unresolved: bool) -> None:
    """Lint PATHS (files or directories; default: the current directory)."""
    from .api import lint_paths
    from .reporters import REPORTERS

    settings = Settings()
    overrides: dict[str, Any] = {}
    if select:
        overrides["select"] = _codes(select)
    if ignore:
        overrides["ignore"] = _codes(ignore)
    if fail_on:
        overrides["fail_on"] = fail_on
    settings = replace(settings, **overrides)
    report = lint_paths(list(paths) or ["."], settings)
    colour = fmt == "text" and sys.stdout.isatty()
    click.echo(REPORTERS[fmt](report, show_unresolved, colour), nl=False)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.errors:
        sys.exit(2)
    sys.exit(1 if any(settings.fails(f.severity) for f in report.findings) else 0)


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
