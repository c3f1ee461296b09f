"""Running an analyzer as a subprocess: argument lists, a timeout, killed when cancelled.

Each tool starts in its own session, so a timeout or a cancelled task kills the tool and
whatever it started (locust's workers, npm's children) as one process group. On Linux each
tool also gets a parent-death signal: when the thesis process dies, even by kill -9, the
kernel kills the tool at once instead of leaving it running. (The signal follows the thread
that started the tool: tools are started from the event loop's thread, which lives as long
as the run.) The tool's environment is ours less our secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tui.errors import ScanError
from tui.secrets import scrubbed_environment

STREAM_LIMIT = 1 << 20
"""Longest line asyncio reads from a tool (bytes); minified JSON output is one long line."""


@dataclass(frozen=True)
class ToolOutput:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


_PR_SET_PDEATHSIG = 1
_prctl = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        _prctl = ctypes.CDLL(None, use_errno=True).prctl


def _die_with(parent: int) -> Callable[[], None]:
    """Runs in the child between fork and exec: SIGKILL it when `parent` dies, and exit at
    once if the parent is already gone (it died before the signal was armed)."""

    def arm() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return arm


TIMED_OUT = "timed out after"
"""In the message of a tool killed at its timeout (`eslint timed out after 300s ...`)."""


class ToolMissing(ScanError):
    """The tool is not installed; the analysis records it as skipped."""


async def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    on_stderr: Callable[[str], None] | None = None,
    on_stdout: Callable[[str], None] | None = None,
) -> ToolOutput:
    """Run `argv` with `env` (default: ours) less our secrets; stdout is collected, stderr
    lines also go to `on_stderr` as they come (and stdout lines to `on_stdout`, for tools
    that report progress there).

    Raises ToolMissing when the program is not there, ScanError on a timeout. When the
    awaiting task is cancelled, the process group is killed before CancelledError goes on.
    """
    name = Path(argv[0]).name
    started = time.monotonic()
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=scrubbed_environment(env),
            limit=STREAM_LIMIT,
            start_new_session=True,
            preexec_fn=_die_with(os.getpid()),
        )
    except FileNotFoundError:
        raise ToolMissing(f"{name} is not installed") from None
    except PermissionError:
        raise ToolMissing(f"{name} cannot be run (permission denied)") from None
    stderr_lines: list[str] = []

    async def read_stderr() -> None:
        assert process.stderr is not None  # noqa: S101 - PIPE above
        async for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            stderr_lines.append(line)
            if on_stderr is not None:
                on_stderr(line)

    async def read_stdout() -> bytes:
        assert process.stdout is not None  # noqa: S101 - PIPE above
        if on_stdout is None:
            return await process.stdout.read()
        chunks = []
        async for raw in process.stdout:
            chunks.append(raw)
            on_stdout(raw.decode("utf-8", "replace").rstrip("\r\n"))
        return b"".join(chunks)

    async def communicate() -> bytes:
        stdout, _ = await asyncio.gather(read_stdout(), read_stderr())
        await process.wait()
        return stdout

    try:
        stdout = await asyncio.wait_for(communicate(), timeout)
    except TimeoutError:
        _kill(process)
        await _reap(process)
        raise ScanError(f"{name} {TIMED_OUT} {timeout:g}s and was killed") from None
    except asyncio.CancelledError:
        _kill(process)
        await _reap(process)
        raise
    return ToolOutput(
        returncode=process.returncode if process.returncode is not None else -1,
        stdout=stdout.decode("utf-8", "replace"),
        stderr="\n".join(stderr_lines),
        seconds=time.monotonic() - started,
    )


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def _reap(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(process.wait()), 5)


def last_line(text: str, limit: int = 200) -> str:
    """The last non-empty line of a tool's stderr, for a one-line error message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else "no output"
