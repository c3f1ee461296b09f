"""What every command shares: the settings and database, and one-line errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from functools import wraps
from typing import Any

import click

from tui.config import Settings
from tui.errors import ThesisError
from tui.secrets import redact
from tui.services.untrusted import shown


def fail(message: str) -> None:
    """One line on stderr (control characters escaped, secrets masked), exit 1."""
    click.echo(f"thesis: {shown(redact(message))}", err=True)
    sys.exit(1)


def handles_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ThesisError into one line on stderr and exit 1, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ThesisError as exc:
            fail(exc.msg)

    return wrapper


class Context:
    """What commands share: the settings in force and, once opened, the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._db = None

    def database(self, *, upgrade: bool = True):
        from tui.db import open_database

        if self._db is None:
            self._db = open_database(self.settings.resolved_database_url, upgrade=upgrade)
        return self._db


pass_context = click.make_pass_decorator(Context)


def echo_json(value: Any) -> None:
    """Print dataclasses, lists of them, dicts and datetimes as JSON on stdout."""

    def default(obj: Any) -> Any:
        if is_dataclass(obj) and not isinstance(obj, type):
            return asdict(obj)
        if isinstance(obj, datetime):
            return obj.isoformat()
        return str(obj)

    click.echo(json.dumps(value, default=default, indent=2))
