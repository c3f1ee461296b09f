"""Initial schema: every table of seeds 000 and 001, plus model_usage, audit_log, settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 23:08:11.651294
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("models", sa.JSON(), nullable=True),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                "paused",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_batch_analyses_progress_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_analyses")),
    )
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column(
            "priority",
            sa.Enum(
                "low",
                "normal",
                "high",
                "urgent",
                name="job_priority",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                "paused",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("total_tests", sa.Integer(), nullable=False),
        sa.Column("completed_tests", sa.Integer(), nullable=False),
        sa.Column("failed_tests", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("log_path", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_batch_jobs_progress_range")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_batch_jobs_created_at", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_jobs_status"), ["status"], unique=False)

    op.create_table(
        "model_capabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("canonical_slug", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("model_id_openrouter", sa.String(length=200), nullable=True),
        sa.Column("parameters_billions", sa.Float(), nullable=True),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("pricing_prompt", sa.Float(), nullable=True),
        sa.Column("pricing_completion", sa.Float(), nullable=True),
        sa.Column("supports_vision", sa.Boolean(), nullable=False),
        sa.Column("supports_function_calling", sa.Boolean(), nullable=False),
        sa.Column("supports_streaming", sa.Boolean(), nullable=False),
        sa.Column("supports_json_mode", sa.Boolean(), nullable=False),
        sa.Column("is_free", sa.Boolean(), nullable=False),
        sa.Column("cost_efficiency", sa.Float(), nullable=True),
        sa.Column("safety_score", sa.Float(), nullable=True),
        sa.Column("additional_capabilities", sa.JSON(), nullable=True),
        sa.Column("is_available", sa.Boolean(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "pricing_completion IS NULL OR pricing_completion >= 0",
            name=op.f("ck_model_capabilities_pricing_completion"),
        ),
        sa.CheckConstraint(
            "pricing_prompt IS NULL OR pricing_prompt >= 0",
            name=op.f("ck_model_capabilities_pricing_prompt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_capabilities")),
        sa.UniqueConstraint("canonical_slug", name=op.f("uq_model_capabilities_canonical_slug")),
        sa.UniqueConstraint("model_id", name=op.f("uq_model_capabilities_model_id")),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_settings_key")),
    )
    op.create_table(
        "generated_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_slug", sa.String(length=200), nullable=False),
        sa.Column("app_number", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "not_created",
                "created",
                "building",
                "running",
                "stopped",
                "failed",
                "no_compose",
                name="app_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source_path", sa.String(length=1000), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("last_status_check", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("generation_metadata", sa.JSON(), nullable=True),
        sa.Column("app_metadata", sa.JSON(), nullable=True),
        sa.Column("docker_config", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "app_number >= 1 AND app_number <= 30",
            name=op.f("ck_generated_applications_app_number_range"),
        ),
        sa.ForeignKeyConstraint(
            ["model_slug"],
            ["model_capabilities.canonical_slug"],
            name=op.f("fk_generated_applications_model_slug_model_capabilities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_applications")),
        sa.UniqueConstraint(
            "model_slug", "app_number", name=op.f("uq_generated_applications_model_slug_app_number")
        ),
    )
    with op.batch_alter_table("generated_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_generated_applications_last_status_check"),
            ["last_status_check"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_generated_applications_model_slug"), ["model_slug"], unique=False
        )

    op.create_table(
        "analysis_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=100), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column(
            "task_type",
            sa.Enum(
                "security",
                "performance",
                "quality",
                "ai_review",
                "zap",
                "smoke",
                name="analysis_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results_path", sa.String(length=500), nullable=True),
        sa.Column("log_path", sa.String(length=500), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_analysis_tasks_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_analysis_tasks_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analysis_tasks")),
        sa.UniqueConstraint("task_id", name=op.f("uq_analysis_tasks_task_id")),
    )
    with op.batch_alter_table("analysis_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analysis_tasks_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analysis_tasks_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_analysis_tasks_status"), ["status"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "success",
                "failure",
                name="outcome",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_audit_log_application_id_generated_applications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_action_time", ["action", "timestamp"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_log_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index("ix_audit_log_user_time", ["user", "timestamp"], unique=False)

    op.create_table(
        "port_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("app_number", sa.Integer(), nullable=False),
        sa.Column("backend_port", sa.Integer(), nullable=False),
        sa.Column("frontend_port", sa.Integer(), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "app_number >= 1 AND app_number <= 30",
            name=op.f("ck_port_allocations_app_number_range"),
        ),
        sa.CheckConstraint(
            "backend_port <> frontend_port", name=op.f("ck_port_allocations_distinct_ports")
        ),
        sa.CheckConstraint(
            "backend_port BETWEEN 1 AND 65535", name=op.f("ck_port_allocations_backend_port_range")
        ),
        sa.CheckConstraint(
            "frontend_port BETWEEN 1 AND 65535",
            name=op.f("ck_port_allocations_frontend_port_range"),
        ),
        sa.ForeignKeyConstraint(
            ["model_name", "app_number"],
            ["generated_applications.model_slug", "generated_applications.app_number"],
            name=op.f("fk_port_allocations_model_name_app_number_generated_applications"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_port_allocations")),
        sa.UniqueConstraint("backend_port", name=op.f("uq_port_allocations_backend_port")),
        sa.UniqueConstraint("frontend_port", name=op.f("uq_port_allocations_frontend_port")),
        sa.UniqueConstraint(
            "model_name", "app_number", name=op.f("uq_port_allocations_model_name_app_number")
        ),
    )
    op.create_table(
        "batch_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("app_number", sa.Integer(), nullable=False),
        sa.Column(
            "test_type",
            sa.Enum(
                "security",
                "performance",
                "quality",
                "ai_review",
                "zap",
                "smoke",
                name="analysis_type",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("config", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "skipped",
                "cancelled",
                name="task_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("estimated_duration", sa.Integer(), nullable=True),
        sa.Column("actual_duration", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "app_number >= 1 AND app_number <= 30", name=op.f("ck_batch_tasks_app_number_range")
        ),
        sa.CheckConstraint(
            "progress >= 0 AND progress <= 100", name=op.f("ck_batch_tasks_progress_range")
        ),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_batch_tasks_analysis_task_id_analysis_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["batch_jobs.id"],
            name=op.f("fk_batch_tasks_job_id_batch_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_tasks")),
        sa.UniqueConstraint(
            "job_id",
            "model_name",
            "app_number",
            "test_type",
            name=op.f("uq_batch_tasks_job_id_model_name_app_number_test_type"),
        ),
    )
    with op.batch_alter_table("batch_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batch_tasks_analysis_task_id"), ["analysis_task_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_batch_tasks_job_id"), ["job_id"], unique=False)
        batch_op.create_index("ix_batch_tasks_job_status", ["job_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_batch_tasks_status"), ["status"], unique=False)

    op.create_table(
        "containerized_tests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("test_id", sa.String(length=100), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("test_type", sa.String(length=50), nullable=False),
        sa.Column("service_endpoint", sa.String(length=200), nullable=True),
        sa.Column("tools_used", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_data", sa.JSON(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("execution_duration", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_containerized_tests_analysis_task_id_analysis_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_containerized_tests_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_containerized_tests")),
        sa.UniqueConstraint("test_id", name=op.f("uq_containerized_tests_test_id")),
    )
    with op.batch_alter_table("containerized_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_containerized_tests_analysis_task_id"),
            ["analysis_task_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_containerized_tests_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_containerized_tests_status"), ["status"], unique=False)

    op.create_table(
        "model_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=50), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("total_tokens", sa.Integer(), nullable=False),
        sa.Column("query_size", sa.Integer(), nullable=False),
        sa.Column("response_size", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("is_streaming", sa.Boolean(), nullable=False),
        sa.Column("request_time_ms", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("cost >= 0", name=op.f("ck_model_usage_cost_nonnegative")),
        sa.CheckConstraint(
            "prompt_tokens >= 0 AND completion_tokens >= 0 AND total_tokens >= 0",
            name=op.f("ck_model_usage_tokens_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_model_usage_analysis_task_id_analysis_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_model_usage_application_id_generated_applications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_usage")),
    )
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_usage_analysis_task_id"), ["analysis_task_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_model_usage_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            "ix_model_usage_model_time", ["model_name", "timestamp"], unique=False
        )

    op.create_table(
        "openrouter_analyses",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("analysis_model", sa.String(length=200), nullable=True),
        sa.Column("requirements", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("issues_identified", sa.Integer(), nullable=False),
        sa.Column("suggestions_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)",
            name=op.f("ck_openrouter_analyses_score_range"),
        ),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_openrouter_analyses_analysis_task_id_analysis_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_openrouter_analyses_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_openrouter_analyses")),
    )
    with op.batch_alter_table("openrouter_analyses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_openrouter_analyses_analysis_task_id"),
            ["analysis_task_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_openrouter_analyses_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_openrouter_analyses_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_openrouter_analyses_status"), ["status"], unique=False)

    op.create_table(
        "performance_tests",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("test_type", sa.String(length=50), nullable=False),
        sa.Column("test_config", sa.JSON(), nullable=True),
        sa.Column("requests_per_second", sa.Float(), nullable=True),
        sa.Column("average_response_time", sa.Float(), nullable=True),
        sa.Column("max_response_time", sa.Float(), nullable=True),
        sa.Column("min_response_time", sa.Float(), nullable=True),
        sa.Column("p50_response_time", sa.Float(), nullable=True),
        sa.Column("p95_response_time", sa.Float(), nullable=True),
        sa.Column("p99_response_time", sa.Float(), nullable=True),
        sa.Column("error_rate", sa.Float(), nullable=True),
        sa.Column("total_requests", sa.Integer(), nullable=True),
        sa.Column("failed_requests", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_performance_tests_analysis_task_id_analysis_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_performance_tests_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_tests")),
    )
    with op.batch_alter_table("performance_tests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_performance_tests_analysis_task_id"), ["analysis_task_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_performance_tests_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_performance_tests_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_performance_tests_status"), ["status"], unique=False)

    op.create_table(
        "security_analyses",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("analysis_type", sa.String(length=50), nullable=False),
        sa.Column("enabled_tools", sa.JSON(), nullable=True),
        sa.Column("bandit_enabled", sa.Boolean(), nullable=False),
        sa.Column("safety_enabled", sa.Boolean(), nullable=False),
        sa.Column("pylint_enabled", sa.Boolean(), nullable=False),
        sa.Column("eslint_enabled", sa.Boolean(), nullable=False),
        sa.Column("npm_audit_enabled", sa.Boolean(), nullable=False),
        sa.Column("issues_found", sa.Integer(), nullable=False),
        sa.Column("critical_count", sa.Integer(), nullable=False),
        sa.Column("high_count", sa.Integer(), nullable=False),
        sa.Column("medium_count", sa.Integer(), nullable=False),
        sa.Column("low_count", sa.Integer(), nullable=False),
        sa.Column("info_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_security_analyses_analysis_task_id_analysis_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_security_analyses_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_analyses")),
    )
    with op.batch_alter_table("security_analyses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_security_analyses_analysis_task_id"), ["analysis_task_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_analyses_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_security_analyses_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_security_analyses_status"), ["status"], unique=False)

    op.create_table(
        "zap_analyses",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("analysis_task_id", sa.Integer(), nullable=True),
        sa.Column("scan_type", sa.String(length=50), nullable=False),
        sa.Column("target_url", sa.String(length=200), nullable=True),
        sa.Column("alerts_count", sa.Integer(), nullable=False),
        sa.Column("high_risk_count", sa.Integer(), nullable=False),
        sa.Column("medium_risk_count", sa.Integer(), nullable=False),
        sa.Column("low_risk_count", sa.Integer(), nullable=False),
        sa.Column("info_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="analysis_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("execution_time", sa.Float(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["analysis_task_id"],
            ["analysis_tasks.id"],
            name=op.f("fk_zap_analyses_analysis_task_id_analysis_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["generated_applications.id"],
            name=op.f("fk_zap_analyses_application_id_generated_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zap_analyses")),
    )
    with op.batch_alter_table("zap_analyses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_zap_analyses_analysis_task_id"), ["analysis_task_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_zap_analyses_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_zap_analyses_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_zap_analyses_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("zap_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zap_analyses_status"))
        batch_op.drop_index(batch_op.f("ix_zap_analyses_created_at"))
        batch_op.drop_index(batch_op.f("ix_zap_analyses_application_id"))
        batch_op.drop_index(batch_op.f("ix_zap_analyses_analysis_task_id"))

    op.drop_table("zap_analyses")
    with op.batch_alter_table("security_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_security_analyses_status"))
        batch_op.drop_index(batch_op.f("ix_security_analyses_created_at"))
        batch_op.drop_index(batch_op.f("ix_security_analyses_application_id"))
        batch_op.drop_index(batch_op.f("ix_security_analyses_analysis_task_id"))

    op.drop_table("security_analyses")
    with op.batch_alter_table("performance_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_performance_tests_status"))
        batch_op.drop_index(batch_op.f("ix_performance_tests_created_at"))
        batch_op.drop_index(batch_op.f("ix_performance_tests_application_id"))
        batch_op.drop_index(batch_op.f("ix_performance_tests_analysis_task_id"))

    op.drop_table("performance_tests")
    with op.batch_alter_table("openrouter_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_openrouter_analyses_status"))
        batch_op.drop_index(batch_op.f("ix_openrouter_analyses_created_at"))
        batch_op.drop_index(batch_op.f("ix_openrouter_analyses_application_id"))
        batch_op.drop_index(batch_op.f("ix_openrouter_analyses_analysis_task_id"))

    op.drop_table("openrouter_analyses")
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_model_usage_model_time")
        batch_op.drop_index(batch_op.f("ix_model_usage_application_id"))
        batch_op.drop_index(batch_op.f("ix_model_usage_analysis_task_id"))

    op.drop_table("model_usage")
    with op.batch_alter_table("containerized_tests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_containerized_tests_status"))
        batch_op.drop_index(batch_op.f("ix_containerized_tests_application_id"))
        batch_op.drop_index(batch_op.f("ix_containerized_tests_analysis_task_id"))

    op.drop_table("containerized_tests")
    with op.batch_alter_table("batch_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_tasks_status"))
        batch_op.drop_index("ix_batch_tasks_job_status")
        batch_op.drop_index(batch_op.f("ix_batch_tasks_job_id"))
        batch_op.drop_index(batch_op.f("ix_batch_tasks_analysis_task_id"))

    op.drop_table("batch_tasks")
    op.drop_table("port_allocations")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_user_time")
        batch_op.drop_index(batch_op.f("ix_audit_log_application_id"))
        batch_op.drop_index("ix_audit_log_action_time")

    op.drop_table("audit_log")
    with op.batch_alter_table("analysis_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analysis_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_analysis_tasks_created_at"))
        batch_op.drop_index(batch_op.f("ix_analysis_tasks_application_id"))

    op.drop_table("analysis_tasks")
    with op.batch_alter_table("generated_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generated_applications_model_slug"))
        batch_op.drop_index(batch_op.f("ix_generated_applications_last_status_check"))

    op.drop_table("generated_applications")
    op.drop_table("settings")
    op.drop_table("model_capabilities")
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_jobs_status"))
        batch_op.drop_index("ix_batch_jobs_created_at")

    op.drop_table("batch_jobs")
    op.drop_table("batch_analyses")
