"""The whole schema as SQLAlchemy Core tables, and the status enums its columns check.

Seeds 000 (ThesisApp schema reference) and 001 (AI Model Testing Framework schema) define
the core tables; 002-004 contribute `model_usage`, `audit_log` and `settings`. Where 000 and
001 disagree, the ORM class of each table (tui/db/models.py) says which shape was kept and
how the other is still reachable. Every datetime is timezone-aware UTC (`UTCDateTime`);
every JSON column is a real JSON column; every status is a string enum the database checks.

Core, not the ORM: reading a listing needs only these tables, so the TUI paints its first
screen (and keeps its listings) without loading SQLAlchemy's ORM, about 9 MB. The ORM
classes in tui/db/models.py are mapped onto these same tables for the code that writes.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

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

metadata = MetaData(naming_convention=NAMING_CONVENTION)


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
    """Seed 000's task types plus the dynamic scan (`zap`), the smoke test, the functional
    test of an app's API against its template (migration 0007) and the generation of an app
    from its template, which jobs run like an analysis (migration 0008)."""

    SECURITY = "security"
    PERFORMANCE = "performance"
    QUALITY = "quality"
    AI_REVIEW = "ai_review"
    ZAP = "zap"
    SMOKE = "smoke"
    FUNCTIONAL = "functional"
    GENERATION = "generation"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


# --- column groups several tables share (a Column belongs to one table: made per call) --


def _app_number_check(column: str = "app_number") -> CheckConstraint:
    return CheckConstraint(
        f"{column} >= 1 AND {column} <= {MAX_APPS_PER_MODEL}", name=f"{column}_range"
    )


def _progress_check() -> CheckConstraint:
    return CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range")


def _id() -> Column:
    return Column("id", Integer, primary_key=True)


def _when(name: str, *, nullable: bool = True, **kw) -> Column:
    return Column(name, UTCDateTime(), nullable=nullable, **kw)


def _created() -> Column:
    return _when("created_at", nullable=False, default=utcnow)


def _updated() -> Column:
    return _when("updated_at", nullable=False, default=utcnow, onupdate=utcnow)


def _count(name: str) -> Column:
    return Column(name, Integer, nullable=False, default=0)


def _flag(name: str, default: bool = False) -> Column:
    return Column(name, Boolean, nullable=False, default=default)


def _owner() -> list[Column]:
    """The process working on a row (an analysis that runs, an app being built): host, pid
    and the process's start time (a reused pid is not the same process), and when it last
    said it is alive. Any `thesis` start ends rows whose owner is gone (see reconcile)."""
    return [
        Column("owner_host", String(255)),
        Column("owner_pid", Integer),
        Column("owner_start", String(64)),
        _when("heartbeat_at"),
    ]


def _status(enum_class: type[StrEnum], name: str, default: StrEnum, **kw) -> Column:
    return Column("status", str_enum(enum_class, name), nullable=False, default=default, **kw)


def _application_fk() -> Column:
    return Column(
        "application_id",
        Integer,
        ForeignKey("generated_applications.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _analysis_task_fk() -> Column:
    return Column(
        "analysis_task_id",
        Integer,
        ForeignKey("analysis_tasks.id", ondelete="CASCADE"),
        index=True,
    )


def _result_columns() -> list[Column]:
    """Columns every typed analysis row of seed 001 shares (after its own)."""
    return [
        _id(),
        _status(AnalysisStatus, "analysis_status", AnalysisStatus.PENDING, index=True),
        Column("results", JSON),
        Column("execution_time", Float),
        Column("error_message", Text),
        _when("created_at", nullable=False, default=utcnow, index=True),
        _when("completed_at"),
    ]


# --- catalogue -------------------------------------------------------------------------

model_capabilities = Table(
    "model_capabilities",
    metadata,
    _id(),
    Column("model_id", String(200), nullable=False, unique=True),
    Column("canonical_slug", String(200), nullable=False, unique=True),
    Column("provider", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_id_openrouter", String(200)),
    Column("parameters_billions", Float),
    Column("context_length", Integer),
    Column("max_output_tokens", Integer),
    Column("pricing_prompt", Float),
    Column("pricing_completion", Float),
    _flag("supports_vision"),
    _flag("supports_function_calling"),
    _flag("supports_streaming"),
    _flag("supports_json_mode"),
    _flag("is_free"),
    Column("cost_efficiency", Float),
    Column("safety_score", Float),
    Column("additional_capabilities", JSON),
    _flag("is_available", default=True),
    _when("last_synced_at"),
    _created(),
    _updated(),
    CheckConstraint("pricing_prompt IS NULL OR pricing_prompt >= 0", name="pricing_prompt"),
    CheckConstraint(
        "pricing_completion IS NULL OR pricing_completion >= 0", name="pricing_completion"
    ),
)

generated_applications = Table(
    "generated_applications",
    metadata,
    _id(),
    Column(
        "model_slug",
        String(200),
        ForeignKey("model_capabilities.canonical_slug", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("app_number", Integer, nullable=False),
    Column("provider", String(100)),
    _status(AppStatus, "app_status", AppStatus.NOT_CREATED),
    Column("source_path", String(1000)),
    Column("content_hash", String(64)),
    _when("last_status_check", index=True),
    _when("missing_since"),
    Column("status_detail", Text),
    Column("generation_metadata", JSON),
    Column("app_metadata", JSON),
    Column("docker_config", JSON),
    # The Docker engine its containers run on (a worker's THESIS_DOCKER_HOST, or the local
    # one): the tasks that need the app up go to a worker on that engine.
    Column("docker_host", String(500)),
    # The latest analysis (newest created_at, then id), kept by triggers on analysis_tasks
    # (migration 0004): the Applications listing filters and sorts on it alone.
    Column("last_analysis_id", Integer),
    Column("last_analysis_type", String(32)),
    Column("last_analysis_status", String(32)),
    _when("last_analysis_at"),
    _created(),
    _updated(),
    *_owner(),
    UniqueConstraint("model_slug", "app_number"),
    _app_number_check(),
)

port_allocations = Table(
    "port_allocations",
    metadata,
    _id(),
    Column("model_name", String(200), nullable=False),
    Column("app_number", Integer, nullable=False),
    Column("backend_port", Integer, nullable=False, unique=True),
    Column("frontend_port", Integer, nullable=False, unique=True),
    _when("allocated_at", nullable=False, default=utcnow),
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

analysis_tasks = Table(
    "analysis_tasks",
    metadata,
    _id(),
    Column("task_id", String(100), nullable=False, unique=True),
    Column(
        "application_id",
        Integer,
        ForeignKey("generated_applications.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("task_type", str_enum(AnalysisType, "analysis_type"), nullable=False),
    _status(AnalysisStatus, "analysis_status", AnalysisStatus.PENDING, index=True),
    _count("progress"),
    _when("created_at", nullable=False, default=utcnow, index=True),
    _when("started_at"),
    _when("completed_at"),
    Column("results_path", String(500)),
    Column("log_path", String(500)),
    Column("content_hash", String(64)),
    # What a batch task found this analysis by when it reuses it (content, type, options,
    # tool versions; see tui/jobs/cache.py).
    Column("cache_key", String(64), index=True),
    # The batch task this analysis was an attempt of (every attempt, not only the last):
    # what a job spent is the model calls of all its attempts. Jobs are never deleted.
    Column("batch_task_id", Integer, index=True),
    Column("config", JSON),
    Column("summary", JSON),
    Column("error_message", Text),
    *_owner(),
    _progress_check(),
    # An app's latest analysis is one lookup on this (the Applications listing).
    Index("ix_analysis_tasks_application_created", "application_id", "created_at"),
)

security_analyses = Table(
    "security_analyses",
    metadata,
    _application_fk(),
    _analysis_task_fk(),
    Column("analysis_type", String(50), nullable=False, default="security"),
    Column("enabled_tools", JSON),
    _flag("bandit_enabled"),
    _flag("safety_enabled"),
    _flag("pylint_enabled"),
    _flag("eslint_enabled"),
    _flag("npm_audit_enabled"),
    _count("issues_found"),
    _count("critical_count"),
    _count("high_count"),
    _count("medium_count"),
    _count("low_count"),
    _count("info_count"),
    *_result_columns(),
)

performance_tests = Table(
    "performance_tests",
    metadata,
    _application_fk(),
    _analysis_task_fk(),
    Column("test_type", String(50), nullable=False, default="load_test"),
    Column("test_config", JSON),
    Column("requests_per_second", Float),
    Column("average_response_time", Float),
    Column("max_response_time", Float),
    Column("min_response_time", Float),
    Column("p50_response_time", Float),
    Column("p95_response_time", Float),
    Column("p99_response_time", Float),
    Column("error_rate", Float),
    Column("total_requests", Integer),
    Column("failed_requests", Integer),
    *_result_columns(),
)

zap_analyses = Table(
    "zap_analyses",
    metadata,
    _application_fk(),
    _analysis_task_fk(),
    Column("scan_type", String(50), nullable=False, default="baseline"),
    Column("target_url", String(200)),
    _count("alerts_count"),
    _count("high_risk_count"),
    _count("medium_risk_count"),
    _count("low_risk_count"),
    _count("info_count"),
    *_result_columns(),
)

openrouter_analyses = Table(
    "openrouter_analyses",
    metadata,
    _application_fk(),
    _analysis_task_fk(),
    Column("analysis_model", String(200)),
    Column("requirements", Text),
    Column("score", Float),
    _count("issues_identified"),
    _count("suggestions_count"),
    *_result_columns(),
    CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),
)

containerized_tests = Table(
    "containerized_tests",
    metadata,
    _id(),
    Column("test_id", String(100), nullable=False, unique=True),
    _application_fk(),
    _analysis_task_fk(),
    Column("test_type", String(50), nullable=False),
    Column("service_endpoint", String(200)),
    Column("tools_used", JSON),
    _status(AnalysisStatus, "analysis_status", AnalysisStatus.PENDING, index=True),
    _when("submitted_at", nullable=False, default=utcnow),
    _when("started_at"),
    _when("completed_at"),
    Column("result_data", JSON),
    Column("error_message", Text),
    Column("execution_duration", Float),
    _created(),
    _updated(),
)


# --- batches ---------------------------------------------------------------------------

batch_analyses = Table(
    "batch_analyses",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("models", JSON),
    Column("tools", JSON),
    _status(JobStatus, "job_status", JobStatus.PENDING),
    _count("progress"),
    Column("config", JSON),
    Column("results", JSON),
    Column("error_message", Text),
    _when("created_at", nullable=False, default=utcnow),
    _when("started_at"),
    _when("completed_at"),
    _progress_check(),
)

batch_jobs = Table(
    "batch_jobs",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("description", Text),
    Column("config", JSON),
    Column(
        "priority",
        str_enum(JobPriority, "job_priority"),
        nullable=False,
        default=JobPriority.NORMAL,
    ),
    _status(JobStatus, "job_status", JobStatus.PENDING, index=True),
    _count("progress"),
    Column("results", JSON),
    _count("total_tests"),
    _count("completed_tests"),
    _count("failed_tests"),
    Column("error_message", Text),
    Column("created_by", String(100)),
    Column("log_path", String(500)),
    # An "analyse now" of the TUI or `thesis analyze`: a job of its own, listed apart.
    Column("one_off", Boolean, nullable=False, default=False, server_default=false()),
    # The process that asked for a one-off job and runs it (migration 0006): dead before a
    # runner claimed the job's tasks, the next start ends them.
    Column("owner_host", String(255)),
    Column("owner_pid", Integer),
    Column("owner_start", String(64)),
    _when("started_at"),
    _when("completed_at"),
    _created(),
    _updated(),
    _progress_check(),
    Index("ix_batch_jobs_created_at", "created_at"),
)

batch_tasks = Table(
    "batch_tasks",
    metadata,
    _id(),
    Column(
        "job_id",
        Integer,
        ForeignKey("batch_jobs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("model_name", String(200), nullable=False),
    Column("app_number", Integer, nullable=False),
    Column("test_type", str_enum(AnalysisType, "analysis_type"), nullable=False),
    Column("config", JSON),
    _status(TaskStatus, "task_status", TaskStatus.PENDING, index=True),
    _count("progress"),
    _count("attempts"),
    Column(
        "analysis_task_id",
        Integer,
        ForeignKey("analysis_tasks.id", ondelete="SET NULL"),
        index=True,
    ),
    Column("results", JSON),
    Column("error_message", Text),
    Column("estimated_duration", Integer),
    Column("actual_duration", Float),
    Column("reused", Boolean, nullable=False, default=False, server_default=false()),
    Column("cache_key", String(64)),
    _when("created_at", nullable=False, default=utcnow),
    _when("started_at"),
    _when("completed_at"),
    *_owner(),
    # The runner (workers row) that claimed it: running it now, or ran it.
    Column("worker_id", Integer, index=True),
    _progress_check(),
    _app_number_check(),
    UniqueConstraint("job_id", "model_name", "app_number", "test_type"),
    Index("ix_batch_tasks_job_status", "job_id", "status"),
)

workers = Table(
    "workers",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, index=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_start", String(64)),
    # Its procrastinate worker (PostgreSQL): procrastinate's heartbeats and stalled jobs.
    Column("procrastinate_id", BigInteger),
    Column("docker_host", String(500)),
    Column("types", JSON),
    Column("concurrency", Integer),
    _when("started_at", nullable=False),
    _when("heartbeat_at"),
    _when("stopped_at"),
)
"""The processes that run a study's tasks (`thesis worker`, a TUI, `thesis batch run`), on
any machine; never deleted (migration 0011)."""


# --- usage, audit, settings (seeds 002-004) ---------------------------------------------

model_usage = Table(
    "model_usage",
    metadata,
    _id(),
    Column("model_name", String(200), nullable=False),
    Column("provider", String(100), nullable=False),
    Column("purpose", String(50)),
    Column(
        "application_id",
        Integer,
        ForeignKey("generated_applications.id", ondelete="SET NULL"),
        index=True,
    ),
    Column(
        "analysis_task_id",
        Integer,
        ForeignKey("analysis_tasks.id", ondelete="SET NULL"),
        index=True,
    ),
    _count("prompt_tokens"),
    _count("completion_tokens"),
    _count("total_tokens"),
    _count("query_size"),
    _count("response_size"),
    Column("cost", Double, nullable=False, default=0.0),
    _flag("is_streaming"),
    _count("request_time_ms"),
    _when("timestamp", nullable=False, default=utcnow),
    Index("ix_model_usage_model_time", "model_name", "timestamp"),
    CheckConstraint(
        "prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0",
        name="tokens_nonnegative",
    ),
    CheckConstraint("cost >= 0", name="cost_nonnegative"),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    _when("timestamp", nullable=False, default=utcnow),
    Column("user", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("resource_type", String(50), nullable=False),
    Column("resource_id", String(200)),
    Column(
        "application_id",
        Integer,
        ForeignKey("generated_applications.id", ondelete="SET NULL"),
        index=True,
    ),
    Column("outcome", str_enum(Outcome, "outcome"), nullable=False),
    Column("details", JSON),
    Index("ix_audit_log_action_time", "action", "timestamp"),
    Index("ix_audit_log_user_time", "user", "timestamp"),
)

settings = Table(
    "settings",
    metadata,
    _id(),
    Column("key", String(100), nullable=False, unique=True),
    Column("value", JSON, nullable=False),
    Column("description", Text),
    _when("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
)
