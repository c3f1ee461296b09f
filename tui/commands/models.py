"""`thesis models ...`: sync the catalogue from OpenRouter or a file, and list it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click

from tui.commands.base import Context, echo_json, echo_table, handles_errors, pass_context


@click.group()
def models() -> None:
    """The model catalogue: sync it from OpenRouter (or a file) and list it."""


@models.command("sync")
@click.option(
    "--from",
    "source",
    metavar="FILE",
    # Not click.Path(exists=True): its usage error spans several lines and exits 2, where
    # every error of ours is one line and exit 1.
    type=click.Path(path_type=Path),
    help="Import this JSON file (OpenRouter's /models answer, saved) instead of the network.",
)
@pass_context
@handles_errors
def sync(context: Context, source: Path | None) -> None:
    """Add and update models from OpenRouter's model list (THESIS_OPENROUTER_BASE_URL).

    Nothing is deleted: models no longer listed are kept and marked unavailable. One
    malformed entry stops the sync before anything is written.
    """
    from tui.errors import RemoteServiceError
    from tui.services.catalog import load_models_file, sync_models
    from tui.services.openrouter import fetch_openrouter_models

    database = context.database()
    if source is not None:
        entries = load_models_file(source)
    else:
        try:
            entries = fetch_openrouter_models(context.settings)
        except RemoteServiceError as exc:
            if not exc.msg.startswith(("Cannot reach", "OpenRouter at")):
                raise
            raise RemoteServiceError(
                f"{exc.msg}. Offline? Save the list on a connected machine and import it "
                "with `thesis models sync --from FILE`"
            ) from None
    click.echo(sync_models(database, entries).summary())


_COLUMNS = ("slug", "provider", "context", "$in/1M", "$out/1M", "caps", "apps", "state")


def _price(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "free"
    # Cents where they are exact; cheap models (0.0375) keep their significant digits.
    return f"{value:.2f}" if round(value, 2) == value else f"{value:.4g}"


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead.")
@pass_context
@handles_errors
def list_(context: Context, as_json: bool) -> None:
    """List the catalogue, by provider then slug, with each model's number of apps.

    Prices are USD per 1M tokens; caps are V(ision) F(unction calling) J(SON mode)
    S(treaming).
    """
    from tui.services.model_listing import list_models

    rows = list_models(context.database(), limit=None).rows
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    if not rows:
        click.echo("No models in the catalogue yet: run `thesis models sync`.")
        return
    table = [
        (
            row.slug,
            row.provider,
            f"{row.context_length:,}" if row.context_length else "-",
            _price(row.price_prompt),
            _price(row.price_completion),
            "".join(
                letter if on else "."
                for letter, on in zip(
                    "VFJS",
                    (row.vision, row.function_calling, row.json_mode, row.streaming),
                    strict=True,
                )
            ),
            str(row.app_count),
            "available" if row.is_available else "unlisted",
        )
        for row in rows
    ]
    echo_table(_COLUMNS, table, right={2, 3, 4, 6})
