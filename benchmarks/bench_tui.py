"""The TUI at a study's size, against a bare Textual app in the same run.

Builds 300 models x 30 apps = 9,000 apps with 100,000 analyses (on SQLite, and on
PostgreSQL when THESIS_TEST_POSTGRES_URL is set, in a schema of its own) and measures what
a user feels:

- first paint: from `python` starting to the first frame (headless), for ThesisApp (the
  dashboard's layout; the database opens after it) and for a bare Textual app showing a
  DataTable of 20 rows; the ratio; and, for ThesisApp, to the dashboard's first rows (its
  counts over every app and analysis, the analyses with summaries as their runners write);
- memory: the peak RSS of those two processes; the ratio;
- keystroke: from a key typed in the Applications filter to the filtered table on screen;
- screen switch: from `2` (or `1`) to that screen's rows on screen (Docker sync off here,
  so its timer does not land in a sample; it is on for the first paint); the first switch
  a second after the first rows, as a user reads the first screen first.

Targets (issue 12): first paint <= 2x the bare app, memory <= 2x, keystroke <= 50 ms,
switch <= 200 ms.

    python benchmarks/bench_tui.py
    python benchmarks/bench_tui.py --models 30      # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apps_listing import build, postgres_schema
from bench_reports import add_summaries

from tui.db import open_database

BARE = r"""
import sys, time
from textual.app import App
from textual.widgets import DataTable, Footer

class Bare(App):
    def compose(self):
        yield DataTable()
        yield Footer()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Model", "App", "Status")
        for n in range(20):
            table.add_row(f"provider_model-{n}", str(n), "running")
        self.call_after_refresh(self.painted)

    def painted(self):
        print("painted", time.time())
        self.exit()

Bare().run(headless=True, size=(80, 24))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""

OURS = r"""
import sys, time
from tui.app import ThesisApp
from tui.config import load_settings

class FirstPaint(ThesisApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(lambda: print("painted", time.time()))

    def on_table_screen_rows_loaded(self, message):
        self.call_after_refresh(self.exit)

def open_db():
    from tui.db import open_database
    return open_database(settings.resolved_database_url)

settings = load_settings(database_url=sys.argv[1])
# As `thesis` does: the database opens in the app, after its first frame.
FirstPaint(open_db, settings).run(headless=True, size=(80, 24))
print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
"""


def first_paint(code: str, *argv: str) -> tuple[float, float, int]:
    """(ms from start to the first frame, ms to the first rows (exit), peak RSS in KiB)."""
    started, wall = time.perf_counter(), time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True,
        env={**os.environ, "TEXTUAL": ""},
    )  # fmt: skip
    elapsed = (time.perf_counter() - started) * 1000
    lines = done.stdout.split()
    painted = (float(lines[lines.index("painted") + 1]) - wall) * 1000
    return painted, elapsed, int(lines[-1])


async def in_app(url: str, repeat: int) -> dict[str, list[float]]:
    """Keystroke-to-table and screen-switch times, in one running app."""
    from tui.app import ThesisApp
    from tui.config import load_settings
    from tui.screens.base import TableScreen
    from tui.widgets.filter_bar import FilterBar

    settings = load_settings(database_url=url)
    app = ThesisApp(open_database(url), settings, watch_docker=False, warm_screens=True)
    times: dict[str, list[float]] = {"keystroke": [], "switch": [], "first switch": []}
    loop = asyncio.get_running_loop()

    async def shown(pilot, mode: str, search: str | None = None) -> None:
        """Until the screen of `mode` shows rows loaded for `search`, and is painted."""
        while True:
            screen = pilot.app.screen
            if isinstance(screen, TableScreen) and mode == screen.MODE:
                query = screen.shown_query
                if query is not None and (search is None or query.search == search):
                    break
            await asyncio.sleep(0.0005)
        painted = loop.create_future()
        pilot.app.screen.call_after_refresh(lambda: painted.done() or painted.set_result(None))
        await painted

    async with app.run_test(size=(80, 24)) as pilot:
        await shown(pilot, "dashboard")  # the first screen
        await asyncio.sleep(1.0)  # a user reads the first screen before the first switch
        started = loop.time()
        pilot.app.action_show("applications")  # what the key 2 runs
        await shown(pilot, "applications")
        times["first switch"].append((loop.time() - started) * 1000)
        for _ in range(repeat):
            for mode in ("models", "applications"):
                pilot.app.screen.shown_query = None
                await pilot.pause()
                started = loop.time()
                pilot.app.action_show(mode)
                await shown(pilot, mode)
                times["switch"].append((loop.time() - started) * 1000)
        await pilot.press("slash")
        await pilot.pause()
        bar = pilot.app.screen.query_one(FilterBar)
        for word in ("gpt 3", "model-12 se", "zz"):
            for end in range(1, len(word) + 1):
                typed = word[:end]
                started = loop.time()
                bar.insert_text_at_cursor(typed[-1])  # what a key typed in the filter does
                await shown(pilot, "applications", typed.strip())
                times["keystroke"].append((loop.time() - started) * 1000)
            bar.value = ""
            await shown(pilot, "applications", "")
    app.db.dispose()
    return times


def report(label: str, url: str, repeat: int) -> None:
    bare = [first_paint(BARE) for _ in range(repeat)]
    ours = [first_paint(OURS, url) for _ in range(repeat)]
    bare_ms = statistics.median(t for t, _, _ in bare)
    ours_ms = statistics.median(t for t, _, _ in ours)
    rows_ms = statistics.median(t for _, t, _ in ours)
    bare_kb = statistics.median(m for _, _, m in bare)
    ours_kb = statistics.median(m for _, _, m in ours)
    times = asyncio.run(in_app(url, repeat))
    print(f"\n{label}")
    print(f"  first paint   {ours_ms:7.0f} ms  bare Textual {bare_ms:5.0f} ms  "
          f"{ours_ms / bare_ms:4.2f}x  (target <= 2x)")  # fmt: skip
    print(f"  first rows    {rows_ms:7.0f} ms  (the database opened, the first page shown)")
    print(f"  memory        {ours_kb / 1024:7.1f} MB  bare Textual {bare_kb / 1024:5.1f} MB  "
          f"{ours_kb / bare_kb:4.2f}x  (target <= 2x)")  # fmt: skip
    for name, target in (("keystroke", 50), ("switch", 200), ("first switch", 200)):
        samples = sorted(times[name])
        p90 = samples[math.ceil(len(samples) * 0.9) - 1]  # nearest rank: the max of 2
        print(f"  {name:<13} {statistics.median(samples):7.1f} ms median, {p90:6.1f} ms p90"
              f"  (target <= {target} ms)")  # fmt: skip
    print("  json " + json.dumps({"first_paint_ratio": round(ours_ms / bare_ms, 2),
                                  "memory_ratio": round(ours_kb / bare_kb, 2)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--apps", type=int, default=30)
    parser.add_argument("--analyses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        db = open_database(url)
        build(db, args.models, args.apps, args.analyses)
        add_summaries(db)
        db.dispose()
        report(f"SQLite: {args.models * args.apps:,} apps, {args.analyses:,} analyses", url,
               args.repeat)  # fmt: skip
    with postgres_schema() as url:
        if url is None:
            print("\nPostgreSQL: skipped (set THESIS_TEST_POSTGRES_URL)")
            return
        db = open_database(url)
        build(db, args.models, args.apps, args.analyses)
        add_summaries(db)
        db.dispose()
        report(f"PostgreSQL: {args.models * args.apps:,} apps, {args.analyses:,} analyses", url,
               args.repeat)  # fmt: skip


if __name__ == "__main__":
    main()
