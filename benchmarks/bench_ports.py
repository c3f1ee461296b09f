"""allocate_all on 9,000 apps (300 models x 30), against the floor of a bare bulk INSERT.

    python benchmarks/bench_ports.py

Runs on a temporary SQLite file, and on PostgreSQL too when THESIS_TEST_POSTGRES_URL is
set (in a private schema, dropped afterwards). The floor is the same 9,000 rows, computed
beforehand, written with one bulk INSERT on the same engine: what no allocator can beat.
allocate_all adds the host check (/proc/net), one query for apps and ports in use, and the
choice of ports in Python.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, delete, func, insert, select, text
from sqlalchemy.engine import make_url

from tui.config import PortRange
from tui.db import Database, open_database
from tui.db.models import GeneratedApplication, ModelCapability, PortAllocation
from tui.services.ports import allocate_all, allocate_ports, release_ports

MODELS, APPS_PER_MODEL = 300, 30
TOTAL = MODELS * APPS_PER_MODEL
BACKEND, FRONTEND = PortRange(20000, 29999), PortRange(40000, 49999)
ROUNDS = 3


def seed(db: Database) -> list[tuple[str, int]]:
    now = datetime.now(UTC)
    slugs = [f"bench_model-{i:03d}" for i in range(MODELS)]
    apps = [(slug, n) for slug in slugs for n in range(1, APPS_PER_MODEL + 1)]
    with db.session() as session:
        session.execute(
            insert(ModelCapability),
            [
                {
                    "model_id": s,
                    "canonical_slug": s,
                    "provider": "bench",
                    "display_name": s,
                    "model_name": s,
                    "created_at": now,
                    "updated_at": now,
                }
                for s in slugs
            ],
        )
        session.execute(
            insert(GeneratedApplication),
            [
                {"model_slug": s, "app_number": n, "created_at": now, "updated_at": now}
                for s, n in apps
            ],
        )
    return apps


def clear(db: Database) -> None:
    with db.session() as session:
        session.execute(delete(PortAllocation))


def count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PortAllocation)) or 0)


def bare_insert(db: Database, apps: list[tuple[str, int]]) -> float:
    now = datetime.now(UTC)
    rows = [
        {
            "model_name": slug,
            "app_number": n,
            "backend_port": BACKEND.start + i,
            "frontend_port": FRONTEND.start + i,
            "allocated_at": now,
        }
        for i, (slug, n) in enumerate(apps)
    ]
    started = time.perf_counter()
    with db.session() as session:
        session.execute(insert(PortAllocation), rows)
    return time.perf_counter() - started


def timed_allocate_all(db: Database) -> float:
    started = time.perf_counter()
    result = allocate_all(db, BACKEND, FRONTEND)
    elapsed = time.perf_counter() - started
    assert result.allocated == TOTAL and result.exhausted == 0, result
    return elapsed


def measure(label: str, db: Database) -> None:
    apps = seed(db)
    ours, floor = [], []
    for _ in range(ROUNDS):  # side by side, best of ROUNDS each
        clear(db)
        ours.append(timed_allocate_all(db))
        assert count(db) == TOTAL
        clear(db)
        floor.append(bare_insert(db, apps))
    best, base = min(ours), min(floor)
    print(
        f"{label}: allocate_all {TOTAL} apps: {best:.2f} s; "
        f"floor (bare insert) {base:.2f} s; ratio {best / base:.1f}x"
    )
    # One app among 8,999 allocated: what `thesis ports allocate MODEL N` costs.
    slug, number = apps[len(apps) // 2]
    singles = []
    for _ in range(ROUNDS):
        release_ports(db, slug, number)
        started = time.perf_counter()
        allocate_ports(db, slug, number, BACKEND, FRONTEND)
        singles.append(time.perf_counter() - started)
    print(f"{label}: allocate_ports for one app among {TOTAL - 1}: {min(singles) * 1000:.0f} ms")


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            measure("sqlite", db)
        finally:
            db.dispose()
    postgres = os.environ.get("THESIS_TEST_POSTGRES_URL", "")
    if postgres:
        with postgres_schema(postgres) as url:
            db = open_database(url)
            try:
                measure("postgresql", db)
            finally:
                db.dispose()
    else:
        print("postgresql: skipped (set THESIS_TEST_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
