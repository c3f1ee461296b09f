"""The Analyses screen, driven from the keyboard: start analyses from a form, watch their log,
open one to its findings, cancel a run. The analyses are real: bandit on a fixture app, a
hanging tool killed by the cancel key, a log file another process writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import point_results
from sqlalchemy import func, select
from test_app import make_app, rendered, row_keys, settle, table_column
from test_containers_screen import messages, reload_table, until
from textual.widgets import Checkbox, Input, Static

from tests.analysis_apps import fake_tool, write_vulnerable_app
from tui.config import load_settings
from tui.db.models import AnalysisStatus, AnalysisTask
from tui.jobs.planner import create_job
from tui.jobs.spec import JobSpec
from tui.screens.analyses import AnalysesScreen
from tui.screens.analysis_detail import AnalysisDetailScreen
from tui.screens.analysis_form import AnalysisFormScreen
from tui.services.analysis.findings import Finding
from tui.services.analysis.registry import parse_types
from tui.services.analysis.results import write_results
from tui.services.analysis.runner import AnalysisService
from tui.services.scanner import scan_apps
from tui.widgets.confirm import ConfirmModal
from tui.widgets.findings_table import FindingsTable
from tui.widgets.log_panel import LogPanel

TALL = (110, 36)


@pytest.fixture
def vulnerable(sqlite_db, tmp_path, monkeypatch):
    """Two scanned copies of the vulnerable fixture app (acme_vuln app 1 and 2)."""
    root = tmp_path / "apps"
    write_vulnerable_app(root, "acme_vuln", 1)
    write_vulnerable_app(root, "acme_vuln", 2)
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    scan_apps(sqlite_db, root)
    return sqlite_db


def task_rows(db) -> list[AnalysisTask]:
    with db.session() as session:
        return list(session.scalars(select(AnalysisTask).order_by(AnalysisTask.id)))


def start_now(app, db, apps: list[tuple[str, int]], *, tools: str, types: str = "security"):
    """What the start form does: an "analyse now" job, run by the app's engine."""
    spec = JobSpec.build(name="now", types=types, explicit=apps, options={"tools": tools},
                         force=True)  # fmt: skip
    job = create_job(db, load_settings(), spec, one_off=True)
    app.start_analyses(job.id, job.tasks - job.skipped)
    return job.id


def untick(app, *ids: str) -> None:
    for id_ in ids:
        app.screen.query_one(f"#{id_}", Checkbox).value = False


async def open_form(pilot, key: str, *, apps: str | None = None) -> None:
    """Open the start form with `key`; type `apps` into it when given."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, AnalysisFormScreen), "the form")
    if apps is not None:
        pilot.app.screen.query_one("#apps", Input).value = apps


def form_error(app) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def test_a_security_analysis_started_on_an_app_runs_streams_and_opens_to_its_findings(
    vulnerable,
) -> None:
    app = make_app(vulnerable, start="applications")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        await open_form(pilot, "a")
        assert app.screen.query_one("#apps", Input).value == "acme_vuln/1"
        untick(app, "tool-pylint", "tool-eslint", "tool-pip-audit", "tool-npm-audit")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, AnalysisFormScreen), "the start")
        assert "Started 1 analysis; 4 shows it with its log" in messages(app)

        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, AnalysesScreen), "the Analyses screen")
        panel = app.screen.query_one(LogPanel)
        assert panel.display
        await until(
            pilot,
            lambda: any("completed" in m for m in messages(app)),
            "the analysis to finish",
        )
        (task,) = task_rows(vulnerable)
        assert task.status == AnalysisStatus.COMPLETED
        await until(pilot, lambda: any("ok: acme_vuln app 1" in line for line in panel.lines),
                    "the verdict in the log")  # fmt: skip
        assert any("bandit" in line for line in panel.lines)
        await settle(pilot)
        assert "completed" in table_column(app, 4)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, AnalysisDetailScreen), "the detail")
        table = app.screen.query_one(FindingsTable)
        await until(pilot, lambda: table.row_count > 0, "the findings")
        rules = {str(table.get_row_at(row)[2]) for row in range(table.row_count)}
        assert {"B602", "B608", "B506"} <= rules  # shell=True, SQL by formatting, yaml.load
        assert str(table.get_row_at(0)[0]) == "high"  # most severe first
        await pilot.press("o")  # by tool, then by file
        await pilot.press("o")
        files = [str(table.get_row_at(row)[3]) for row in range(table.row_count)]
        assert files == sorted(files, key=lambda where: (where.split(":")[0],
                                                         int(where.split(":")[1])))  # fmt: skip
        summary = str(app.screen.query_one("#status", Static).render())
        assert summary.startswith(f"{table.row_count} of {table.row_count} findings")
        assert "sorted by file" in summary

        await pilot.press("slash")
        await pilot.press(*"B608")
        await pilot.press("enter")
        assert table.row_count == 1
        finding = table.findings[table.current()]
        shown = rendered(app.screen.query_one("#excerpt-text", Static).content)
        assert f"{finding.line} " in shown  # the finding's line, numbered
        assert "SELECT * FROM users WHERE name" in shown
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, AnalysesScreen)


async def test_marked_apps_are_analysed_together_in_one_run(vulnerable) -> None:
    app = make_app(vulnerable, start="applications")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        await pilot.press("space", "space")
        assert "2 marked" in str(app.screen.query_one("#status", Static).render())
        assert table_column(app, 0)[:2] == ["● acme_vuln", "● acme_vuln"]
        await open_form(pilot, "a")
        assert app.screen.query_one("#apps", Input).value == "acme_vuln/1-2"
        untick(app, "tool-pylint", "tool-eslint", "tool-pip-audit", "tool-npm-audit")
        await pilot.press("ctrl+s")
        finished = lambda: [m for m in messages(app) if "security completed" in m]  # noqa: E731
        await until(pilot, lambda: len(finished()) == 2, "both analyses")
        assert {m.split(" security")[0] for m in finished()} == {"acme_vuln app 1",
                                                                 "acme_vuln app 2"}  # fmt: skip
        tasks = task_rows(vulnerable)
        assert [t.status for t in tasks] == [AnalysisStatus.COMPLETED] * 2
        assert all((t.summary or {}).get("high", 0) >= 2 for t in tasks)


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        ({"apps": "acme_vuln/1 nosuch/3"}, "No app nosuch app 3"),
        ({"apps": "acme_vuln"}, "“acme_vuln” is not an app"),
        ({"option-users": "ten"}, "Load users must be a whole number, not “ten”"),
        ({"option-endpoints": "api"}, "Endpoints must be paths starting with /"),
        ({"option-zap_scan": "deep"}, "deep"),
        (
            {"type-ai_review": True, "option-model": ""},
            "An AI review needs a reviewing model: fill in Review model",
        ),
        (
            {"type-ai_review": True, "option-model": "nobody/unknown"},
            "The reviewing model nobody/unknown is not in the catalogue",
        ),
    ],
)
async def test_a_bad_form_says_why_where_it_was_typed_and_stores_nothing(
    vulnerable, edit, error
) -> None:
    app = make_app(vulnerable, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        await open_form(pilot, "n", apps="acme_vuln/1")
        app.screen.query_one("#type-performance", Checkbox).value = True
        app.screen.query_one("#type-zap", Checkbox).value = True
        for field, value in edit.items():
            kind = Checkbox if isinstance(value, bool) else Input
            app.screen.query_one(f"#{field}", kind).value = value
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form_error(app), "the error")
        assert error in form_error(app)
        assert isinstance(app.screen, AnalysisFormScreen)  # still open, to fix it
        assert task_rows(vulnerable) == []
        await pilot.press("escape")
        assert isinstance(app.screen, AnalysesScreen)


async def test_checkboxes_show_their_state_without_colour(vulnerable) -> None:
    app = make_app(vulnerable, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        await open_form(pilot, "n", apps="acme_vuln/1")
        security = app.screen.query_one("#type-security", Checkbox)
        quality = app.screen.query_one("#type-quality", Checkbox)
        assert str(security.render()).startswith("[x] security")
        assert str(quality.render()).startswith("[ ] quality")
        security.focus()
        await pilot.press("space")
        assert str(security.render()).startswith("[ ] security")


@pytest.fixture
def hanging_eslint(tmp_path, monkeypatch) -> Path:
    """An eslint that writes its pid to the returned file, then hangs."""
    marker = tmp_path / "started"
    hang = f"echo $$ > {marker}; exec sleep 120"
    monkeypatch.setenv("THESIS_ANALYZERS_DIR", str(fake_tool(tmp_path / "x", hang)))
    return marker


async def hung_pid(pilot, marker: Path) -> int:
    """The hanging eslint's pid, once it runs."""
    await until(pilot, lambda: marker.exists() and marker.read_text().strip(), "eslint")
    return int(marker.read_text())


async def test_cancel_kills_the_running_tool_and_marks_the_run_cancelled(
    vulnerable, hanging_eslint
) -> None:
    app = make_app(vulnerable, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        await open_form(pilot, "n", apps="acme_vuln/1-2")  # one shared eslint run for both
        untick(app, "tool-bandit", "tool-pylint", "tool-pip-audit", "tool-npm-audit")
        await pilot.press("ctrl+s")
        pid = await hung_pid(pilot, hanging_eslint)
        await reload_table(pilot)  # not settle(): that waits for every worker, this run too
        assert table_column(app, 4) == ["running", "running"]
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the confirmation")
        assert "and the 1 others started with it" in app.screen.title_text
        await pilot.press("y")
        await until(
            pilot,
            lambda: all(t.status == AnalysisStatus.CANCELLED for t in task_rows(vulnerable)),
            "both analyses cancelled",
        )
        await until(pilot, lambda: not _alive(pid), "the tool's process to die", timeout=5)
        await until(pilot, lambda: app.job_engine is None, "the runner to stop")
        await reload_table(pilot)
        assert table_column(app, 4) == ["cancelled", "cancelled"]


async def test_quitting_while_analyses_run_asks_then_cancels_them(
    vulnerable, hanging_eslint
) -> None:
    app = make_app(vulnerable, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        start_now(app, vulnerable, [("acme_vuln", 1)], tools="eslint")
        pid = await hung_pid(pilot, hanging_eslint)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the question")
        assert app.screen.title_text == "Quit and cancel 1 analysis?"
        await pilot.press("n")  # changed my mind: it goes on
        assert _alive(pid) and app.is_running
        await pilot.press("q", "y")
    await until(None, lambda: not _alive(pid), "the tool's process to die", timeout=5)
    assert [t.status for t in task_rows(vulnerable)] == [AnalysisStatus.CANCELLED]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_the_log_of_an_analysis_run_by_another_process_is_followed_to_its_end(
    demo_db, tmp_path
) -> None:
    log = tmp_path / "sec.log"
    log.write_text("2026-11-01T09:30:00.000000Z == security on anthropic app 1\n")
    with demo_db.write_session() as session:
        task = session.scalar(select(AnalysisTask).where(AnalysisTask.task_id == "sec-0001"))
        task.status = AnalysisStatus.RUNNING
        task.log_path = str(log)
    app = make_app(demo_db, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        app.screen.query_one("#table").move_cursor(row=row_keys(app).index("sec-0001"))
        await pilot.press("l")
        panel = app.screen.query_one(LogPanel)
        await until(pilot, lambda: panel.lines == ["== security on anthropic app 1"], "old lines")
        with log.open("a") as handle:
            handle.write("2026-11-01T09:30:01.000000Z -- bandit: 3 findings\n")
        await until(pilot, lambda: "-- bandit: 3 findings" in panel.lines, "a new line")
        await pilot.press("c")  # no job runs it: the user is told where to stop it
        await until(pilot, lambda: "is not run by a job" in messages(app)[-1], "the reason")
        with demo_db.write_session() as session:
            task = session.scalar(select(AnalysisTask).where(AnalysisTask.task_id == "sec-0001"))
            task.status = AnalysisStatus.COMPLETED
        with log.open("a") as handle:
            handle.write("2026-11-01T09:30:02.000000Z ok: done\n")
        await until(pilot, lambda: "ok: done" in panel.lines, "the last line")
        await until(
            pilot,
            lambda: not [w for w in app.workers if w.group == "log:analysis" and w.is_running],
            "the follower to end with the task",
        )
        await reload_table(pilot)
        await pilot.press("c")
        assert "sec-0001 is completed: nothing to cancel." in messages(app)[-1]
        await pilot.press("l")
        assert not panel.display


async def open_detail_head(pilot, task_id: str) -> Static:
    """Open the analysis `task_id` from the table; its head (the summary above findings)."""
    await settle(pilot)
    app = pilot.app
    app.screen.query_one("#table").move_cursor(row=row_keys(app).index(task_id))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, AnalysisDetailScreen), "the detail")
    return app.screen.query_one("#analysis-summary", Static)


async def test_an_analysis_without_a_results_file_opens_with_its_error(demo_db) -> None:
    app = make_app(demo_db, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        head = await open_detail_head(pilot, "perf-0002")
        await until(pilot, lambda: "backend did not answer" in str(head.render()), "the head")
        assert not app.screen.query_one(FindingsTable).display
        await pilot.press("slash")
        assert "no findings to filter" in messages(app)[-1]


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_escape_in_the_detail_go_back_instead_of_quitting(demo_db, key) -> None:
    app = make_app(demo_db, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await open_detail_head(pilot, "sec-0001")
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, AnalysesScreen), "the analyses list")
        assert app.is_running and not app._exit


@pytest.mark.parametrize(
    "document", [{"findings": ["x"]}, {"tools": {"bandit": "ok"}}, {"metrics": []}]
)
async def test_a_misshapen_results_file_opens_saying_so(demo_db, tmp_path, document) -> None:
    path = tmp_path / "odd.json"
    write_results(path, document)
    point_results(demo_db, path)
    app = make_app(demo_db, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        head = await open_detail_head(pilot, "sec-0001")
        await until(pilot, lambda: "is corrupt" in str(head.render()), "the head to say why")
        assert "loading" not in str(head.render())


# --- snapshots --------------------------------------------------------------------------


def seed_findings(db, results_dir: Path) -> None:
    """sec-0001 with a results file of fixed findings (a snapshot needs fixed data)."""
    findings = [
        Finding("bandit", "B608", "medium", "Possible SQL injection vector through string-based "
                "query construction.", "backend/app.py", 17, "LOW",
                "16     name = request.args.get(\"name\")\n17     return str(conn.execute("
                "\"SELECT * FROM users WHERE name = '%s'\" % name).fetchall())\n18 ",
                "https://bandit.readthedocs.io/en/latest/plugins/b608_hardcoded_sql_expressions.html"),
        Finding("bandit", "B602", "high", "subprocess call with shell=True identified, security "
                "issue.", "backend/app.py", 22, "HIGH",
                "21 def run():\n22     return subprocess.check_output(request.args[\"cmd\"], "
                "shell=True)\n23 "),
        Finding("eslint", "no-eval", "high", "eval can be harmful.", "frontend/src/App.jsx", 4,
                code="3 export function run(text) {\n4   return eval(text);\n5 }"),
        Finding("pip-audit", "PYSEC-2020-96", "high", "pyyaml 5.1 is vulnerable (fix: 5.4)",
                "backend/requirements.txt"),
    ]  # fmt: skip
    path = results_dir / "sec-0001.json"
    write_results(
        path,
        {
            "task_id": "sec-0001",
            "analysis_type": "security",
            "tools": {
                "bandit": {"status": "ok", "reason": None, "findings": 2},
                "eslint": {"status": "ok", "reason": None, "findings": 1},
                "pip-audit": {"status": "ok", "reason": None, "findings": 1},
                "npm-audit": {"status": "skipped", "reason": "unreachable", "findings": 0},
            },
            "findings": [finding.as_dict() for finding in findings],
        },
    )
    with db.write_session() as session:
        task = session.scalar(select(AnalysisTask).where(AnalysisTask.task_id == "sec-0001"))
        task.results_path = str(path)
        task.summary = {"total_findings": 4, "high": 3, "medium": 1}
        assert session.scalar(select(func.count()).select_from(AnalysisTask)) == 2


class TestAnalysesSnapshots:
    def test_start_form(self, snap_compare, demo_db) -> None:
        async def open_form(pilot) -> None:
            await settle(pilot)
            await pilot.press("n")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        assert snap_compare(make_app(demo_db, start="analyses"), terminal_size=(80, 24),
                            run_before=open_form)  # fmt: skip

    def test_findings_drill_down(self, snap_compare, demo_db, tmp_path) -> None:
        seed_findings(demo_db, tmp_path)

        async def open_detail(pilot) -> None:
            await settle(pilot)
            pilot.app.screen.query_one("#table").move_cursor(
                row=row_keys(pilot.app).index("sec-0001")
            )
            await pilot.press("enter")
            await until(pilot, lambda: getattr(pilot.app.screen, "detail", None), "the detail")
            await pilot.press("j")
            await pilot.pause()

        assert snap_compare(make_app(demo_db, start="analyses"), terminal_size=(80, 24),
                            run_before=open_detail)  # fmt: skip


async def test_the_cursor_moves_to_a_run_just_started(vulnerable) -> None:
    """New rows appear above the view: the cursor goes to the run's first analysis, so `c`,
    `l` and enter act on it, not on the row that was highlighted before."""
    first = AnalysisService(vulnerable, load_settings()).create(
        [("acme_vuln", 2)], parse_types("smoke")
    )[0]  # an older analysis, highlighted
    app = make_app(vulnerable, start="analyses")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#table")
        assert row_keys(app)[table.cursor_row] == first
        start_now(app, vulnerable, [("acme_vuln", 1)], tools="bandit")
        await until(pilot, lambda: row_keys(app)[table.cursor_row].startswith("security-"),
                    "the cursor on the new run")  # fmt: skip
        await until(pilot, lambda: app.screen.query_one(LogPanel).display, "its log")


@pytest.mark.parametrize(
    ("summary", "shown"),
    [
        ({"total_findings": 12, "high": 3}, "12"),
        ({"endpoints_passed": "5/8", "passed": 5, "endpoints": 8}, "5/8 passed"),
        ({"healthy": "2/2"}, "2/2 up"),
        ({"requests_per_second": 1412.4, "p95_ms": 20}, "1,412 req/s"),
        ({"score": 70, "requirements_met": "3/4"}, "score 70"),
        ({"calls": 2, "tokens": 900, "cost": 0.0192}, "0.0192 USD"),
        ({}, None),
        ({"total_findings": "many"}, None),
        ({"total_findings": float("nan")}, None),
        ({"total_findings": True}, None),
        ({"endpoints_passed": "5/8; DROP"}, None),
        ({"healthy": ["x"]}, None),
        ({"cost": 1.0}, None),
    ],
)
def test_the_result_column_says_how_each_type_came_out_or_nothing(summary, shown) -> None:
    from tui.services.analysis.findings import headline

    assert headline(summary) == shown
