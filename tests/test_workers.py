"""Workers: `thesis worker` processes sharing one study through procrastinate on the test
PostgreSQL (simulated machines: separate processes with their own names), and on SQLite as
more runners on one file. Real processes, real signals, a real HTTP stand-in for OpenRouter
on 127.0.0.1 (the AI review: a fast type that needs no container)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import SocketProxy, StandInHandler, loopback_server, thesis
from sqlalchemy import func, insert, select, text

from tui.config import load_settings
from tui.db import Database, open_database
from tui.db.tables import analysis_tasks, batch_tasks, model_capabilities, workers
from tui.jobs.planner import create_job
from tui.jobs.spec import JobSpec
from tui.services.scanner import scan_apps

REVIEW = {"score": 70, "requirements": [], "issues": [], "suggestions": []}
MODELS = [f"lab_m{number}" for number in range(10)]


class Reviews:
    """Answers every review (after `delay` seconds), counting them; with `hold` set, the
    first one waits for `release` and says which app it was for."""

    def __init__(self) -> None:
        self.calls = 0
        self.delay = 0.0
        self.hold = False
        self.held: str | None = None
        self.release = threading.Event()


class _Handler(StandInHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        standin: Reviews = self.server.standin
        standin.calls += 1
        if standin.hold and standin.held is None:
            standin.held = re.search(r"app \d+ of lab_m\d+", body).group(0)
            standin.release.wait(120)
        time.sleep(standin.delay)
        answer = {"choices": [{"message": {"role": "assistant", "content": json.dumps(REVIEW)}}],
                  "usage": {"prompt_tokens": 100, "completion_tokens": 20}}  # fmt: skip
        self.reply(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def reviews(monkeypatch) -> Iterator[Reviews]:
    standin = Reviews()
    with loopback_server(_Handler, standin) as url:
        monkeypatch.setenv("THESIS_OPENROUTER_BASE_URL", f"{url}/api/v1")
        monkeypatch.setenv("THESIS_OPENROUTER_API_KEY", "sk-or-worker-test")
        monkeypatch.setenv("THESIS_REVIEW_MODEL", "acme/reviewer")
        yield standin
        standin.release.set()


@pytest.fixture
def pg_db(postgres_url: str) -> Iterator[Database]:
    database = open_database(postgres_url)
    yield database
    database.dispose()


def lab(db: Database, root: Path, models: list[str] = MODELS) -> None:
    """`models` (10) x 30 tiny apps, and the reviewing model in the catalogue."""
    for model in models:
        for number in range(1, 31):
            backend = root / model / f"app{number}" / "backend"
            backend.mkdir(parents=True)
            (backend / "app.py").write_text(f"print('app {number} of {model}')\n")
            (backend.parent / "REQUIREMENTS.md").write_text("- It prints\n")
    scan_apps(db, root)
    with db.write() as connection:
        connection.execute(insert(model_capabilities).values(
            model_id="acme/reviewer", canonical_slug="acme_reviewer", provider="acme",
            display_name="Reviewer", model_name="reviewer", context_length=32_000,
            pricing_prompt=1.0, pricing_completion=2.0))  # fmt: skip


def db_env(db: Database) -> dict[str, str]:
    return {"THESIS_DATABASE_URL": db.engine.url.render_as_string(hide_password=False)}


def start_worker(db: Database, name: str, *more: str) -> subprocess.Popen[str]:
    env = {**os.environ, **db_env(db)}
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "worker", "--name", name, *more],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_until(check: Any, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)  # polled with a deadline: the workers are other processes


def counts(db: Database, job: int) -> dict[str, int]:
    t = batch_tasks.c
    with db.read() as connection:
        rows = connection.execute(
            select(t.status, func.count()).where(t.job_id == job).group_by(t.status)
        ).all()
    return {str(status): number for status, number in rows}


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def test_three_workers_run_a_study_each_task_once(pg_db, reviews, tmp_path) -> None:
    lab(pg_db, tmp_path / "apps")
    spec = JobSpec.build(name="study", types="ai_review", models=MODELS, apps="1-30")
    job = create_job(pg_db, load_settings(), spec).id
    with pg_db.read() as connection:  # a token per task, on the job's queue
        tokens = connection.execute(text(
            "SELECT queue_name, count(*) FROM procrastinate_jobs GROUP BY queue_name"
        )).all()  # fmt: skip
    assert tokens == [(f"job{job}.ai_review", 300)]
    names = ("lab-a", "lab-b", "lab-c")
    running = [start_worker(pg_db, name) for name in names]
    try:
        wait_until(lambda: not {"pending", "running"} & counts(pg_db, job).keys(), "the end")
        assert counts(pg_db, job) == {"completed": 300}
        listed = json.loads(
            thesis(
                "workers",
                "list",
                "--json",
                THESIS_DATABASE_URL=pg_db.engine.url.render_as_string(hide_password=False),
            ).stdout
        )
        assert sorted(w["name"] for w in listed) == sorted(names)
        assert all(w["state"] == "running" for w in listed)
    finally:
        outputs = [stop(process) for process in running]
    assert all(process.returncode == 0 for process in running), outputs
    # Each task ran once: one analysis each, one review call each, all ended.
    a, t, w = analysis_tasks.c, batch_tasks.c, workers.c
    with pg_db.read() as connection:
        analyses = connection.scalar(select(func.count()).where(a.task_type == "ai_review"))
        by_worker = dict(connection.execute(
            select(w.name, func.count()).join(batch_tasks, t.worker_id == w.id)
            .where(t.job_id == job).group_by(w.name)
        ).all())  # fmt: skip
        stopped = connection.scalar(select(func.count()).where(w.stopped_at.is_not(None)))
        left = connection.scalar(text("SELECT count(*) FROM procrastinate_jobs"))
    assert analyses == 300 and reviews.calls == 300
    assert sum(by_worker.values()) == 300 and len(by_worker) >= 2, by_worker
    assert left == 0  # every token ended with its task
    assert stopped == 3


def test_a_killed_workers_task_is_completed_by_another_exactly_once(
    pg_db, reviews, tmp_path, monkeypatch
) -> None:
    """Three workers; the one that holds the first review is killed -9 while it waits: its
    tasks are queued again and completed by the others, the killed attempt ends failed
    (interrupted), no task completes twice, and the killed worker's token — stalled, once
    its heartbeat is THESIS_HEARTBEAT_TIMEOUT old — is ended."""
    monkeypatch.setenv("THESIS_HEARTBEAT_TIMEOUT", "10")
    reviews.delay, reviews.hold = 0.05, True
    lab(pg_db, tmp_path / "apps")
    spec = JobSpec.build(name="study", types="ai_review", models=MODELS[:2], apps="1-30")
    job = create_job(pg_db, load_settings(), spec).id
    running = [start_worker(pg_db, name) for name in ("lab-a", "lab-b", "lab-c")]
    t, w, a = batch_tasks.c, workers.c, analysis_tasks.c
    try:
        wait_until(lambda: reviews.held is not None, "the first review")
        wait_until(lambda: _registered(pg_db) == 3, "all three workers up")  # a slow start
        number, model = re.match(r"app (\d+) of (\S+)", reviews.held).groups()
        with pg_db.read() as connection:
            victim, pid = connection.execute(
                select(t.id, w.pid).join(workers, w.id == t.worker_id).where(
                    t.model_name == model, t.app_number == int(number), t.status == "running")
            ).one()  # fmt: skip
        os.kill(pid, signal.SIGKILL)
        next(p for p in running if p.pid == pid).wait(10)  # reaped, as its parent would
        listed = json.loads(thesis("workers", "list", "--json", **db_env(pg_db)).stdout)
        assert sorted(w["state"] for w in listed) == ["gone", "running", "running"]
        wait_until(lambda: counts(pg_db, job) == {"completed": 60}, "the study to end")
        wait_until(lambda: _tokens(pg_db) == 0, "the killed worker's token to be ended")

        def stopped() -> bool:  # the killed one, its heartbeat old, is marked stopped
            with pg_db.read() as connection:
                return connection.scalar(select(w.stopped_at).where(w.pid == pid)) is not None

        wait_until(stopped, "the killed worker to be marked stopped", 60)
    finally:
        outputs = [stop(process) for process in running]
    assert sorted(p.returncode for p in running) == [-signal.SIGKILL, 0, 0], outputs
    with pg_db.read() as connection:
        attempts = connection.scalars(
            select(a.status).where(a.batch_task_id == victim).order_by(a.id)
        ).all()
        twice = connection.scalar(text(
            "SELECT count(*) FROM (SELECT batch_task_id FROM analysis_tasks "
            "WHERE status = 'completed' GROUP BY batch_task_id HAVING count(*) > 1) x"
        ))  # fmt: skip
        finisher = connection.scalar(
            select(w.pid).join(batch_tasks, t.worker_id == w.id).where(t.id == victim)
        )
    assert attempts == ["failed", "completed"], attempts
    assert twice == 0 and finisher != pid


def test_pause_cancel_and_retry_reach_every_worker(pg_db, reviews, tmp_path) -> None:
    """A pause stops every worker's claims (their running reviews end), a resume starts
    them again, a cancel stops the reviews running on all of them within seconds, and a
    retry has them take the cancelled tasks up again."""
    reviews.delay = 0.2
    lab(pg_db, tmp_path / "apps")
    spec = JobSpec.build(name="study", types="ai_review", models=MODELS, apps="1-30")
    job = create_job(pg_db, load_settings(), spec).id
    running = [start_worker(pg_db, name) for name in ("lab-a", "lab-b", "lab-c")]
    env = db_env(pg_db)
    try:
        wait_until(lambda: counts(pg_db, job).get("completed", 0) >= 30, "some reviews")
        assert thesis("batch", "pause", str(job), **env).returncode == 0
        wait_until(lambda: "running" not in counts(pg_db, job), "the running reviews to end")
        paused = counts(pg_db, job)
        time.sleep(2.0)  # four polls of every worker: none claims anything meanwhile
        assert counts(pg_db, job) == paused and paused.get("pending", 0) > 0
        reviews.delay = 2.0  # slow enough to be caught running by the cancel
        assert thesis("batch", "resume", str(job), **env).returncode == 0
        wait_until(lambda: _busy_workers(pg_db) == 3, "all three workers running reviews")
        assert thesis("batch", "cancel", str(job), **env).returncode == 0
        wait_until(lambda: _running_analyses(pg_db) == 0, "every worker to stop its reviews", 15)
        assert counts(pg_db, job).keys() <= {"completed", "cancelled"}
        with pg_db.read() as connection:
            stopped = connection.scalar(
                select(func.count()).where(analysis_tasks.c.status == "cancelled")
            )
        assert stopped >= 3  # each worker's running review, cancelled where it ran
        wait_until(lambda: _tokens(pg_db) == 0, "the cancelled job's tokens to go", 15)
        reviews.delay = 0.0
        assert thesis("batch", "retry", str(job), **env).returncode == 0
        wait_until(lambda: counts(pg_db, job) == {"completed": 300}, "the retried tasks")
        assert _busy_workers_ever(pg_db, job) >= 2  # taken up by the workers, not here
    finally:
        outputs = [stop(process) for process in running]
    assert [p.returncode for p in running] == [0, 0, 0], outputs


def _busy_workers_ever(db: Database, job: int) -> int:
    t = batch_tasks.c
    with db.read() as connection:
        return connection.scalar(
            select(func.count(func.distinct(t.worker_id))).where(t.job_id == job)
        )


def _busy_workers(db: Database) -> int:
    """Workers with a review in flight: its analysis stored and running (a task just
    claimed has none yet)."""
    t, a = batch_tasks.c, analysis_tasks.c
    with db.read() as connection:
        return connection.scalar(
            select(func.count(func.distinct(t.worker_id)))
            .join(analysis_tasks, a.batch_task_id == t.id)
            .where(t.status == "running", a.status == "running")
        )


def _running_analyses(db: Database) -> int:
    with db.read() as connection:
        return connection.scalar(select(func.count()).where(analysis_tasks.c.status == "running"))


def test_a_task_queued_again_runs_before_its_jobs_waiting_tasks(pg_db, reviews, tmp_path) -> None:
    """On PostgreSQL as on SQLite: a task handed back (its runner stopped, or died) is the
    next one taken of its job, not one behind every task already waiting; a more urgent
    job still goes first."""
    from tui.db.models import AnalysisType
    from tui.jobs.shared_queue import ProcrastinateQueue
    from tui.services.owner import current

    lab(pg_db, tmp_path / "apps", MODELS[:1])
    settings = load_settings()
    spec = JobSpec.build(name="study", types="ai_review", models=MODELS[:1], apps="1-5")
    job = create_job(pg_db, settings, spec).id
    queue = ProcrastinateQueue(pg_db, current())
    try:
        first, second = (queue.claim([AnalysisType.AI_REVIEW])[0] for _ in range(2))
        assert (first.app_number, second.app_number) == (1, 2)
        queue.release([second.id], "handed back")
        assert [t.app_number for t in queue.claim([AnalysisType.AI_REVIEW])] == [2]
        queue.release([first.id], "handed back")
        urgent = JobSpec.build(name="urgent", types="ai_review", models=MODELS[:1], apps="9",
                               priority="urgent")  # fmt: skip
        urgent_job = create_job(pg_db, settings, urgent).id
        taken = [queue.claim([AnalysisType.AI_REVIEW])[0] for _ in range(3)]
        assert [(t.job_id, t.app_number) for t in taken] == [(urgent_job, 9), (job, 1), (job, 3)]
    finally:
        queue.close()


def test_an_apps_dynamic_tasks_are_one_unit_under_one_app_lock(pg_db, tmp_path) -> None:
    """As on SQLite, a runner takes an app's dynamic tasks of a job together (the app is
    started once for them); the first task's token, its lock on the app, is held until the
    last of them ends, so no other runner starts a task on that app meanwhile."""
    from conftest import write_container_app

    from tui.db.models import TaskStatus
    from tui.jobs.engine import kinds_of
    from tui.jobs.shared_queue import ProcrastinateQueue
    from tui.services.owner import Owner, current

    root = tmp_path / "apps"
    for number in (1, 2):
        write_container_app(root, "lab_dyn", number)
    scan_apps(pg_db, root)
    settings = load_settings()
    spec = JobSpec.build(name="dyn", types="smoke,performance", models=["lab_dyn"], apps="1-2")
    job = create_job(pg_db, settings, spec).id
    app_kinds = kinds_of("app")
    here = ProcrastinateQueue(pg_db, current())
    there = ProcrastinateQueue(pg_db, Owner("lab-2", 4242, "lab-2:1"))
    try:
        unit = here.claim(app_kinds, per_app=True)
        assert sorted((t.app_number, str(t.type)) for t in unit) == [
            (1, "performance"), (1, "smoke")]  # fmt: skip
        assert _tokens(pg_db) == 3  # app 1's one, held; app 2's two, waiting
        again = JobSpec.build(name="again", types="smoke", models=["lab_dyn"], apps="1",
                              force=True)  # fmt: skip
        later = create_job(pg_db, settings, again).id
        assert [(t.job_id, t.app_number) for t in there.claim(app_kinds, per_app=True)] == [
            (job, 2), (job, 2)]  # fmt: skip
        assert there.claim(app_kinds, per_app=True) == []  # app 1 is busy here
        here.finish(unit[0].id, TaskStatus.COMPLETED)
        assert there.claim(app_kinds, per_app=True) == []  # still: its other task runs
        here.finish(unit[1].id, TaskStatus.COMPLETED)
        taken = there.claim(app_kinds, per_app=True)
        assert [(t.job_id, t.app_number, str(t.type)) for t in taken] == [(later, 1, "smoke")]
    finally:
        here.close()
        there.close()


def test_ending_a_token_says_a_lost_connection_instead_of_taking_it_for_one_gone(
    pg_db,
) -> None:
    """A token another runner ended already is 0, and the transaction goes on; a connection
    that died under it raises (swallowed, it left the transaction broken: a task running
    through a database outage once failed with "internal error: PendingRollbackError")."""
    from tui.errors import DatabaseError
    from tui.jobs.shared_queue import _end_token

    with pg_db.write() as connection:
        assert _end_token(connection, 987_654) == 0
        assert connection.scalar(text("SELECT 1")) == 1
    admin = open_database(pg_db.engine.url.render_as_string(hide_password=False))
    try:
        with pytest.raises(DatabaseError), pg_db.write() as connection:
            pid = connection.scalar(text("SELECT pg_backend_pid()"))
            with admin.write() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            _end_token(connection, 987_654)
    finally:
        admin.dispose()


def _registered(db: Database) -> int:
    with db.read() as connection:
        return connection.scalar(select(func.count()).select_from(workers))


def _tokens(db: Database) -> int:
    with db.read() as connection:
        return connection.scalar(text("SELECT count(*) FROM procrastinate_jobs"))


def test_on_sqlite_a_sigterm_lets_the_running_tasks_end_and_a_second_hands_them_back(
    sqlite_db, reviews, tmp_path
) -> None:
    reviews.delay = 3.0
    lab(sqlite_db, tmp_path / "apps", MODELS[:1])
    spec = JobSpec.build(name="solo", types="ai_review", models=MODELS[:1], apps="1-30")
    job = create_job(sqlite_db, load_settings(), spec).id
    first = start_worker(sqlite_db, "solo-1", "--concurrency", "2")
    wait_until(lambda: counts(sqlite_db, job).get("running") == 2, "two reviews running")
    first.send_signal(signal.SIGTERM)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "finishing the running tasks" in err and "after its running tasks ended" in err
    assert counts(sqlite_db, job) == {"completed": 2, "pending": 28}
    second = start_worker(sqlite_db, "solo-2", "--concurrency", "2")
    wait_until(lambda: counts(sqlite_db, job).get("running") == 2, "two more running")
    second.send_signal(signal.SIGTERM)
    for line in second.stderr:  # the first signal taken: now the second
        if "finishing the running tasks" in line:
            break
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 128 + signal.SIGTERM, err
    assert "handed back to the queue" in err
    assert counts(sqlite_db, job) == {"completed": 2, "pending": 28}
    listed = json.loads(thesis("workers", "list", "--all", "--json", **db_env(sqlite_db)).stdout)
    assert [(w["name"], w["state"]) for w in listed] == [("solo-2", "stopped"),
                                                         ("solo-1", "stopped")]  # fmt: skip


def test_a_runner_running_again_reopens_its_row_and_a_killed_one_is_marked_stopped(
    sqlite_db, monkeypatch
) -> None:
    """One row per process: a TUI that runs tasks again is the same worker. A runner of this
    machine that was killed shows as gone until its heartbeat is THESIS_HEARTBEAT_TIMEOUT
    old; then any start's reconcile marks it stopped. One on another machine stays silent."""
    from datetime import timedelta

    from tui.db.types import utcnow
    from tui.services.owner import Owner, current, process_start
    from tui.services.reconcile import reconcile
    from tui.services.workers import list_workers, mark_stopped, register_worker

    monkeypatch.setenv("THESIS_HEARTBEAT_TIMEOUT", "60")
    me = current()
    first = register_worker(sqlite_db, "me (TUI)", me, types=None, concurrency=None,
                            docker_host=None)  # fmt: skip
    mark_stopped(sqlite_db, first)
    assert register_worker(sqlite_db, "me (TUI)", me, types=None, concurrency=None,
                           docker_host=None) == first  # fmt: skip
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = Owner(me.host, child.pid, process_start(child.pid))
    child.kill()
    child.wait()
    hour_ago = utcnow() - timedelta(hours=1)
    for name, owner, seen in [
        ("killed long ago", dead, hour_ago),
        ("killed just now", dead, utcnow()),
        ("other machine", Owner("gpu-9", 4242, "x"), hour_ago),
    ]:
        row = register_worker(sqlite_db, name, owner, types=None, concurrency=None,
                              docker_host=None)  # fmt: skip
        with sqlite_db.write() as connection:
            connection.execute(workers.update().where(workers.c.id == row)
                               .values(heartbeat_at=seen))  # fmt: skip
    settings = load_settings()
    states = {r.name: r.state(utcnow(), settings.heartbeat_timeout) for r in
              list_workers(sqlite_db, everything=True)}  # fmt: skip
    assert states == {"me (TUI)": "running", "killed long ago": "gone",
                      "killed just now": "gone", "other machine": "silent"}  # fmt: skip
    reconcile(sqlite_db, settings)
    states = {r.name: r.state(utcnow(), settings.heartbeat_timeout) for r in
              list_workers(sqlite_db, everything=True)}  # fmt: skip
    assert states == {"me (TUI)": "running", "killed long ago": "stopped",
                      "killed just now": "gone", "other machine": "silent"}  # fmt: skip
    assert [r.name for r in list_workers(sqlite_db)] == [
        "other machine", "killed just now", "me (TUI)"]  # fmt: skip


# --- the Workers view ----------------------------------------------------------------------


def three_workers(db: Database) -> None:
    """lab-a running a task now, lab-b silent for an hour, lab-c stopped."""
    from datetime import timedelta

    from tui.db.types import utcnow
    from tui.services.owner import Owner
    from tui.services.workers import mark_stopped, register_worker

    rows = [
        ("lab-a", "gpu-1", None, "ssh://lab@gpu-1"),
        ("lab-b", "gpu-2", ["security", "quality"], None),
        ("lab-c", "gpu-3", None, None),
    ]
    ids = {}
    for n, (name, host, types, docker) in enumerate(rows):
        ids[name] = register_worker(
            db, name, Owner(host, 100 + n, None), types=types, concurrency=4, docker_host=docker
        )
    hour_ago = utcnow() - timedelta(hours=1)
    with db.write() as connection:
        connection.execute(workers.update().where(workers.c.id == ids["lab-b"])
                           .values(heartbeat_at=hour_ago))  # fmt: skip
    mark_stopped(db, ids["lab-c"])
    with db.write() as connection:
        job = connection.execute(text(
            "INSERT INTO batch_jobs (name, status, priority, progress, total_tests, "
            "completed_tests, failed_tests, one_off, created_at, updated_at, config) VALUES "
            "('j', 'running', 'normal', 0, 1, 0, 0, false, '2026-01-01', '2026-01-01', '{}')"
        )).lastrowid  # fmt: skip
        connection.execute(insert(batch_tasks).values(
            job_id=job, model_name="m", app_number=1, test_type="security", status="running",
            worker_id=ids["lab-a"]))  # fmt: skip


async def test_w_on_the_batch_screen_lists_the_workers_and_a_shows_the_stopped(
    sqlite_db,
) -> None:
    from test_app import make_app, settle, table_column, until

    from tui.screens.workers import WorkersScreen

    three_workers(sqlite_db)
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("W")
        await until(pilot, lambda: isinstance(app.screen, WorkersScreen), "the workers")
        await settle(pilot)
        assert table_column(app, "name") == ["lab-b", "lab-a"]
        assert table_column(app, "state") == ["silent", "running"]
        assert table_column(app, "running") == ["0", "1"]
        assert table_column(app, "types") == ["security, quality", "all"]
        await pilot.press("a")
        await until(pilot, lambda: table_column(app, "name") == ["lab-c", "lab-b", "lab-a"],
                    "the stopped one too")  # fmt: skip
        assert table_column(app, "state")[0] == "stopped"


def test_workers_at_80x24(sqlite_db, snap_compare) -> None:
    from test_app import make_app
    from test_snapshots import SIZE, press_then_settle

    three_workers(sqlite_db)
    assert snap_compare(
        make_app(sqlite_db, start="batch"), terminal_size=SIZE,
        run_before=press_then_settle("W"),
    )  # fmt: skip


def test_thesis_workers_list_says_who_runs_what(sqlite_db) -> None:
    three_workers(sqlite_db)
    listed = thesis("workers", "list", **db_env(sqlite_db))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:3] == ["Name", "Host", "State"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["lab-b", "gpu-2", "silent"], ["lab-a", "gpu-1", "running"]]  # fmt: skip
    assert "lab-c" in thesis("workers", "list", "--all", **db_env(sqlite_db)).stdout


class TcpProxy(SocketProxy):
    """127.0.0.1:<port> forwarding to PostgreSQL until `cut()`, and again after `mend()`:
    the database going away under a worker, without touching the one other tests use."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.sockets: list[socket.socket] = []
        self.mend()

    def mend(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        self.port = server.getsockname()[1]
        server.listen()
        self.sockets = [server]
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            self._forward(client, socket.create_connection(self.target))


def test_a_worker_waits_for_a_lost_database_and_exits_in_one_line_when_it_stays_away(
    pg_db, reviews, tmp_path, monkeypatch
) -> None:
    from sqlalchemy.engine import make_url

    reviews.delay = 0.3
    lab(pg_db, tmp_path / "apps", MODELS[:1])
    spec = JobSpec.build(name="study", types="ai_review", models=MODELS[:1], apps="1-30")
    job = create_job(pg_db, load_settings(), spec).id
    real = make_url(pg_db.engine.url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    monkeypatch.setenv("THESIS_HEARTBEAT_TIMEOUT", "20")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tui", "worker", "--name", "far"],
        env={**os.environ, "THESIS_DATABASE_URL": through},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: counts(pg_db, job).get("completed", 0) >= 5, "some reviews")
        proxy.cut()
        for line in worker.stderr:  # the worker says it lost the database, and waits
            if "lost the database" in line:
                break
        proxy.mend()
        try:
            wait_until(lambda: counts(pg_db, job) == {"completed": 30}, "the study, after it")
        except AssertionError as exc:  # say what the worker said
            worker.kill()
            raise AssertionError(f"{exc}: {counts(pg_db, job)}; the worker said "
                                 f"{worker.communicate()[1][-2000:]}") from None  # fmt: skip
        assert worker.poll() is None  # it waited, and went on
        proxy.cut()  # for good now: after THESIS_HEARTBEAT_TIMEOUT it gives up
        worker.wait(90)
        err = worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
        proxy.cut()
    assert worker.returncode == 1
    assert "thesis: the database did not come back in 20 s (THESIS_HEARTBEAT_TIMEOUT)" in err
    assert "Traceback" not in err
    with pg_db.read() as connection:  # nothing left running: every attempt ended
        assert (
            connection.scalar(
                select(func.count()).where(analysis_tasks.c.status.in_(["running", "pending"]))
            )
            == 0
        )


@pytest.mark.docker
def test_a_task_that_needs_its_app_up_goes_to_the_worker_on_the_engine_running_it(
    pg_db, docker_client, busybox_image, tmp_path
) -> None:
    """App 1 is started through a second engine address (a socket forwarding to the same
    engine: another "machine's" Docker). Worker `here` (the local engine) takes the smoke
    test of app 1, sees the app up elsewhere and hands it to that engine's queue, where it
    waits; worker `there` (the second address) runs it. App 2, up nowhere, is `here`'s."""
    from conftest import EngineProxy, remove_docker_objects, unique_slug, write_container_app

    slug = unique_slug()
    root = tmp_path / "apps"
    for number in (1, 2):
        write_container_app(root, slug, number)
    scan_apps(pg_db, root)
    proxy = EngineProxy.to_the_engine(tmp_path / "there.sock")
    there = {"THESIS_DOCKER_HOST": f"unix://{tmp_path / 'there.sock'}"}
    env = {**db_env(pg_db), "THESIS_APPS_DIR": str(root)}
    try:
        started = thesis("containers", "start", slug, "1", "--no-check", **env, **there)
        assert started.returncode == 0, started.stderr
        spec = JobSpec.build(name="smoke", types="smoke", models=[slug], apps="1-2")
        job = create_job(pg_db, load_settings(), spec).id
        # A live worker on the second engine that takes no smoke test: that engine is served.
        idle = subprocess.Popen(
            [sys.executable, "-m", "tui", "worker", "--name", "idle", "--types", "zap"],
            env={**os.environ, **env, **there}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        here_worker = None
        try:
            wait_until(lambda: "idle" in thesis("workers", "list", **env).stdout, "idle, up")
            here_worker = start_worker(pg_db, "here", "--types", "smoke")
            wait_until(lambda: _status_by_app(pg_db, job).get(2) == "completed", "app 2")
            wait_until(lambda: "@" in (_queue_of(pg_db, job, 1) or ""), "app 1 handed over")
            assert _status_by_app(pg_db, job)[1] == "pending"  # not run here
        finally:
            if here_worker is not None:
                stop(here_worker)
            stop(idle)
        there_worker = subprocess.Popen(
            [sys.executable, "-m", "tui", "worker", "--name", "there", "--types", "smoke"],
            env={**os.environ, **env, **there}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            wait_until(lambda: _status_by_app(pg_db, job).get(1) == "completed", "app 1 there")
        finally:
            stop(there_worker)
        t, w = batch_tasks.c, workers.c
        with pg_db.read() as connection:
            ran = dict(connection.execute(
                select(t.app_number, w.name).join(workers, w.id == t.worker_id)
                .where(t.job_id == job)
            ).all())  # fmt: skip
        assert ran == {1: "there", 2: "here"}
    finally:
        thesis("containers", "stop", slug, "1", **env)
        thesis("containers", "stop", slug, "2", **env)
        proxy.cut()
        remove_docker_objects(docker_client, slug)


def _status_by_app(db: Database, job: int) -> dict[int, str]:
    t = batch_tasks.c
    with db.read() as connection:
        return {row.app_number: str(row.status) for row in connection.execute(
            select(t.app_number, t.status).where(t.job_id == job))}  # fmt: skip


def _queue_of(db: Database, job: int, number: int) -> str | None:
    t = batch_tasks.c
    with db.read() as connection:
        task = connection.scalar(select(t.id).where(t.job_id == job, t.app_number == number))
        return connection.scalar(
            text("SELECT queue_name FROM procrastinate_jobs WHERE (args->>'task')::int = :t"),
            {"t": task},
        )
