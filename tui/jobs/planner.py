"""A job spec expanded into batch tasks: one per (model, app, analysis type).

What cannot run is planned anyway, as a task `skipped` with its reason (no such app, its
folder gone, nothing to start for a type that needs the app up, no backend to load-test),
so a study's table says why a cell is empty instead of silently having fewer rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from tui.config import Settings
from tui.db import Database
from tui.db.models import (
    AnalysisType,
    BatchJob,
    BatchTask,
    GeneratedApplication,
    JobStatus,
    ModelCapability,
    TaskStatus,
)
from tui.errors import NotFoundError, ValidationError
from tui.jobs.spec import JobSpec
from tui.services.analysis.registry import KINDS
from tui.services.batches import settle
from tui.services.owner import current

MAX_TASKS = 200_000
"""More than a study of 300 models x 30 apps x every type: a typo, not a study."""


@dataclass(frozen=True)
class PlannedTask:
    model: str
    app_number: int
    type: AnalysisType
    config: dict[str, Any]
    skip: str | None = None


@dataclass(frozen=True)
class Plan:
    tasks: list[PlannedTask]

    @property
    def skipped(self) -> int:
        return sum(1 for task in self.tasks if task.skip)

    @property
    def runnable(self) -> int:
        return len(self.tasks) - self.skipped


@dataclass(frozen=True)
class JobCreated:
    id: int
    tasks: int
    skipped: int


def _why_not(app: Any, kind: AnalysisType) -> str | None:
    """Why `kind` cannot run on `app` (a row of generated_applications), or None."""
    if app is None:
        return "no such app (scan its folder first)"
    if app.missing_since is not None or not app.source_path or not Path(app.source_path).is_dir():
        return "the app's folder is missing"
    entry = KINDS[kind]
    metadata = app.app_metadata or {}
    if entry.needs_app and not metadata.get("compose_file"):
        return "no docker-compose file: the app cannot be started"
    if kind == AnalysisType.PERFORMANCE and not _has_backend(metadata):
        return "no backend to load-test"
    return None


def _has_backend(metadata: dict[str, Any]) -> bool:
    services = metadata.get("services") or {}
    return bool(metadata.get("has_backend")) or any("backend" in name for name in services)


def plan(db: Database, spec: JobSpec) -> Plan:
    """The tasks `spec` asks for, in run order: by model, app, then type."""
    g = GeneratedApplication
    with db.session() as session:
        if spec.explicit:
            pairs = list(dict.fromkeys(spec.explicit))
            models = list(dict.fromkeys(slug for slug, _ in pairs))
        else:
            if spec.models:
                models = list(spec.models)
                known = set(
                    session.scalars(select(g.model_slug).where(g.model_slug.in_(models))).all()
                ) | set(
                    session.scalars(
                        select(ModelCapability.canonical_slug).where(
                            ModelCapability.canonical_slug.in_(models)
                        )
                    ).all()
                )
                unknown = [slug for slug in models if slug not in known]
                if unknown:
                    raise ValidationError(
                        f"No model {unknown[0]} in the catalogue or among the apps; "
                        "see `thesis models list`"
                    )
            else:
                models = list(
                    session.scalars(select(g.model_slug).distinct().order_by(g.model_slug)).all()
                )
            pairs = [(slug, number) for slug in models for number in spec.apps]
        if len(pairs) * len(spec.types) > MAX_TASKS:
            raise ValidationError(
                f"{len(pairs) * len(spec.types):,} tasks is more than {MAX_TASKS:,}; "
                "name fewer models, apps or types"
            )
        apps = {
            (app.model_slug, app.app_number): app
            for app in session.execute(
                select(
                    g.model_slug,
                    g.app_number,
                    g.source_path,
                    g.missing_since,
                    g.app_metadata,
                ).where(g.model_slug.in_(models))
            ).all()
        }
    for slug, number in spec.explicit:  # apps named one by one must exist
        if (slug, number) not in apps:
            raise NotFoundError(f"No app {slug} app {number}; scan its folder first")
    tasks = [
        PlannedTask(
            slug,
            number,
            kind,
            spec.config_of(kind),
            _why_not(apps.get((slug, number)), kind),
        )
        for slug, number in pairs
        for kind in spec.types
    ]
    if not tasks:
        raise ValidationError("The job names no app: there are no apps yet (scan a folder first)")
    return Plan(tasks)


def create_job(
    db: Database,
    settings: Settings,
    spec: JobSpec,
    *,
    one_off: bool = False,
    created_by: str | None = None,
) -> JobCreated:
    """Store the job and its planned tasks in one transaction, once every type's options
    pass the checks only the database can make (a reviewing model in the catalogue)."""
    for kind in spec.types:
        KINDS[kind].run_check(db, settings, spec.config_of(kind))
    planned = plan(db, spec)
    with db.write_session() as session:
        job = BatchJob(
            name=spec.name,
            description=spec.describe(),
            config=spec.model_dump(mode="json"),
            priority=spec.priority,
            status=JobStatus.PENDING,
            total_tests=len(planned.tasks),
            created_by=created_by,
            one_off=one_off,
            # The asking process runs a one-off job: dead before it began, the job ends.
            **(current().columns() if one_off else {}),
        )
        session.add(job)
        session.flush()
        job.log_path = str(job_log_path(settings, job.id))
        session.execute(
            insert(BatchTask),
            [
                {
                    "job_id": job.id,
                    "model_name": task.model,
                    "app_number": task.app_number,
                    "test_type": task.type,
                    "config": task.config,
                    "status": TaskStatus.SKIPPED if task.skip else TaskStatus.PENDING,
                    "error_message": task.skip,
                }
                for task in planned.tasks
            ],
        )
        job_id = job.id
    if planned.runnable == 0:
        settle(db, [job_id])
    return JobCreated(job_id, len(planned.tasks), planned.skipped)


def job_log_path(settings: Settings, job_id: int) -> Path:
    return Path(settings.logs_dir, "jobs", f"job-{job_id}.log")
