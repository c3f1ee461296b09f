"""`thesis apps ...`: scan a folder of generated apps, list them."""

from __future__ import annotations

from pathlib import Path

import click

from tui.commands.base import Context, echo_json, handles_errors, pass_context
from tui.errors import shown
from tui.services.apps import list_applications
from tui.services.scanner import scan_apps


@click.group()
def apps() -> None:
    """Generated applications: scan a folder of them, list them."""


@apps.command("scan")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@pass_context
@handles_errors
def apps_scan(context: Context, directory: Path | None) -> None:
    """Scan DIRECTORY (default THESIS_APPS_DIR) laid out <model_slug>/app<N>/."""
    root = directory or context.settings.apps_dir
    report = scan_apps(context.database(), root, create=directory is None)
    for path, reason in report.skipped:
        click.echo(f"skipped {shown(path)}: {shown(reason)}", err=True)
    click.echo(report.summary())


@apps.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@pass_context
@handles_errors
def apps_list(context: Context, as_json: bool) -> None:
    """List apps with their status and ports."""
    rows = list_applications(context.database(), limit=None).rows
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No apps yet: run `thesis apps scan DIR`.")
        return
    click.echo(f"{'model':<40} {'app':>3}  {'status':<12} {'backend':>7} {'frontend':>8}")
    for row in rows:
        click.echo(
            f"{row.model_slug:<40} {row.app_number:>3}  {row.status:<12} "
            f"{row.backend_port or '—':>7} {row.frontend_port or '—':>8}"
            + (f"  {shown(row.status_detail)}" if row.status_detail else "")
        )
