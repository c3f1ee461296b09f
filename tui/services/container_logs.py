"""Log lines of container actions and of the containers themselves, to a sink and to disk.

Files live in `<logs_dir>/<model_slug>/app<N>/`: `actions.log` (builds, starts, stops, each
line timestamped) and `<service>.log` (what the service's container printed, with Docker's
timestamps). A follower appends only lines newer than the file's last one, so following
the same container twice never duplicates a line, and the file keeps the whole history
even after the container is removed.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.errors import ThesisError
from tui.secrets import redact

LogSink = Callable[[str], None]

HISTORY_LINES = 500
"""How many lines of a service's saved log a follower shows before the live ones."""


def app_log_dir(logs_dir: Path, model_slug: str, app_number: int) -> Path:
    return logs_dir / model_slug / f"app{app_number}"


class ActionLog:
    """A sink for one action's output: each line to the caller's sink and to actions.log."""

    def __init__(self, folder: Path, sink: LogSink | None, name: str = "actions.log") -> None:
        self.path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ThesisError(
                f"Cannot write the log {self.path}: {exc.strerror} (see THESIS_LOGS_DIR)"
            ) from None
        self._sink = sink
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        line = self.note(line)
        if self._sink is not None:
            self._sink(line)

    def note(self, line: str) -> str:
        """Write a line to actions.log only (headers, and errors the caller reports itself)."""
        line = redact(line.rstrip("\r\n"))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self._lock:
            self._file.write(f"{stamp} {line}\n")
            self._file.flush()
        return line

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> ActionLog:
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def split_timestamp(line: str) -> tuple[str, str]:
    """Docker's `2026-11-23T14:37:00.123456789Z text` as (timestamp, text)."""
    stamp, _, text = line.partition(" ")
    return stamp, text


def stamp_key(stamp: str) -> tuple[str, int]:
    """A sort key for Docker timestamps, which drop trailing zeros (`.5Z` vs `.51Z`)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    digits = fraction[:9].ljust(9, "0")
    return whole, int(digits) if digits.isdigit() else 0


def _since(stamp: str) -> float:
    """Seconds since the epoch for a Docker RFC 3339 nano timestamp (microsecond precision)."""
    if not stamp:
        return 0.0
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    moment = datetime.fromisoformat(whole).replace(tzinfo=UTC)
    return moment.timestamp() + float(f"0.{fraction or 0}")


def _last_line(path: Path) -> str:
    """The last line of a file, read from its end."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            lines = handle.read().splitlines()
    except OSError:
        return ""
    return lines[-1].decode("utf-8", "replace") if lines else ""


def _tail(path: Path, count: int) -> list[str]:
    if count <= 0 or not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        chunk = min(size, max(64 * 1024, count * 512))
        handle.seek(size - chunk)
        lines = handle.read().decode("utf-8", "replace").splitlines()
    return lines[-count:] if chunk == size else lines[1:][-count:]


_DONE = object()


class LogFollower:
    """Lines of several containers at once, as `service | text`, until closed or ended.

    Each container's stream is read by a thread of its own (a Docker log stream blocks),
    and every line is appended to `<service>.log` first. `close()` ends the streams from any
    thread, which unblocks `lines()`.
    """

    def __init__(
        self,
        containers: Iterable[tuple[str, Any]],
        folder: Path,
        *,
        follow: bool,
        history: int = HISTORY_LINES,
    ) -> None:
        self._containers = list(containers)
        self._folder = folder
        self._follow = follow
        self._history = history
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=10_000)
        self._streams: list[Any] = []
        self._closed = threading.Event()
        self.error: str | None = None

    def _history_lines(self) -> list[str]:
        merged: list[tuple[str, str, str]] = []
        for service, _ in self._containers:
            for line in _tail(self._folder / f"{service}.log", self._history):
                stamp, text = split_timestamp(line)
                merged.append((stamp, service, text))
        merged.sort(key=lambda item: stamp_key(item[0]))
        return [f"{service} | {text}" for _, service, text in merged[-self._history :]]

    def lines(self) -> Iterator[str]:
        self._folder.mkdir(parents=True, exist_ok=True)
        yield from self._history_lines()
        threads = [
            threading.Thread(target=self._read, args=(service, container), daemon=True)
            for service, container in self._containers
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        while running:
            item = self._queue.get()
            if item is _DONE:
                running -= 1
            elif not self._closed.is_set():
                yield item

    def _read(self, service: str, container: Any) -> None:
        path = self._folder / f"{service}.log"
        last_stamp = split_timestamp(_last_line(path))[0]
        last_key = stamp_key(last_stamp)
        try:
            stream = container.logs(
                stream=True,
                follow=self._follow,
                timestamps=True,
                since=_since(last_stamp) or None,
            )
            self._streams.append(stream)
            if self._closed.is_set():
                stream.close()
            with path.open("a", encoding="utf-8") as saved:
                for line in _lines_of(stream):
                    stamp, text = split_timestamp(line)
                    if last_stamp and stamp_key(stamp) <= last_key:
                        continue  # `since` has whole-second precision on older engines
                    saved.write(line + "\n")
                    saved.flush()
                    self._put(f"{service} | {text}")
        except Exception as exc:  # the engine went away or the container was removed
            if not self._closed.is_set():
                self.error = f"{service}: {' '.join(str(exc).split())[:200]}"
                self._put(f"{service} | (log stream ended: {self.error})")
        finally:
            self._queue.put(_DONE)

    def _put(self, line: str) -> None:
        while not self._closed.is_set():
            try:
                self._queue.put(line, timeout=0.2)
                return
            except queue.Full:
                continue

    def close(self) -> None:
        self._closed.set()
        for stream in list(self._streams):
            with contextlib.suppress(Exception):  # closing a dead stream is fine
                stream.close()


def _lines_of(chunks: Iterable[bytes]) -> Iterator[str]:
    """Whole lines from a stream of byte chunks that split lines anywhere."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for raw in complete:
            yield raw.decode("utf-8", "replace").rstrip("\r")
    if pending:
        yield pending.decode("utf-8", "replace").rstrip("\r")
