"""Applications screen: scan from the TUI, the detail pane, sorting; Models: sync."""

from __future__ import annotations

from test_app import (
    SIZE,
    finish_writes,
    make_app,
    reload_and_settle,
    settle,
    table_column,
    workers_done,
)
from test_catalog import openrouter  # noqa: F401 - the loopback OpenRouter stand-in fixture
from test_scanner import make_app as make_app_folder
from textual.widgets import Static

from tui.config import load_settings
from tui.db import Database


async def test_u_scans_the_apps_folder_into_the_table(sqlite_db, tmp_path, monkeypatch):
    root = tmp_path / "generated"
    make_app_folder(root, "openai_gpt-4o", 1)
    make_app_folder(root, "openai_gpt-4o", 2, compose=None)
    (root / "openai_gpt-4o" / "app31").mkdir()
    monkeypatch.setenv("THESIS_APPS_DIR", str(root))
    app = make_app(sqlite_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await finish_writes(pilot)
        assert table_column(app, 2) == ["not_created", "no_compose"]
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("Scanned 2 apps: 2 added") for m in messages)
        assert any("app31" in m for m in messages)


async def test_u_on_a_fresh_install_makes_the_apps_folder_and_says_how_to_fill_it(
    sqlite_db,
) -> None:
    apps_dir = load_settings().apps_dir
    app = make_app(sqlite_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await finish_writes(pilot)
        messages = [n.message for n in app._notifications]
    assert apps_dir.is_dir()
    assert any(m.startswith("Scanned 0 apps") and "THESIS_APPS_DIR" in m for m in messages)
    assert not any(n.severity == "error" for n in app._notifications)


async def test_i_opens_the_detail_pane_with_files_and_compose_services(
    sqlite_db: Database, tmp_path, monkeypatch
) -> None:
    root = tmp_path / "generated"
    make_app_folder(root, "openai_gpt-4o", 1)
    from tui.services.scanner import scan_apps

    scan_apps(sqlite_db, root)
    app = make_app(sqlite_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one("#detail")
        assert not pane.display
        await pilot.press("i")
        await workers_done(pilot)
        assert pane.display
        text = str(app.screen.query_one("#detail-text", Static).render())
        assert "openai_gpt-4o app 1" in text
        assert "backend/app.py" in text and "frontend/src/App.jsx" in text
        assert "node_modules" not in text
        assert "service frontend: ./frontend · 3000:80" in text
        await pilot.press("i")
        assert not pane.display


async def test_applications_sort_by_status(demo_db) -> None:
    app = make_app(demo_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.sort_by("status")
        await reload_and_settle(pilot)
        assert table_column(app, 2) == ["no_compose", "not_created", "running", "stopped"]


async def test_u_on_models_syncs_from_openrouter(sqlite_db, openrouter, monkeypatch):  # noqa: F811
    monkeypatch.setenv("THESIS_OPENROUTER_BASE_URL", openrouter.base_url)
    app = make_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u")
        await finish_writes(pilot)
        assert len(table_column(app, 0)) >= 50
        assert any(n.message.startswith("Synced ") for n in app._notifications)


def test_detail_pane_snapshot(demo_db, snap_compare) -> None:
    """Fixed metadata and no folder on disk, so the pane is the same on every machine."""
    from sqlalchemy import select

    from tui.db.models import GeneratedApplication

    with demo_db.session() as s:
        first = s.scalars(select(GeneratedApplication).order_by(GeneratedApplication.id)).first()
        first.content_hash = "ab" * 32
        first.app_metadata = {
            "files": 14,
            "lines_of_code": 912,
            "languages": {"javascript": 610, "python": 302},
            "services": {
                "backend": {"build": "./backend", "image": None, "ports": ["5000:5000"]},
                "frontend": {"build": "./frontend", "image": None, "ports": ["3000:80"]},
            },
        }

    async def open_detail(pilot) -> None:
        await settle(pilot)
        await pilot.press("i")
        await workers_done(pilot)

    assert snap_compare(
        make_app(demo_db, start="applications"), terminal_size=SIZE, run_before=open_detail
    )
