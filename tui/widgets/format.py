"""How values look in tables: short, aligned, and the same on every screen."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

NONE = "—"


def when(value: datetime | None) -> str:
    """UTC time to the minute, e.g. `2026-11-22 23:10`."""
    return value.strftime("%Y-%m-%d %H:%M") if value else NONE


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return NONE
    if digits:
        return f"{value:,.{digits}f}"
    return f"{round(value):,}"


def money(value: float | None) -> str:
    if value is None:
        return NONE
    return "free" if value == 0 else f"{value:,.2f}"


def usd(value: float) -> str:
    """Dollars to the hundredth of a cent: a review costs fractions of a cent."""
    return f"{value:,.4f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return NONE
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def ago(seconds: float) -> str:
    """How long ago, coarse enough to read at a glance: `just now`, `42s ago`, `3m05s ago`."""
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)}s ago"
    return f"{duration(seconds)} ago"


def flags(**named: bool) -> str:
    """Capability letters, e.g. `V F J S` with `·` for the missing ones."""
    return " ".join(letter if on else "·" for letter, on in named.items())


_STATUS_STYLES = {
    "running": "bold green",
    "completed": "green",
    "stopped": "yellow",
    "paused": "yellow",
    "building": "cyan",
    "pending": "cyan",
    "failed": "bold red",
    "cancelled": "magenta",
    "no_compose": "dim",
    "not_created": "dim",
    "skipped": "dim",
}


def status(value: str) -> Text:
    """A status word in the colour that says how it went (plain when NO_COLOR is set)."""
    return Text(value, style=_STATUS_STYLES.get(value.split(" ")[0], ""), justify="left")


BAR = 10
"""Cells of a progress bar."""


def progress_bar(percent: int, width: int = BAR) -> Text:
    """`██████░░░░  60%`: the filled part in the accent colour."""
    filled = round(width * max(0, min(percent, 100)) / 100)
    bar = Text("█" * filled, style="green")
    bar.append("░" * (width - filled), style="dim")
    bar.append(f" {percent:>3}%")
    return bar
