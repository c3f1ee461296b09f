"""Host port allocations: allocate, release, list, and find conflicts with the host.

Every app gets one backend port from THESIS_BACKEND_PORTS and one frontend port from
THESIS_FRONTEND_PORTS. Each port is the *lowest free port of its own range*, chosen
independently: a port is free when no allocation holds it (in either column) and no process
on this host listens on it right now. On a fresh database the pairs line up (5001/8001,
5002/8002, ...); after releases, or when the host holds a port in one range only, they may
drift apart, and no port of either range is wasted.

The database's unique constraints are the guarantee; the allocator only avoids running into
them. Writers are serialised so that two processes never pick the same port: on SQLite by
BEGIN IMMEDIATE (`Database.write`), on PostgreSQL by a transaction-scoped advisory
lock. A unique violation (a writer that bypassed the lock) is retried a few times.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, insert, select, text
from sqlalchemy.exc import IntegrityError

from tui.config import PortRange
from tui.db import Database
from tui.db.tables import AppStatus, generated_applications, port_allocations
from tui.db.types import utcnow
from tui.errors import DatabaseError, NotFoundError, PortsExhaustedError, ValidationError
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause

#: Key of the PostgreSQL advisory lock that serialises port writers (any fixed 64-bit int;
#: advisory locks are per database, so every schema of one database shares it).
PG_LOCK_KEY = 0x7468_6573_6973_5054  # "thesisPT"
#: How often an allocation is retried after a unique violation before giving up.
MAX_ATTEMPTS = 5
PROC_NET = Path("/proc/net")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column

T = TypeVar("T")


@dataclass(frozen=True)
class PortRow:
    id: int
    model_slug: str
    app_number: int
    backend_port: int
    frontend_port: int
    allocated_at: datetime
    conflict: str | None = None
    """Set by `list_allocations(with_conflicts=True)`: e.g. "backend 5003" when another
    process on this host listens on that allocated port."""


@dataclass(frozen=True)
class PortConflict:
    """An allocated port that another process on this host is listening on."""

    model_slug: str
    app_number: int
    which: str  # "backend" or "frontend"
    port: int

    def __str__(self) -> str:
        return (
            f"{self.model_slug} app {self.app_number}: {self.which} port {self.port} "
            "is in use by another process"
        )


@dataclass(frozen=True)
class BulkAllocation:
    """What `allocate_all` did: apps given ports, apps that had them, apps left without."""

    allocated: int
    already_had: int
    exhausted: int
    backend: PortRange
    frontend: PortRange

    def summary(self) -> str:
        return (
            f"Allocated ports for {self.allocated} app{'s' if self.allocated != 1 else ''}; "
            f"{self.already_had} already had ports."
        )

    def exhausted_message(self) -> str | None:
        """One line for the user when the ranges ran out, else None."""
        if not self.exhausted:
            return None
        return (
            f"{self.exhausted} app{'s' if self.exhausted != 1 else ''} left without ports: "
            f"{_ranges_text(self.backend, self.frontend)} are exhausted; widen them or "
            "release ports."
        )


# --- what the host is listening on -----------------------------------------------------


def _proc_listening(proc_net: Path) -> set[int] | None:
    """Ports in LISTEN state from /proc/net/tcp{,6}; None when /proc is unavailable."""
    found: set[int] = set()
    readable = False
    for name in ("tcp", "tcp6"):
        try:
            lines = (proc_net / name).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == _LISTEN:
                found.add(int(fields[1].rpartition(":")[2], 16))
    return found if readable else None


def _cannot_bind(port: int) -> bool:
    """True when 127.0.0.1:port cannot be bound, i.e. something holds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            # Ignore sockets in TIME_WAIT (on Windows this flag would allow stealing ports).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def listening_ports(ports: Iterable[int] | None = None, *, proc_net: Path = PROC_NET) -> set[int]:
    """Ports some process on this host listens on right now (TCP, IPv4 and IPv6).

    Reads the LISTEN entries of /proc/net/tcp and tcp6: fast, and binds nothing. Where /proc
    is unavailable, tries to bind 127.0.0.1 on each of `ports` instead (without `ports` that
    fallback finds nothing). With `ports`, the answer is limited to them.
    """
    wanted = None if ports is None else set(ports)
    found = _proc_listening(proc_net)
    if found is None:
        return {port for port in sorted(wanted or ()) if _cannot_bind(port)}
    return found if wanted is None else found & wanted


def _conflicts_of(backend: int, frontend: int, listening: set[int]) -> list[tuple[str, int]]:
    return [
        (which, port)
        for which, port in (("backend", backend), ("frontend", frontend))
        if port in listening
    ]


# --- reading ---------------------------------------------------------------------------


_PORTS, _APPS = port_allocations, generated_applications


def _row(allocation: Any, conflict: str | None = None) -> PortRow:
    """A PortRow from a row of port_allocations."""
    return PortRow(
        id=allocation.id,
        model_slug=allocation.model_name,
        app_number=allocation.app_number,
        backend_port=allocation.backend_port,
        frontend_port=allocation.frontend_port,
        allocated_at=allocation.allocated_at,
        conflict=conflict,
    )


def list_allocations(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = DEFAULT_LIMIT,
    count: bool = True,
    with_conflicts: bool = False,
) -> Page[PortRow]:
    """Allocations by backend port; `with_conflicts` marks rows another process listens on.

    Apps whose status is `running` are never marked: their own containers hold their ports.
    """
    p, a = _PORTS.c, _APPS.c
    statement = (
        select(_PORTS, a.status)
        .join(_APPS, (a.model_slug == p.model_name) & (a.app_number == p.app_number))
        .order_by(p.backend_port)
    )
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "model": p.model_name,
            "app": p.app_number,
            "backend": p.backend_port,
            "frontend": p.frontend_port,
            "allocated": p.allocated_at,
        },
        tiebreak=[p.backend_port],
    )
    where = search_clause(search, [p.model_name, p.backend_port, p.frontend_port])
    if where is not None:
        statement = statement.where(where)
    with db.read() as connection:
        rows, total = count_and_page(connection, statement, limit, count)
    listening: set[int] = set()
    if with_conflicts and rows:
        ports = {port for row in rows for port in (row.backend_port, row.frontend_port)}
        listening = listening_ports(ports)
    result = []
    for row in rows:
        found = (
            []
            if row.status == AppStatus.RUNNING
            else _conflicts_of(row.backend_port, row.frontend_port, listening)
        )
        result.append(_row(row, ", ".join(f"{w} {port}" for w, port in found) or None))
    return Page(result, total)


def find_conflicts(db: Database) -> list[PortConflict]:
    """Allocated ports another process on this host listens on, by model and app.

    Apps whose status is `running` are left out: their own containers hold their ports.
    """
    p, a = _PORTS.c, _APPS.c
    statement = (
        select(p.model_name, p.app_number, p.backend_port, p.frontend_port)
        .join(_APPS, (a.model_slug == p.model_name) & (a.app_number == p.app_number))
        .where(a.status != AppStatus.RUNNING)
        .order_by(p.model_name, p.app_number)
    )
    with db.read() as connection:
        rows = connection.execute(statement).all()
    ports = {port for row in rows for port in (row.backend_port, row.frontend_port)}
    listening = listening_ports(ports)
    return [
        PortConflict(row.model_name, row.app_number, which, port)
        for row in rows
        for which, port in _conflicts_of(row.backend_port, row.frontend_port, listening)
    ]


# --- writing ---------------------------------------------------------------------------


def _ranges_text(backend: PortRange, frontend: PortRange) -> str:
    return f"THESIS_BACKEND_PORTS ({backend}) and THESIS_FRONTEND_PORTS ({frontend})"


def _check_ranges(backend: PortRange, frontend: PortRange) -> None:
    if backend.overlaps(frontend):
        raise ValidationError(
            f"THESIS_BACKEND_PORTS ({backend}) overlaps THESIS_FRONTEND_PORTS ({frontend})"
        )


def _busy_on_host(backend: PortRange, frontend: PortRange) -> set[int]:
    return listening_ports(
        [*range(backend.start, backend.end + 1), *range(frontend.start, frontend.end + 1)]
    )


def _lock_writers(connection: Connection) -> None:
    """Serialise port writers until this transaction ends (SQLite: BEGIN IMMEDIATE did)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


def _allocation_of(connection: Connection, model_slug: str, app_number: int) -> Any | None:
    """The app's row of port_allocations, None if it has none; NotFoundError if there is
    no such app."""
    a, p = _APPS.c, _PORTS.c
    found = connection.execute(
        select(a.id.label("app_id"), _PORTS)
        .outerjoin(_PORTS, (p.model_name == a.model_slug) & (p.app_number == a.app_number))
        .where(a.model_slug == model_slug, a.app_number == app_number)
    ).first()
    if found is None:
        raise NotFoundError(f"No such app: {model_slug} app {app_number} (scan the apps first).")
    return None if found.id is None else found


def _allocated_ports(connection: Connection) -> set[int]:
    p = _PORTS.c
    used: set[int] = set()
    for backend, frontend in connection.execute(select(p.backend_port, p.frontend_port)):
        used.add(backend)
        used.add(frontend)
    return used


def _free_ports(span: PortRange, taken: set[int]) -> Iterable[int]:
    return (port for port in range(span.start, span.end + 1) if port not in taken)


def _retrying_unique_violations(action: Callable[[], T], what: str) -> T:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return action()
        except IntegrityError:
            # Another writer took a port between our read and our insert (only possible
            # for writers that bypass the lock); read again and choose again.
            if attempt == MAX_ATTEMPTS:
                raise DatabaseError(
                    f"Could not {what}: other writers kept taking the same ports "
                    f"({MAX_ATTEMPTS} attempts)."
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def allocate_ports(
    db: Database, model_slug: str, app_number: int, backend: PortRange, frontend: PortRange
) -> PortRow:
    """The app's ports: the ones it has, or the lowest free backend and frontend port.

    Idempotent: an app that has ports keeps them (even outside the current ranges). Ports
    another process on this host listens on are skipped. Raises NotFoundError for an
    unknown app and PortsExhaustedError when either range has no free port left.
    """
    _check_ranges(backend, frontend)
    app = f"{model_slug} app {app_number}"

    def attempt() -> PortRow:
        busy = _busy_on_host(backend, frontend)
        with db.write() as connection:
            _lock_writers(connection)
            current = _allocation_of(connection, model_slug, app_number)
            if current is not None:
                return _row(current)
            taken = _allocated_ports(connection) | busy
            backend_port = next(iter(_free_ports(backend, taken)), None)
            frontend_port = next(iter(_free_ports(frontend, taken)), None)
            if backend_port is None or frontend_port is None:
                raise PortsExhaustedError(
                    f"No free port pair for {app}: {_ranges_text(backend, frontend)} are "
                    "exhausted; widen them or release ports."
                )
            allocation = {
                "model_name": model_slug,
                "app_number": app_number,
                "backend_port": backend_port,
                "frontend_port": frontend_port,
                "allocated_at": utcnow(),
            }
            stored = connection.execute(insert(_PORTS).values(allocation))
            return _row(SimpleNamespace(id=stored.inserted_primary_key[0], **allocation))

    return _retrying_unique_violations(attempt, f"allocate ports for {app}")


def allocate_all(db: Database, backend: PortRange, frontend: PortRange) -> BulkAllocation:
    """Give every app without ports the lowest free ports, in one transaction.

    Apps are served by (model, app number). When the ranges run out, as many apps as fit
    get ports and the rest are counted in `exhausted` (nothing raises: the caller reports
    `exhausted_message()`). One query reads the apps and the ports in use; one bulk
    INSERT writes the new allocations.
    """
    _check_ranges(backend, frontend)

    def attempt() -> BulkAllocation:
        busy = _busy_on_host(backend, frontend)
        a, p = _APPS.c, _PORTS.c
        statement = (
            select(a.model_slug, a.app_number, p.backend_port, p.frontend_port)
            .outerjoin(_PORTS, (p.model_name == a.model_slug) & (p.app_number == a.app_number))
            .order_by(a.model_slug, a.app_number)
        )
        with db.write() as connection:
            _lock_writers(connection)
            rows = connection.execute(statement).all()
            # Every allocation belongs to an app (foreign key), so this sees them all.
            taken = set(busy)
            missing: list[tuple[str, int]] = []
            for slug, number, backend_port, frontend_port in rows:
                if backend_port is None:
                    missing.append((slug, number))
                else:
                    taken.update((backend_port, frontend_port))
            now = utcnow()
            values = [
                {
                    "model_name": slug,
                    "app_number": number,
                    "backend_port": backend_port,
                    "frontend_port": frontend_port,
                    "allocated_at": now,
                }
                for (slug, number), backend_port, frontend_port in zip(
                    missing,
                    _free_ports(backend, taken),
                    _free_ports(frontend, taken),
                    strict=False,  # stops at the shortest: the ranges may run out
                )
            ]
            if values:
                connection.execute(insert(_PORTS), values)
        return BulkAllocation(
            allocated=len(values),
            already_had=len(rows) - len(missing),
            exhausted=len(missing) - len(values),
            backend=backend,
            frontend=frontend,
        )

    return _retrying_unique_violations(attempt, "allocate ports")


def release_ports(db: Database, model_slug: str, app_number: int) -> PortRow | None:
    """Free the app's ports for reuse; the released allocation, or None if it had none.

    Idempotent for an existing app; NotFoundError for an app that does not exist.
    """
    with db.write() as connection:
        _lock_writers(connection)
        current = _allocation_of(connection, model_slug, app_number)
        if current is None:
            return None
        released = _row(current)
        connection.execute(delete(_PORTS).where(_PORTS.c.id == current.id))
    return released
