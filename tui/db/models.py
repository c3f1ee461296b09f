"""The whole data model as typed SQLAlchemy 2 models.

Seeds 000 (ThesisApp schema reference) and 001 (AI Model Testing Framework schema) define
the core tables; 002-004 contribute `model_usage`, `audit_log` and `settings`. Where 000 and
001 disagree, each class docstring says which shape was kept and how the other is still
reachable. Every datetime is timezone-aware UTC (`UTCDateTime`); every JSON column is a real
JSON column; every status is a string enum the database checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, synonym

from tui.db.types import StrEnum, UTCDateTime, str_enum, utcnow

# Deterministic constraint names: Alembic can then alter and drop them (SQLite batch mode
# needs names to rebuild a table), and autogenerate compares like with like.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_APPS_PER_MODEL = 30


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


# --- status enums (seed 001 "Enums and Constants", extended where noted) --------------


class AppStatus(StrEnum):
    """Container state of a generated app (seed 000's list, plus the build lifecycle)."""

    NOT_CREATED = "not_created"
    CREATED = "created"
    BUILDING = "building"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    NO_COMPOSE = "no_compose"


class AnalysisStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED = (AnalysisStatus.PENDING, AnalysisStatus.RUNNING)
"""Statuses of an analysis that has not ended: it may still be followed or cancelled."""


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"


class TaskStatus(StrEnum):
    """Seed 001's TaskStatus plus `cancelled`, for tasks of a job the user cancelled."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class JobPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class AnalysisType(StrEnum):
    """Seed 000's task types plus the dynamic scan (`zap`) and the smoke test."""

    SECURITY = "security"
    PERFORMANCE = "performance"
    QUALITY = "quality"
    AI_REVIEW = "ai_review"
    ZAP = "zap"
    SMOKE = "smoke"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


def _app_number_check(column: str = "app_number") -> CheckConstraint:
    return CheckConstraint(
        f"{column} >= 1 AND {column} <= {MAX_APPS_PER_MODEL}", name=f"{column}_range"
    )


def _progress_check() -> CheckConstraint:
    return CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range")


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- catalogue -------------------------------------------------------------------------


class OwnedMixin:
    """The process working on a row (an analysis that runs, an app being built): host, pid
    and the process's start time (a reused pid is not the same process), and when it last
    said it is alive. Any `thesis` start ends rows whose owner is gone (see reconcile)."""

    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None]
    owner_start: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None]


class ModelCapability(TimestampMixin, Base):
    """An LLM in the catalogue.

    Union of seeds 000 and 001: 000's integer `id` is the primary key and 001's `model_id`
    is kept as a unique identifier beside it. 000's `display_name` ("Claude 3.5 Sonnet") and
    001's `model_name` ("claude-3.5-sonnet") are both kept. 001's `context_window` is the
    same thing as 000's `context_length` (a synonym). Prices are stored as 000 has them, USD
    per 1M tokens; 001's per-token prices are derived properties. `is_available` is false
    for models that disappeared from the last sync (kept, never deleted by a sync).
    """

    __tablename__ = "model_capabilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[str] = mapped_column(String(200), unique=True)
    canonical_slug: Mapped[str] = mapped_column(String(200), unique=True)
    provider: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    model_name: Mapped[str] = mapped_column(String(200))
    model_id_openrouter: Mapped[str | None] = mapped_column(String(200))
    parameters_billions: Mapped[float | None] = mapped_column(Float)
    context_length: Mapped[int | None] = mapped_column(Integer)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer)
    pricing_prompt: Mapped[float | None] = mapped_column(Float)
    pricing_completion: Mapped[float | None] = mapped_column(Float)
    supports_vision: Mapped[bool] = mapped_column(default=False)
    supports_function_calling: Mapped[bool] = mapped_column(default=False)
    supports_streaming: Mapped[bool] = mapped_column(default=False)
    supports_json_mode: Mapped[bool] = mapped_column(default=False)
    is_free: Mapped[bool] = mapped_column(default=False)
    cost_efficiency: Mapped[float | None] = mapped_column(Float)
    safety_score: Mapped[float | None] = mapped_column(Float)
    additional_capabilities: Mapped[dict[str, Any] | None]
    is_available: Mapped[bool] = mapped_column(default=True)
    last_synced_at: Mapped[datetime | None]

    context_window = synonym("context_length")

    applications: Mapped[list[GeneratedApplication]] = relationship(
        back_populates="model", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("pricing_prompt IS NULL OR pricing_prompt >= 0", name="pricing_prompt"),
        CheckConstraint(
            "pricing_completion IS NULL OR pricing_completion >= 0", name="pricing_completion"
        ),
    )

    @property
    def input_price_per_token(self) -> float | None:
        """Seed 001's per-token prompt price, derived from the per-1M price."""
        return None if self.pricing_prompt is None else self.pricing_prompt / 1_000_000

    @property
    def output_price_per_token(self) -> float | None:
        return None if self.pricing_completion is None else self.pricing_completion / 1_000_000


class GeneratedApplication(TimestampMixin, OwnedMixin, Base):
    """One app a model generated: (model_slug, app_number), 1 <= app_number <= 30.

    Seed 000's `generation_metadata` (how it was generated) and 001's `app_metadata` (what a
    scan found: languages, files, services) and `docker_config` are all kept. 000 gives the
    default status `created` but lists it nowhere among the container states; a new row is
    `not_created`, and `created` means Docker created the container without starting it.
    `missing_since` marks apps whose folder vanished (kept, never deleted by a scan).
    `status_detail` says why the last build or start failed; the owner columns name the
    process building it.
    """

    __tablename__ = "generated_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_slug: Mapped[str] = mapped_column(
        String(200),
        ForeignKey("model_capabilities.canonical_slug", ondelete="CASCADE", onupdate="CASCADE"),
        index=True,
    )
    app_number: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[AppStatus] = mapped_column(
        str_enum(AppStatus, "app_status"), default=AppStatus.NOT_CREATED
    )
    source_path: Mapped[str | None] = mapped_column(String(1000))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    last_status_check: Mapped[datetime | None] = mapped_column(index=True)
    missing_since: Mapped[datetime | None]
    status_detail: Mapped[str | None] = mapped_column(Text)
    generation_metadata: Mapped[dict[str, Any] | None]
    app_metadata: Mapped[dict[str, Any] | None]
    docker_config: Mapped[dict[str, Any] | None]
    # The latest analysis (newest created_at, then id), kept by triggers on analysis_tasks
    # (migration 0004): the Applications listing filters and sorts on it alone.
    last_analysis_id: Mapped[int | None]
    last_analysis_type: Mapped[str | None] = mapped_column(String(32))
    last_analysis_status: Mapped[str | None] = mapped_column(String(32))
    last_analysis_at: Mapped[datetime | None]

    model: Mapped[ModelCapability] = relationship(back_populates="applications")
    port_allocation: Mapped[PortAllocation | None] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True
    )
    analysis_tasks: Mapped[list[AnalysisTask]] = relationship(
        back_populates="application", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("model_slug", "app_number"),
        _app_number_check(),
    )


class PortAllocation(Base):
    """Host ports of one app (seed 000's `port_allocations`; 001 calls it port_configurations).

    Keyed like both seeds by (model_name, app_number), which is also a foreign key to the
    app, so removing an app frees its ports (ON DELETE CASCADE).
    """

    __tablename__ = "port_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200))
    app_number: Mapped[int] = mapped_column(Integer)
    backend_port: Mapped[int] = mapped_column(Integer, unique=True)
    frontend_port: Mapped[int] = mapped_column(Integer, unique=True)
    allocated_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[GeneratedApplication] = relationship(back_populates="port_allocation")

    __table_args__ = (
        UniqueConstraint("model_name", "app_number"),
        ForeignKeyConstraint(
            ["model_name", "app_number"],
            ["generated_applications.model_slug", "generated_applications.app_number"],
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
        _app_number_check(),
        CheckConstraint("backend_port BETWEEN 1 AND 65535", name="backend_port_range"),
        CheckConstraint("frontend_port BETWEEN 1 AND 65535", name="frontend_port_range"),
        CheckConstraint("backend_port <> frontend_port", name="distinct_ports"),
    )


# --- analyses --------------------------------------------------------------------------


class AnalysisTask(OwnedMixin, Base):
    """One analysis of one app (seed 000), the parent of its typed result row.

    Beyond 000: `progress` (0-100, seed 003), `config` (options it ran with), `summary`
    (counts shown in tables), `content_hash` (what was analysed) and `log_path`; the
    owner columns name the process that runs it.
    """

    __tablename__ = "analysis_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str] = mapped_column(String(100), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("generated_applications.id", ondelete="CASCADE"), index=True
    )
    task_type: Mapped[AnalysisType] = mapped_column(str_enum(AnalysisType, "analysis_type"))
    status: Mapped[AnalysisStatus] = mapped_column(
        str_enum(AnalysisStatus, "analysis_status"), default=AnalysisStatus.PENDING, index=True
    )
    progress: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    results_path: Mapped[str | None] = mapped_column(String(500))
    log_path: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    cache_key: Mapped[str | None] = mapped_column(String(64), index=True)
    """What a batch task found this analysis by when it reuses it (content, type, options,
    tool versions; see tui/jobs/cache.py)."""
    config: Mapped[dict[str, Any] | None]
    summary: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)

    application: Mapped[GeneratedApplication] = relationship(back_populates="analysis_tasks")

    __table_args__ = (
        _progress_check(),
        # An app's latest analysis is one lookup on this (the Applications listing).
        Index("ix_analysis_tasks_application_created", "application_id", "created_at"),
    )


class _AnalysisResultMixin:
    """Columns every typed analysis row of seed 001 shares, plus the link to its task."""

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[AnalysisStatus] = mapped_column(
        str_enum(AnalysisStatus, "analysis_status"), default=AnalysisStatus.PENDING, index=True
    )
    results: Mapped[dict[str, Any] | None]
    execution_time: Mapped[float | None] = mapped_column(Float)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None]


def _application_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("generated_applications.id", ondelete="CASCADE"), index=True)


def _analysis_task_fk() -> Mapped[int | None]:
    return mapped_column(ForeignKey("analysis_tasks.id", ondelete="CASCADE"), index=True)


class SecurityAnalysis(_AnalysisResultMixin, Base):
    """Static security analysis (seed 001), with 001's per-tool flags and severity counts."""

    __tablename__ = "security_analyses"

    application_id: Mapped[int] = _application_fk()
    analysis_task_id: Mapped[int | None] = _analysis_task_fk()
    analysis_type: Mapped[str] = mapped_column(String(50), default="security")
    enabled_tools: Mapped[list[Any] | None]
    bandit_enabled: Mapped[bool] = mapped_column(default=False)
    safety_enabled: Mapped[bool] = mapped_column(default=False)
    pylint_enabled: Mapped[bool] = mapped_column(default=False)
    eslint_enabled: Mapped[bool] = mapped_column(default=False)
    npm_audit_enabled: Mapped[bool] = mapped_column(default=False)
    issues_found: Mapped[int] = mapped_column(default=0)
    critical_count: Mapped[int] = mapped_column(default=0)
    high_count: Mapped[int] = mapped_column(default=0)
    medium_count: Mapped[int] = mapped_column(default=0)
    low_count: Mapped[int] = mapped_column(default=0)
    info_count: Mapped[int] = mapped_column(default=0)


class PerformanceTest(_AnalysisResultMixin, Base):
    """Load test results (seed 001); percentiles and timeline live in `results`."""

    __tablename__ = "performance_tests"

    application_id: Mapped[int] = _application_fk()
    analysis_task_id: Mapped[int | None] = _analysis_task_fk()
    test_type: Mapped[str] = mapped_column(String(50), default="load_test")
    test_config: Mapped[dict[str, Any] | None]
    requests_per_second: Mapped[float | None] = mapped_column(Float)
    average_response_time: Mapped[float | None] = mapped_column(Float)
    max_response_time: Mapped[float | None] = mapped_column(Float)
    min_response_time: Mapped[float | None] = mapped_column(Float)
    p50_response_time: Mapped[float | None] = mapped_column(Float)
    p95_response_time: Mapped[float | None] = mapped_column(Float)
    p99_response_time: Mapped[float | None] = mapped_column(Float)
    error_rate: Mapped[float | None] = mapped_column(Float)
    total_requests: Mapped[int | None] = mapped_column(Integer)
    failed_requests: Mapped[int | None] = mapped_column(Integer)


class ZapAnalysis(_AnalysisResultMixin, Base):
    """Dynamic scan results (seed 001's ZAPAnalysis)."""

    __tablename__ = "zap_analyses"

    application_id: Mapped[int] = _application_fk()
    analysis_task_id: Mapped[int | None] = _analysis_task_fk()
    scan_type: Mapped[str] = mapped_column(String(50), default="baseline")
    target_url: Mapped[str | None] = mapped_column(String(200))
    alerts_count: Mapped[int] = mapped_column(default=0)
    high_risk_count: Mapped[int] = mapped_column(default=0)
    medium_risk_count: Mapped[int] = mapped_column(default=0)
    low_risk_count: Mapped[int] = mapped_column(default=0)
    info_count: Mapped[int] = mapped_column(default=0)


class OpenRouterAnalysis(_AnalysisResultMixin, Base):
    """AI review through OpenRouter (seed 001)."""

    __tablename__ = "openrouter_analyses"

    application_id: Mapped[int] = _application_fk()
    analysis_task_id: Mapped[int | None] = _analysis_task_fk()
    analysis_model: Mapped[str | None] = mapped_column(String(200))
    requirements: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    issues_identified: Mapped[int] = mapped_column(default=0)
    suggestions_count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
    )


class ContainerizedTest(Base):
    """A test run against an app's containers, e.g. the smoke test (seed 001)."""

    __tablename__ = "containerized_tests"

    id: Mapped[int] = mapped_column(primary_key=True)
    test_id: Mapped[str] = mapped_column(String(100), unique=True)
    application_id: Mapped[int] = _application_fk()
    analysis_task_id: Mapped[int | None] = _analysis_task_fk()
    test_type: Mapped[str] = mapped_column(String(50))
    service_endpoint: Mapped[str | None] = mapped_column(String(200))
    tools_used: Mapped[list[Any] | None]
    status: Mapped[AnalysisStatus] = mapped_column(
        str_enum(AnalysisStatus, "analysis_status"), default=AnalysisStatus.PENDING, index=True
    )
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    result_data: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    execution_duration: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- batches ---------------------------------------------------------------------------


class BatchAnalysis(Base):
    """Legacy batch record (seed 001), kept readable; new work uses batch_jobs."""

    __tablename__ = "batch_analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    models: Mapped[list[Any] | None]
    tools: Mapped[list[Any] | None]
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    progress: Mapped[int] = mapped_column(default=0)
    config: Mapped[dict[str, Any] | None]
    results: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    __table_args__ = (_progress_check(),)


class BatchJob(TimestampMixin, Base):
    """A batch over models x apps x analysis types (seed 001's enhanced BatchJob)."""

    __tablename__ = "batch_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    config: Mapped[dict[str, Any] | None]
    priority: Mapped[JobPriority] = mapped_column(
        str_enum(JobPriority, "job_priority"), default=JobPriority.NORMAL
    )
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING, index=True
    )
    progress: Mapped[int] = mapped_column(default=0)
    results: Mapped[dict[str, Any] | None]
    total_tests: Mapped[int] = mapped_column(default=0)
    completed_tests: Mapped[int] = mapped_column(default=0)
    failed_tests: Mapped[int] = mapped_column(default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    log_path: Mapped[str | None] = mapped_column(String(500))
    one_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An "analyse now" of the TUI or `thesis analyze`: a job of its own, listed apart."""
    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None]
    owner_start: Mapped[str | None] = mapped_column(String(64))
    """The process that asked for a one-off job and runs it (migration 0006): dead before a
    runner claimed the job's tasks, the next start ends them."""
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    tasks: Mapped[list[BatchTask]] = relationship(
        back_populates="job", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        _progress_check(),
        Index("ix_batch_jobs_created_at", "created_at"),
    )


class BatchTask(OwnedMixin, Base):
    """One (model, app, analysis type) of a batch job (seed 001).

    Beyond 001: the owner columns name the runner that claimed it (a dead owner's task goes
    back to pending); `analysis_task_id` is its latest attempt, or the completed analysis it
    reuses (`reused`); `cache_key` is what it was looked up by."""

    __tablename__ = "batch_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("batch_jobs.id", ondelete="CASCADE"), index=True)
    model_name: Mapped[str] = mapped_column(String(200))
    app_number: Mapped[int] = mapped_column(Integer)
    test_type: Mapped[AnalysisType] = mapped_column(str_enum(AnalysisType, "analysis_type"))
    config: Mapped[dict[str, Any] | None]
    status: Mapped[TaskStatus] = mapped_column(
        str_enum(TaskStatus, "task_status"), default=TaskStatus.PENDING, index=True
    )
    progress: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    analysis_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_tasks.id", ondelete="SET NULL"), index=True
    )
    results: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    estimated_duration: Mapped[int | None] = mapped_column(Integer)
    actual_duration: Mapped[float | None] = mapped_column(Float)
    reused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    cache_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    job: Mapped[BatchJob] = relationship(back_populates="tasks")

    __table_args__ = (
        _progress_check(),
        _app_number_check(),
        UniqueConstraint("job_id", "model_name", "app_number", "test_type"),
        Index("ix_batch_tasks_job_status", "job_id", "status"),
    )


# --- usage, audit, settings (seeds 002-004) ---------------------------------------------


class ModelUsage(Base):
    """Every LLM call: model, tokens, cost in USD, latency (seeds 002 and 003)."""

    __tablename__ = "model_usage"

    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str | None] = mapped_column(String(50))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("generated_applications.id", ondelete="SET NULL"), index=True
    )
    analysis_task_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_tasks.id", ondelete="SET NULL"), index=True
    )
    prompt_tokens: Mapped[int] = mapped_column(default=0)
    completion_tokens: Mapped[int] = mapped_column(default=0)
    total_tokens: Mapped[int] = mapped_column(default=0)
    query_size: Mapped[int] = mapped_column(default=0)
    response_size: Mapped[int] = mapped_column(default=0)
    cost: Mapped[float] = mapped_column(default=0.0)
    is_streaming: Mapped[bool] = mapped_column(Boolean, default=False)
    request_time_ms: Mapped[int] = mapped_column(default=0)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_model_usage_model_time", "model_name", "timestamp"),
        CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0",
            name="tokens_nonnegative",
        ),
        CheckConstraint("cost >= 0", name="cost_nonnegative"),
    )


class AuditLog(Base):
    """Who did what to which app, when, and how it ended (seed 002's audit_logs)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str] = mapped_column(String(50))
    resource_id: Mapped[str | None] = mapped_column(String(200))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("generated_applications.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome, "outcome"))
    details: Mapped[dict[str, Any] | None]

    __table_args__ = (
        Index("ix_audit_log_action_time", "action", "timestamp"),
        Index("ix_audit_log_user_time", "user", "timestamp"),
    )


class Setting(Base):
    """A key -> JSON value setting stored in the database (seed 004's SystemSettings)."""

    __tablename__ = "settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    value: Mapped[Any] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
