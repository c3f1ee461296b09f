"""`thesis report models`: the models compared, as a table or an export for a thesis."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import wraps
from pathlib import Path

import click

from tui.commands.base import Context, handles_errors, pass_context
from tui.errors import ValidationError, shown
from tui.services.reports.criteria import FORMATS, METHODS

FORMAT_CHOICE = click.Choice(FORMATS)


@click.group()
def report() -> None:
    """Compare the models: per-model metrics with 95 % intervals, and exports."""


@dataclass(frozen=True)
class Scope:
    """Which analyses a report reads: --job, --models, --types, and the bootstrap's --seed."""

    job_id: int | None
    models: str | None
    types: str | None
    seed: int


@dataclass(frozen=True)
class Output:
    """--format and --output."""

    fmt: str
    path: Path | None


def scope_options(command):
    """The scope's options, handed to the command as one `scope`."""

    @wraps(command)
    def wrapper(*args, job_id, models, types, seed, **kwargs):
        return command(*args, scope=Scope(job_id, models, types, seed), **kwargs)

    for option in reversed([
        click.option("--job", "job_id", type=click.IntRange(1),
                     help="Only the analyses of this job."),
        click.option("--models", help="Slugs, comma-separated (default: every model with apps)."),
        click.option("--types", help="Analysis types, comma-separated (default: all)."),
        click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
                     help="Seed of the bootstrap: the same seed gives the same intervals."),
    ]):  # fmt: skip
        wrapper = option(wrapper)
    return wrapper


def output_options(command):
    """--format and --output, handed to the command as one `out`."""

    @wraps(command)
    def wrapper(*args, fmt, output, **kwargs):
        return command(*args, out=Output(fmt, output), **kwargs)

    wrapper = click.option(
        "--output", type=click.Path(dir_okay=False, path_type=Path),
        help="Write here (atomically) instead of printing.",
    )(wrapper)  # fmt: skip
    return click.option("--format", "fmt", type=FORMAT_CHOICE, default="table",
                        show_default=True)(wrapper)  # fmt: skip


def _report(context: Context, scope: Scope, models: str | None = None):
    from tui.services.apps import model_slugs
    from tui.services.reports.compare import model_report

    db = context.database()
    models = models if models is not None else scope.models
    chosen = None
    if models is not None:
        chosen = [slug.strip() for slug in models.split(",") if slug.strip()]
        known = set(model_slugs(db))
        unknown = [slug for slug in chosen if slug not in known]
        if unknown or not chosen:
            raise ValidationError(
                f"No apps of model {shown(', '.join(unknown) or '(none)')}; "
                "see `thesis models list`"
            )
    kinds = None
    if scope.types is not None:
        from tui.services.analysis.registry import parse_types

        kinds = parse_types(scope.types)
    result = model_report(db, job_id=scope.job_id, models=chosen, types=kinds, seed=scope.seed)
    if not result.models:
        raise ValidationError("No apps to compare: scan them first (`thesis apps scan`)")
    return result


def _emit(text: str, out: Output, what: str) -> None:
    from tui.services.reports.export import write

    if out.path is None:
        sys.stdout.write(shown_table(text) if out.fmt == "table" else text)
        return
    write(text, out.path)
    click.echo(f"Wrote {out.path} ({what}, {out.fmt})", err=True)


@report.command("models")
@scope_options
@output_options
@click.option("--per-app", is_flag=True, help="CSV: a row per app; JSON: add them.")
@pass_context
@handles_errors
def models_command(context: Context, scope: Scope, out: Output, per_app: bool) -> None:
    """Every model's apps and headline metrics (mean per app, 95 % bootstrap interval over
    its apps, the number of apps behind it), from the latest analyses or one job's."""
    from tui.services.reports.export import render

    result = _report(context, scope)
    _emit(render(result, out.fmt, per_app=per_app), out, f"{len(result.models)} models")


@report.command("rank")
@scope_options
@output_options
@click.option("--criteria", help="Metrics, comma-separated, each key[:benefit|cost] "
              "(default: deployable, requirements met, security and quality per KLOC, "
              "LOC per app, price).")  # fmt: skip
@click.option("--weights", help="One weight per criterion, comma-separated (default: equal).")
@click.option("--method", type=click.Choice(METHODS), default="topsis",
              show_default=True)  # fmt: skip
@click.option("--min-apps", type=click.IntRange(1), default=5, show_default=True,
              help="Apps a model needs behind a value to be ranked on it.")  # fmt: skip
@pass_context
@handles_errors
def rank_command(
    context: Context,
    scope: Scope,
    out: Output,
    criteria: str | None,
    weights: str | None,
    method: str,
    min_apps: int,
) -> None:
    """Rank the models (TOPSIS or a weighted sum) over criteria with weights; each rank
    with its range when every weight moves by 20 %, and its 95 % interval over bootstrap
    resamples of the apps; models with too few apps behind a criterion are listed apart,
    not ranked."""
    from tui.services.reports.export import render_ranking
    from tui.services.reports.rank import parse_criteria, rank_models

    result = _report(context, scope)
    names = [n for n in criteria.split(",") if n.strip()] if criteria else None
    numbers = None
    if weights is not None:
        try:
            numbers = [float(w) for w in weights.split(",")]
        except ValueError:
            raise ValidationError(f"--weights: {shown(weights)!r} is not numbers") from None
        if names is None:
            raise ValidationError("--weights needs --criteria: one weight per criterion")
    picked = parse_criteria(result, names, numbers)
    ranking = rank_models(result, picked, method=method, min_apps=min_apps)
    _emit(render_ranking(ranking, out.fmt), out, f"{len(ranking.ranked)} ranked")
    if not ranking.ranked:
        raise ValidationError(
            f"No model has every criterion from {min_apps} apps or more: none is ranked"
        )


@report.command("compare")
@click.argument("first")
@click.argument("second")
@scope_options
@output_options
@pass_context
@handles_errors
def compare_command(context: Context, first: str, second: str, scope: Scope, out: Output) -> None:
    """Two models metric by metric: means with intervals, their difference, and whether it
    is significant (a permutation test over their apps)."""
    from tui.services.reports.compare import compare_two
    from tui.services.reports.export import render_differences

    if first == second:
        raise ValidationError("Name two different models")
    if scope.models is not None:
        raise ValidationError("compare takes its two models as arguments, not --models")
    result = _report(context, scope, models=f"{first},{second}")
    found = compare_two(result, first, second)
    _emit(render_differences(first, second, found, out.fmt), out, f"{first} and {second}")


@report.command("sarif")
@click.argument("app", nargs=-1)
@click.option("--job", "job_id", type=click.IntRange(1), help="Every completed analysis of it.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .sarif file to write (atomically).")  # fmt: skip
@pass_context
@handles_errors
def sarif_command(context: Context, app: tuple[str, ...], job_id: int | None, output: Path) -> None:
    """Findings as SARIF 2.1.0 (--job ID, or MODEL N for the app's latest analyses): one
    run per analysis type and tool, for GitHub code scanning or a SARIF viewer."""
    import json

    from tui.services.reports.export import write
    from tui.services.reports.sarif import sarif_log

    if (job_id is None) == (not app):
        raise ValidationError("Give --job ID or MODEL N (one of them)")
    target = None
    if app:
        if len(app) != 2 or not app[1].isdigit() or len(app[1]) > 3:
            raise ValidationError("An app is MODEL N, e.g. openai_gpt-4o 3")
        target = (app[0], int(app[1]))
    settings = context.settings
    log = sarif_log(context.database(), settings.apps_dir, job_id=job_id, app=target)
    write(json.dumps(log.document, indent=1, ensure_ascii=False) + "\n", output)
    click.echo(
        f"Wrote {output}: {log.findings} findings from {log.analyses} analyses "
        f"in {len(log.document['runs'])} runs",
        err=True,
    )
    for reason in log.unreadable:
        click.echo(f"thesis: left out: {shown(reason)}", err=True)


@report.command("usage")
@click.option("--by", type=click.Choice(["model", "kind", "day"]), default="model",
              show_default=True, help="Sum per model called, kind of call, or day.")  # fmt: skip
@click.option("--job", "job_id", type=click.IntRange(1), help="Only the calls this job made.")
@output_options
@pass_context
@handles_errors
def usage_command(context: Context, by: str, job_id: int | None, out: Output) -> None:
    """What the LLM calls cost: calls, tokens and USD from model_usage, with the total."""
    from tui.services.reports.export import render_usage
    from tui.services.reports.usage import usage

    rows = usage(context.database(), by, job_id=job_id)  # type: ignore[arg-type]
    _emit(render_usage(rows, by, out.fmt), out, f"{rows[-1].calls} calls")


def shown_table(text: str) -> str:
    """The table's lines with control characters escaped (slugs come from folder names)."""
    return "".join(shown(line) + "\n" for line in text.splitlines())
