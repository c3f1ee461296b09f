"""Processes that die mid-work: their tools die with them, and the next start of `thesis`
says what was interrupted instead of leaving rows `running` or `building` for ever. Real
processes and real signals throughout."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import thesis
from sqlalchemy import select, update
from test_analyses_screen import start_now
from test_app import make_app, settle
from test_containers_screen import until

from tests.analysis_apps import fake_tool, write_vulnerable_app
from tui.config import load_settings
from tui.db import open_database
from tui.db.models import AnalysisStatus, AnalysisTask, AppStatus, GeneratedApplication
from tui.db.types import utcnow
from tui.services.analysis.registry import parse_types
from tui.services.analysis.runner import AnalysisService
from tui.services.owner import process_start
from tui.services.reconcile import reconcile
from tui.services.scanner import scan_apps
from tui.widgets.confirm import ConfirmModal


def running(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its parent to reap it does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(predicate, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def hanging_app(tmp_path, monkeypatch) -> Path:
    """A scanned app, and an eslint that writes its pid to the returned file and hangs."""
    root = tmp_path / "apps"
    write_vulnerable_app(root, "acme", 1)
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    marker = tmp_path / "eslint.pid"
    analyzers = fake_tool(tmp_path / "x", f"echo $$ > {marker}; exec sleep 120")
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(analyzers))
    assert thesis("apps", "scan").returncode == 0
    return marker


def start_analysis(marker: Path) -> tuple[subprocess.Popen[str], int]:
    """`thesis analyze` running the hanging eslint; (the process, the tool's pid)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "analyze", "acme", "1", "--tools", "eslint"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: marker.exists() and marker.read_text().strip(), "eslint to start", 60)
    except AssertionError:
        process.kill()
        raise
    return process, int(marker.read_text())


def listed() -> list[dict]:
    run = thesis("analyses", "list", "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_kill_9_of_analyze_kills_its_tool_and_the_next_start_says_interrupted(
    hanging_app,
) -> None:
    process, tool = start_analysis(hanging_app)
    process.kill()
    process.wait()
    wait_for(lambda: not running(tool), "the tool to die with its parent", timeout=1)
    (row,) = listed()
    assert row["status"] == "failed"
    assert row["error_message"] == (
        f"interrupted: process {process.pid} on {socket.gethostname()} ended"
    )


def pylints_over(root: Path) -> set[int]:
    """Pids of the pylint processes (workers included) checking files under `root`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"pylint" in argv and any(str(root).encode() in arg for arg in argv)
        if ours and running(int(entry.name)):
            found.add(int(entry.name))
    return found


def test_kill_9_of_a_batch_runner_leaves_no_process_of_a_pylint_spread_over_cores(
    tmp_path, monkeypatch
) -> None:
    """A shared pylint run over 40 apps is spread over the cores; every process of it is
    the runner's own child, so none outlives a runner killed with -9."""
    root = tmp_path / "apps"
    for number in range(1, 41):
        write_vulnerable_app(root, "acme" if number <= 30 else "beta", (number - 1) % 30 + 1)
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    assert thesis("apps", "scan").returncode == 0
    made = thesis("batch", "create", "--name", "spread", "--models", "all", "--apps", "1-30",
                  "--types", "security", "--tools", "pylint")  # fmt: skip
    assert made.returncode == 0, made.stderr
    runner = subprocess.Popen(
        [sys.executable, "-m", "tui", "batch", "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(pylints_over(root)) >= 2, "pylint over both halves", 60)
    finally:
        runner.kill()
        runner.wait()
    wait_for(lambda: not pylints_over(root), "every pylint process to die with its runner", 5)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_cancel_the_analysis_like_ctrl_c(hanging_app, number) -> None:
    process, tool = start_analysis(hanging_app)
    process.send_signal(number)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + number
    assert f"thesis: cancelled by {number.name}; the running analysis was stopped" in stderr
    assert "Traceback" not in stderr
    assert not running(tool)
    (row,) = listed()
    assert (row["status"], row["error_message"]) == (
        "cancelled",
        "stopped with its runner (ctrl+c, SIGTERM, the TUI quit)",
    )


def dead_owner() -> tuple[int, str]:
    """The pid and start of a process that has ended."""
    sleeper = subprocess.Popen(["sleep", "30"])
    start = process_start(sleeper.pid)
    sleeper.kill()
    sleeper.wait()
    assert start is not None
    return sleeper.pid, start


def test_a_build_whose_process_died_is_reset_and_says_why(hanging_app) -> None:
    pid, start = dead_owner()
    db = open_database(load_settings().resolved_database_url)
    with db.write_session() as session:
        session.execute(
            update(GeneratedApplication).values(
                status=AppStatus.BUILDING, owner_host=socket.gethostname(),
                owner_pid=pid, owner_start=start,
            )
        )  # fmt: skip
    run = thesis("apps", "list", "--json")
    assert run.returncode == 0, run.stderr
    (app,) = json.loads(run.stdout)
    assert app["status"] == "not_created"
    assert app["status_detail"] == (
        f"build interrupted: process {pid} on {socket.gethostname()} ended"
    )


def test_only_owners_that_are_gone_are_reconciled(sqlite_db, tmp_path) -> None:
    write_vulnerable_app(tmp_path / "apps", "acme", 1)
    scan_apps(sqlite_db, tmp_path / "apps")
    service = AnalysisService(sqlite_db, load_settings())
    ids = service.create([("acme", 1)] * 1, parse_types("security,quality,smoke,zap"))
    pid, start = dead_owner()
    here = socket.gethostname()
    long_ago = utcnow() - timedelta(hours=1)
    owners = {
        ids[0]: {"owner_pid": pid, "owner_start": start},  # ended
        ids[1]: {"owner_pid": os.getpid(), "owner_start": "other-boot:1"},  # pid reused
        ids[2]: {"owner_host": "lab-2", "heartbeat_at": long_ago},  # silent elsewhere
        ids[3]: {"owner_host": "lab-3", "heartbeat_at": utcnow()},  # alive elsewhere
    }
    with sqlite_db.write_session() as session:
        for task_id, values in owners.items():
            session.execute(
                update(AnalysisTask).where(AnalysisTask.task_id == task_id).values(**values)
            )
    report = reconcile(sqlite_db, load_settings())
    assert (report.analyses, report.builds) == (3, 0)
    with sqlite_db.session() as session:
        rows = {t.task_id: t for t in session.scalars(select(AnalysisTask))}
    assert rows[ids[0]].error_message == f"interrupted: process {pid} on {here} ended"
    assert rows[ids[1]].error_message == f"interrupted: process {os.getpid()} on {here} ended"
    assert rows[ids[2]].error_message.startswith(
        f"interrupted: process {os.getpid()} on lab-2 stopped answering (last heartbeat "
    )
    assert rows[ids[3]].status == AnalysisStatus.PENDING
    assert reconcile(sqlite_db, load_settings()).analyses == 0  # ours and lab-3's


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_processes_starting_together_on_a_fresh_database_migrate_once(request, backend) -> None:
    url = request.getfixturevalue(f"{backend}_url")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tui", "--database-url", url, "apps", "list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    assert [code for code, _ in outcomes] == [0] * 4, outcomes


async def test_sighup_quits_the_tui_and_cancels_its_analyses(sqlite_db, hanging_app) -> None:
    scan_apps(sqlite_db, Path(os.environ["THESIS_APPS_DIR"]))
    app = make_app(sqlite_db, start="analyses")
    async with app.run_test() as pilot:
        await settle(pilot)
        start_now(app, sqlite_db, [("acme", 1)], tools="eslint")
        await until(pilot, lambda: hanging_app.exists() and hanging_app.read_text(), "eslint")
        tool = int(hanging_app.read_text())
        os.kill(os.getpid(), signal.SIGHUP)  # a real hang-up, as a closed SSH session sends
        await until(pilot, lambda: not app.is_running, "the TUI to quit")
    await until(None, lambda: not running(tool), "the tool to die", timeout=5)
    with sqlite_db.session() as session:
        (task,) = session.scalars(select(AnalysisTask)).all()
    assert task.status == AnalysisStatus.CANCELLED


async def test_the_tuis_cancel_stops_an_analyze_running_in_another_shell(hanging_app) -> None:
    """Cancel is a request in the database: the TUI asks, the `thesis analyze` that runs the
    analysis kills its tool, ends it cancelled and exits 1."""
    process, tool = start_analysis(hanging_app)
    db = open_database(load_settings().resolved_database_url)
    try:
        app = make_app(db, start="analyses")
        async with app.run_test(size=(110, 36)) as pilot:
            await settle(pilot)
            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
            assert "Whichever process runs it" in app.screen.body_text
            await pilot.press("y")
            await until(pilot, lambda: process.poll() is not None, "analyze to stop", 10)
        assert process.returncode == 1
        wait_for(lambda: not running(tool), "its tool to be killed", timeout=5)
        (row,) = listed()
        assert row["status"] == "cancelled"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        db.dispose()
