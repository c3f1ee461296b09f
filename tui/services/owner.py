"""Who is working on a row: this process, named so that another process can tell whether
it still lives.

An owner is (host, pid, start): the pid alone is not enough, since the kernel reuses pids,
so the start is the process's start time as the kernel counts it (with the boot id, so a
reboot changes it too). On the same host a dead owner is known at once; on another host
(PostgreSQL shared by several servers) an owner is taken for gone when its heartbeat is
older than THESIS_HEARTBEAT_TIMEOUT.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEARTBEAT_SECONDS = 5.0
"""How often a process running analyses says it is alive."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str | None

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"

    def columns(self) -> dict[str, Any]:
        return {"owner_host": self.host, "owner_pid": self.pid, "owner_start": self.start}

    def is_local(self) -> bool:
        return self.host == current().host

    def alive(self) -> bool:
        """Whether this owner (on this host) still runs: the pid exists and started when the
        owner did."""
        if self.start is not None:
            return process_start(self.pid) == self.start
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@functools.cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:36]
    except OSError:
        return ""


def process_start(pid: int) -> str | None:
    """`<boot id>:<start time in clock ticks>` of a process, or None when it does not exist,
    is a zombie (dead, not yet reaped by its parent) or this is not Linux."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return f"{_boot_id()}:{fields[19]}"


_current: Owner | None = None


def current() -> Owner:
    """This process as an owner (computed again after a fork)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        pid = os.getpid()
        _current = Owner(socket.gethostname()[:255], pid, process_start(pid))
    return _current


def owner_of(host: str | None, pid: int | None, start: str | None) -> Owner | None:
    if not host or pid is None:
        return None
    return Owner(host, pid, start)
