"""What a user sees at 80x24 with a real catalogue's long slugs, at 60x20, and in 16 colours.

Times in these tables are over a week old, so they show as dates and the snapshots hold.
"""

from __future__ import annotations

import pytest
from test_app import make_app, settle

SIZE = (80, 24)
SMALL = (60, 20)


async def _settled(pilot) -> None:
    await settle(pilot)


def press_then_settle(*keys: str):
    async def run(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

    return run


@pytest.mark.parametrize("mode", ["models", "applications", "ports", "analyses"])
def test_long_slugs_at_80x24(long_slugs_db, snap_compare, mode) -> None:
    """The columns a user came for show; slugs and ids are cut in the middle."""
    assert snap_compare(
        make_app(long_slugs_db, start=mode), terminal_size=SIZE, run_before=_settled
    )


@pytest.mark.parametrize("mode", ["applications", "analyses"])
def test_long_slugs_at_60x20(long_slugs_db, snap_compare, mode) -> None:
    assert snap_compare(
        make_app(long_slugs_db, start=mode), terminal_size=SMALL, run_before=_settled
    )


def test_wide_view(long_slugs_db, snap_compare) -> None:
    """w: every column whole, absolute times, the table scrolls sideways."""
    assert snap_compare(
        make_app(long_slugs_db, start="applications"),
        terminal_size=SIZE,
        run_before=press_then_settle("w"),
    )


class TestSixteenColours:
    """The dialogs with the terminal's own 16 colours: cyan frames, fields on bright black."""

    def test_model_form(self, long_slugs_db, snap_compare) -> None:
        app = make_app(long_slugs_db, theme="thesis-16")
        assert snap_compare(app, terminal_size=SIZE, run_before=press_then_settle("a"))

    def test_delete_confirmation(self, long_slugs_db, snap_compare) -> None:
        app = make_app(long_slugs_db, theme="thesis-16")
        assert snap_compare(app, terminal_size=SIZE, run_before=press_then_settle("d"))

    def test_analysis_form(self, long_slugs_db, snap_compare) -> None:
        app = make_app(long_slugs_db, start="applications", theme="thesis-16")
        assert snap_compare(app, terminal_size=SIZE, run_before=press_then_settle("a"))

    def test_help(self, long_slugs_db, snap_compare) -> None:
        app = make_app(long_slugs_db, start="applications", theme="thesis-16")
        assert snap_compare(app, terminal_size=SIZE, run_before=press_then_settle("question_mark"))

    def test_palette(self, long_slugs_db, snap_compare) -> None:
        """ctrl+p: the screen's actions by name, each with its key."""

        async def run(pilot) -> None:
            from textual.command import CommandList

            await settle(pilot)
            await pilot.press("ctrl+p", *"sync")
            found = pilot.app.screen.query_one(CommandList)
            for _ in range(200):  # the palette searches in a worker: until it lists
                if found.option_count:
                    break
                await pilot.pause(0.02)
            await pilot.pause()

        app = make_app(long_slugs_db, theme="thesis-16")
        assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_analysis_form_at_60x20_keeps_its_buttons(long_slugs_db, snap_compare) -> None:
    app = make_app(long_slugs_db, start="applications")
    assert snap_compare(app, terminal_size=SMALL, run_before=press_then_settle("a"))
