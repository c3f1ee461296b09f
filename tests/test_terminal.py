"""The TUI in a real pseudo-terminal, as a user's keys reach it: what the pilot cannot show
(keys that arrive while the app is quitting, a hang-up)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest
from conftest import seed_demo

from tui.config import load_settings
from tui.db import open_database


class Terminal:
    """`thesis` on a pseudo-terminal of 80x24; `output` is everything it wrote."""

    def __init__(self, **env_overrides: str) -> None:
        main, child = pty.openpty()
        os.set_blocking(main, False)
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24",
               **env_overrides}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui"],
            stdin=child, stdout=child, stderr=child, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(child)
        self.fd = main
        self.output = b""

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:
                    return

    def wait_for(self, text: bytes, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert time.monotonic() < deadline, f"{text!r} never appeared"
            self.read(0.1)

    def wait_exit(self, timeout: float) -> None:
        """Read until the process ends (or `timeout` seconds), then what it wrote last."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        self.read(0.2)

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self.fd)


@pytest.fixture
def demo_db_file() -> None:
    """The demo catalogue in the database `thesis` opens by default (in the test's folder)."""
    db = open_database(load_settings().resolved_database_url)
    seed_demo(db)
    db.dispose()


def test_a_key_typed_right_after_q_opens_nothing_on_the_way_out(demo_db_file) -> None:
    terminal = Terminal()
    try:
        terminal.wait_for(b"Models")
        terminal.type("4")
        terminal.wait_for(b"performance")  # the Analyses table is on screen
        terminal.type("qn")
        terminal.wait_exit(20)
    finally:
        terminal.close()
    assert terminal.process.returncode == 0
    assert b"NoMatches" not in terminal.output and b"Traceback" not in terminal.output


def test_a_database_that_will_not_open_stops_the_tui_with_one_line(free_port_url) -> None:
    """The TUI paints before the database opens; when it cannot open, the TUI stops and
    says why on one line, exit 1, and the terminal is left as it was."""
    terminal = Terminal(THESIS_DATABASE_URL=free_port_url)
    try:
        terminal.wait_exit(60)
    finally:
        terminal.close()
    assert terminal.process.returncode == 1
    assert b"Traceback" not in terminal.output
    text = terminal.output.decode(errors="replace")
    # After the TUI has left the screen (its last escape sequences), the reason, once.
    assert text.count("Cannot open database") == 1
    assert "thesis: Cannot open database" in text[text.rindex("\x1b") :]


@pytest.fixture
def free_port_url() -> str:
    """A PostgreSQL URL on a loopback port nothing listens on."""
    from conftest import free_port

    return f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
