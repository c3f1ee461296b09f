"""Analyses and their results: the listing, one analysis, its log. Reads only, on the
Core tables (no ORM loaded for them)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from tui.db import Database
from tui.db.tables import UNFINISHED, analysis_tasks, generated_applications
from tui.errors import NotFoundError, ThesisError
from tui.services.analysis.findings import Finding
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause


class _Timed:
    started_at: datetime | None
    completed_at: datetime | None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class AnalysisRow(_Timed):
    id: int
    task_id: str
    task_type: str
    model_slug: str
    app_number: int
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    findings: int | None
    summary: dict[str, Any]
    error_message: str | None


_WITH_APP = select(
    analysis_tasks, generated_applications.c.model_slug, generated_applications.c.app_number
).join(generated_applications, generated_applications.c.id == analysis_tasks.c.application_id)


def list_analyses(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int = DEFAULT_LIMIT,
    count: bool = True,
    model: str | None = None,
    app_number: int | None = None,
    ids: Sequence[int] | None = None,
) -> Page[AnalysisRow]:
    """Analyses (of one model, or one app, or these `ids`, when given), newest first unless
    sorted."""
    t, a = analysis_tasks.c, generated_applications.c
    statement = _WITH_APP.order_by(t.created_at.desc(), t.id.desc())
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "task": t.task_id,
            "type": t.task_type,
            "model": a.model_slug,
            "app": a.app_number,
            "status": t.status,
            "started": t.started_at,
        },
        tiebreak=[t.id.desc()],
    )
    where = search_clause(search, [t.task_id, t.task_type, t.status, a.model_slug])
    if where is not None:
        statement = statement.where(where)
    if model is not None:
        statement = statement.where(a.model_slug == model)
    if app_number is not None:
        statement = statement.where(a.app_number == app_number)
    if ids is not None:
        statement = statement.where(t.id.in_(list(ids)))
    with db.read() as connection:
        rows, total = count_and_page(connection, statement, limit, count)
    return Page(
        [
            AnalysisRow(
                id=task.id,
                task_id=task.task_id,
                task_type=str(task.task_type),
                model_slug=task.model_slug,
                app_number=task.app_number,
                status=str(task.status),
                started_at=task.started_at,
                completed_at=task.completed_at,
                findings=(task.summary or {}).get("total_findings"),
                summary=dict(task.summary or {}),
                error_message=task.error_message,
            )
            for task in rows
        ],
        total,
    )


@dataclass(frozen=True)
class AnalysisDetail(_Timed):
    """One analysis: its row, its app, and what its results file holds."""

    task_id: str
    task_type: str
    model_slug: str
    app_number: int
    status: str
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    config: dict[str, Any]
    summary: dict[str, Any]
    error_message: str | None
    results_path: str | None
    log_path: str | None
    results: dict[str, Any] | None
    results_error: str | None
    """Why the results file could not be read (missing, corrupt), or None."""

    @property
    def findings(self) -> list[Finding]:
        return [Finding.from_dict(item) for item in (self.results or {}).get("findings") or []]


def get_analysis(db: Database, task_id: str) -> AnalysisDetail:
    with db.read() as connection:
        task = connection.execute(_WITH_APP.where(analysis_tasks.c.task_id == task_id)).first()
    if task is None:
        raise NotFoundError(f"No analysis {task_id}; see `thesis analyses list`")
    results = results_error = None
    if task.results_path:
        from tui.services.analysis.results import read_results  # pydantic: not for listings

        try:
            results = read_results(task.results_path)
        except ThesisError as exc:
            results_error = exc.msg
    return AnalysisDetail(
        task_id=task.task_id,
        task_type=str(task.task_type),
        model_slug=task.model_slug,
        app_number=task.app_number,
        status=str(task.status),
        created_at=task.created_at,
        started_at=task.started_at,
        completed_at=task.completed_at,
        config=dict(task.config or {}),
        summary=dict(task.summary or {}),
        error_message=task.error_message,
        results_path=task.results_path,
        log_path=task.log_path,
        results=results,
        results_error=results_error,
    )


_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z ")


def _log_state(db: Database, task_id: str) -> tuple[str, str | None]:
    t = analysis_tasks.c
    with db.read() as connection:
        found = connection.execute(select(t.status, t.log_path).where(t.task_id == task_id)).first()
    if found is None:
        raise NotFoundError(f"No analysis {task_id}")
    return str(found[0]), found[1]


def follow_analysis_log(
    db: Database,
    task_id: str,
    *,
    stopped: Callable[[], bool] = lambda: False,
    poll: float = 0.1,
) -> Iterator[list[str]]:
    """Batches of an analysis's log lines, without their timestamps.

    First what its log file holds, then lines as they are written while the task is pending
    or running — whichever process runs it (this TUI, `thesis analyze`, a batch) — then the
    rest once it ends. Stops early when `stopped()` says so (the user looked away).
    """

    def state() -> tuple[bool, str | None]:
        status, log_path = _log_state(db, task_id)
        return status in UNFINISHED, log_path

    for batch in follow_file(state, stopped=stopped, poll=poll,
                             no_file="(this analysis left no log)"):  # fmt: skip
        yield [_STAMP.sub("", line, count=1) for line in batch]


def follow_file(
    state: Callable[[], tuple[bool, str | None]],
    *,
    stopped: Callable[[], bool] = lambda: False,
    poll: float = 0.1,
    no_file: str = "(no log)",
) -> Iterator[list[str]]:
    """Batches of lines of the file `state()` names, followed while `state()` says its
    writer still works (asked every few polls), then the rest; `no_file` when there is none
    once the writer is done."""
    live, log_path = state()
    handle = None
    partial = ""
    checked = time.monotonic()
    try:
        while not stopped():
            if handle is None and log_path and os.path.exists(log_path):
                try:
                    handle = open(log_path, encoding="utf-8", errors="replace")  # noqa: SIM115
                except OSError as exc:
                    yield [f"(cannot read the log {log_path}: {exc.strerror})"]
                    return
            chunk = handle.read() if handle is not None else ""
            if chunk:
                lines = (partial + chunk).split("\n")
                partial = lines.pop()
                yield lines
            elif not live:
                if handle is None:
                    yield [no_file]
                return
            else:
                time.sleep(poll)
            if time.monotonic() - checked >= poll * 5 or handle is None:
                live, log_path = state()
                checked = time.monotonic()
    finally:
        if handle is not None:
            handle.close()
