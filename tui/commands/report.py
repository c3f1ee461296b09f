"""`thesis report models`: the models compared, as a table or an export for a thesis."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tui.commands.base import Context, handles_errors, pass_context
from tui.errors import ValidationError, shown

FORMAT_CHOICE = click.Choice(["table", "csv", "json", "markdown", "latex"])


@click.group()
def report() -> None:
    """Compare the models: per-model metrics with 95 % intervals, and exports."""


@report.command("models")
@click.option("--job", "job_id", type=click.IntRange(1), help="Only the analyses of this job.")
@click.option("--models", help="Slugs, comma-separated (default: every model with apps).")
@click.option("--types", help="Analysis types, comma-separated (default: all).")
@click.option("--format", "fmt", type=FORMAT_CHOICE, default="table", show_default=True)
@click.option("--per-app", is_flag=True, help="CSV: a row per app; JSON: add them.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (atomically) instead of printing.")  # fmt: skip
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Seed of the bootstrap: the same seed gives the same intervals.")  # fmt: skip
@pass_context
@handles_errors
def models_command(
    context: Context,
    job_id: int | None,
    models: str | None,
    types: str | None,
    fmt: str,
    per_app: bool,
    output: Path | None,
    seed: int,
) -> None:
    """Every model's apps and headline metrics (mean per app, 95 % bootstrap interval over
    its apps, the number of apps behind it), from the latest analyses or one job's."""
    from tui.services.apps import model_slugs
    from tui.services.reports.compare import model_report
    from tui.services.reports.export import render, write

    db = context.database()
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
    if types is not None:
        from tui.services.analysis.registry import parse_types

        kinds = parse_types(types)
    result = model_report(db, job_id=job_id, models=chosen, types=kinds, seed=seed)
    if not result.models:
        raise ValidationError("No apps to compare: scan them first (`thesis apps scan`)")
    text = render(result, fmt, per_app=per_app)
    if output is None:
        sys.stdout.write(text if fmt != "table" else shown_table(text))
        return
    write(text, output)
    click.echo(f"Wrote {output} ({len(result.models)} models, {fmt})", err=True)


def shown_table(text: str) -> str:
    """The table's lines with control characters escaped (slugs come from folder names)."""
    return "".join(shown(line) + "\n" for line in text.splitlines())
