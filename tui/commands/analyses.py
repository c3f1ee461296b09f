"""`thesis analyze` and `thesis analyses list|show`.

`analyze` streams each analysis's log to stderr as it runs and prints one summary line per
analysis on stdout; it exits 1 when any analysis did not complete. Ctrl-C kills the running
tool and marks its analysis cancelled.
"""

from __future__ import annotations

import sys

import click

from tui.commands.base import Context, echo_json, handles_errors, pass_context, run_cancellable
from tui.commands.containers import app_arguments
from tui.errors import shown
from tui.services.analyses import get_analysis, list_analyses
from tui.services.analysis.findings import describe_summary
from tui.services.batches import list_tasks


def _progress(line: str) -> None:
    echo(line, err=True)


def echo(text: str, *, err: bool = False) -> None:
    """A line of what an analysis found: file names and messages come from generated apps
    and their tools, so control characters are shown escaped, never sent to the terminal."""
    click.echo(shown(text), err=err)


@click.command("analyze")
@app_arguments
@click.option(
    "--type",
    "types",
    default="security",
    show_default=True,
    help="Comma-separated: security, quality, performance, zap, ai_review, smoke, functional.",
)
@click.option(
    "--tools",
    help="Security tools, comma-separated (default: all): "
    "bandit, pylint, eslint, pip-audit, npm-audit.",
)
@click.option(
    "--model", "review_model", help="Reviewing model for ai_review (default THESIS_REVIEW_MODEL)."
)
@click.option(
    "--requirements",
    help="Requirements text for ai_review (default: the app's "
    "REQUIREMENTS.md or generation metadata).",
)
@click.option("--users", type=click.IntRange(1, 10_000), help="Load test users (default 10).")
@click.option("--spawn-rate", type=click.FloatRange(0.1, 10_000), help="Users started per second.")
@click.option("--duration", type=click.IntRange(1, 86_400), help="Load test seconds (default 10).")
@click.option("--endpoints", help="Load test paths, comma-separated (default /).")
@click.option(
    "--zap-scan",
    type=click.Choice(["baseline", "full"]),
    help="Dynamic scan (zap): baseline = spider + passive (default), full = + active scan.",
)
@click.option(
    "--template", help="Template for functional, a slug or number (default: the app's own)."
)
@pass_context
@handles_errors
def analyze(
    context: Context,
    model: str,
    number: int,
    types: str,
    tools: str | None,
    review_model: str | None,
    requirements: str | None,
    users: int | None,
    spawn_rate: float | None,
    duration: int | None,
    endpoints: str | None,
    zap_scan: str | None,
    template: str | None,
) -> None:
    """Run analyses on app NUMBER of MODEL; the log streams to stderr."""  # fmt: skip
    from tui.db.models import TaskStatus
    from tui.jobs.engine import Engine
    from tui.jobs.planner import create_job
    from tui.jobs.spec import JobSpec

    options = {
        "tools": tools,
        "model": review_model,
        "requirements": requirements,
        "users": users,
        "spawn_rate": spawn_rate,
        "duration": duration,
        "endpoints": endpoints,
        "zap_scan": zap_scan,
        "template": template,
    }
    # An "analyse now" is a one-off job, run here by the same engine as a study: it can be
    # watched and cancelled from the TUI or another shell like any job.
    spec = JobSpec.build(
        name=f"analyze {model} {number}",
        types=types,
        explicit=[(model, number)],
        options={key: value for key, value in options.items() if value is not None},
        priority="urgent",
        force=True,
    )
    db = context.database()
    job = create_job(db, context.settings, spec, one_off=True, created_by="thesis analyze")
    engine = Engine(db, context.settings, jobs=[job.id], sink=_progress, role="analyze")
    report = run_cancellable(engine.run(), "the running analysis was stopped")
    ended = sorted(report.ended, key=lambda event: event.task_id)
    for event in ended:
        name = event.analysis_task_id or event.label
        if event.status == TaskStatus.COMPLETED:
            click.echo(f"{name} completed: {event.detail}")
        else:
            echo(f"{name} {event.status}: {event.detail}")
    skipped = list_tasks(db, job.id, status="skipped", count=False).rows
    for task in skipped:
        echo(f"{task.model} app {task.app_number} {task.type} skipped: {task.error}")
    if skipped or any(event.status != TaskStatus.COMPLETED for event in ended):
        sys.exit(1)


@click.group()
def analyses() -> None:
    """List analyses and show one with its findings."""


@analyses.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--search", help="Only analyses whose id, type, status or model contains this.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@pass_context
@handles_errors
def list_command(context: Context, as_json: bool, search: str | None, limit: int) -> None:
    """Analyses, newest first."""
    page = list_analyses(context.database(), search=search, limit=limit)
    if as_json:
        echo_json([row.__dict__ | {"duration_seconds": row.duration_seconds} for row in page.rows])
        return
    for row in page.rows:
        duration = f"{row.duration_seconds:.1f}s" if row.duration_seconds is not None else "-"
        outcome = (
            describe_summary(row.summary)
            if row.status == "completed"
            else (row.error_message or "")
        )
        echo(
            f"{row.task_id:<26} {row.task_type:<11} {row.model_slug} app {row.app_number:<3} "
            f"{row.status:<10} {duration:>8}  {outcome}"
        )
    click.echo(f"{len(page.rows)} of {page.total} analyses", err=True)


@analyses.command("show")
@click.argument("task_id")
@click.option("--json", "as_json", is_flag=True, help="Print the row and results as JSON.")
@pass_context
@handles_errors
def show(context: Context, task_id: str, as_json: bool) -> None:
    """One analysis: status, summary, each tool, and every finding."""
    detail = get_analysis(context.database(), task_id)
    if as_json:
        echo_json(detail)
        return
    echo(f"{detail.task_id}  {detail.task_type} of {detail.model_slug} app "
               f"{detail.app_number}: {detail.status}")  # fmt: skip
    if detail.error_message:
        echo(f"error: {detail.error_message}")
    if detail.summary:
        echo(f"summary: {describe_summary(detail.summary)}")
    if detail.results_error:
        echo(f"results: {detail.results_error}")
    results = detail.results or {}
    for tool, report in (results.get("tools") or {}).items():
        reason = f": {report['reason']}" if report.get("reason") else ""
        echo(f"  {tool:<10} {report['status']}{reason} ({report['findings']} findings)")
    for finding in detail.findings:
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        echo(f"  [{finding.severity:<8}] {finding.tool:<9} {finding.rule_id:<28} "
                   f"{where}  {finding.message}")  # fmt: skip
    if results.get("metrics"):
        metrics = results["metrics"]
        for key in ("requests", "requests_per_second", "avg_ms", "p50_ms", "p95_ms", "p99_ms",
                    "error_rate", "connection_errors"):  # fmt: skip
            if key in metrics:
                echo(f"  {key}: {metrics[key]}")
