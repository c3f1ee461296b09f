"""`thesis batch create|run|list|show|pause|resume|cancel|retry`: studies from the shell.

`run` runs the jobs' tasks on this machine until none is open, beside any other runner on
the same database (the TUI, another `thesis batch run`). On a terminal it redraws one
progress line per job on stderr; otherwise it prints one line per ended task. It exits 0
when every task completed, was reused or was skipped with a reason, 1 when any failed or
was cancelled, and 128 + N when stopped by signal N (its running tasks go back to the queue
for the next run).
"""

from __future__ import annotations

import sys
import time

import click

from tui.commands.analyses import echo
from tui.commands.base import Context, echo_json, handles_errors, pass_context, run_cancellable


def _job_id(value: str) -> int:
    text = value.strip().removeprefix("#")
    if not text.isdigit() or len(text) > 18:
        raise click.BadParameter(f"“{value}” is not a job id (a number, see `thesis batch list`)")
    return int(text)


class JobId(click.ParamType):
    name = "JOB"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, int):
            return value
        try:
            return _job_id(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


@click.group()
def batch() -> None:
    """Batch jobs: models x apps x analysis types, run headless or in the TUI."""


@batch.command("create")
@click.option("--name", required=True, help="What the job is called.")
@click.option("--models", default="all", show_default=True, help="all, or slugs comma-separated.")
@click.option("--apps", default="1-30", show_default=True, help="App numbers: 1-30, 1,3,5-7.")
@click.option(
    "--types",
    required=True,
    help="Comma-separated: security, quality, performance, zap, ai_review, smoke, functional; "
    "or generation alone.",
)
@click.option("--tools", help="Security tools, comma-separated (default: all).")
@click.option(
    "--priority",
    type=click.Choice(["low", "normal", "high", "urgent"]),
    default="normal",
    show_default=True,
)
@click.option("--force", is_flag=True, help="Run even where an earlier result could be reused.")
@click.option("--users", type=click.IntRange(1, 10_000), help="Load test users (default 10).")
@click.option("--spawn-rate", type=click.FloatRange(0.1, 10_000), help="Users started per second.")
@click.option("--duration", type=click.IntRange(1, 86_400), help="Load test seconds (default 10).")
@click.option("--endpoints", help="Load test paths, comma-separated (default /).")
@click.option("--zap-scan", type=click.Choice(["baseline", "full"]), help="Dynamic scan kind.")
@click.option("--review-model", help="Reviewing model for ai_review (default THESIS_REVIEW_MODEL).")
@click.option("--template", help="Template for functional (default: the app's own).")
@click.option(
    "--max-cost",
    type=click.FloatRange(0, 1_000_000, min_open=True),
    metavar="USD",
    help="Claim no more tasks once the job's model calls (generation, AI review) cost this much.",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "tasks", "skipped"}.')
@pass_context
@handles_errors
def create(
    context: Context,
    name: str,
    models: str,
    apps: str,
    types: str,
    tools: str | None,
    priority: str,
    force: bool,
    users: int | None,
    spawn_rate: float | None,
    duration: int | None,
    endpoints: str | None,
    zap_scan: str | None,
    review_model: str | None,
    template: str | None,
    max_cost: float | None,
    as_json: bool,
) -> None:
    """Plan a job; prints its id (it runs with `thesis batch run` or in the TUI)."""
    from tui.jobs.planner import create_job
    from tui.jobs.spec import JobSpec

    options = {
        "tools": tools,
        "users": users,
        "spawn_rate": spawn_rate,
        "duration": duration,
        "endpoints": endpoints,
        "zap_scan": zap_scan,
        "model": review_model,
        "template": template,
    }
    spec = JobSpec.build(
        name=name,
        types=types,
        models=models,
        apps=apps,
        options={key: value for key, value in options.items() if value is not None},
        priority=priority,
        force=force,
        max_cost=max_cost,
    )
    db = context.database()
    created = create_job(db, context.settings, spec, created_by="cli")
    if as_json:
        echo_json({"id": created.id, "tasks": created.tasks, "skipped": created.skipped})
        return
    click.echo(created.id)
    click.echo(
        f"Job {created.id}: {created.tasks} tasks ({created.skipped} skipped); "
        f"run it with `thesis batch run {created.id}`",
        err=True,
    )


@batch.command("run")
@click.argument("jobs", nargs=-1, type=JobId())
@pass_context
@handles_errors
def run(context: Context, jobs: tuple[int, ...]) -> None:
    """Run JOBS (default: every pending or running job) until no task is open."""
    from tui.db.models import TaskStatus
    from tui.jobs.engine import Engine, TaskEnded
    from tui.services.batches import get_job, progress

    db = context.database()
    wanted = list(jobs) or None
    for job_id in jobs:
        get_job(db, job_id)  # an unknown id is a one-line error before anything runs
    live = sys.stderr.isatty()
    last_draw = 0.0

    def draw(force: bool = False) -> None:
        nonlocal last_draw
        now = time.monotonic()
        if not force and now - last_draw < 0.2:
            return
        last_draw = now
        counts = progress(db, wanted or sorted({e.job_id for e in engine.report.ended}))
        parts = []
        for job_id, done in sorted(counts.items()):
            width = 20
            filled = int(width * done.percent / 100)
            parts.append(
                f"job {job_id} [{'#' * filled}{'.' * (width - filled)}] {done.ended}/{done.total}"
                f" ok {done.completed} ({done.reused} reused) failed {done.failed}"
                f" running {done.running}"
            )
        click.echo("\r\x1b[2K" + " | ".join(parts), err=True, nl=False)

    def ended(event: TaskEnded) -> None:
        if live:
            draw()
        else:
            mark = "ok" if event.status == TaskStatus.COMPLETED else "!!"
            line = f"{mark} job {event.job_id} {event.label} {event.status}: {event.detail}"
            echo(line, err=True)

    engine = Engine(db, context.settings, jobs=wanted, on_event=ended, role="batch run")
    report = run_cancellable(engine.run(), "running tasks were queued again")
    if live:
        draw(force=True)
        click.echo("", err=True)
    seen = wanted or sorted({event.job_id for event in report.ended})
    counts = progress(db, seen)
    bad = sum(
        done.failed + done.cancelled + done.pending + done.running for done in counts.values()
    )
    for job_id, done in sorted(counts.items()):
        click.echo(
            f"job {job_id}: {done.completed} completed ({done.reused} reused), "
            f"{done.failed} failed, {done.skipped} skipped, {done.cancelled} cancelled, "
            f"{done.pending + done.running} open"
        )
    if not seen:
        click.echo("No job had work to run (paused jobs wait for `thesis batch resume`).")
    elif any(done.pending + done.running for done in counts.values()):
        click.echo("Some tasks are still open: their job is paused, or another runner has them.")
    if bad:
        sys.exit(1)


@batch.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "everything", is_flag=True, help="Include one-off runs (analyse now).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=200, show_default=True)
@pass_context
@handles_errors
def list_command(context: Context, as_json: bool, everything: bool, limit: int) -> None:
    """Jobs, newest first, with their tasks counted."""
    from tui.services.batches import list_jobs

    page = list_jobs(context.database(), limit=limit, include_one_off=everything)
    if as_json:
        echo_json(page.rows)
        return
    for row in page.rows:
        echo(
            f"{row.id:>5}  {row.status:<9} {row.priority:<6} {row.progress:>3}%  "
            f"{row.completed + row.failed + row.skipped + row.cancelled}/{row.total} ended, "
            f"{row.failed} failed, {row.running} running  {row.name}"
        )
    click.echo(f"{len(page.rows)} of {page.total} jobs", err=True)


@batch.command("show")
@click.argument("job", type=JobId())
@click.option("--json", "as_json", is_flag=True)
@pass_context
@handles_errors
def show(context: Context, job: int, as_json: bool) -> None:
    """One job: its spec, progress per model and type, and why tasks failed."""
    from tui.services.batches import breakdown, get_job, job_spec, list_tasks
    from tui.services.reports.usage import usage

    db = context.database()
    row = get_job(db, job)
    spent = usage(db, "model", job_id=job)[-1]
    failures = list_tasks(db, job, status="failed", limit=50, count=False).rows
    skipped = list_tasks(db, job, status="skipped", limit=50, count=False).rows
    by_model, by_type = breakdown(db, job, "model"), breakdown(db, job, "type")
    if as_json:
        echo_json(
            {
                "job": row,
                "spec": job_spec(db, job),
                "by_model": by_model,
                "by_type": by_type,
                "failed": failures,
                "skipped": skipped,
                "llm_calls": {"calls": spent.calls, "tokens": spent.total_tokens,
                              "usd": round(spent.usd, 6)},
            }
        )  # fmt: skip
        return
    echo(f"job {row.id} “{row.name}”: {row.status}, priority {row.priority}")
    if row.description:
        echo(f"  {row.description}")
    echo(
        f"  {row.total} tasks: {row.completed} completed ({row.reused} reused), "
        f"{row.failed} failed, {row.skipped} skipped, {row.cancelled} cancelled, "
        f"{row.running} running, {row.pending} pending"
    )
    for title, groups in (("model", by_model), ("type", by_type)):
        for key, done in groups.items():
            echo(
                f"  {title} {key}: {done.ended}/{done.total} ended, {done.completed} completed, "
                f"{done.failed} failed, {done.skipped} skipped"
            )
    if spent.calls:
        echo(f"  spent {spent.usd:,.4f} USD on {spent.calls} LLM calls, "
             f"{spent.total_tokens:,} tokens (thesis report usage --job {row.id})")  # fmt: skip
    for task in failures:
        echo(f"  !! {task.model} app {task.app_number} {task.type}: {task.error}")
    for task in skipped:
        echo(f"  -- {task.model} app {task.app_number} {task.type} skipped: {task.error}")
    if row.log_path:
        echo(f"  log {row.log_path}")


def _control(verb: str):  # type: ignore[no-untyped-def]
    @batch.command(verb)
    @click.argument("job", type=JobId())
    @pass_context
    @handles_errors
    def command(context: Context, job: int) -> None:
        from tui.jobs import control

        changed = getattr(control, verb)(context.database(), job)
        extra = f" ({changed.tasks} tasks)" if changed.tasks else ""
        click.echo(f"job {job}: {changed.status}{extra}")

    command.__doc__ = {
        "pause": "Claim no new task of JOB; running ones finish.",
        "resume": "Let runners claim JOB's tasks again.",
        "cancel": "End JOB: pending tasks now, running ones within a second.",
    }[verb]
    return command


for _verb in ("pause", "resume", "cancel"):
    _control(_verb)


@batch.command("retry")
@click.argument("job", type=JobId())
@click.option("--failed", "failed_only", is_flag=True, help="Only failed tasks, not cancelled.")
@pass_context
@handles_errors
def retry(context: Context, job: int, failed_only: bool) -> None:
    """Queue JOB's failed (and cancelled) tasks again."""
    from tui.jobs import control

    changed = control.retry(context.database(), job, failed_only=failed_only)
    click.echo(f"job {job}: {changed.tasks} tasks queued again; run `thesis batch run {job}`")
