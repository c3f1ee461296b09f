"""`thesis` as a user runs it: a real process, real databases, real exit codes."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import sys
import time
from pathlib import Path

import pytest
from conftest import assert_one_line_error, thesis

from tui import __version__
from tui.db.migrate import head_revision


def test_version_prints_the_package_version() -> None:
    result = thesis("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"thesis, version {__version__}"


def test_db_current_reports_an_empty_database_without_changing_it(sqlite_url, tmp_path) -> None:
    result = thesis("--database-url", sqlite_url, "db", "current")
    assert result.returncode == 0, result.stderr
    assert "empty (no schema yet)" in result.stdout
    assert "run `thesis db upgrade`" in result.stdout
    tables = (
        sqlite3.connect(tmp_path / "test.db")
        .execute("SELECT name FROM sqlite_master WHERE type='table'")
        .fetchall()
    )
    assert tables == []


def test_db_upgrade_then_current_on_both_databases(db_url) -> None:
    first = thesis("--database-url", db_url, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    head = head_revision()
    assert f"from an empty database to {head}" in first.stdout
    again = thesis("--database-url", db_url, "db", "upgrade")
    assert f"already at the newest revision ({head})" in again.stdout
    current = thesis("--database-url", db_url, "db", "current")
    assert current.stdout.strip().endswith(f": {head} (newest)")


def test_database_url_from_the_environment_is_used_and_password_is_masked() -> None:
    result = thesis(
        "db",
        "current",
        THESIS_DATABASE_URL="postgresql+psycopg://user:s3cret@127.0.0.1:1/nowhere",
    )
    assert_one_line_error(result, "Cannot open database", "127.0.0.1:1")
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("THESIS_BACKEND_PORTS", "lots"),
        ("THESIS_FRONTEND_PORTS", "9000-8000"),
        ("THESIS_MAX_WORKERS", "0"),
        ("THESIS_DATABASE_URL", "not a url"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_variable(variable, value) -> None:
    assert_one_line_error(thesis("db", "current", **{variable: value}), variable)


def test_unwritable_data_folder_is_a_clear_error(tmp_path) -> None:
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    result = thesis("db", "upgrade", THESIS_DATA_DIR=str(blocker / "data"))
    assert_one_line_error(result, "Cannot create the folder for the database")


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Read a pty until `needle` appears or the deadline passes."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_thesis_opens_the_tui_on_a_fresh_sqlite_database_and_q_quits(isolated_settings) -> None:
    """The README's first command, on a machine with no set-up: a new SQLite file in the
    per-user data folder, migrated, and the dashboard with its empty-state hint."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the real entry point in a real terminal
        os.environ.update({"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"})
        os.execvp(sys.executable, [sys.executable, "-m", "tui"])
    try:
        screen = read_until(fd, b"No apps yet", timeout=30)
        assert b"No apps yet" in screen
        os.write(fd, b"q")
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            read_until(fd, b"\x00", timeout=0.2)  # drain so the app can exit
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        assert status is not None and os.waitstatus_to_exitcode(status) == 0
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    database = Path(isolated_settings) / "thesis.db"
    tables = {
        name
        for (name,) in sqlite3.connect(database).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert {"model_capabilities", "generated_applications", "alembic_version"} <= tables
