"""Log intake: N lines pushed from a thread into the UI through LogPanel.push (a deque drained
into one Log.write_lines every 50 ms), against the naive baseline of the thread calling
app.call_from_thread(log.write_line, line) for every line into a plain Log.

    python benchmarks/bench_log_panel.py               # 100,000 lines, fewer if too slow
    python benchmarks/bench_log_panel.py --lines 20000

Each run is headless (App.run_test) and timed from the first push until the last line is in
the Log, the Log's width workers are done and the screen has refreshed. Both Logs keep the
last 10,000 lines, so the user sees the same thing; the panel may drop lines that a later
flush would prune anyway, so it is also timed with max_lines = N, writing every line.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time

from textual.app import App, ComposeResult
from textual.widgets import Log

from tui.widgets.log_panel import LogPanel

MAX_LINES = 10_000
BASELINE_BUDGET = 60.0  # seconds; a longer baseline run is cut to fewer lines for both
PROBE_LINES = 1_000


def make_lines(count: int) -> list[str]:
    return [
        f"#{i} 0.{i % 997:03d} [backend 3/7] RUN pip install -r requirements.txt  # {i:07d}"
        for i in range(count)
    ]


class PanelApp(App[None]):
    def __init__(self, max_lines: int) -> None:
        super().__init__()
        self.max_lines = max_lines

    def compose(self) -> ComposeResult:
        yield LogPanel(max_lines=self.max_lines)


class PlainLogApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Log(max_lines=MAX_LINES)


async def time_panel(lines: list[str], max_lines: int) -> float:
    app = PanelApp(max_lines)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = app.query_one(LogPanel)
        started = time.perf_counter()
        producer = threading.Thread(target=lambda: [panel.push(line) for line in lines])
        producer.start()
        while producer.is_alive() or not panel.lines or panel.lines[-1] != lines[-1]:
            await asyncio.sleep(0.005)  # the panel's own timer does the flushing
        await app.workers.wait_for_complete()
        await pilot.pause()
        elapsed = time.perf_counter() - started
        producer.join()
        assert panel.lines == lines[-max_lines:]
    return elapsed


async def time_baseline(lines: list[str]) -> float:
    app = PlainLogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one(Log)

        def produce() -> None:
            for line in lines:
                app.call_from_thread(log.write_line, line)

        started = time.perf_counter()
        producer = threading.Thread(target=produce)
        producer.start()
        while producer.is_alive():
            await asyncio.sleep(0.005)
        await app.workers.wait_for_complete()
        await pilot.pause()
        elapsed = time.perf_counter() - started
        assert list(log.lines) == lines[-MAX_LINES:]
    return elapsed


async def run(requested: int) -> None:
    # The baseline costs milliseconds a line: size the run from a short probe of it.
    per_line = await time_baseline(make_lines(PROBE_LINES)) / PROBE_LINES
    count = requested
    if per_line * requested > BASELINE_BUDGET:
        count = max(PROBE_LINES, int(BASELINE_BUDGET / per_line) // 5_000 * 5_000)
    lines = make_lines(count)
    baseline = await time_baseline(lines)
    batched = await time_panel(lines, MAX_LINES)
    batched_all = await time_panel(lines, count)
    print(f"log intake: N lines pushed from a thread; each Log keeps {MAX_LINES:,} lines")
    if count != requested:
        print(
            f"  N = {count:,}, reduced from {requested:,}: the baseline costs "
            f"{per_line * 1e3:.1f} ms a line, ~{per_line * requested:.0f} s for {requested:,}"
        )
    rows = [
        ("baseline: call_from_thread(log.write_line) per line", baseline),
        ("LogPanel: push, one write_lines every 50 ms", batched),
        (f"LogPanel: same with max_lines={count:,} (no line dropped)", batched_all),
    ]
    if count != requested:
        full = make_lines(requested)
        rows += [
            (f"LogPanel: {requested:,} lines", await time_panel(full, MAX_LINES)),
            (
                f"LogPanel: {requested:,} lines, max_lines={requested:,}",
                await time_panel(full, requested),
            ),
        ]
    for label, seconds in rows:
        print(f"  {label:<58} {seconds:7.2f} s")
    print(
        f"ratio (baseline / batched) at N = {count:,}: {baseline / batched:.0f}x; "
        f"keeping every line {baseline / batched_all:.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.lines))


if __name__ == "__main__":
    main()
