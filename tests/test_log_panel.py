"""The log panel, driven like a user drives it: lines pouring in from threads, keys pressed,
what the header and the visible rows say."""

from __future__ import annotations

import asyncio
import threading

from test_app import SIZE
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Footer, Input, Log, Static

from tui.widgets.log_panel import MAX_LINE_CHARS, LogPanel


class LogApp(App[None]):
    """Nothing but a log panel and the footer that shows its keys."""

    def __init__(self, max_lines: int = 10_000) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogPanel(max_lines=self.max_lines, id="logs")
        yield Footer()

    def on_mount(self) -> None:
        panel = self.query_one(LogPanel)
        panel.set_title("logs · openai_gpt-4o app 1")
        panel.focus()


def panel_of(pilot: Pilot) -> LogPanel:
    return pilot.app.query_one(LogPanel)


def header(pilot: Pilot) -> str:
    return str(pilot.app.query_one("#log-panel-header", Static).render())


def shown(pilot: Pilot) -> list[str]:
    """The text of the Log's rows as they are on screen now."""
    log = pilot.app.query_one(Log)
    rows = log.scrollable_content_region.height
    return [log.render_line(y).text.rstrip() for y in range(rows)]


async def push_and_flush(pilot: Pilot, lines: list[str]) -> None:
    panel = panel_of(pilot)
    panel.push_many(lines)
    await panel.flushed()
    await pilot.pause()


async def until(pilot: Pilot, condition, what: str) -> None:
    """Let the app run (timers included) until `condition()` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await pilot.pause()


def numbered(count: int, start: int = 0) -> list[str]:
    return [f"line {i:03d}" for i in range(start, start + count)]


class TestThroughput:
    async def test_a_thread_flooding_lines_keeps_order_bounds_the_log_and_keys_work(self):
        stop = threading.Event()
        pushed = 0

        app = LogApp(max_lines=1_000)
        async with app.run_test(size=SIZE) as pilot:
            panel = panel_of(pilot)

            def produce() -> None:
                # Push until told to stop, and at least 50,000 lines: as fast as a thread can.
                nonlocal pushed
                while not stop.is_set() or pushed < 50_000:
                    panel.push(f"line {pushed:06d}")
                    pushed += 1

            producer = threading.Thread(target=produce, daemon=True)
            producer.start()
            try:
                # The timer, not the test, moves lines into the Log while the thread pushes.
                await until(pilot, lambda: len(panel.lines) > 0, "the timer flushed lines")
                before_key = pushed
                await pilot.press("f")
                assert not panel.follow
                assert "paused" in header(pilot)
                assert producer.is_alive() and pushed > before_key  # handled mid-flood
                held = [int(line.split()[1]) for line in panel.lines]
                assert held == sorted(held) and len(held) <= 1_000
            finally:
                stop.set()
                producer.join(timeout=30)
            assert not producer.is_alive()

            await panel.flushed()
            await pilot.press("end")
            assert pushed >= 50_000
            assert panel.lines == [f"line {i:06d}" for i in range(pushed - 1_000, pushed)]
            assert shown(pilot)[-1] == f"line {pushed - 1:06d}"
            assert panel.follow and "follow · 1,000 lines" in header(pilot)

    async def test_more_lines_than_max_between_flushes_writes_only_the_newest(self):
        app = LogApp(max_lines=100)
        async with app.run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(5_000))
            assert panel_of(pilot).lines == numbered(100, start=4_900)


class TestFollow:
    async def test_scrolling_up_pauses_follow_and_end_resumes_it(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(200))
            assert shown(pilot)[-1] == "line 199"
            assert "follow · 200 lines" in header(pilot)

            await pilot.press("home")
            await push_and_flush(pilot, numbered(10, start=200))
            assert shown(pilot)[0] == "line 000"  # the view did not move
            assert "paused · +10 new (f to follow)" in header(pilot)

            await pilot.press("end")
            log = pilot.app.query_one(Log)
            assert log.is_vertical_scroll_end and shown(pilot)[-1] == "line 209"
            assert "follow · 210 lines" in header(pilot)
            await push_and_flush(pilot, numbered(5, start=210))
            assert shown(pilot)[-1] == "line 214"

    async def test_scrolling_back_down_to_the_end_resumes_follow(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(60))
            await pilot.press("pageup")
            await push_and_flush(pilot, numbered(3, start=60))
            assert "+3 new" in header(pilot)
            await pilot.press("pagedown", "pagedown", "pagedown", "pagedown")
            assert panel_of(pilot).follow
            await push_and_flush(pilot, numbered(2, start=63))
            assert shown(pilot)[-1] == "line 064"

    async def test_a_paused_view_keeps_its_text_while_old_lines_are_pruned(self):
        async with LogApp(max_lines=100).run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(100))
            await pilot.press("pageup")
            before = shown(pilot)
            await push_and_flush(pilot, numbered(10, start=100))
            assert panel_of(pilot).lines[0] == "line 010"
            assert shown(pilot) == before

    async def test_shift_g_jumps_to_the_end_like_less(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(60))
            await pilot.press("g")
            assert shown(pilot)[0] == "line 000" and not panel_of(pilot).follow
            await pilot.press("G")
            assert shown(pilot)[-1] == "line 059" and panel_of(pilot).follow

    async def test_f_pauses_until_pressed_again_even_at_the_end(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(50))
            await pilot.press("f")
            await push_and_flush(pilot, numbered(50, start=50))
            assert shown(pilot)[-1] == "line 049"
            assert "+50 new" in header(pilot)
            await pilot.press("f")
            assert shown(pilot)[-1] == "line 099"
            assert "follow" in header(pilot)


class TestClear:
    async def test_c_empties_the_log_and_lines_still_waiting(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            panel = panel_of(pilot)
            await push_and_flush(pilot, numbered(40))
            panel.push("not flushed yet")
            await pilot.press("c")
            await panel.flushed()
            await pilot.pause()
            assert panel.lines == []
            assert set(shown(pilot)) == {""}
            assert "follow · 0 lines" in header(pilot)
            await push_and_flush(pilot, ["after clear"])
            assert panel.lines == ["after clear"]


SEARCH_LINES = [
    f"line {i:03d} " + {10: "ERROR disk full", 40: "Error: timeout", 70: "fatal error"}.get(i, "ok")
    for i in range(100)
]


class TestSearch:
    async def test_slash_highlights_matches_and_enter_n_and_shift_n_jump_between_them(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            panel = panel_of(pilot)
            await push_and_flush(pilot, SEARCH_LINES)
            assert shown(pilot)[-1] == "line 099 ok"

            await pilot.press("slash", *"error")
            search = pilot.app.query_one("#log-panel-search", Input)
            assert search.display and search.has_focus
            assert "search “error”: 3 matches" in header(pilot)

            await pilot.press("enter")
            assert shown(pilot)[0] == "line 010 ERROR disk full"
            assert not panel.follow

            await pilot.press("escape")
            assert not search.display and panel.has_focus
            assert "search “error”: 3 matches" in header(pilot)  # the highlight stays
            await pilot.press("n")
            assert shown(pilot)[0] == "line 040 Error: timeout"
            await pilot.press("N")
            assert shown(pilot)[0] == "line 010 ERROR disk full"
            await pilot.press("N")  # wraps around to the last match
            assert "line 070 fatal error" in shown(pilot)

    async def test_every_match_is_highlighted_whatever_its_case(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, ["ERROR one", "ok", "two Error", "ok", "3 error 4 eRRor"])
            await pilot.press("slash", *"error")
            await pilot.pause()
            log = pilot.app.query_one(Log)
            styled = [
                segment.text
                for y in range(log.scrollable_content_region.height)
                for segment in log.render_line(y)
                if segment.style and segment.style.bold
            ]
            assert styled == ["ERROR", "Error", "error", "eRRor"]

    async def test_escape_on_an_empty_search_removes_the_highlight(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, SEARCH_LINES)
            await pilot.press("slash", *"error", "escape")
            assert pilot.app.query_one(Log).highlight
            await pilot.press("slash", "backspace", "escape")  # the old query is selected
            assert not pilot.app.query_one(Log).highlight
            assert "search" not in header(pilot)

    async def test_matches_in_new_lines_are_counted_as_they_arrive(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, SEARCH_LINES)
            await pilot.press("slash", *"error", "escape")
            await push_and_flush(pilot, ["ERROR again", "fine"])
            assert "search “error”: 4 matches" in header(pilot)

    async def test_n_without_matches_leaves_the_view_alone(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(50))
            await pilot.press("n")
            assert panel_of(pilot).follow and shown(pilot)[-1] == "line 049"


class TestCleaning:
    async def test_escape_codes_carriage_returns_and_long_lines_are_cleaned(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(
                pilot,
                [
                    "\x1b[1;31mERROR\x1b[0m build failed\x1b[K",
                    "\x1b]0;window title\x07plain",
                    "Downloading 10%\rDownloading 55%\rDownloading 100%",
                    "windows line\r\n",
                    "trailing newlines\n\n",
                    "a\tb",
                    "bell\x07 and \x00 nul",
                    "first\nsecond",
                    "",
                    "x" * 50_000,
                ],
            )
            assert panel_of(pilot).lines == [
                "ERROR build failed",
                "plain",
                "Downloading 100%",
                "windows line",
                "trailing newlines",
                "a       b",
                "bell and  nul",
                "first",
                "second",
                "",
                "x" * MAX_LINE_CHARS + "…",
            ]
            assert all("\x1b" not in row for row in shown(pilot))

    async def test_bytes_from_docker_streams_are_decoded(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, [b"\x1b[32mStep 1/4\x1b[0m\n", b"caf\xc3\xa9 \xff"])
            assert panel_of(pilot).lines == ["Step 1/4", "café \ufffd"]


class TestFocus:
    async def test_clicking_the_log_focuses_the_panel_and_its_keys_work(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await push_and_flush(pilot, numbered(60))
            pilot.app.set_focus(None)
            await pilot.click(Log)
            assert panel_of(pilot).has_focus
            await pilot.press("f")
            assert "paused" in header(pilot)


class TestFooter:
    async def test_the_footer_shows_the_panel_keys(self):
        async with LogApp().run_test(size=SIZE) as pilot:
            await pilot.pause()
            keys = {
                binding.key: binding.description
                for _, binding, enabled, _ in pilot.app.screen.active_bindings.values()
                if binding.show and enabled
            }
            assert {"f": "Follow", "c": "Clear", "slash": "Search", "n": "Next"}.items() <= (
                keys.items()
            )
            assert "escape" not in keys  # escape belongs to the screen until `/`


SNAPSHOT_LINES = [
    f"2026-11-01 09:30:{i:02d} "
    + (
        f"ERROR worker {i} lost its connection"
        if i in (5, 12, 27)
        else f"INFO  step {i}/30 finished in {i * 7 % 50} ms"
    )
    for i in range(30)
]


class TestLogPanelSnapshots:
    def test_search_highlight(self, snap_compare) -> None:
        async def search(pilot: Pilot) -> None:
            panel = panel_of(pilot)
            panel.push_many(SNAPSHOT_LINES)
            await panel.flushed()
            await pilot.press("slash", *"error", "enter", "escape")
            await pilot.pause()

        assert snap_compare(LogApp(), terminal_size=SIZE, run_before=search)
