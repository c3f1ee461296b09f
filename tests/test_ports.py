"""Ports: lowest free pairs from bounded ranges, unique in the database, aware of the host.

Every test runs on an SQLite file and on a private PostgreSQL schema. Ranges are blocks of
ports nothing on this host holds when the test starts, so real listeners elsewhere on the
machine cannot make the expected numbers wrong.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from conftest import assert_one_line_error
from conftest import thesis as run_thesis
from sqlalchemy import create_engine, delete, func, insert, select, text

from tui.config import PortRange
from tui.db import Database, open_database
from tui.db.models import AppStatus, GeneratedApplication, ModelCapability, PortAllocation
from tui.errors import NotFoundError, PortsExhaustedError
from tui.services.ports import (
    PortConflict,
    allocate_all,
    allocate_ports,
    find_conflicts,
    list_allocations,
    listening_ports,
    release_ports,
)

# --- helpers ---------------------------------------------------------------------------

_taken_blocks: list[PortRange] = []


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_block(size: int) -> PortRange:
    """`size` consecutive ports below the ephemeral range that nothing holds right now."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        start = 20000 + secrets.randbelow(12000 - size)
        block = PortRange(start, start + size - 1)
        if any(block.overlaps(other) for other in _taken_blocks):
            continue
        if all(_bindable(port) for port in range(block.start, block.end + 1)):
            _taken_blocks.append(block)
            return block
    pytest.fail(f"no block of {size} free ports found")


@pytest.fixture
def ranges() -> Iterator[tuple[PortRange, PortRange]]:
    backend, frontend = port_block(10), port_block(10)
    yield backend, frontend
    _taken_blocks.clear()


@contextmanager
def listener(port: int) -> Iterator[socket.socket]:
    """A real socket listening on 127.0.0.1:port for the duration of the block."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield sock


def seed_apps(db: Database, models: int, apps_per_model: int) -> list[tuple[str, int]]:
    """Models `m000…` with apps 1…N each, inserted in bulk; the (slug, number) pairs."""
    now = datetime.now(UTC)
    slugs = [f"lab_model-{index:03d}" for index in range(models)]
    apps = [(slug, number) for slug in slugs for number in range(1, apps_per_model + 1)]
    with db.session() as session:
        session.execute(
            insert(ModelCapability),
            [
                {
                    "model_id": slug,
                    "canonical_slug": slug,
                    "provider": "lab",
                    "display_name": slug,
                    "model_name": slug,
                    "created_at": now,
                    "updated_at": now,
                }
                for slug in slugs
            ],
        )
        session.execute(
            insert(GeneratedApplication),
            [
                {"model_slug": slug, "app_number": n, "created_at": now, "updated_at": now}
                for slug, n in apps
            ],
        )
    return apps


def allocations(db: Database) -> dict[tuple[str, int], tuple[int, int]]:
    p = PortAllocation
    with db.session() as session:
        rows = session.execute(select(p.model_name, p.app_number, p.backend_port, p.frontend_port))
        return {(m, n): (b, f) for m, n, b, f in rows}


def assert_all_distinct(pairs: dict[tuple[str, int], tuple[int, int]]) -> None:
    ports = [port for pair in pairs.values() for port in pair]
    assert len(ports) == len(set(ports))


M = "lab_model-000"


# --- allocating one app ----------------------------------------------------------------


def test_apps_get_the_lowest_free_port_of_each_range_in_turn(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 3)
    rows = [allocate_ports(db, M, n, backend, frontend) for n in (1, 2, 3)]
    assert [(r.backend_port, r.frontend_port) for r in rows] == [
        (backend.start + i, frontend.start + i) for i in range(3)
    ]
    assert [(r.model_slug, r.app_number) for r in rows] == [(M, 1), (M, 2), (M, 3)]


def test_an_app_that_has_ports_gets_the_same_ports_back(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 2)
    first = allocate_ports(db, M, 2, backend, frontend)
    allocate_ports(db, M, 1, backend, frontend)
    again = allocate_ports(db, M, 2, backend, frontend)
    assert again == first
    assert len(allocations(db)) == 2


def test_released_ports_go_to_the_next_app_that_needs_them(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 3)
    first = allocate_ports(db, M, 1, backend, frontend)
    allocate_ports(db, M, 2, backend, frontend)
    released = release_ports(db, M, 1)
    assert released == first
    assert release_ports(db, M, 1) is None  # releasing again is harmless
    reused = allocate_ports(db, M, 3, backend, frontend)
    assert (reused.backend_port, reused.frontend_port) == (backend.start, frontend.start)


def test_an_app_that_does_not_exist_is_not_found(db, ranges) -> None:
    seed_apps(db, 1, 1)
    with pytest.raises(NotFoundError, match="lab_model-000 app 7"):
        allocate_ports(db, M, 7, *ranges)
    with pytest.raises(NotFoundError, match="no-such-model app 1"):
        release_ports(db, "no-such-model", 1)


def test_an_exhausted_range_is_one_line_naming_the_settings(db) -> None:
    backend, frontend = port_block(2), port_block(2)
    seed_apps(db, 1, 3)
    allocate_ports(db, M, 1, backend, frontend)
    allocate_ports(db, M, 2, backend, frontend)
    with pytest.raises(PortsExhaustedError) as caught:
        allocate_ports(db, M, 3, backend, frontend)
    message = caught.value.msg
    assert "\n" not in message
    assert f"THESIS_BACKEND_PORTS ({backend})" in message
    assert f"THESIS_FRONTEND_PORTS ({frontend})" in message
    assert "lab_model-000 app 3" in message


def test_deleting_an_app_frees_its_ports(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 2)
    allocate_ports(db, M, 1, backend, frontend)
    with db.session() as session:
        session.execute(delete(GeneratedApplication).where(GeneratedApplication.app_number == 1))
    assert allocations(db) == {}
    row = allocate_ports(db, M, 2, backend, frontend)
    assert (row.backend_port, row.frontend_port) == (backend.start, frontend.start)


# --- the host --------------------------------------------------------------------------


def test_a_port_another_process_listens_on_is_skipped(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 3)
    with listener(backend.start), listener(frontend.start + 1):
        one = allocate_ports(db, M, 1, backend, frontend)
        bulk = allocate_all(db, backend, frontend)
    assert (one.backend_port, one.frontend_port) == (backend.start + 1, frontend.start)
    assert bulk.allocated == 2
    assert allocations(db) == {
        (M, 1): (backend.start + 1, frontend.start),
        (M, 2): (backend.start + 2, frontend.start + 2),
        (M, 3): (backend.start + 3, frontend.start + 3),
    }


def test_find_conflicts_reports_allocated_ports_another_process_listens_on(db, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 3)
    allocate_all(db, backend, frontend)
    with db.session() as session:  # app 3 runs: its own container holds its ports
        session.execute(
            GeneratedApplication.__table__.update()
            .where(GeneratedApplication.app_number == 3)
            .values(status=AppStatus.RUNNING)
        )
    assert find_conflicts(db) == []
    with listener(frontend.start + 1), listener(backend.start + 2):
        conflicts = find_conflicts(db)
        page = list_allocations(db, with_conflicts=True)
    assert conflicts == [PortConflict(M, 2, "frontend", frontend.start + 1)]
    assert "frontend port" in str(conflicts[0])
    assert [row.conflict for row in page.rows] == [None, f"frontend {frontend.start + 1}", None]
    assert all(row.conflict is None for row in list_allocations(db).rows)


def test_listening_ports_reads_proc_and_falls_back_to_binding(tmp_path) -> None:
    busy = port_block(2).start
    idle = busy + 1
    with listener(busy):
        assert busy in listening_ports()
        assert listening_ports([busy, idle]) == {busy}
        # Where /proc is unavailable, a bind attempt on each port tells instead.
        assert listening_ports([busy, idle], proc_net=tmp_path / "no-proc") == {busy}
    assert listening_ports([busy, idle]) == set()


# --- many apps at once -----------------------------------------------------------------


def test_allocate_all_gives_hundreds_of_apps_distinct_lowest_ports(db) -> None:
    backend, frontend = port_block(320), port_block(320)
    apps = seed_apps(db, 10, 30)
    allocate_ports(db, M, 5, backend, frontend)
    result = allocate_all(db, backend, frontend)
    assert (result.allocated, result.already_had, result.exhausted) == (299, 1, 0)
    assert result.exhausted_message() is None
    pairs = allocations(db)
    assert sorted(pairs) == sorted(apps)
    assert_all_distinct(pairs)
    assert {b for b, _ in pairs.values()} == set(range(backend.start, backend.start + 300))
    assert pairs[(M, 1)] == (backend.start + 1, frontend.start + 1)  # app 5 had the first
    again = allocate_all(db, backend, frontend)
    assert (again.allocated, again.already_had) == (0, 300)


def test_allocate_all_fills_what_fits_and_reports_the_rest(db) -> None:
    backend, frontend = port_block(4), port_block(5)
    seed_apps(db, 2, 3)
    result = allocate_all(db, backend, frontend)
    assert (result.allocated, result.already_had, result.exhausted) == (4, 0, 2)
    message = result.exhausted_message()
    assert message is not None and "\n" not in message
    assert message.startswith("2 apps left without ports")
    assert "THESIS_BACKEND_PORTS" in message and "THESIS_FRONTEND_PORTS" in message
    assert len(allocations(db)) == 4


# --- concurrency -----------------------------------------------------------------------

ALLOCATOR = """
import json, sys, time
from pathlib import Path
from tui.config import PortRange
from tui.db import open_database
from tui.services.ports import allocate_ports

url, order, b0, b1, f0, f1, folder = sys.argv[1:]
folder = Path(folder)
db = open_database(url, upgrade=False)
apps = json.loads((folder / "apps.json").read_text())
if order == "descending":
    apps.reverse()
(folder / f"ready-{order}").touch()
deadline = time.monotonic() + 30
while not (folder / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.005)
backend, frontend = PortRange(int(b0), int(b1)), PortRange(int(f0), int(f1))
rows = [allocate_ports(db, slug, n, backend, frontend) for slug, n in apps]
print(json.dumps([[r.model_slug, r.app_number, r.backend_port, r.frontend_port] for r in rows]))
"""


def test_two_processes_allocating_at_once_never_share_a_port(db, db_url, tmp_path) -> None:
    """Both race over the same 100 apps from opposite ends, released at the same moment."""
    backend, frontend = port_block(110), port_block(110)
    apps = seed_apps(db, 4, 25)
    (tmp_path / "apps.json").write_text(json.dumps(apps))
    orders = ("ascending", "descending")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOCATOR, db_url, order, str(backend.start),
             str(backend.end), str(frontend.start), str(frontend.end), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for order in orders
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"ready-{o}").exists() for o in orders):
            assert time.monotonic() < deadline, "allocator processes did not start"
            assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [w.communicate(timeout=60) for w in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    answers = [{(m, n): (b, f) for m, n, b, f in json.loads(out)} for out, _ in outputs]
    pairs = allocations(db)
    assert answers[0] == answers[1] == pairs  # each app: one pair, the same for both
    assert sorted(pairs) == sorted(apps)
    assert_all_distinct(pairs)
    assert all(b in backend and f in frontend for b, f in pairs.values())


def test_on_postgres_a_writer_bypassing_the_lock_costs_only_a_retry(postgres_url, ranges):
    """A row another transaction inserted without the advisory lock (not yet committed)
    makes our INSERT wait, then fail on the unique port; the allocator reads again and
    takes the next port instead of failing."""
    backend, frontend = ranges
    db = open_database(postgres_url)
    raw = create_engine(postgres_url)
    try:
        seed_apps(db, 1, 2)
        result: dict[str, object] = {}
        with raw.connect() as intruder, raw.connect() as watcher:
            intruder.execute(
                insert(PortAllocation).values(
                    model_name=M,
                    app_number=1,
                    backend_port=backend.start,
                    frontend_port=frontend.start,
                    allocated_at=datetime.now(UTC),
                )
            )

            def allocate() -> None:
                try:
                    result["row"] = allocate_ports(db, M, 2, backend, frontend)
                except Exception as exc:
                    result["error"] = exc

            thread = threading.Thread(target=allocate)
            thread.start()
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query ILIKE 'INSERT INTO port_allocations%'"
            )

            def allocator_waits() -> bool:
                try:
                    return bool(watcher.execute(waiting).scalar())
                finally:
                    watcher.rollback()  # pg_stat_activity is a snapshot per transaction

            deadline = time.monotonic() + 15
            while not allocator_waits():
                assert thread.is_alive(), result
                assert time.monotonic() < deadline, "the allocator never waited on the row"
                time.sleep(0.01)
            intruder.commit()
            thread.join(timeout=15)
        assert "error" not in result, result
        row = result["row"]
        assert (row.backend_port, row.frontend_port) == (backend.start + 1, frontend.start + 1)
    finally:
        raw.dispose()
        db.dispose()


# --- the CLI ---------------------------------------------------------------------------


def thesis(*args: str, ranges: tuple[PortRange, PortRange] | None = None):
    """conftest's runner, with the port ranges set when given."""
    if not ranges:
        return run_thesis(*args)
    backend, frontend = map(str, ranges)
    return run_thesis(*args, THESIS_BACKEND_PORTS=backend, THESIS_FRONTEND_PORTS=frontend)


def test_cli_allocates_lists_with_conflicts_and_releases(db, db_url, ranges) -> None:
    backend, frontend = ranges
    seed_apps(db, 1, 3)
    url = ("--database-url", db_url)
    one = thesis(*url, "ports", "allocate", M, "2", ranges=ranges)
    assert one.returncode == 0, one.stderr
    assert one.stdout.strip() == f"{M} app 2: backend {backend.start}, frontend {frontend.start}"
    every = thesis(*url, "ports", "allocate", "--all", ranges=ranges)
    assert every.stdout.strip() == "Allocated ports for 2 apps; 1 already had ports."
    with listener(backend.start + 2):
        listed = thesis(*url, "ports", "list", "--json")
        table = thesis(*url, "ports", "list")
    rows = json.loads(listed.stdout)
    assert [(r["app_number"], r["backend_port"], r["conflict"]) for r in rows] == [
        (2, backend.start, None),
        (1, backend.start + 1, None),
        (3, backend.start + 2, f"backend {backend.start + 2}"),
    ]
    assert f"in use: backend {backend.start + 2}" in table.stdout
    assert "1 allocation conflict" in table.stderr
    released = thesis(*url, "ports", "release", M, "1")
    assert released.stdout.strip() == (
        f"Released backend {backend.start + 1} and frontend {frontend.start + 1} of {M} app 1."
    )
    assert sorted(n for _, n in allocations(db)) == [2, 3]


def test_cli_errors_are_one_line_with_exit_1(sqlite_db, sqlite_url) -> None:
    backend, frontend = port_block(1), port_block(1)
    seed_apps(sqlite_db, 1, 2)
    url = ("--database-url", sqlite_url)
    both = thesis(*url, "ports", "allocate", "--all", M, "1")
    assert_one_line_error(both, "either --all or MODEL N", "thesis ports allocate")
    assert_one_line_error(thesis(*url, "ports", "allocate"), "either --all or MODEL N")
    assert_one_line_error(thesis(*url, "ports", "release", M), "thesis ports release MODEL N")
    assert_one_line_error(thesis(*url, "ports", "release", "nope", "1"), "No such app")
    short = thesis(*url, "ports", "allocate", "--all", ranges=(backend, frontend))
    assert_one_line_error(short, "1 app left without ports", "THESIS_BACKEND_PORTS")
    assert short.stdout.strip() == "Allocated ports for 1 app; 0 already had ports."
    with sqlite_db.session() as session:
        assert session.scalar(select(func.count()).select_from(PortAllocation)) == 1
