"""`thesis generate MODEL --templates ...`: build apps with a model, from templates.

It is a one-off generation job run here by the batch engine, as `thesis analyze` is for
analyses: the LLM slots bound how many apps are asked for at once, `--max-cost` stops it,
the TUI and `thesis batch` see and can cancel it, and a kill leaves nothing half-written
(the next start ends the job; run the command again to make what is missing).
"""

from __future__ import annotations

import sys

import click

from tui.commands.base import Context, handles_errors, pass_context, run_cancellable
from tui.errors import shown


@click.command()
@click.argument("model")
@click.option("--templates", "spec", required=True, metavar="1-30|SLUG,…",
              help="Templates by number, range or slug, e.g. 1-30 or blog,3.")  # fmt: skip
@click.option("--force", is_flag=True, help="Replace apps that exist already.")
@click.option("--max-cost", type=click.FloatRange(0, 1_000_000, min_open=True), metavar="USD",
              help="Ask for no more apps once the calls cost this much.")  # fmt: skip
@click.option("--stream", is_flag=True, help="Print the answers as they come (one app at a time).")
@click.option("--estimate", is_flag=True, help="Print what it should cost, and ask nothing.")
@pass_context
@handles_errors
def generate(
    context: Context,
    model: str,
    spec: str,
    force: bool,
    max_cost: float | None,
    stream: bool,
    estimate: bool,
) -> None:
    """Generate MODEL's apps from templates (app N from template N) through OpenRouter."""
    from tui.db.models import TaskStatus
    from tui.jobs.engine import Engine, TaskEnded
    from tui.jobs.planner import APP_EXISTS, create_job
    from tui.jobs.spec import JobSpec
    from tui.services.batches import list_tasks
    from tui.services.generation.templates import load_templates

    settings = context.settings
    catalogue = load_templates(settings.templates_dir)
    for problem in catalogue.problems:  # a template of the user's left out: ours may stand in
        click.echo(f"thesis: left out: {shown(problem)}", err=True)
    chosen = catalogue.select(spec)
    db = context.database()
    if estimate:
        from tui.services.generation.estimate import estimate_cost
        from tui.services.generation.generator import check_model

        check_model(db, model)  # in the catalogue, with an OpenRouter id

        (guess,) = estimate_cost(db, [model], chosen)
        usd = "no price in the catalogue" if guess.usd is None else f"about {guess.usd:.4f} USD"
        click.echo(f"{model}: {guess.apps} apps, about {guess.prompt_tokens:,} prompt and "
                   f"{guess.completion_tokens:,} completion tokens ({guess.basis}): {usd}, "
                   "more if answers are asked for again")  # fmt: skip
        return
    slugs = {loaded.template.number: loaded.template.slug for loaded in chosen}
    job_spec = JobSpec.build(
        name=f"generate {model}", types="generation", models=[model], apps=tuple(slugs),
        priority="urgent", force=force, max_cost=max_cost,
    )  # fmt: skip
    job = create_job(db, settings, job_spec, one_off=True, created_by="thesis generate")
    tasks = {task.id: task for task in list_tasks(db, job.id, count=False).rows}

    def label(task_id: int) -> str:
        task = tasks[task_id]
        return f"{model} app {task.app_number} ({slugs.get(task.app_number, '?')})"

    def ended(event: TaskEnded) -> None:
        if event.status == TaskStatus.COMPLETED:
            number = tasks[event.task_id].app_number
            folder = settings.apps_dir / model / f"app{number}"
            click.echo(f"{label(event.task_id)}: {folder} · {event.detail}")
        else:
            click.echo(f"thesis: {label(event.task_id)}: {shown(event.detail)}", err=True)

    def line(text: str) -> None:  # the answers come from a model: shown escaped
        click.echo(shown(text))

    engine = Engine(db, settings, jobs=[job.id], sink=line if stream else None, on_event=ended,
                    role="generate")  # fmt: skip
    if stream:
        engine.slots["llm"] = 1  # the answers one after another, not interleaved
    report = run_cancellable(engine.run(), f"the generation job {job.id} was cancelled")
    failed = any(event.status != TaskStatus.COMPLETED for event in report.ended)
    for task in list_tasks(db, job.id, status="skipped", count=False).rows:
        kept = task.error == APP_EXISTS
        failed = failed or not kept
        why = "kept: it exists (--force replaces it)" if kept else f"skipped: {task.error}"
        click.echo(f"thesis: {label(task.id)} {shown(why)}", err=True)
    if failed:
        sys.exit(1)
