"""The Applications listing at a study's size: what one keystroke of its filter costs.

Builds 300 models x 30 apps = 9,000 apps with 100,000 analyses (on SQLite, and on
PostgreSQL when THESIS_TEST_POSTGRES_URL is set, in a schema of its own), then times the
listing as the screen asks for it (a search, the first 1,000 rows and the count) against the
former statement, which found each app's latest analysis with a window over every analysis,
side by side on the same database. Also `thesis --version` against a bare `python -c "import
click"`, the floor of any click program.

    python benchmarks/bench_apps_listing.py
    python benchmarks/bench_apps_listing.py --models 30      # a quick run
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from tui.db import Database, open_database
from tui.db.models import (
    AnalysisStatus,
    AnalysisTask,
    AnalysisType,
    GeneratedApplication,
    ModelCapability,
    PortAllocation,
)
from tui.services.apps import PORTS_OF_APP, list_applications
from tui.services.common import count_and_page, search_clause

SEARCHES = ["gpt", "gpt 3", "model-12 security", "completed", "zz-no-match"]


def build(db: Database, models: int, apps: int, analyses: int) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    kinds = list(AnalysisType)
    statuses = [AnalysisStatus.COMPLETED, AnalysisStatus.FAILED, AnalysisStatus.COMPLETED]
    with db.write_session() as s:
        slugs = [f"provider{m % 12}_gpt-model-{m}" for m in range(models)]
        s.execute(insert(ModelCapability), [
            {"model_id": slug, "canonical_slug": slug, "provider": slug.split("_")[0],
             "display_name": slug, "model_name": slug, "created_at": t0, "updated_at": t0}
            for slug in slugs
        ])  # fmt: skip
        rows = [{"model_slug": slug, "app_number": n, "status": "not_created",
                 "created_at": t0, "updated_at": t0}
                for slug in slugs for n in range(1, apps + 1)]  # fmt: skip
        s.execute(insert(GeneratedApplication), rows)
        ids = list(s.scalars(select(GeneratedApplication.id).order_by(GeneratedApplication.id)))
        s.execute(insert(PortAllocation), [
            {"model_name": row["model_slug"], "app_number": row["app_number"],
             "backend_port": 20000 + i, "frontend_port": 40000 + i}
            for i, row in enumerate(rows)
        ])  # fmt: skip
        batch = []
        for i in range(analyses):
            batch.append({
                "task_id": f"t-{i}", "application_id": ids[(i * 7919) % len(ids)],
                "task_type": kinds[i % len(kinds)], "status": statuses[i % 3], "progress": 100,
                "created_at": t0 + timedelta(seconds=i),
            })  # fmt: skip
            if len(batch) == 10_000:
                s.execute(insert(AnalysisTask), batch)
                batch = []
        if batch:
            s.execute(insert(AnalysisTask), batch)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def study_arguments(description: str, repeat: int) -> argparse.Namespace:
    """--models, --apps, --analyses and --repeat, as every study benchmark takes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--apps", type=int, default=30)
    parser.add_argument("--analyses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=repeat)
    return parser.parse_args()


def study_databases(args: argparse.Namespace) -> Iterator[tuple[str, Database | None]]:
    """("SQLite", db) then ("PostgreSQL", db or None when THESIS_TEST_POSTGRES_URL is not
    set), each built to the study's size and disposed of after."""
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        build(db, args.models, args.apps, args.analyses)
        yield "SQLite", db
        db.dispose()
    with postgres_schema() as url:
        if url is None:
            yield "PostgreSQL", None
            return
        db = open_database(url)
        build(db, args.models, args.apps, args.analyses)
        yield "PostgreSQL", db
        db.dispose()


def former_listing(db: Database, search: str) -> int:
    """The statement the listing used before: a window over every analysis, twice."""
    a = GeneratedApplication
    latest = select(
        AnalysisTask.application_id,
        AnalysisTask.task_type,
        AnalysisTask.status,
        func.row_number()
        .over(partition_by=AnalysisTask.application_id, order_by=AnalysisTask.created_at.desc())
        .label("rank"),
    ).subquery()
    statement = (
        select(a, PortAllocation.backend_port, PortAllocation.frontend_port,
               latest.c.task_type, latest.c.status)
        .outerjoin(PortAllocation, PORTS_OF_APP)
        .outerjoin(latest, (latest.c.application_id == a.id) & (latest.c.rank == 1))
        .order_by(a.model_slug, a.app_number)
    )  # fmt: skip
    where = search_clause(search, [a.model_slug, a.status, latest.c.task_type])
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        _rows, total = count_and_page(session, statement, 1000)
    return total


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A URL on a schema of its own in THESIS_TEST_POSTGRES_URL's database, dropped after
    (None when that variable is not set)."""
    url = os.environ.get("THESIS_TEST_POSTGRES_URL")
    if not url:
        yield None
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def timed(call, repeat: int) -> float:
    """Median milliseconds of `call()` over `repeat` runs (after one warm-up)."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def compare(db: Database, label: str, repeat: int) -> None:
    print(f"\n{label}: keystroke of the Applications filter (median ms)")
    print(f"  {'search':<22}{'now':>9}{'before':>10}{'ratio':>9}")
    for search in SEARCHES:
        now = timed(lambda s=search: list_applications(db, search=s), repeat)
        before = timed(lambda s=search: former_listing(db, s), max(1, repeat // 3))
        print(f"  {search!r:<22}{now:>9.1f}{before:>10.1f}{before / now:>8.1f}x")


def startup(repeat: int) -> None:
    def run(*argv: str) -> None:
        subprocess.run([sys.executable, *argv], check=True, capture_output=True)

    ours = timed(lambda: run("-m", "tui", "--version"), repeat)
    floor = timed(lambda: run("-c", "import click"), repeat)
    print(f"\nthesis --version: {ours:.0f} ms; python -c 'import click': {floor:.0f} ms "
          f"({ours / floor:.1f}x the floor)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=300)
    parser.add_argument("--apps", type=int, default=30)
    parser.add_argument("--analyses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    startup(args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        started = time.perf_counter()
        build(db, args.models, args.apps, args.analyses)
        print(f"\nbuilt {args.models * args.apps:,} apps and {args.analyses:,} analyses in "
              f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        compare(db, "SQLite", args.repeat)
        db.dispose()
    with postgres_schema() as url:
        if url is None:
            print("\nPostgreSQL: skipped (set THESIS_TEST_POSTGRES_URL)")
            return
        db = open_database(url)
        build(db, args.models, args.apps, args.analyses)
        compare(db, "PostgreSQL", args.repeat)
        db.dispose()


if __name__ == "__main__":
    main()
