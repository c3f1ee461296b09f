"""`thesis ports ...`: allocate host ports to apps, list them with conflicts, release them."""

from __future__ import annotations

import re
from dataclasses import asdict

import click

from tui.commands.base import (
    Context,
    echo_json,
    echo_table,
    fail,
    handles_errors,
    pass_context,
)
from tui.db.models import MAX_APPS_PER_MODEL
from tui.errors import ValidationError


@click.group()
def ports() -> None:
    """Host ports of the apps: allocate from THESIS_BACKEND_PORTS / THESIS_FRONTEND_PORTS."""


def _app(target: tuple[str, ...], usage: str) -> tuple[str, int]:
    """MODEL and N from the arguments, or a one-line usage error."""
    if len(target) != 2:
        raise ValidationError(f"Expected a model and an app number. Usage: {usage}")
    model, number = target
    if not re.fullmatch(r"[0-9]{1,3}", number) or not 1 <= int(number) <= MAX_APPS_PER_MODEL:
        raise ValidationError(
            f"App number must be a whole number from 1 to {MAX_APPS_PER_MODEL}, got "
            f"{number!r}. Usage: {usage}"
        )
    return model, int(number)


@ports.command("allocate")
@click.option("--all", "all_apps", is_flag=True, help="Allocate for every app without ports.")
# MODEL N are read by hand, not as click arguments: click's usage errors span several lines
# and exit 2, where every error of ours is one line and exit 1.
@click.argument("target", nargs=-1, metavar="[MODEL N]")
@pass_context
@handles_errors
def allocate(context: Context, all_apps: bool, target: tuple[str, ...]) -> None:
    """Give one app (MODEL N) or every app (--all) a backend and a frontend port.

    Each is the lowest free port of its range that no other app holds and no process on
    this host listens on. An app that has ports keeps them.
    """
    from tui.services.ports import allocate_all, allocate_ports

    usage = "thesis ports allocate (--all | MODEL N)"
    if all_apps == bool(target):
        raise ValidationError(f"Give either --all or MODEL N, not both or neither. Usage: {usage}")
    backend, frontend = context.settings.backend_ports, context.settings.frontend_ports
    if all_apps:
        result = allocate_all(context.database(), backend, frontend)
        click.echo(result.summary())
        message = result.exhausted_message()
        if message:
            fail(message)
        return
    model, number = _app(target, usage)
    row = allocate_ports(context.database(), model, number, backend, frontend)
    click.echo(
        f"{row.model_slug} app {row.app_number}: backend {row.backend_port}, "
        f"frontend {row.frontend_port}"
    )


_COLUMNS = ("model", "app", "backend", "frontend", "conflict")


@ports.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead.")
@pass_context
@handles_errors
def list_(context: Context, as_json: bool) -> None:
    """List allocations by backend port; `conflict` names ports another process listens on."""
    from tui.services.ports import list_allocations

    rows = list_allocations(context.database(), limit=None, with_conflicts=True).rows
    if as_json:
        echo_json([asdict(row) for row in rows])
        return
    if not rows:
        click.echo("No ports allocated yet: run `thesis ports allocate --all`.")
        return
    table = [
        (
            row.model_slug,
            str(row.app_number),
            str(row.backend_port),
            str(row.frontend_port),
            f"in use: {row.conflict}" if row.conflict else "",
        )
        for row in rows
    ]
    echo_table(_COLUMNS, table, right={1, 2, 3})
    conflicts = sum(1 for row in rows if row.conflict)
    if conflicts:
        click.echo(
            f"{conflicts} allocation{'s' if conflicts != 1 else ''} conflict with ports in "
            "use on this host.",
            err=True,
        )


@ports.command("release")
@click.argument("target", nargs=-1, metavar="MODEL N")
@pass_context
@handles_errors
def release(context: Context, target: tuple[str, ...]) -> None:
    """Free the ports of app N of MODEL so other apps can have them."""
    from tui.services.ports import release_ports

    model, number = _app(target, "thesis ports release MODEL N")
    row = release_ports(context.database(), model, number)
    if row is None:
        click.echo(f"{model} app {number} has no ports; nothing to release.")
    else:
        click.echo(
            f"Released backend {row.backend_port} and frontend {row.frontend_port} "
            f"of {model} app {number}."
        )
