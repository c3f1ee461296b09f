"""The app shell, driven like a user drives it: keys in, screens and tables out."""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tui.app import SCREEN_CLASSES, ThesisApp
from tui.config import load_settings
from tui.db import Database
from tui.db.models import ModelCapability
from tui.screens.analyses import AnalysesScreen
from tui.screens.analysis_detail import AnalysisDetailScreen
from tui.screens.applications import ApplicationsScreen
from tui.screens.base import TableScreen
from tui.screens.batch import BatchJobsScreen
from tui.screens.help import HelpScreen, help_text
from tui.screens.models import ModelsScreen
from tui.screens.ports import PortsScreen

SIZE = (80, 24)


def make_app(
    db: Database, start: str = "models", *, watch_docker: bool = False, theme: str = "thesis"
) -> ThesisApp:
    """The app on `db`; Docker's status sync is off unless asked for, so snapshots of the
    seeded statuses do not depend on what runs in the local engine."""
    return ThesisApp(db, load_settings(theme=theme), start=start, watch_docker=watch_docker)


async def settle(pilot: Pilot) -> None:
    """Wait until the visible table screen has applied a load that started after now."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        if not isinstance(screen, TableScreen):
            continue  # the start screen is still being switched in
        # DataTable sizes its columns on idle after rows arrive: wait for that too.
        table = screen.query_one(DataTable)
        if screen.loaded and not table._require_update_dimensions:
            await pilot.pause()
            return
    raise AssertionError("the screen never finished loading its table")


async def reload_and_settle(pilot: Pilot) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, TableScreen)
    screen.loaded = False
    screen.reload()
    await settle(pilot)


async def workers_done(pilot: Pilot) -> None:
    """Wait for every worker (service calls, detail loads) and the messages they posted."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def finish_writes(pilot: Pilot) -> None:
    """Wait for a write the user started, then for the table showing its result."""
    await workers_done(pilot)
    await reload_and_settle(pilot)


def status_text(app: ThesisApp) -> str:
    return str(app.screen.query_one("#status", Static).render())


async def until(pilot: Pilot | None, predicate, what: str, timeout: float = 30) -> None:
    """Poll `predicate` with a deadline; through the pilot while the app runs, else plainly."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await (pilot.pause(0.05) if pilot is not None else asyncio.sleep(0.02))


def rendered(renderable) -> str:
    """A Rich renderable as plain text, 100 columns wide."""
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def row_keys(app: ThesisApp) -> list[str]:
    """The keys of the table's rows, in order (an analysis's task id, say)."""
    return [str(key.value) for key in app.screen.query_one(DataTable).rows]


def table_column(app: ThesisApp, column: int | str) -> list[str]:
    """The cells of one column as shown: by its key, or its place in the screen's COLUMNS
    (whether or not narrower columns were dropped before it)."""
    table = app.screen.query_one(DataTable)
    key = app.screen.COLUMNS[column].key if isinstance(column, int) else column
    return [str(cell) for cell in table.get_column(key)]


class TestNavigation:
    @pytest.mark.parametrize(
        ("key", "screen_class"),
        [
            ("1", ModelsScreen),
            ("2", ApplicationsScreen),
            ("3", PortsScreen),
            ("4", AnalysesScreen),
            ("5", BatchJobsScreen),
        ],
    )
    async def test_number_keys_open_each_screen(self, demo_db, key, screen_class) -> None:
        app = make_app(demo_db, start="batch" if key == "1" else "models")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen_class)
            assert app.screen.query_one(DataTable).row_count > 0

    async def test_the_other_screens_are_made_after_the_first_rows_and_open_with_rows(
        self, demo_db
    ) -> None:
        app = ThesisApp(demo_db, load_settings(), watch_docker=False, warm_screens=True)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(
                pilot, lambda: len(app.screens_made) == len(SCREEN_CLASSES), "every screen made"
            )
            await until(
                pilot,
                lambda: all(not (w.is_running and w.group == "refresh") for w in app.workers),
                "their first rows loaded",
            )
            await pilot.press("2")
            await pilot.pause()
            # No load to wait for: the rows are there as the screen shows (and refresh).
            assert isinstance(app.screen, ApplicationsScreen)
            assert app.screen.query_one(DataTable).row_count == 4
            await pilot.press("5")
            await pilot.pause()
            assert app.screen.query_one(DataTable).row_count > 0

    async def test_app_opens_on_the_models_screen(self, demo_db) -> None:
        async with make_app(demo_db).run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert isinstance(pilot.app.screen, ModelsScreen)

    async def test_command_palette_opens_a_screen_by_name(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await pilot.press(*"Show Ports")
            await pilot.pause(0.2)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, PortsScreen)

    async def test_drill_down_from_a_model_to_its_apps_analyses_and_findings_and_back(
        self, demo_db
    ) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert table_column(app, 0)[0] == "anthropic_claude-3.5-sonnet"
            await pilot.press("enter")  # the model's apps
            await settle(pilot)
            assert isinstance(app.screen, ApplicationsScreen)
            assert status_text(app).startswith("2 of 2 apps of anthropic_claude-3.5-sonnet")
            assert "esc Back" in str(app.screen.query_one("KeyBar").render())
            await pilot.press("enter")  # app 1's analyses
            await settle(pilot)
            assert isinstance(app.screen, AnalysesScreen)
            assert row_keys(app) == ["sec-0001"]
            assert status_text(app).startswith(
                "1 of 1 analyses of anthropic_claude-3.5-sonnet app 1"
            )
            await pilot.press("enter")  # its findings
            await pilot.pause()
            assert isinstance(app.screen, AnalysisDetailScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, AnalysesScreen)
            await pilot.press("q")  # q goes back one level too, never quits from a drill-down
            assert isinstance(app.screen, ApplicationsScreen) and app.is_running
            await pilot.press("escape")
            assert isinstance(app.screen, ModelsScreen) and app.screen.scope is None
            # From deep down, the screen's own key comes back to its top.
            await pilot.press("enter", "enter")
            await settle(pilot)
            assert isinstance(app.screen, AnalysesScreen) and app.screen.scope is not None
            await pilot.press("1")
            assert isinstance(app.screen, ModelsScreen) and len(app.screen_stack) == 1

    async def test_question_mark_shows_help_and_escape_closes_it(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            body = rendered(help_text(ModelsScreen))
            assert "Models, Applications, Ports, Analyses, Batch jobs" in body
            assert "Filter as you type" in body and "Add a model by hand" in body
            assert str(app.screen.query_one("#help-title", Static).render()) == "Keys · Models"
            await pilot.press("escape")
            assert isinstance(app.screen, ModelsScreen)

    async def test_q_quits(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await pilot.pause()
            assert not app.is_running


class TestTables:
    async def test_models_table_shows_the_catalogue_with_app_counts(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert table_column(app, 0) == [
                "anthropic_claude-3.5-sonnet",
                "meta-llama_llama-3.1-8b-instruct",
                "openai_gpt-4o-mini",
            ]
            assert table_column(app, "apps") == ["2", "0", "2"]
            # Provider and Name (which repeat the slug) and Caps drop at 80 columns; w shows
            # them with every other column.
            assert status_text(app) == "3 of 3 models · w: +3 columns"
            assert [c.label.plain for c in app.screen.query_one(DataTable).columns.values()] == [
                "Slug", "Params B", "Context", "$in/1M", "$out/1M", "Apps"
            ]  # fmt: skip
            await pilot.press("w")
            await pilot.pause()
            assert len(app.screen.query_one(DataTable).columns) == 9
            assert status_text(app) == "3 of 3 models · wide view (w)"

    async def test_applications_table_shows_status_and_ports(self, demo_db) -> None:
        app = make_app(demo_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one(DataTable)
            first = [str(cell) for cell in table.get_row_at(0)]
            # At 80 columns the slug is cut in the middle so the ports and analysis fit.
            assert first == ["anthropic_….5-sonnet", "1", "running", "5001", "8001",
                             "security completed"]  # fmt: skip
            await pilot.press("w")
            await pilot.pause()
            first = [str(cell) for cell in table.get_row_at(0)]
            assert first == ["anthropic_claude-3.5-sonnet", "1", "running", "5001", "8001",
                             "2026-11-01 09:30", "security completed"]  # fmt: skip

    async def test_empty_database_shows_a_hint_instead_of_a_table(self, sqlite_db) -> None:
        app = make_app(sqlite_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            hint = app.screen.query_one("#empty", Static)
            assert hint.display and "thesis models sync" in str(hint.render())
            assert not app.screen.query_one(DataTable).display
            assert status_text(app) == "0 of 0 models"

    async def test_slash_filters_as_you_type_and_escape_clears(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"openai")
            await settle(pilot)
            await reload_and_settle(pilot)
            assert table_column(app, 0) == ["openai_gpt-4o-mini"]
            assert status_text(app) == "1 of 1 models matching “openai” · w: +2 columns"
            await pilot.press("escape")
            await reload_and_settle(pilot)
            assert len(table_column(app, 0)) == 3

    async def test_a_refresh_keeps_the_rows_and_count_on_screen_until_the_new_ones_come(
        self, demo_db
    ) -> None:
        import threading

        app = make_app(demo_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            before = status_text(app)
            assert before.startswith("4 of 4 apps")
            screen, table = app.screen, app.screen.query_one(DataTable)
            # The real query, held back until the frames below are seen: a slow database.
            release, real_fetch = threading.Event(), screen.fetch
            screen.fetch = lambda *a, **k: release.wait(10) and real_fetch(*a, **k)
            screen.loaded = False
            await pilot.press("ctrl+r")
            seen = []
            for _ in range(5):
                await pilot.pause(0.02)
                seen.append((status_text(app), table.row_count))
            release.set()
            await settle(pilot)
            assert set(seen) == {(before, 4)}, "no blank table, no lost count, no flicker"
            assert status_text(app) == before and table.row_count == 4

    async def test_refresh_picks_up_rows_written_elsewhere(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            with demo_db.session() as s:
                s.add(
                    ModelCapability(
                        model_id="x_new",
                        canonical_slug="x_new",
                        provider="x",
                        display_name="New",
                        model_name="new",
                    )
                )
            app.screen.loaded = False
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert "x_new" in table_column(app, 0)
            assert status_text(app) == "4 of 4 models · w: +3 columns"

    async def test_refresh_keeps_the_cursor_on_the_same_row(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("j", "j")
            table = app.screen.query_one(DataTable)
            assert table.cursor_row == 2
            with demo_db.session() as s:  # sorts first, shifting every row down
                s.add(
                    ModelCapability(
                        model_id="a_first",
                        canonical_slug="a_first",
                        provider="a",
                        display_name="First",
                        model_name="first",
                    )
                )
            await reload_and_settle(pilot)
            assert str(table.get_row_at(table.cursor_row)[0]) == "openai_gpt-4o-mini"

    async def test_a_filter_with_markup_brackets_is_quoted_as_typed(self, demo_db) -> None:
        """`[/]` typed into the filter once crashed the TUI (the status line quoted it as
        console markup)."""
        app = make_app(demo_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"[/][red]")
            await reload_and_settle(pilot)
            assert app.is_running
            assert "matching “[/][red]”" in status_text(app)

    async def test_notifications_and_form_errors_quote_brackets_as_they_are(self, demo_db) -> None:
        """Messages quote names and input from outside: `[/]` in them is text, not markup
        (as markup it failed to render and stopped the TUI)."""
        from textual.widgets import Input

        app = make_app(demo_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.screen.notify("folder “[/]x” skipped")
            await pilot.pause()
            await pilot.press("a")
            await pilot.pause()
            app.screen.query_one("#apps", Input).value = "[/]x/1"
            await pilot.press("ctrl+s")
            await pilot.pause()
            error = str(app.screen.query_one("#form-error", Static).render())
            assert error == "“[/]x/1” is not an app: write model/N or model/N-M"
            assert app.is_running
            assert "folder “[/]x” skipped" in [n.message for n in app._notifications]

    async def test_a_long_table_loads_a_page_more_as_the_cursor_nears_its_end(
        self, sqlite_db
    ) -> None:
        from sqlalchemy import insert

        from tui.db.models import GeneratedApplication

        with sqlite_db.write_session() as s:
            slugs = [f"m_x{i}" for i in range(10)]
            for slug in slugs:
                s.add(ModelCapability(model_id=slug, canonical_slug=slug, provider="m",
                                      display_name=slug, model_name=slug))  # fmt: skip
            s.flush()
            s.execute(insert(GeneratedApplication), [
                {"model_slug": slug, "app_number": n}
                for slug in slugs for n in range(1, 26)])  # fmt: skip
        app = make_app(sqlite_db, start="applications")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one(DataTable)
            assert table.row_count == 100
            await until(pilot, lambda: status_text(app).startswith("100 of 250 apps"), "count")
            assert "more as you scroll" in status_text(app)
            # Paging down to the last 20 loaded rows loads the next page; the cursor stays.
            while table.cursor_row < 80:
                await pilot.press("pagedown")
            row = table.cursor_row
            await until(pilot, lambda: table.row_count == 200, "the second page")
            assert table.cursor_row == row
            while table.cursor_row < 180:
                await pilot.press("pagedown")
            await until(pilot, lambda: table.row_count == 250, "the rest")
            await until(pilot, lambda: status_text(app).startswith("250 of 250 apps"), "all")
            assert "more as you scroll" not in status_text(app)

    async def test_o_sorts_by_the_next_column_in_sql_and_shift_o_reverses(self, demo_db) -> None:
        app = make_app(demo_db, start="analyses")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert row_keys(app) == ["perf-0002", "sec-0001"]  # newest first
            await pilot.press("o")
            await reload_and_settle(pilot)
            assert row_keys(app) == ["perf-0002", "sec-0001"]
            assert status_text(app).endswith("sorted by Task ↑ · w: +1 column")
            await pilot.press("O")
            await reload_and_settle(pilot)
            assert row_keys(app) == ["sec-0001", "perf-0002"]
            await pilot.press("o")  # next column: Type (performance < security)
            await reload_and_settle(pilot)
            assert table_column(app, 1) == ["performance", "security"]

    async def test_models_sort_by_app_count_and_ports_by_frontend(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.screen.sort_by("apps", descending=True)
            await reload_and_settle(pilot)
            assert table_column(app, "apps") == ["2", "2", "0"]
            assert table_column(app, 0)[-1] == "meta-llama_llama-3.1-8b-instruct"
            await pilot.press("3")
            await settle(pilot)
            app.screen.sort_by("frontend", descending=True)
            await reload_and_settle(pilot)
            assert table_column(app, 3) == ["8004", "8003", "8002", "8001"]

    async def test_a_broken_database_gives_a_notification_not_a_crash(self, demo_db) -> None:
        app = make_app(demo_db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            with demo_db.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE model_capabilities RENAME TO gone")
            screen = app.screen
            screen.reload()
            await workers_done(pilot)
            notes = list(app._notifications)
            assert notes and notes[-1].title == "Could not load"
            assert "no such table" in notes[-1].message
            assert app.is_running


async def _settled(pilot: Pilot) -> None:
    await settle(pilot)


class TestSnapshots:
    """One snapshot per screen at 80x24, from a fixed catalogue."""

    @pytest.mark.parametrize("mode", ["models", "applications", "ports", "analyses", "batch"])
    def test_screen(self, demo_db, snap_compare, mode) -> None:
        assert snap_compare(make_app(demo_db, start=mode), terminal_size=SIZE, run_before=_settled)

    def test_empty_models_screen(self, sqlite_db, snap_compare) -> None:
        assert snap_compare(make_app(sqlite_db), terminal_size=SIZE, run_before=_settled)

    def test_help_dialog(self, demo_db, snap_compare) -> None:
        assert snap_compare(
            make_app(demo_db), terminal_size=SIZE, run_before=_settled, press=["question_mark"]
        )
