"""Containers from the Applications screen, by keyboard: scan, ports, start, watch the logs,
see it answer, stop — and what the screen says when Docker is not there."""

from __future__ import annotations

import httpx
import pytest
from conftest import remove_docker_objects, unique_slug, write_container_app
from test_app import SIZE, finish_writes, make_app, settle, table_column, until
from textual.pilot import Pilot
from textual.widgets import Static

from tui.services.scanner import scan_apps
from tui.widgets.confirm import ConfirmModal
from tui.widgets.log_panel import LogPanel
from tui.widgets.nav_bar import NavBar


async def group_done(pilot: Pilot, group: str) -> None:
    """Wait for the workers of one group (log following never ends, so not for all)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group == group])
    await pilot.pause()


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def reload_table(pilot: Pilot) -> None:
    pilot.app.screen.loaded = False
    pilot.app.screen.reload()
    await until(pilot, lambda: pilot.app.screen.loaded, "the table to reload")
    await pilot.pause()


@pytest.fixture
def apps_folder(tmp_path, monkeypatch, docker_client, busybox_image):
    """THESIS_APPS_DIR with one generated app of a fresh model; its Docker objects go after."""
    slug, root = unique_slug(), tmp_path / "apps"
    write_container_app(root, slug)
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    yield slug, root
    remove_docker_objects(docker_client, slug)


@pytest.mark.docker
async def test_scan_allocate_start_watch_logs_and_stop_from_the_keyboard(
    sqlite_db, apps_folder
) -> None:
    slug, _ = apps_folder
    app = make_app(sqlite_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await finish_writes(pilot)
        await pilot.press("p")
        await finish_writes(pilot)
        backend_port = int(table_column(app, 3)[0])

        await pilot.press("s")
        await group_done(pilot, "write")
        await reload_table(pilot)
        assert table_column(app, 2) == ["running"]
        assert any(
            m.startswith(f"{slug} app 1 is running: backend answered 200") for m in messages(app)
        )
        body = httpx.get(f"http://127.0.0.1:{backend_port}/", timeout=5).text
        assert body == f"backend of {slug} app 1\n"

        panel = app.screen.query_one(LogPanel)
        assert panel.display
        await until(pilot, lambda: "backend | backend starting" in panel.lines, "the logs")
        assert any(line.startswith("Step 1/") for line in panel.lines)  # the build, first

        await pilot.press("s")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await group_done(pilot, "write")
        await reload_table(pilot)
        assert table_column(app, 2) == ["stopped"]
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{backend_port}/", timeout=2)

        await until(pilot, lambda: "(end of the logs" in panel.lines[-1], "the end note")
        await pilot.press("l")  # hides the panel; l again shows the saved logs
        assert not panel.display
        await pilot.press("l")
        assert panel.display
        await until(pilot, lambda: "backend | backend starting" in panel.lines, "history")
        assert not any(line.startswith("Step 1/") for line in panel.lines)


@pytest.mark.docker
async def test_a_failing_build_from_the_tui_says_why_and_marks_the_app_failed(
    sqlite_db, apps_folder, busybox_image
) -> None:
    slug, root = apps_folder
    (root / slug / "app1" / "backend" / "Dockerfile").write_text(
        f"FROM {busybox_image}\nRUN echo missing-dependency && exit 7\n"
    )
    scan_apps(sqlite_db, root)
    app = make_app(sqlite_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await group_done(pilot, "write")
        await reload_table(pilot)
        assert table_column(app, 2) == ["failed"]
        assert any("build of backend failed" in m for m in messages(app))
        panel = app.screen.query_one(LogPanel)
        await panel.flushed()
        assert "missing-dependency" in panel.lines
        # The reason stays where the user looks once the notification has gone.
        assert any(line.startswith("!! build of backend failed") for line in panel.lines)
        await pilot.press("i")
        detail = app.screen.query_one("#detail-text", Static)
        await until(pilot, lambda: "build of backend failed" in str(detail.render()), "detail")


async def test_without_docker_the_screen_says_so_and_everything_else_works(
    demo_db, monkeypatch
) -> None:
    monkeypatch.setenv("THESIS_DOCKER_HOST", "unix:///nonexistent/docker.sock")
    app = make_app(demo_db, start="applications", watch_docker=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await until(pilot, lambda: app.docker_problem is not None, "the Docker check")
        await pilot.pause()
        assert "Docker unavailable" in str(app.screen.query_one(NavBar).render())
        assert any("Container actions are off; everything else works" in m for m in messages(app))
        assert len(table_column(app, 0)) == 4
        await pilot.press("b")
        await group_done(pilot, "write")
        assert messages(app)[-1].startswith("Docker is unavailable: no engine answers at unix://")
        await pilot.press("2")  # and the other screens work
        await pilot.press("1")
        await settle(pilot)
        assert len(table_column(app, 0)) == 3


class TestLogPanelSnapshots:
    def test_log_panel_under_the_applications_table(self, demo_db, snap_compare) -> None:
        async def open_logs(pilot: Pilot) -> None:
            await settle(pilot)
            screen = pilot.app.screen
            panel = screen._console(screen.selected_row())
            panel.push_many(
                [
                    "-- build backend from backend/Dockerfile as thesis/x-app1-backend:latest",
                    "Step 1/3 : FROM thesis-test/busybox:latest",
                    "Step 2/3 : COPY index.html /www/index.html",
                    "Successfully tagged thesis/x-app1-backend:latest",
                    "-- create thesis-anthropic_claude-3.5-sonnet-app1-backend on http://127.0.0.1:5001/",
                    "backend | backend starting",
                ]
            )
            await panel.flushed()
            await pilot.pause()

        assert snap_compare(
            make_app(demo_db, start="applications"), terminal_size=SIZE, run_before=open_logs
        )
