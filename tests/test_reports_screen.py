"""Screen 6: the models compared, computed when first shown, sorted, filtered, exported."""

from __future__ import annotations

import csv

import pytest
from test_app import make_app, settle, status_text, table_column, until
from test_reports import add_analysis, add_model, build_spend, build_study, security
from test_snapshots import SIZE, press_then_settle
from textual.widgets import Checkbox, Input

from tui.app import ThesisApp
from tui.config import load_settings
from tui.screens.analyses import AnalysesScreen
from tui.screens.applications import ApplicationsScreen
from tui.screens.base import Query
from tui.screens.batch import JobScreen
from tui.screens.charts import ChartsScreen
from tui.screens.criteria_form import CriteriaFormScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.reports import RankingScreen, ReportsScreen
from tui.screens.usage import UsageScreen


@pytest.fixture
def report_db(sqlite_db):
    return build_study(sqlite_db)


async def test_the_reports_screen_compares_the_models_and_drills_into_their_apps(
    report_db,
) -> None:
    app = make_app(report_db, start="reports")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        assert table_column(app, "model") == ["acme_a", "acme_b", "idle_d", "solo_c"]
        assert table_column(app, "apps") == ["3", "2", "1", "1"]
        per_kloc = table_column(app, "security.findings_per_kloc")
        findings = dict(zip(table_column(app, "model"), per_kloc, strict=True))
        assert findings["acme_a"] == "2.00 ±0"  # 12 findings over 6,000 lines, every app alike
        assert findings["idle_d"] == "—" and findings["solo_c"] == "6.25"  # 5 / 800: no ±
        app.screen.query_state = Query(sort="security.findings_per_kloc", descending=True)
        app.screen.reload()
        await until(pilot, lambda: table_column(app, "model")[:1] == ["acme_b"], "sorted")
        assert table_column(app, "model")[-1] == "idle_d"  # no value: last, either way
        await pilot.press("slash", *"acme", "enter")
        await until(pilot, lambda: len(table_column(app, "model")) == 2, "filtered")
        await pilot.press("escape")
        await settle(pilot)
        app.screen.query_one("#table").move_cursor(row=table_column(app, "model").index("acme_a"))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ApplicationsScreen), "the apps")
        await settle(pilot)
        assert set(table_column(app, "model")) == {"acme_a"}
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen), "back")


async def test_e_writes_the_report_as_csv_markdown_and_latex(report_db, tmp_path) -> None:
    app = make_app(report_db, start="reports")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        folder = app.settings.data_dir / "reports"
        await until(pilot, lambda: len(list(folder.glob("models-*"))) == 3, "three files")
    (table,) = folder.glob("models-*.csv")
    rows = list(csv.DictReader(table.open()))
    assert {row["model"] for row in rows} == {"acme_a", "acme_b", "idle_d", "solo_c"}
    assert (folder / table.name.replace(".csv", ".tex")).read_text().startswith(r"\begin")


async def test_made_ahead_the_reports_screen_computes_nothing_until_shown(report_db) -> None:
    app = ThesisApp(report_db, load_settings(), warm_screens=True, watch_docker=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await until(pilot, lambda: "reports" in app.screens_made, "every screen made", 20)
        reports = app._screen_stacks["reports"][0]
        assert not reports.loaded and reports._report is None
        await pilot.press("6")
        await until(pilot, lambda: reports.loaded, "computed once shown")
        assert table_column(app, "model")[0] == "acme_a"


def test_reports_at_80x24(report_db, snap_compare) -> None:
    """The model, its apps and findings per KLOC stay; the rest waits behind w."""
    assert snap_compare(
        make_app(report_db, start="reports"), terminal_size=SIZE, run_before=press_then_settle()
    )


async def test_at_80_columns_a_column_no_model_has_a_value_in_goes_first(report_db) -> None:
    app = make_app(report_db, start="reports")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # The study has smoke tests and no quality analysis.
        assert app.screen.shows("smoke.deployable")
        assert not app.screen.shows("quality.findings_per_kloc")
        assert app.screen.shows("security.findings_per_kloc")


@pytest.fixture
def ranked_db(sqlite_db):
    """lean_m's 5 apps have 1 finding in 1,000 lines each, noisy_m's 9: lean_m ranks first on
    findings per KLOC at equal lines; tiny_m has 2 apps, too few to be ranked."""
    for slug, findings, apps in (("lean_m", 1, 5), ("noisy_m", 9, 5), ("tiny_m", 0, 2)):
        ids = add_model(sqlite_db, slug, {n: 1000 for n in range(1, apps + 1)})
        for app_id in ids.values():
            add_analysis(sqlite_db, app_id, "security", security(findings))
    return sqlite_db


async def test_shift_k_ranks_the_models_and_esc_comes_back(ranked_db) -> None:
    app = make_app(ranked_db, start="reports")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await until(pilot, lambda: isinstance(app.screen, RankingScreen), "the ranking")
        await settle(pilot)
        assert table_column(app, "model") == ["lean_m", "noisy_m"]
        assert table_column(app, "rank") == ["1", "2"]
        assert app.screen.shows("security.findings_per_kloc")
        assert "1 not ranked" in str(app.screen.query_one("#status").render())
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen), "back")


def test_ranking_at_80x24(ranked_db, snap_compare) -> None:
    assert snap_compare(
        make_app(ranked_db, start="reports"), terminal_size=SIZE,
        run_before=press_then_settle("K"),
    )  # fmt: skip


# --- usage and cost ------------------------------------------------------------------------


async def test_dollar_shows_what_the_llm_calls_cost_by_model_kind_and_day(sqlite_db) -> None:
    build_spend(sqlite_db)
    app = make_app(sqlite_db, start="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("dollar_sign")
        await until(pilot, lambda: isinstance(app.screen, UsageScreen), "the usage")
        await settle(pilot)
        assert table_column(app, "key") == ["spend_m", "judge_x"]  # the costliest first
        assert table_column(app, "usd") == ["1.0000", "0.7500"]
        assert "2 of 2 models · total 1.7500 USD, 3 calls, 3,165 tokens" in status_text(app)
        await pilot.press("g")
        await until(pilot, lambda: table_column(app, "key") == ["generation", "review"], "kind")
        await pilot.press("g")
        await until(pilot, lambda: table_column(app, "key")[0] == "2026-03-02", "by day")
        assert app.screen.query_one("#table").columns["key"].label.plain == "Day (UTC)"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "back")


async def test_a_job_shows_what_it_spent_and_dollar_lists_its_calls(sqlite_db) -> None:
    job = build_spend(sqlite_db)
    app = make_app(sqlite_db, start="batch")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(JobScreen(job))
        await settle(pilot)
        head = str(app.screen.query_one("#job-head").render())
        assert "spent 0.5000 USD on 1 LLM calls" in head  # not the reused review's
        await pilot.press("dollar_sign")
        await until(pilot, lambda: isinstance(app.screen, UsageScreen), "the job's usage")
        await settle(pilot)
        assert table_column(app, "key") == ["judge_x"]
        assert f"job {job}" in status_text(app)


async def test_no_call_recorded_says_what_would_be(sqlite_db) -> None:
    app = make_app(sqlite_db, start="dashboard")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.action_usage()
        await until(pilot, lambda: isinstance(app.screen, UsageScreen), "the usage")
        await settle(pilot)
        assert "No LLM call recorded yet" in str(app.screen.query_one("#empty").render())


def test_usage_at_80x24(sqlite_db, snap_compare) -> None:
    build_spend(sqlite_db)
    assert snap_compare(
        make_app(sqlite_db, start="reports"), terminal_size=SIZE,
        run_before=press_then_settle("dollar_sign"),
    )  # fmt: skip


async def test_c_picks_the_criteria_weights_directions_and_method_of_the_ranking(
    ranked_db,
) -> None:
    app = make_app(ranked_db, start="reports")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await until(pilot, lambda: isinstance(app.screen, RankingScreen), "the ranking")
        await settle(pilot)
        ranking = app.screen
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, CriteriaFormScreen), "the form")
        form = app.screen
        index = {m.key: i for i, m in enumerate(form.metrics)}
        kloc = index["security.findings_per_kloc"]
        # The defaults the report has values for are ticked, with their weights.
        assert form.query_one(f"#use-{kloc}", Checkbox).value
        assert not form.query_one(f"#use-{index['security.high']}", Checkbox).value
        for key, i in index.items():  # only findings per KLOC, weighted "abc"
            form.query_one(f"#use-{i}", Checkbox).value = key == "security.findings_per_kloc"
        form.query_one(f"#weight-{kloc}", Input).value = "abc"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "'abc' is not a number" in str(form.query_one("#form-error").render())
        form.query_one(f"#use-{kloc}", Checkbox).value = False
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Tick at least one criterion" in str(form.query_one("#form-error").render())
        form.query_one(f"#use-{kloc}", Checkbox).value = True
        form.query_one(f"#weight-{kloc}", Input).value = "2"
        form.query_one("#min-apps", Input).value = "2"  # tiny_m's 2 apps now suffice
        form.query_one("#wsm", Checkbox).value = True
        form.query_one(f"#benefit-{kloc}", Checkbox).value = True  # more findings "better"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is ranking, "back on the ranking")
        await until(pilot, lambda: len(table_column(app, "model")) == 3, "ranked again")
        assert table_column(app, "model") == ["noisy_m", "lean_m", "tiny_m"]
        assert "weighted sum" in status_text(app) and "not ranked" not in status_text(app)
        await pilot.press("m")
        await until(pilot, lambda: "TOPSIS" in status_text(app), "TOPSIS again")
        assert table_column(app, "model")[0] == "noisy_m"  # the criteria stay


def test_criteria_form_at_80x24(ranked_db, snap_compare) -> None:
    assert snap_compare(
        make_app(ranked_db, start="reports"), terminal_size=SIZE,
        run_before=press_then_settle("K", "c"),
    )  # fmt: skip


async def test_enter_on_a_cell_opens_the_analyses_behind_its_value(report_db) -> None:
    app = make_app(report_db, start="reports")
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#table")
        row = table_column(app, "model").index("acme_a")

        async def open_cell(column: str) -> None:
            await until(pilot, lambda: isinstance(app.screen, ReportsScreen), "the report")
            table.move_cursor(row=row, column=table.get_column_index(column))
            await pilot.press("enter")

        await open_cell("security.findings_per_kloc")
        await until(pilot, lambda: isinstance(app.screen, AnalysesScreen), "the analyses")
        await settle(pilot)
        # The latest of each app (2, 4 and 6 findings), not app 1's older one with 100.
        assert sorted(table_column(app, "result")) == ["2", "4", "6"]
        assert set(table_column(app, "type")) == {"security"}
        assert "the 3 security analyses of the report" in status_text(app)
        await pilot.press("escape")
        await open_cell("smoke.deployable")  # the failed smoke test is a result too
        await until(pilot, lambda: isinstance(app.screen, AnalysesScreen), "the smoke tests")
        await settle(pilot)
        assert sorted(table_column(app, "status")) == ["completed", "failed"]
        await pilot.press("escape")
        await open_cell("apps")
        await until(pilot, lambda: isinstance(app.screen, ApplicationsScreen), "the apps")


def plot_text(app, plot_id: str) -> str:
    """What a chart shows, as plain text."""
    return app.screen.query_one(f"#{plot_id}").render().plain


async def test_c_charts_the_models_shown_by_severity_score_against_price_and_speed(
    report_db,
) -> None:
    app = make_app(report_db, start="reports")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ChartsScreen), "the charts")
        await pilot.pause()
        severity = plot_text(app, "severity-plot")
        assert all(model in severity for model in ("acme_a", "acme_b", "solo_c"))
        assert "idle_d" not in severity and "1 without a value" in severity  # no analysis
        assert "critical" in severity and "low" in severity  # the legend
        await pilot.press("right")
        await until(pilot, lambda: app.screen.query_one("#charts").active == "score", "tab 2")
        score = plot_text(app, "score-plot")
        assert "acme_a" in score and "3 without a value" in score  # only acme_a has a price
        await pilot.press("right")
        await until(pilot, lambda: app.screen.query_one("#charts").active == "rps", "tab 3")
        assert "no model has a value yet" in plot_text(app, "rps-plot")  # no load test run
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReportsScreen), "back")
        await pilot.press("slash", *"solo", "enter")
        await until(pilot, lambda: table_column(app, "model") == ["solo_c"], "filtered")
        await pilot.press("c")  # the charts follow the report's filter
        await until(pilot, lambda: isinstance(app.screen, ChartsScreen), "the charts again")
        await pilot.pause()
        assert "acme_a" not in plot_text(app, "severity-plot")
        assert "1 of 1 models" in status_text(app)


def test_charts_at_80x24(report_db, snap_compare) -> None:
    assert snap_compare(
        make_app(report_db, start="reports"), terminal_size=SIZE,
        run_before=press_then_settle("c"),
    )  # fmt: skip


async def test_each_tools_findings_per_app_is_a_column_after_the_headlines(sqlite_db) -> None:
    ids = add_model(sqlite_db, "tool_m", {1: 1000, 2: 1000})
    for app_id, found in ((ids[1], 3), (ids[2], 1)):
        summary = {**security(found), "by_tool": {"bandit": found}, "tools": {"bandit": "ok"}}
        add_analysis(sqlite_db, app_id, "security", summary)
    app = make_app(sqlite_db, start="reports")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.screen.shows("security.tool.bandit")  # after the headlines at 80
        await pilot.press("w")
        await settle(pilot)
        assert table_column(app, "security.tool.bandit") == ["2.00 ±1.00"]
