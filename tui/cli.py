"""`thesis`: the single entry point — the TUI, and every headless command.

Every command but `thesis db ...` and `--version` opens the database and upgrades it to
the newest schema first. Errors a user can cause print one line on stderr and exit 1.

Commands are imported when they are run, not when `thesis` starts: `thesis --version`
and `--help` need neither the settings nor SQLAlchemy, Docker or the analyzers.
"""

from __future__ import annotations

import importlib

import click

from tui import __version__
from tui.commands.base import Context, handles_errors, pass_context

COMMANDS = {
    "models": "tui.commands.models:models",
    "apps": "tui.commands.apps:apps",
    "ports": "tui.commands.ports:ports",
    "containers": "tui.commands.containers:containers",
    "analyze": "tui.commands.analyses:analyze",
    "analyses": "tui.commands.analyses:analyses",
    "batch": "tui.commands.batch:batch",
    "keys": "tui.commands.keys:keys",
    "report": "tui.commands.report:report",
    "templates": "tui.commands.templates:templates",
    "generate": "tui.commands.generate:generate",
    "worker": "tui.commands.workers:worker",
    "workers": "tui.commands.workers:workers",
}
"""Each command's `module:attribute`, imported on first use."""


class LazyGroup(click.Group):
    """A group whose COMMANDS are imported only when one of them is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "-V", "--version", prog_name="thesis")
@click.option(
    "--database-url",
    metavar="URL",
    help="Database to use instead of THESIS_DATABASE_URL (default: SQLite in the data folder).",
)
@click.pass_context
@handles_errors
def cli(ctx: click.Context, database_url: str | None) -> None:
    """ThesisApp: catalogue, run and analyse LLM-generated web applications.

    With no command, opens the terminal UI.
    """
    from tui.config import load_settings

    overrides = {"database_url": database_url} if database_url else {}
    ctx.obj = Context(load_settings(**overrides))
    if ctx.invoked_subcommand is None:
        run_tui(ctx.obj)


def run_tui(context: Context) -> None:
    from tui.app import ThesisApp
    from tui.errors import DatabaseError

    settings = context.settings

    def open_database():  # in the TUI's thread, after its first frame
        from tui.db import open_database
        from tui.services.reconcile import reconcile

        db = open_database(settings.resolved_database_url)
        summary = reconcile(db, settings).summary()
        if summary:  # what died with an earlier process: said in the TUI, not on stderr
            app.call_from_thread(app.notify, summary, title="Reconciled", timeout=10)
        return db

    # The database opens in the TUI, after its first frame; if it cannot, the TUI stops and
    # the reason is this command's one-line error.
    app = ThesisApp(open_database, settings, resume_jobs=True, warm_screens=True)
    app.run()
    if app.fatal_error:
        raise DatabaseError(app.fatal_error)


@cli.group()
def db() -> None:
    """Database schema: show the revision, upgrade to the newest."""


@db.command("upgrade")
@pass_context
@handles_errors
def db_upgrade(context: Context) -> None:
    """Upgrade the database schema to the newest revision."""
    from tui.db.migrate import current_revision, head_revision, upgrade

    database = context.database(upgrade=False)
    before = current_revision(database)
    upgrade(database)
    head = head_revision()
    if before == head:
        click.echo(f"{database.url} is already at the newest revision ({head}).")
    else:
        click.echo(f"Upgraded {database.url} from {before or 'an empty database'} to {head}.")


@db.command("current")
@pass_context
@handles_errors
def db_current(context: Context) -> None:
    """Show the database's schema revision and whether it is the newest."""
    from tui.db.migrate import current_revision, head_revision

    database = context.database(upgrade=False)
    current, head = current_revision(database), head_revision()
    state = "newest" if current == head else f"newest is {head}; run `thesis db upgrade`"
    click.echo(f"{database.url}: {current or 'empty (no schema yet)'} ({state})")


def main() -> None:
    cli(prog_name="thesis")
