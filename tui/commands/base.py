"""What every command shares: the settings and database, and one-line errors."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable, Container, Coroutine, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from tui.errors import ThesisError, shown
from tui.secrets import redact

if TYPE_CHECKING:  # the settings load in the command, not when the CLI is imported
    from tui.config import Settings


def fail(message: str) -> None:
    """One line on stderr (control characters escaped, secrets masked), exit 1."""
    click.echo(f"thesis: {shown(redact(message))}", err=True)
    sys.exit(1)


def run_cancellable(work: Coroutine[Any, Any, Any], what: str) -> Any:
    """`asyncio.run(work)`; ctrl+c, SIGTERM and SIGHUP (a closed SSH session) all cancel it,
    so running tools are killed and their rows end `cancelled` before the exit (128 + the
    signal's number)."""
    received: list[signal.Signals] = []

    async def main() -> Any:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGHUP):

            def cancel(number: signal.Signals = number) -> None:
                received.append(number)
                if task is not None:
                    task.cancel()

            loop.add_signal_handler(number, cancel)
        return await work

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        number = received[0] if received else signal.SIGINT
        click.echo(f"thesis: cancelled by {number.name}; {what}", err=True)
        sys.exit(128 + number)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ThesisError into one line on stderr and exit 1, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ThesisError as exc:
            fail(exc.msg)
        except UnicodeEncodeError as exc:  # bytes in argv that are not UTF-8 (surrogates)
            around = exc.object[max(0, exc.start - 20) : exc.end + 20]
            fail(f"An argument is not UTF-8 text: {around}")
        except OSError as exc:  # a path the system refuses (too long, a loop of links, …)
            where = f": {exc.filename}" if exc.filename else ""
            fail(f"{exc.strerror or exc}{where}")

    return wrapper


class Context:
    """What commands share: the settings in force and, once opened, the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db = None

    def database(self, *, upgrade: bool = True):
        """The database, upgraded to the newest schema and with the work of processes that
        died reconciled (unless `upgrade` is off: `thesis db …` only looks)."""
        from tui.db import open_database

        if self._db is None:
            self._db = open_database(self.settings.resolved_database_url, upgrade=upgrade)
            if upgrade:
                from tui.services.reconcile import reconcile

                report = reconcile(self._db, self.settings)
                if report.summary():
                    click.echo(f"thesis: {report.summary()}", err=True)
        return self._db


pass_context = click.make_pass_decorator(Context)


def echo_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, right: Container[int] = ()
) -> None:
    """Print `rows` under `header` in columns two spaces apart, the columns numbered in
    `right` aligned right; every cell escaped as `shown` escapes it."""
    table = [[shown(str(cell)) for cell in row] for row in (header, *rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        click.echo(
            "  ".join(
                cell.rjust(width) if i in right else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )


def echo_json(value: Any) -> None:
    """Print dataclasses, lists of them, dicts and datetimes as JSON on stdout."""

    def default(obj: Any) -> Any:
        if is_dataclass(obj) and not isinstance(obj, type):
            return asdict(obj)
        if isinstance(obj, datetime):
            return obj.isoformat()
        return str(obj)

    click.echo(json.dumps(value, default=default, indent=2))
