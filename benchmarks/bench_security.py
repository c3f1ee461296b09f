"""Security analysis of a generated corpus of small apps: ours against the floor.

    python benchmarks/bench_security.py [--apps 200] [--sample 20]

- ours: `AnalysisService` running the security analysis (bandit, pylint, eslint, and the
  audits, which skip: the corpus has no dependency files) on every app, as `thesis` does —
  tasks created, run, a results file and typed row stored per app.
- floor: one process per tool analysing the whole corpus at once (bandit's CLI, pylint,
  eslint) with nothing stored, its time divided by the cores. Nothing per-app can beat it.
- per-app baseline: a fresh process per app per tool, the naive way, timed on `--sample`
  apps and scaled to the corpus (printed as an estimate).

Prints the times and the ratios ours/floor and baseline/ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tui.config import load_settings
from tui.db import open_database
from tui.services.analysis.registry import parse_types
from tui.services.analysis.runner import AnalysisService
from tui.services.scanner import scan_apps

BACKEND = """\
import sqlite3
import subprocess

from flask import Flask, request

app = Flask(__name__)
TOKEN = "secret-{n}"


@app.route("/items")
def items():
    db = sqlite3.connect("app.db")
    return str(db.execute("SELECT * FROM items WHERE id = %s" % request.args["id"]).fetchall())


@app.route("/ping")
def ping():
    return subprocess.check_output("ping -c1 " + request.args["host"], shell=True)


def total(values: list[int]) -> int:
    result = 0
    for value in values:
        result += value
    return result
"""
FRONTEND = """\
export function render(root, template) {
  root.innerHTML = eval(template);
}
export const version = "1.0.{n}";
"""


def make_corpus(root: Path, apps: int) -> list[tuple[str, int]]:
    ids = []
    for n in range(apps):
        slug, number = f"bench_model{n // 30}", n % 30 + 1
        app = root / slug / f"app{number}"
        (app / "backend").mkdir(parents=True)
        (app / "frontend" / "src").mkdir(parents=True)
        (app / "backend" / "app.py").write_text(BACKEND.replace("{n}", str(n)))
        (app / "frontend" / "src" / "main.js").write_text(FRONTEND.replace("{n}", str(n)))
        ids.append((slug, number))
    return ids


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=False, cwd="/")
    return time.perf_counter() - started


def tool_commands(settings, python: list[str], javascript: list[str]) -> dict[str, list[str]]:
    analyzers = settings.analyzers_dir
    return {
        "bandit": [sys.executable, "-m", "bandit", "-q", "-f", "json", *python],
        "pylint": [sys.executable, "-m", "pylint", f"--rcfile={analyzers / 'pylintrc'}",
                   "--output-format=json", "--persistent=n", "--score=n", *python],
        "eslint": [str(analyzers / "node_modules" / ".bin" / "eslint"), "--config",
                   str(analyzers / "eslint.config.mjs"), "--format", "json", *javascript],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=200)
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="thesis-bench-security-") as scratch:
        base = Path(scratch)
        os.environ["THESIS_DATA_DIR"] = str(base / "data")
        settings = load_settings()
        ids = make_corpus(base / "apps", args.apps)
        python = sorted(str(p) for p in (base / "apps").rglob("*.py"))
        javascript = sorted(str(p) for p in (base / "apps").rglob("*.js"))
        commands = tool_commands(settings, python, javascript)

        floor_parts = {tool: timed(argv) for tool, argv in commands.items()}
        floor = sum(floor_parts.values()) / cores

        db = open_database(settings.resolved_database_url)
        scan_apps(db, base / "apps")
        service = AnalysisService(db, settings)
        started = time.perf_counter()
        task_ids = service.create(ids, parse_types("security"))
        results = asyncio.run(service.run(task_ids))
        ours = time.perf_counter() - started
        failed = [r for r in results if r.status != "completed"]
        findings = sum(r.summary.get("total_findings", 0) for r in results)

        sample = ids[: args.sample]
        naive = 0.0
        for slug, number in sample:
            app = base / "apps" / slug / f"app{number}"
            py = [str(app / "backend" / "app.py")]
            js = [str(app / "frontend" / "src" / "main.js")]
            naive += sum(timed(argv) for argv in tool_commands(settings, py, js).values())
        naive *= args.apps / len(sample)
        db.dispose()

    print(f"corpus: {args.apps} apps, {len(python)} Python + {len(javascript)} JS files; "
          f"{cores} cores")  # fmt: skip
    print(f"ours (bandit, pylint, eslint, audits; tasks, results files, rows): {ours:7.2f} s"
          f"  {findings} findings, {len(failed)} failed")  # fmt: skip
    parts = ", ".join(f"{tool} {seconds:.2f} s" for tool, seconds in floor_parts.items())
    print(f"floor (one process per tool over the corpus, / {cores} cores): {floor:7.2f} s")
    print(f"  ({parts})")
    print(f"per-app processes (estimated from {len(sample)} apps):        {naive:7.2f} s")
    print(f"ours / floor:      {ours / floor:5.2f}x")
    print(f"per-app / ours:    {naive / ours:5.2f}x faster than a process per app per tool")


if __name__ == "__main__":
    main()
