"""Keys a user can find: the key bar, the help screen and the palette, from one source."""

from __future__ import annotations

import pytest
from test_app import make_app, settle, status_text
from textual.command import CommandPalette
from textual.widgets import DataTable

from tui.commands.keys import screens
from tui.screens.applications import ApplicationsScreen
from tui.screens.help import HelpScreen, help_sections
from tui.widgets.key_bar import MORE, KeyBar, wrap_keys
from tui.widgets.keys import keys_of
from tui.widgets.log_panel import LogPanel

SIZE = (80, 24)


def bar(app) -> str:
    return app.screen.query_one(KeyBar).render().plain


async def test_the_key_bar_shows_the_screens_own_keys_first_and_points_to_the_rest(
    demo_db,
) -> None:
    app = make_app(demo_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = bar(app)
        lines = text.splitlines()
        assert len(lines) == 2 and all(len(line) < 80 for line in lines)
        # What the user came for is first: the keys of Applications, in their order.
        assert lines[0].split()[:6] == ["enter", "Analyses", "i", "Info", "a", "Analyse"]
        for key in ("r Restart", "h Health", "g Generate", "x Remove"):  # X: behind ?
            assert key in text
        assert text.rstrip().endswith(MORE)  # the rest is one key away
        assert "U Unmark all" not in text  # nothing marked: nothing to clear
        assert "esc Back" not in text  # a top screen: esc goes nowhere
        await pilot.press("space")
        await pilot.pause()
        assert "U Unmark all" in bar(app)
        assert "1 marked" in status_text(app)
        await pilot.press("U")
        await pilot.pause()
        assert "marked" not in status_text(app)
        assert "U Unmark all" not in bar(app)


async def test_the_key_bar_follows_focus_into_the_log_panel(demo_db) -> None:
    app = make_app(demo_db, start="analyses")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert bar(app).split()[:2] == ["enter", "Open"]
        await pilot.press("l")
        await pilot.pause()
        app.screen.query_one(LogPanel).focus()
        await pilot.pause()
        assert bar(app).split()[:4] == ["f", "Follow", "c", "Clear"]


async def test_a_short_terminal_gets_one_line_of_keys(demo_db) -> None:
    app = make_app(demo_db, start="applications")
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        lines = bar(app).splitlines()
        assert len(lines) == 1 and len(lines[0]) < 60 and lines[0].rstrip().endswith(MORE)


def test_wrapping_keeps_the_pointer_to_the_help_on_the_last_line() -> None:
    items = [(f"k{i}", f"Action{i}") for i in range(20)]
    text = wrap_keys(items, 40, 2).plain.splitlines()
    assert len(text) == 2 and all(len(line) <= 40 for line in text)
    assert text[-1].endswith(MORE)
    assert wrap_keys(items[:2], 40, 2).plain == " k0 Action0  k1 Action1 "  # all fit: no pointer


@pytest.mark.parametrize("title, screen", screens(), ids=[t for t, _ in screens()])
def test_help_lists_every_key_of_every_screen(title, screen) -> None:
    listed = {(k.key, k.action) for _, keys in help_sections(screen) for k in keys}
    for key in keys_of(screen):
        assert (key.key, key.action) in listed, f"{title}: {key.key} is not in the help"
    # Every key has a sentence, not only a one-word label.
    for heading, keys in help_sections(screen):
        for key in keys:
            assert key.help, f"{title} / {heading}: {key.key} has no description"


def test_thesis_keys_covers_every_screen_of_the_nav_bar() -> None:
    """`thesis keys` and the README list the screens by hand: none may be left out."""
    import importlib

    from tui.app import SCREEN_CLASSES

    listed = {screen for _, screen in screens()}
    for mode, path in SCREEN_CLASSES.items():
        module, _, name = path.partition(":")
        assert getattr(importlib.import_module(module), name) in listed, mode


async def test_help_fits_80x24_and_says_that_it_scrolls(demo_db) -> None:
    app = make_app(demo_db, start="applications")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        dialog = app.screen.query_one("#help-box")
        assert dialog.outer_size.height <= 24
        more = str(app.screen.query_one("#help-more").render())
        assert "more lines" in more and "esc closes" in more
        for _ in range(60):
            await pilot.press("j")
        await pilot.pause()
        assert "end" in str(app.screen.query_one("#help-more").render())
        await pilot.press("q")  # closes the help, does not quit
        assert isinstance(app.screen, ApplicationsScreen)
        assert app.is_running


async def test_the_palette_runs_the_screens_actions_by_name(demo_db) -> None:
    app = make_app(demo_db, start="models")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = list(app.get_system_commands(app.screen))
        titles = {command.title: command.help for command in commands}
        # "Apps" is enter, which the focused table binds too: still the screen's command.
        for title in ("Apps", "Add", "Edit", "Delete", "Sync", "Filter", "Wide"):
            assert title in titles, f"{title} is not in the palette"
        assert "(key a)" in titles["Add"] and "(key w)" in titles["Wide"]
        assert "Show Applications" in titles  # and the screens, as before
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"wide")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.wide
        assert status_text(app).endswith("wide view (w)")
        assert len(app.screen.query_one(DataTable).columns) == 9


async def test_an_empty_table_offers_no_action_on_a_row(sqlite_db) -> None:
    from test_app import reload_and_settle

    from tui.db.models import ModelCapability

    app = make_app(sqlite_db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = bar(app)
        assert "a Add" in text and "u Sync" in text
        assert "e Edit" not in text and "d Delete" not in text and "enter Apps" not in text
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Add" in titles and "Edit" not in titles
        with sqlite_db.write_session() as s:
            s.add(ModelCapability(model_id="m_x", canonical_slug="m_x", provider="m",
                                  display_name="X", model_name="x"))  # fmt: skip
        await reload_and_settle(pilot)
        await pilot.pause()
        assert "e Edit" in bar(app) and "enter Apps" in bar(app)


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
@pytest.mark.parametrize("mode", ["models", "applications", "ports", "analyses", "batch"])
async def test_the_key_bar_never_writes_the_screens_last_cell(long_slugs_db, mode, size) -> None:
    """A terminal that writes its bottom-right cell may scroll or leave a stale glyph there
    (`^p palettel` over SSH): the key bar holds the bottom row and leaves its last column."""
    app = make_app(long_slugs_db, start=mode)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        assert (bar.region.right, bar.region.bottom) == size, "the bar holds the bottom row"
        lines = bar.render().split()
        assert lines and all(line.plain for line in lines)
        assert max(line.cell_len for line in lines) <= size[0] - 1
