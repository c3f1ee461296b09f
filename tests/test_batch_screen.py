"""Screen 5: jobs planned, run and controlled from the keyboard, live whoever runs them."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from test_app import make_app, settle, status_text, table_column, until
from test_batch_engine import (
    batch_create,
    job_tasks,
    new_job,
    start_runner,
    tasks_of,
)
from test_snapshots import SIZE, press_then_settle

from tui.app import ThesisApp
from tui.config import load_settings
from tui.db import open_database
from tui.db.models import BatchJob, BatchTask, JobStatus, TaskStatus
from tui.jobs.engine import Engine
from tui.jobs.planner import create_job
from tui.jobs.spec import JobSpec
from tui.screens.analysis_detail import AnalysisDetailScreen
from tui.screens.batch import JobScreen
from tui.screens.job_form import JobFormScreen
from tui.screens.workers import WorkersScreen
from tui.services.batches import get_job, list_jobs
from tui.services.reconcile import reconcile
from tui.services.scanner import scan_apps
from tui.services.workers import list_workers
from tui.widgets.confirm import ConfirmModal
from tui.widgets.log_panel import LogPanel


async def open_the_job(pilot) -> None:
    """From the jobs table, enter on the highlighted job, its tasks loaded."""
    await settle(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, JobScreen), "the job view")
    await settle(pilot)


def job_status(db, job_id: int) -> str:
    return str(get_job(db, job_id).status)


async def test_n_plans_a_job_that_the_tui_runs_while_the_table_follows(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, JobFormScreen), "the form")
        form = app.screen
        await pilot.press(*"tui study")
        form.query_one("#apps").value = "1-3"
        form.query_one("#type-quality").value = False
        for tool in ("pylint", "eslint", "pip-audit", "npm-audit"):
            form.query_one(f"#tool-{tool}").value = False
        plan = lambda: str(form.query_one("#job-plan").render())  # noqa: E731
        await until(pilot, lambda: "Creates 6 tasks: 6 to run, 0 skipped" in plan(), "the count")
        form.query_one("#model-filter").focus()
        await pilot.press(*"_b", "tab")  # the filter leaves acme_b
        models = form.query_one("#models")
        row = lambda: models.render_line(0).text  # noqa: E731
        await until(pilot, lambda: row().startswith("[ ] acme_b"), "the model, unticked")
        await pilot.press("space")  # ticks it: the state reads without colour
        await until(pilot, lambda: "Creates 3 tasks: 3 to run" in plan(), "one model's count")
        assert row().startswith("[x] acme_b")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, JobFormScreen), "the job stored")
        (job,) = list_jobs(sqlite_db).rows
        job_id = job.id
        await until(pilot, lambda: job_status(sqlite_db, job_id) == "completed", "the TUI's run")
        await until(pilot, lambda: "100%" in " ".join(table_column(app, "progress")), "100%")
        assert table_column(app, "done") == ["3/3"] and table_column(app, "name") == ["tui study"]
        assert {t.model_name for t in tasks_of(sqlite_db, job_id)} == {"acme_b"}
        await until(pilot, lambda: app.job_engine is None, "the runner to stop: nothing is left")


async def test_a_bad_job_form_says_why_and_stores_nothing(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, JobFormScreen), "the form")
        app.screen.query_one("#apps").value = "0-99"
        await pilot.press("ctrl+s")
        error = app.screen.query_one("#form-error")
        await until(pilot, lambda: "app numbers go from 1 to 30" in str(error.render()), "error")
        app.screen.query_one("#apps").value = "1-3"
        app.screen.query_one("#priority").value = "asap"
        await until(pilot, lambda: "Unknown priority “asap”" in str(error.render()), "priority")
        assert isinstance(app.screen, JobFormScreen)
    with sqlite_db.session() as session:
        assert session.query(BatchJob).count() == 0


async def test_the_tuis_keys_pause_a_headless_runner_and_resume_it_here(scripted: Path) -> None:
    pace = scripted / "pace"
    pace.write_text("#!/bin/sh\nsleep 3\n")
    pace.chmod(0o755)
    job_id = batch_create()
    db = open_database(os.environ["THESIS_DATABASE_URL"])
    runner = start_runner(job_id)
    try:
        app = make_app(db, start="batch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            statuses = lambda: {t.status for t in job_tasks(job_id)}  # noqa: E731
            await until(pilot, lambda: TaskStatus.COMPLETED in statuses(), "headless progress")
            app.screen.reload()
            await until(pilot, lambda: table_column(app, "done") != ["0/6"], "live counts")
            await pilot.press("p")
            await until(pilot, lambda: runner.poll() is not None, "the runner to stop", 30)
            await until(pilot, lambda: "paused" in " ".join(table_column(app, "status")), "shown")
            assert TaskStatus.PENDING in {t.status for t in job_tasks(job_id)}
            await pilot.press("r")
            await until(pilot, lambda: job_status(db, job_id) == "completed", "run here", 60)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.wait()
        db.dispose()
    assert [t.status for t in job_tasks(job_id)] == [TaskStatus.COMPLETED] * 6


async def test_a_job_planned_and_run_by_another_process_moves_on_screen_without_a_key(
    scripted: Path,
) -> None:
    (scripted / "pace").write_text("#!/bin/sh\nsleep 0.3\n")
    (scripted / "pace").chmod(0o755)
    db = open_database(os.environ["THESIS_DATABASE_URL"])
    try:
        app = ThesisApp(db, load_settings(refresh_interval=0.5), start="batch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            assert table_column(app, "id") == []
            job_id = batch_create()  # planned in another process: no key pressed here
            await until(pilot, lambda: table_column(app, "id") == [str(job_id)], "the new job")
            assert table_column(app, "done") == ["0/6"]
            await open_the_job(pilot)
            runner = start_runner(job_id)
            try:
                _, err = runner.communicate(timeout=120)
            finally:
                if runner.poll() is None:
                    runner.kill()
            assert runner.returncode == 0, err
            await until(
                pilot,
                lambda: table_column(app, "status") == ["completed"] * 6,
                "the job view to show its tasks ended",
            )
            await pilot.press("escape")
            await until(pilot, lambda: table_column(app, "done") == ["6/6"], "the jobs table")
            assert table_column(app, "status") == ["completed"]
    finally:
        db.dispose()


async def test_a_tui_runner_and_a_headless_one_share_a_job_at_once_never_running_a_task_twice(
    scripted: Path,
) -> None:
    go = scripted / "go"
    pace = scripted / "pace"  # each eslint run waits for `go`: both runners hold tasks at once
    pace.write_text(f"#!/bin/sh\nwhile [ ! -e {go} ]; do sleep 0.05; done\n")
    pace.chmod(0o755)
    job_id = batch_create()  # 6 tasks, one app per static run
    db = open_database(os.environ["THESIS_DATABASE_URL"])

    def running() -> int:
        return sum(t.status == TaskStatus.RUNNING for t in job_tasks(job_id))

    runner = start_runner(job_id)
    ended_here = []
    try:
        app = make_app(db, start="batch")
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await until(pilot, lambda: running() == 2, "the headless runner's tasks", 60)
            app.run_jobs()  # as after `n`: this TUI runs the open jobs too
            await until(pilot, lambda: app.job_engine is not None, "the TUI's runner")
            engine = app.job_engine
            await until(pilot, lambda: running() == 4, "the TUI's tasks beside them", 60)
            # Both runners are workers of the study, each with what it holds now.
            await pilot.press("W")
            await until(pilot, lambda: isinstance(app.screen, WorkersScreen), "the workers")
            host = socket.gethostname()
            await until(pilot, lambda: dict(zip(table_column(app, "name"),
                                                table_column(app, "running"), strict=True)) == {
                f"{host}-{runner.pid} (batch run)": "2", f"{host}-{os.getpid()} (TUI)": "2"
            }, "both runners in the Workers view")  # fmt: skip
            assert table_column(app, "state") == ["running", "running"]
            go.touch()
            await until(pilot, lambda: job_status(db, job_id) == "completed", "the job", 120)
            # The job may be counted complete by the other runner a moment before this one
            # has told its last ending: its report is read once it has stopped.
            await until(pilot, lambda: app.job_engine is None, "the TUI's runner to stop")
            ended_here = [event.task_id for event in engine.report.ended]
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.wait()
        db.dispose()
    assert runner.returncode == 0, err
    ended_there = [line for line in err.splitlines() if line.startswith(f"ok job {job_id} ")]
    tasks = job_tasks(job_id)
    assert [t.status for t in tasks] == [TaskStatus.COMPLETED] * 6
    assert [t.attempts for t in tasks] == [1] * 6, "no task was claimed twice"
    assert len(ended_here) >= 2 and len(ended_there) >= 2, "both runners ran the job"
    assert len(ended_here) + len(ended_there) == 6
    assert len(set(ended_here)) == len(ended_here)
    # Each task names the runner that ran it; both runners said they stopped.
    db = open_database(os.environ["THESIS_DATABASE_URL"])
    try:
        rows = {row.id: row for row in list_workers(db, everything=True)}
        by_task = {t.id: rows[t.worker_id].name for t in job_tasks(job_id)}
    finally:
        db.dispose()
    assert all(row.stopped_at is not None for row in rows.values())
    assert {by_task[task] for task in ended_here} == {f"{host}-{os.getpid()} (TUI)"}
    assert sum(name.endswith("(batch run)") for name in by_task.values()) == len(ended_there)


async def test_c_cancels_a_job_after_asking(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    job_id = new_job(sqlite_db, options={"tools": "bandit"})
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert app.screen.title_text == f"Cancel job {job_id}?"
        assert "6 open tasks end cancelled" in app.screen.body_text
        await pilot.press("y")
        await until(pilot, lambda: job_status(sqlite_db, job_id) == "cancelled", "cancelled")
        await until(pilot, lambda: "cancelled" in " ".join(table_column(app, "status")), "shown")
    assert {t.status for t in tasks_of(sqlite_db, job_id)} == {TaskStatus.CANCELLED}


async def test_enter_opens_the_job_its_failures_and_their_analyses(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    job_id = new_job(sqlite_db, options={"tools": "bandit"})
    os.rename(study / "acme_b" / "app1", study / "gone")
    await Engine(sqlite_db, load_settings(), jobs=[job_id]).run()
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_the_job(pilot)
        head = str(app.screen.query_one("#job-head").render())
        assert "5 done (0 reused) · 1 failed" in head and "acme_a 3/3" in head
        assert "6 of 6 tasks" in status_text(app)
        await pilot.press("f")
        await settle(pilot)
        assert table_column(app, "detail") == ["the app's folder is missing"]
        await pilot.press("enter")  # a failure before any analysis: said, nothing opens
        await pilot.pause()
        assert isinstance(app.screen, JobScreen)
        await pilot.press("f")
        await settle(pilot)
        await pilot.press("k", "k", "k")  # the cursor kept the failed task: up to acme_a app 1
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AnalysisDetailScreen), "its analysis")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: app.screen.__class__.__name__ == "BatchJobsScreen", "back")


async def test_opening_the_tui_resumes_a_job_whose_runner_died(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    job_id = new_job(sqlite_db, options={"tools": "bandit"})
    with sqlite_db.write_session() as session:  # as a runner killed mid-task leaves it
        session.execute(
            update(BatchTask)
            .where(BatchTask.job_id == job_id, BatchTask.app_number == 1)
            .values(status=TaskStatus.RUNNING, owner_host="elsewhere", owner_pid=1)
        )

    def open_as_the_cli_does():
        reconcile(sqlite_db, load_settings())  # re-queues the dead runner's task
        return sqlite_db

    app = ThesisApp(open_as_the_cli_does, load_settings(), start="batch", watch_docker=False,
                    resume_jobs=True)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: job_status(sqlite_db, job_id) == "completed", "resumed", 60)
    assert sorted(t.attempts for t in tasks_of(sqlite_db, job_id)) == [1] * 6


# --- snapshots at 80x24 -----------------------------------------------------------------


@pytest.fixture
def jobs_db(long_slugs_db):
    """Jobs over the long-slug catalogue, in every state, with fixed times."""
    settings = load_settings()
    at = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    ids = []
    for name, types in [
        ("nightly security of every model", "security,quality"),
        ("load tests", "performance"),
        ("re-run after fixes", "security"),
    ]:
        ids.append(create_job(long_slugs_db, settings,
                              JobSpec.build(name=name, types=types, apps="1-4")).id)  # fmt: skip
    with long_slugs_db.write_session() as session:
        statuses = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.PENDING)
        for offset, (job_id, status) in enumerate(zip(ids, statuses, strict=True)):
            started = at + timedelta(days=offset)
            ended = started + timedelta(minutes=42) if status != JobStatus.PENDING else None
            session.execute(
                update(BatchJob).where(BatchJob.id == job_id).values(
                    status=status, created_at=started, updated_at=started,
                    started_at=None if ended is None else started, completed_at=ended,
                    log_path=f"/data/logs/jobs/job-{job_id}.log",
                )
            )  # fmt: skip
            if status != JobStatus.PENDING:
                session.execute(
                    update(BatchTask)
                    .where(BatchTask.job_id == job_id, BatchTask.status == TaskStatus.PENDING)
                    .values(status=TaskStatus.COMPLETED, attempts=1, actual_duration=12.5,
                            completed_at=ended)
                )  # fmt: skip
        session.execute(
            update(BatchTask)
            .where(BatchTask.job_id == ids[1], BatchTask.app_number == 2)
            .values(status=TaskStatus.FAILED, error_message="timed out after 3600 s")
        )
    return long_slugs_db


class TestBatchSnapshots:
    def test_jobs_table(self, jobs_db, snap_compare) -> None:
        assert snap_compare(make_app(jobs_db, start="batch"), terminal_size=SIZE,
                            run_before=press_then_settle())  # fmt: skip

    def test_job_view(self, jobs_db, snap_compare) -> None:
        assert snap_compare(make_app(jobs_db, start="batch"), terminal_size=SIZE,
                            run_before=press_then_settle("j", "enter"))  # fmt: skip

    def test_job_form(self, jobs_db, snap_compare) -> None:
        async def open_form(pilot) -> None:
            await settle(pilot)
            await pilot.press("n")
            await until(pilot, lambda: "Creates" in str(
                pilot.app.screen.query_one("#job-plan").render()), "the plan")  # fmt: skip
            await asyncio.sleep(0)

        assert snap_compare(make_app(jobs_db, start="batch"), terminal_size=SIZE,
                            run_before=open_form)  # fmt: skip


async def test_l_follows_a_tasks_log_and_shift_l_the_jobs(sqlite_db, study) -> None:
    scan_apps(sqlite_db, study)
    job_id = new_job(sqlite_db, options={"tools": "bandit"}, models="acme_a")
    await Engine(sqlite_db, load_settings(), jobs=[job_id]).run()
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await open_the_job(pilot)
        panel = app.screen.query_one(LogPanel)
        await pilot.press("L")
        await until(pilot, lambda: len(panel.lines) == 4, "a line per task and the end")
        assert all(f"ok acme_a app {n} security completed:" in " ".join(panel.lines)
                   for n in (1, 2, 3))  # fmt: skip
        assert "== job ended: 3 completed (0 reused), 0 failed" in panel.lines[-1]
        assert not app.screen.query_one("#job-head").display
        await pilot.press("l")  # the highlighted task's own log instead
        await until(pilot, lambda: any(line.startswith("-- bandit") for line in panel.lines),
                    "the task's log")  # fmt: skip
        await pilot.press("l")
        assert not panel.display and app.screen.query_one("#job-head").display
