"""The ORM classes, each mapped onto its Core table in tui/db/tables.py.

The columns live in tables.py (one definition, which Core reads use without loading the
ORM); a class here adds what the ORM gives writers: relationships, synonyms, derived
properties, and the docstring that says which seed's shape was kept. Attributes such as
`GeneratedApplication.status` come from the table's columns.

The status enums and constants are re-exported from tables.py, so `from tui.db.models
import AppStatus` keeps working; code on the paths that must stay light (the first screen,
the listings) imports them from tui.db.tables.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship, synonym

from tui.db import tables
from tui.db.tables import (
    MAX_APPS_PER_MODEL,
    NAMING_CONVENTION,
    UNFINISHED,
    AnalysisStatus,
    AnalysisType,
    AppStatus,
    JobPriority,
    JobStatus,
    Outcome,
    TaskStatus,
)
from tui.db.types import utcnow

__all__ = [
    "MAX_APPS_PER_MODEL",
    "NAMING_CONVENTION",
    "UNFINISHED",
    "AnalysisStatus",
    "AnalysisTask",
    "AnalysisType",
    "AppStatus",
    "AuditLog",
    "Base",
    "BatchAnalysis",
    "BatchJob",
    "BatchTask",
    "ContainerizedTest",
    "GeneratedApplication",
    "JobPriority",
    "JobStatus",
    "ModelCapability",
    "ModelUsage",
    "OpenRouterAnalysis",
    "Outcome",
    "PerformanceTest",
    "PortAllocation",
    "SecurityAnalysis",
    "Setting",
    "TaskStatus",
    "ZapAnalysis",
    "utcnow",
]


class Base(DeclarativeBase):
    metadata = tables.metadata


# --- catalogue -------------------------------------------------------------------------


class ModelCapability(Base):
    """An LLM in the catalogue.

    Union of seeds 000 and 001: 000's integer `id` is the primary key and 001's `model_id`
    is kept as a unique identifier beside it. 000's `display_name` ("Claude 3.5 Sonnet") and
    001's `model_name` ("claude-3.5-sonnet") are both kept. 001's `context_window` is the
    same thing as 000's `context_length` (a synonym). Prices are stored as 000 has them, USD
    per 1M tokens; 001's per-token prices are derived properties. `is_available` is false
    for models that disappeared from the last sync (kept, never deleted by a sync).
    """

    __table__ = tables.model_capabilities

    context_window = synonym("context_length")

    applications: Mapped[list[GeneratedApplication]] = relationship(
        back_populates="model", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def input_price_per_token(self) -> float | None:
        """Seed 001's per-token prompt price, derived from the per-1M price."""
        return None if self.pricing_prompt is None else self.pricing_prompt / 1_000_000

    @property
    def output_price_per_token(self) -> float | None:
        return None if self.pricing_completion is None else self.pricing_completion / 1_000_000


class GeneratedApplication(Base):
    """One app a model generated: (model_slug, app_number), 1 <= app_number <= 30.

    Seed 000's `generation_metadata` (how it was generated) and 001's `app_metadata` (what a
    scan found: languages, files, services) and `docker_config` are all kept. 000 gives the
    default status `created` but lists it nowhere among the container states; a new row is
    `not_created`, and `created` means Docker created the container without starting it.
    `missing_since` marks apps whose folder vanished (kept, never deleted by a scan).
    `status_detail` says why the last build or start failed; the owner columns name the
    process building it. `last_analysis_*` is the latest analysis, kept by triggers.
    """

    __table__ = tables.generated_applications

    model: Mapped[ModelCapability] = relationship(back_populates="applications")
    port_allocation: Mapped[PortAllocation | None] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True
    )
    analysis_tasks: Mapped[list[AnalysisTask]] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True
    )


class PortAllocation(Base):
    """Host ports of one app (seed 000's `port_allocations`; 001 calls it port_configurations).

    Keyed like both seeds by (model_name, app_number), which is also a foreign key to the
    app, so removing an app frees its ports (ON DELETE CASCADE).
    """

    __table__ = tables.port_allocations

    application: Mapped[GeneratedApplication] = relationship(back_populates="port_allocation")


# --- analyses --------------------------------------------------------------------------


class AnalysisTask(Base):
    """One analysis of one app (seed 000), the parent of its typed result row.

    Beyond 000: `progress` (0-100, seed 003), `config` (options it ran with), `summary`
    (counts shown in tables), `content_hash` (what was analysed), `cache_key` (what a batch
    task that reuses it found it by) and `log_path`; the owner columns name the process
    that runs it.
    """

    __table__ = tables.analysis_tasks

    application: Mapped[GeneratedApplication] = relationship(back_populates="analysis_tasks")


class SecurityAnalysis(Base):
    """Static security analysis (seed 001), with 001's per-tool flags and severity counts."""

    __table__ = tables.security_analyses


class PerformanceTest(Base):
    """Load test results (seed 001); percentiles and timeline live in `results`."""

    __table__ = tables.performance_tests


class ZapAnalysis(Base):
    """Dynamic scan results (seed 001's ZAPAnalysis)."""

    __table__ = tables.zap_analyses


class OpenRouterAnalysis(Base):
    """AI review through OpenRouter (seed 001)."""

    __table__ = tables.openrouter_analyses


class ContainerizedTest(Base):
    """A test run against an app's containers, e.g. the smoke test (seed 001)."""

    __table__ = tables.containerized_tests


# --- batches ---------------------------------------------------------------------------


class BatchAnalysis(Base):
    """Legacy batch record (seed 001), kept readable; new work uses batch_jobs."""

    __table__ = tables.batch_analyses


class BatchJob(Base):
    """A batch over models x apps x analysis types (seed 001's enhanced BatchJob).

    `one_off` marks an "analyse now" of the TUI or `thesis analyze`, a job of its own listed
    apart, whose owner columns name the process that asked for it and runs it."""

    __table__ = tables.batch_jobs

    tasks: Mapped[list[BatchTask]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True
    )


class BatchTask(Base):
    """One (model, app, analysis type) of a batch job (seed 001).

    Beyond 001: the owner columns name the runner that claimed it (a dead owner's task goes
    back to pending); `analysis_task_id` is its latest attempt, or the completed analysis it
    reuses (`reused`); `cache_key` is what it was looked up by."""

    __table__ = tables.batch_tasks

    job: Mapped[BatchJob] = relationship(back_populates="tasks")


# --- usage, audit, settings (seeds 002-004) ---------------------------------------------


class ModelUsage(Base):
    """Every LLM call: model, tokens, cost in USD, latency (seeds 002 and 003)."""

    __table__ = tables.model_usage


class AuditLog(Base):
    """Who did what to which app, when, and how it ended (seed 002's audit_logs)."""

    __table__ = tables.audit_log


class Setting(Base):
    """A key -> JSON value setting stored in the database (seed 004's SystemSettings)."""

    __table__ = tables.settings
