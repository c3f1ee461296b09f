"""Generated applications: the listing, one app's detail, the models that have apps.

Reads only, on the Core tables (no ORM loaded for them).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tui.db import Database
from tui.db.tables import generated_applications, port_allocations
from tui.errors import NotFoundError
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause

SKIP_DIRS = frozenset({"node_modules", ".git", "__pycache__", ".venv", "venv", "dist", "build"})
"""Folders of an app that are not its own code: nobody scans, hashes or lists them."""


@dataclass(frozen=True)
class AppRow:
    id: int
    model_slug: str
    app_number: int
    status: str
    status_detail: str | None
    backend_port: int | None
    frontend_port: int | None
    last_status_check: datetime | None
    missing: bool
    last_analysis: str | None


_APPS, _PORTS = generated_applications, port_allocations
# An app's ports: port_allocations is keyed by (model_name, app_number), like the app.
PORTS_OF_APP = (_PORTS.c.model_name == _APPS.c.model_slug) & (
    _PORTS.c.app_number == _APPS.c.app_number
)
_WITH_PORTS = select(_APPS, _PORTS.c.backend_port, _PORTS.c.frontend_port).outerjoin(
    _PORTS, PORTS_OF_APP
)


def _identity(app: Any) -> dict[str, Any]:
    """The fields AppRow and AppDetail share, from a row of `_WITH_PORTS`."""
    return {
        "id": app.id,
        "model_slug": app.model_slug,
        "app_number": app.app_number,
        "status": str(app.status),
        "status_detail": app.status_detail,
        "backend_port": app.backend_port,
        "frontend_port": app.frontend_port,
        "missing": app.missing_since is not None,
    }


def list_applications(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = DEFAULT_LIMIT,
    count: bool = True,
    model: str | None = None,
) -> Page[AppRow]:
    """Apps (of one model, when given) with their ports and their latest analysis.

    The latest analysis is kept on the app row by triggers (migration 0004), so a keystroke
    of the filter is one scan of the apps and their ports, however many analyses there
    are. The search matches every shown column — model, app number, status, ports, the
    last analysis — each word in one of them.
    """
    a, p = _APPS.c, _PORTS.c
    statement = _WITH_PORTS.order_by(a.model_slug, a.app_number)
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "model": a.model_slug,
            "app": a.app_number,
            "status": a.status,
            "backend": p.backend_port,
            "frontend": p.frontend_port,
            "checked": a.last_status_check,
            "analysis": a.last_analysis_at,
        },
        tiebreak=[a.model_slug, a.app_number],
    )
    where = search_clause(
        search,
        [
            a.model_slug,
            a.app_number,
            a.status,
            p.backend_port,
            p.frontend_port,
            a.last_analysis_type,
            a.last_analysis_status,
        ],
    )
    if where is not None:
        statement = statement.where(where)
    if model is not None:
        statement = statement.where(a.model_slug == model)
    with db.read() as connection:
        rows, total = count_and_page(connection, statement, limit, count)
    return Page(
        [
            AppRow(
                **_identity(app),
                last_status_check=app.last_status_check,
                last_analysis=(
                    f"{app.last_analysis_type} {app.last_analysis_status}"
                    if app.last_analysis_type
                    else None
                ),
            )
            for app in rows
        ],
        total,
    )


MAX_LISTED_FILES = 200


@dataclass(frozen=True)
class AppDetail:
    """One app for the detail pane: its row, what the last scan found, its files on disk."""

    id: int
    model_slug: str
    app_number: int
    status: str
    status_detail: str | None
    """Why the last build or start failed (or was interrupted)."""
    backend_port: int | None
    frontend_port: int | None
    source_path: str | None
    content_hash: str | None
    missing: bool
    metadata: dict[str, Any]
    files: list[tuple[str, int]]
    files_note: str | None


def _list_files(source: str | None) -> tuple[list[tuple[str, int]], str | None]:
    """(relative path, size) of the app's files, skipping what the scanner skips."""
    if not source or not os.path.isdir(source):
        return [], "the app's folder is not on disk"
    files: list[tuple[str, int]] = []
    for directory, dirnames, filenames in os.walk(source, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                files.append((os.path.relpath(path, source), info.st_size))
            if len(files) > MAX_LISTED_FILES:
                return files[:MAX_LISTED_FILES], f"first {MAX_LISTED_FILES} files shown"
    return files, None


def get_app_detail(db: Database, app_id: int) -> AppDetail:
    with db.read() as connection:
        app = connection.execute(_WITH_PORTS.where(_APPS.c.id == app_id)).first()
    if app is None:
        raise NotFoundError(f"No app with id {app_id} (it may have been deleted).")
    files, note = _list_files(app.source_path)
    return AppDetail(
        **_identity(app),
        source_path=app.source_path,
        content_hash=app.content_hash,
        metadata=dict(app.app_metadata or {}),
        files=files,
        files_note=note,
    )


def model_slugs(db: Database) -> list[str]:
    """Every model that has apps, by slug (the job form's list of models)."""
    g = _APPS.c
    with db.read() as connection:
        return list(connection.scalars(select(g.model_slug).distinct().order_by(g.model_slug)))
