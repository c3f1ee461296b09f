"""The lab's pulse (screen 0): per model, its apps, how many are up, analysed, being analysed
and failing, and the security findings of their latest analyses by severity; the jobs that
have not ended, with their progress; the latest failed analyses.

Everything is counted in SQL, grouped by model (a few hundred rows), and kept light: the
dashboard is the first screen, so it reads no ORM class, no analysis summary in Python
and no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func, select, type_coerce
from sqlalchemy.types import JSON

from tui.db import Database
from tui.db.tables import (
    UNFINISHED,
    AnalysisStatus,
    AnalysisType,
    AppStatus,
    JobStatus,
    analysis_tasks,
    batch_jobs,
    generated_applications,
)
from tui.errors import shown
from tui.services.analysis.findings import SEVERITIES as FINDING_SEVERITIES
from tui.services.batches import Progress, progress
from tui.services.common import Page, matches

SEVERITIES = tuple(s for s in FINDING_SEVERITIES if s != "info")
"""The severities counted (info is not a problem to count), as the summaries name them."""
JOBS = 6
"""Jobs shown at most (running first, then paused and pending, newest first)."""
FAILURES = 6
"""Failed analyses shown at most, newest first."""
_JOB_ORDER = case(
    (batch_jobs.c.status == JobStatus.RUNNING, 0),
    (batch_jobs.c.status == JobStatus.PAUSED, 1),
    else_=2,
)


@dataclass(frozen=True)
class ModelPulse:
    model: str
    apps: int
    up: int
    """Apps whose containers run."""
    analysed: int
    """Apps with at least one completed analysis."""
    running: int
    """Analyses of its apps that have not ended (pending or running)."""
    failing: int
    """Apps whose latest analysis failed."""
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0


SORTS = tuple(f.name for f in fields(ModelPulse))


@dataclass(frozen=True)
class JobPulse:
    id: int
    name: str
    status: str
    done: Progress


@dataclass(frozen=True)
class FailurePulse:
    when: datetime | None
    model: str
    app_number: int
    type: str
    reason: str


@dataclass(frozen=True)
class Pulse:
    models: Page[ModelPulse]
    totals: ModelPulse
    """Every model's counts summed (its `model` is the number of models)."""
    jobs: list[JobPulse]
    failures: list[FailurePulse]


def _number(db: Database, field: str) -> Any:
    """The summary's `field` as a number, or 0 when absent or not a number (an older or a
    damaged summary must not stop the count)."""
    t = analysis_tasks.c
    if db.dialect == "postgresql":
        element = type_coerce(t.summary, JSON)[field]
        return case(
            (func.json_typeof(element) == "number", cast(element.as_string(), Float)),
            else_=0,
        )
    value = func.json_extract(t.summary, f"$.{field}")
    return case((func.json_type(t.summary, f"$.{field}").in_(["integer", "real"]), value), else_=0)


def pulse(
    db: Database,
    *,
    search: str = "",
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = None,
) -> Pulse:
    """The pulse of the lab: models matching every word of `search`, sorted by a field of
    ModelPulse (the model by default), `limit` of them."""
    g, t, j = generated_applications.c, analysis_tasks.c, batch_jobs.c
    counts: dict[str, dict[str, int]] = {}
    latest_security = (
        select(func.max(t.id))
        .where(t.task_type == AnalysisType.SECURITY, t.status == AnalysisStatus.COMPLETED)
        .group_by(t.application_id)
    )
    with db.read() as connection:
        for row in connection.execute(
            select(
                g.model_slug,
                func.count().label("apps"),
                func.sum(case((g.status == AppStatus.RUNNING, 1), else_=0)).label("up"),
                func.sum(
                    case((g.last_analysis_status == str(AnalysisStatus.FAILED), 1), else_=0)
                ).label("failing"),
            ).group_by(g.model_slug)
        ):
            counts[row.model_slug] = {"apps": row.apps, "up": row.up, "failing": row.failing}
        completed = select(t.id).where(
            t.application_id == g.id,
            t.status == AnalysisStatus.COMPLETED,
            t.task_type != AnalysisType.GENERATION,  # it made the app; it did not analyse it
        )
        for row in connection.execute(
            select(g.model_slug, func.count().label("analysed"))
            .where(completed.exists())
            .group_by(g.model_slug)
        ):
            counts[row.model_slug]["analysed"] = row.analysed
        for row in connection.execute(
            select(g.model_slug, func.count().label("running"))
            .join(generated_applications, g.id == t.application_id)
            .where(t.status.in_(UNFINISHED))
            .group_by(g.model_slug)
        ):
            counts[row.model_slug]["running"] = row.running
        for row in connection.execute(
            select(
                g.model_slug,
                *(cast(func.sum(_number(db, s)), Integer).label(s) for s in SEVERITIES),
            )
            .join(generated_applications, g.id == t.application_id)
            .where(t.id.in_(latest_security))
            .group_by(g.model_slug)
        ):
            counts[row.model_slug].update({s: int(getattr(row, s) or 0) for s in SEVERITIES})
        jobs = connection.execute(
            select(j.id, j.name, j.status)
            .where(
                j.one_off.is_(False),
                j.status.in_([JobStatus.RUNNING, JobStatus.PAUSED, JobStatus.PENDING]),
            )
            .order_by(_JOB_ORDER, j.created_at.desc(), j.id.desc())
            .limit(JOBS)
        ).all()
        failed = (
            select(t.application_id, t.task_type, t.error_message, t.id,
                   func.coalesce(t.completed_at, t.created_at).label("at"), t.created_at)
            .where(t.status == AnalysisStatus.FAILED)
            .order_by(t.created_at.desc(), t.id.desc())
            .limit(FAILURES)
            .subquery()
        )  # fmt: skip
        f = failed.c
        failures = connection.execute(
            select(g.model_slug, g.app_number, f.task_type, f.error_message, f.at)
            .join(generated_applications, g.id == f.application_id)
            .order_by(f.created_at.desc(), f.id.desc())
        ).all()
    done = progress(db, [job.id for job in jobs])
    rows = [
        ModelPulse(model, **{"analysed": 0, "running": 0, **values})
        for model, values in counts.items()
    ]
    totals = ModelPulse(
        str(len(rows)),
        *(sum(getattr(r, f.name) for r in rows) for f in fields(ModelPulse)[1:]),
    )
    rows = [r for r in rows if matches(search, r.model)]
    key = sort if sort in SORTS else "model"
    rows.sort(key=lambda r: (getattr(r, key), r.model), reverse=descending)
    return Pulse(
        Page(rows[:limit] if limit is not None else rows, len(rows)),
        totals,
        [JobPulse(job.id, job.name, str(job.status), done[job.id]) for job in jobs],
        [
            FailurePulse(row.at, row.model_slug, row.app_number, str(row.task_type),
                         first_line(row.error_message))
            for row in failures
        ],
    )  # fmt: skip


def first_line(message: str | None) -> str:
    """The first non-empty line of an error message ("no reason recorded" when none), its
    control characters escaped: tools' output may hold terminal escape sequences."""
    for line in (message or "").splitlines():
        if line.strip():
            return shown(line.strip())
    return "no reason recorded"
