"""Engine, connection pragmas and short-lived sessions.

SQLite gets WAL (readers never block the writer), enforced foreign keys and a busy timeout,
and pysqlite's own transaction handling is replaced by explicit BEGINs so that a write
session can take the write lock up front (`BEGIN IMMEDIATE`) instead of failing with
"database is locked" when two writers upgrade their read locks at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError
from sqlalchemy.exc import SQLAlchemyError as _SQLAlchemyError

from tui.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5


def describe_url(url: str | URL) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()
    return text_[0] if text_ else type(orig).__name__


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from pysqlite; the "begin" hook below emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_db_engine(url: str) -> Engine:
    """An engine for `url`, with the pragmas and timeouts this tool relies on."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"Not a database URL: {url!r}") from None
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"Cannot create the folder for the database {path}: {exc.strerror}"
                ) from None
            parsed = parsed.set(database=str(path))
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError, _SQLAlchemyError) as exc:
        raise DatabaseError(f"Cannot use database {describe_url(parsed)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


class Database:
    """One database: its engine and the sessions services open on it.

    Services open a short session per unit of work (`with db.session() as s:`) and return
    plain data, never ORM objects bound to a closed session. Listings and the first screen
    read through `db.read()` (a Core connection on tui/db/tables.py), so a TUI that only
    shows tables never loads SQLAlchemy's ORM (about 9 MB); it loads on the first session.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_engine = (
            engine.execution_options(sqlite_immediate=True)
            if engine.dialect.name == "sqlite"
            else engine
        )
        self._makers: tuple[sessionmaker[Session], sessionmaker[Session]] | None = None
        self.memo: dict[str, Any] = {}
        """Values read from this database that never change while it lives (its instance id)."""

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(create_db_engine(url))

    @property
    def write_engine(self) -> Engine:
        """The engine whose transactions take SQLite's write lock at BEGIN."""
        return self._write_engine

    @property
    def url(self) -> str:
        return describe_url(self.engine.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _sessionmakers(self) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
        if self._makers is None:
            from sqlalchemy.orm import sessionmaker  # the ORM: loaded by the first session

            self._makers = (
                sessionmaker(self.engine, expire_on_commit=False),
                sessionmaker(self._write_engine, expire_on_commit=False),
            )
        return self._makers

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises.

        A database that went away, is locked past the busy timeout or lacks a table raises
        DatabaseError with a one-line reason; integrity errors pass through for the caller.
        """
        with self._operational_errors(), self._sessionmakers()[0].begin() as session:
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """Like `session()`, but on SQLite takes the write lock at BEGIN (no lock upgrades)."""
        with self._operational_errors(), self._sessionmakers()[1].begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Core statements on tui/db/tables.py in one transaction, without the ORM; errors
        as `session()` words them."""
        with self._operational_errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Like `read()`, but on SQLite takes the write lock at BEGIN (no lock upgrades)."""
        with self._operational_errors(), self._write_engine.begin() as connection:
            yield connection

    @contextmanager
    def _operational_errors(self) -> Iterator[None]:
        """Errors of the database itself (gone, locked, not a database, a value it cannot
        store) as one line; integrity errors pass through for the caller to word."""
        try:
            yield
        except IntegrityError:
            raise
        except DBAPIError as exc:
            raise DatabaseError(f"Database {self.url}: {_first_line(exc)}") from exc

    def check_connection(self) -> None:
        """Raise DatabaseError with a one-line reason if the database cannot be reached (or
        what the URL names is not a database)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except _SQLAlchemyError as exc:
            raise DatabaseError(f"Cannot open database {self.url}: {_first_line(exc)}") from None

    def dispose(self) -> None:
        self.engine.dispose()
