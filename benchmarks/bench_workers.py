"""Workers on procrastinate (PostgreSQL): what the shared queue costs per task against the
local engine, and how a study's throughput grows with 1, 2 and 3 `thesis worker` processes.

    THESIS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python benchmarks/bench_workers.py [--tasks 300] [--rounds 2]

- overhead: a job of no-op analyses (the smoke type's runner swapped for a no-op in this
  process, as bench_batch does) run by one in-process engine, once through our tables' queue
  (the local engine of the batch issue) and once through procrastinate's; seconds per task
  of each and their ratio (target ≤ 2).
- throughput: a study of AI reviews answered at once by a stand-in for OpenRouter on
  127.0.0.1 (no container, little work: what is measured is claiming, the analysis rows and
  the HTTP call), run by 1, 2 and 3 worker processes; tasks per second, the ratio to one
  worker and the workers' CPU time per task (where a worker's time goes: `py-spy record
  --gil -- thesis worker`). On 2 cores it cannot grow much past 2: one worker keeps about
  one core busy (its Python holds the GIL most of the time), and the database and the
  stand-in share the cores.

Each figure is the best of `--rounds` (a shared machine: the least disturbed run counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_apps_listing import postgres_schema
from bench_batch import noop_smoke
from sqlalchemy import func, insert, select

from tui.config import load_settings
from tui.db import open_database
from tui.db.tables import batch_tasks, model_capabilities
from tui.jobs.engine import Engine
from tui.jobs.planner import create_job
from tui.jobs.queue import SqlQueue
from tui.jobs.shared_queue import ProcrastinateQueue
from tui.jobs.spec import JobSpec
from tui.services.owner import current
from tui.services.scanner import scan_apps

REVIEW = {"score": 70, "requirements": [], "issues": [], "suggestions": []}


class _Reviews(BaseHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({
            "choices": [{"message": {"role": "assistant", "content": json.dumps(REVIEW)}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20},
        }).encode()  # fmt: skip
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def write_apps(root: Path, tasks: int) -> list[str]:
    models = [f"bench_w{n}" for n in range((tasks + 29) // 30)]
    for model in models:
        for number in range(1, 31):
            app = root / model / f"app{number}"
            (app / "backend").mkdir(parents=True)
            (app / "backend" / "app.py").write_text(f"print({number})\n")
            (app / "REQUIREMENTS.md").write_text("- It prints\n")
    return models


def add_reviewer(db) -> None:
    with db.write() as connection:
        connection.execute(insert(model_capabilities).values(
            model_id="acme/reviewer", canonical_slug="acme_reviewer", provider="acme",
            display_name="Reviewer", model_name="reviewer", context_length=32_000,
            pricing_prompt=1.0, pricing_completion=2.0))  # fmt: skip


def overhead(url: str, settings, root: Path, models: list[str], shared: bool) -> float:
    """Seconds per task of no-op analyses run by one in-process engine."""
    with noop_smoke():
        db = open_database(url)
        scan_apps(db, root)
        spec = JobSpec.build(name="noop", types="smoke", models=models, apps="1-30")
        job = create_job(db, settings, spec)
        owner = current()
        queue = ProcrastinateQueue(db, owner) if shared else SqlQueue(db, owner)
        started = time.perf_counter()
        report = asyncio.run(Engine(db, settings, jobs=[job.id], queue=queue).run())
        seconds = time.perf_counter() - started
        db.dispose()
    return seconds / max(len(report.ended), 1)


def throughput(url: str, root: Path, models: list[str], workers: int) -> tuple[float, float]:
    """Tasks per second of a study of instant AI reviews run by `workers` processes, and
    the CPU seconds the workers spent per task (start-up and shutdown included)."""
    db = open_database(url)
    scan_apps(db, root)
    add_reviewer(db)
    settings = load_settings()
    spec = JobSpec.build(name="reviews", types="ai_review", models=models, apps="1-30")
    job = create_job(db, settings, spec).id
    total = len(models) * 30
    env = {**os.environ, "THESIS_DATABASE_URL": url}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, "-m", "tui", "worker", "--name", f"bench-{n}"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for n in range(workers)
    ]  # fmt: skip
    try:
        t = batch_tasks.c
        while True:
            with db.read() as connection:
                ended = connection.scalar(
                    select(func.count()).where(
                        t.job_id == job, t.status.in_(["completed", "failed"])
                    )
                )
            if ended >= total:
                break
            time.sleep(0.05)  # polled: the workers are other processes
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(60)
        db.dispose()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return total / seconds, cpu / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("THESIS_TEST_POSTGRES_URL"):
        sys.exit("bench_workers: set THESIS_TEST_POSTGRES_URL (workers share a PostgreSQL)")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Reviews)
    Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="thesis-bench-workers-") as scratch:
        base = Path(scratch)
        os.environ.update({
            "THESIS_DATA_DIR": str(base / "data"), "THESIS_APPS_DIR": str(base / "apps"),
            "THESIS_OPENROUTER_BASE_URL": f"http://127.0.0.1:{server.server_port}/api/v1",
            "THESIS_OPENROUTER_API_KEY": "sk-bench", "THESIS_REVIEW_MODEL": "acme/reviewer",
        })  # fmt: skip
        settings = load_settings()
        models = write_apps(base / "apps", args.tasks)
        per_task: dict[str, list[float]] = {"local": [], "procrastinate": []}
        for _round in range(args.rounds):
            for name, shared in (("local", False), ("procrastinate", True)):
                with postgres_schema() as url:
                    per_task[name].append(overhead(url, settings, base / "apps", models, shared))
        rates: dict[int, list[tuple[float, float]]] = {1: [], 2: [], 3: []}
        for _round in range(args.rounds):
            for workers in rates:
                with postgres_schema() as url:
                    rates[workers].append(throughput(url, base / "apps", models, workers))
    server.shutdown()
    local, shared = min(per_task["local"]), min(per_task["procrastinate"])
    tasks = len(models) * 30
    print(f"{tasks} tasks, {os.cpu_count()} cores, best of {args.rounds}")
    print(f"overhead per task: local engine {local * 1000:.1f} ms, procrastinate "
          f"{shared * 1000:.1f} ms: {shared / local:.2f}x (target <= 2x)")  # fmt: skip
    one = max(rates[1])[0]
    for workers, found in rates.items():
        best, cpu = max(found)
        print(f"{workers} worker{'s' if workers > 1 else ' '}: {best:6.1f} tasks/s "
              f"({best / one:.2f}x one worker), the workers' CPU {cpu * 1000:.1f} ms "
              "per task")  # fmt: skip


if __name__ == "__main__":
    main()
