"""The audit log: who did what to which app, when, and how it ended (seed 002)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tui.db import Database
from tui.db.models import AuditLog, Outcome
from tui.errors import ThesisError
from tui.secrets import redact_value


def os_user() -> str:
    """The OS user running this process (the audit log's `user`)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER in a container
        return f"uid:{os.getuid()}"


@dataclass(frozen=True)
class AuditEntry:
    timestamp: datetime
    user: str
    action: str
    resource_id: str | None
    application_id: int | None
    outcome: str
    details: dict[str, Any]


def record(
    db: Database,
    action: str,
    outcome: Outcome,
    *,
    resource_type: str = "application",
    resource_id: str | None = None,
    application_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    with db.session() as session:
        session.add(
            AuditLog(
                user=os_user(),
                action=action,
                resource_type=resource_type,
                resource_id=resource_id,
                application_id=application_id,
                outcome=outcome,
                details=redact_value(details or {}),
            )
        )


@dataclass
class AuditNote:
    """What an audited block adds to its entry (it may fill `details` as it goes)."""

    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(
    db: Database, action: str, *, resource_id: str, application_id: int | None
) -> Iterator[AuditNote]:
    """Record `action` as a success when the block ends, or a failure with the error.

    Only the error's user-facing message is stored: never a traceback or a setting.
    """
    note = AuditNote()
    try:
        yield note
    except BaseException as exc:
        error = exc.msg if isinstance(exc, ThesisError) else type(exc).__name__
        record(
            db,
            action,
            Outcome.FAILURE,
            resource_id=resource_id,
            application_id=application_id,
            details={**note.details, "error": error},
        )
        raise
    record(
        db,
        action,
        Outcome.SUCCESS,
        resource_id=resource_id,
        application_id=application_id,
        details=note.details,
    )


def list_audit(db: Database, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """The newest entries first."""
    statement = select(AuditLog).order_by(AuditLog.timestamp.desc(), AuditLog.id.desc())
    if action:
        statement = statement.where(AuditLog.action == action)
    with db.session() as session:
        return [
            AuditEntry(
                timestamp=row.timestamp,
                user=row.user,
                action=row.action,
                resource_id=row.resource_id,
                application_id=row.application_id,
                outcome=str(row.outcome),
                details=dict(row.details or {}),
            )
            for row in session.scalars(statement.limit(limit))
        ]
