"""Which table columns fit the terminal, how wide each is, and how a long cell is cut.

Each column has a priority: 0 always shows; the higher the number, the sooner it drops when
the screen is narrow. Columns are dropped (highest number, then rightmost first) until the
rest fit at their natural width; then elidable columns (long ids and slugs) are narrowed
down to their minimum, cut in the middle so both ends stay readable; only if that is still
not enough do the remaining columns with a priority above 0 drop too. A wide view shows
every column at its natural width and lets the table scroll sideways.

Pure layout, no Textual: the table screens and their tests both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from tui.widgets.format import NONE, when

CELL_PADDING = 2
"""DataTable's cell padding: one column of space either side of each cell."""
ELLIPSIS = "…"
LOW_VALUE = 3
"""Columns of this priority and up drop before a long id or slug is cut."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None
    """A fixed width; None sizes the column to its widest cell."""
    sortable: bool = False
    """The screen's service can ORDER BY this column (its key is the service's sort name)."""
    priority: int = 0
    """0 always shows; higher numbers drop first on a narrow screen, LOW_VALUE and up even
    before long cells are cut."""
    elide: str | None = None
    """"middle" (ids, slugs) or "end" (names, messages): may be cut to `min_width`."""
    min_width: int = 12


@dataclass(frozen=True)
class Layout:
    """The columns shown, as indexes into the screen's columns, with their widths."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]
    dropped: tuple[str, ...]
    """Labels of the columns left out, for the status line."""


def natural_widths(columns: list[Column], rows: list[tuple[Any, ...]], wide: bool) -> list[int]:
    widths = [cell_len(column.label) for column in columns]
    for cells in rows:
        widths = [max(w, cell_len(plain(c, wide))) for w, c in zip(widths, cells, strict=True)]
    return [column.width or width for column, width in zip(columns, widths, strict=True)]


def fit(columns: list[Column], natural: list[int], available: int, *, wide: bool) -> Layout:
    """The columns that fit in `available` cells and their widths (see the module doc)."""
    everything = list(range(len(columns)))
    if wide:
        return Layout(tuple(everything), tuple(natural), ())
    shown = set(everything)

    def total(widths: dict[int, int]) -> int:
        return sum(widths[i] + CELL_PADDING for i in shown)

    widths = dict(enumerate(natural))
    # A column is never cut narrower than its header.
    floor = {i: max(columns[i].min_width, cell_len(columns[i].label)) for i in everything}
    # Drop order: the least wanted first, and of equals the rightmost.
    droppable = sorted(
        (i for i in everything if columns[i].priority > 0),
        key=lambda i: (-columns[i].priority, -i),
    )
    # 1. Low-value and repeated columns (priority 3 and up) go before anything is cut.
    for i in droppable:
        if total(widths) <= available or columns[i].priority < LOW_VALUE:
            break
        shown.discard(i)
    # 2. Cut elidable columns down towards their minimum, the widest first.
    excess = total(widths) - available
    while excess > 0:
        room = {
            i: widths[i] - min(floor[i], natural[i])
            for i in shown
            if columns[i].elide and widths[i] > floor[i]
        }
        if not room:
            break
        widest = max(room, key=lambda i: (room[i], -i))
        cut = min(excess, room[widest], max(1, room[widest] // 2))
        widths[widest] -= cut
        excess -= cut
    # 3. Still too wide: the rest of the droppable columns go, least wanted first.
    for i in droppable:
        if total(widths) <= available:
            break
        shown.discard(i)
    kept = tuple(i for i in everything if i in shown)
    dropped = tuple(columns[i].label for i in everything if i not in shown)
    return Layout(kept, tuple(widths[i] for i in kept), dropped)


def plain(cell: Any, wide: bool = False) -> str:
    """The text a cell shows (times relative, or absolute in the wide view)."""
    if cell is None:
        return NONE
    if isinstance(cell, datetime):
        return when(cell) if wide else ago(cell)
    return cell.plain if isinstance(cell, Text) else str(cell)


def render(cell: Any, width: int, column: Column, wide: bool = False) -> Text:
    """The cell as the table shows it: times formatted, cut to `width` if it must be.

    Always a Text: DataTable parses a plain string as console markup, which is slow and
    lets a `[` in a slug, a path or a finding's message restyle the cell or fail to render.
    """
    if cell is None or isinstance(cell, datetime):
        cell = plain(cell, wide)
    elif not isinstance(cell, str | Text):
        cell = str(cell)
    if column.elide:
        cell = elide(cell, width, middle=column.elide == "middle")
    return Text(cell, end="") if isinstance(cell, str) else cell


def elide(cell: str | Text, width: int, *, middle: bool = True) -> str | Text:
    """`cell` cut to `width` cells with `…` in the middle (or at the end), styles kept."""
    plain_text = cell.plain if isinstance(cell, Text) else cell
    if cell_len(plain_text) <= width:
        return cell
    if width <= 1:
        return ELLIPSIS if isinstance(cell, str) else Text(ELLIPSIS)
    head = width // 2 if middle else width - 1
    tail = width - 1 - head
    if isinstance(cell, str) and plain_text.isascii():  # the common case, and fast
        return cell[:head] + ELLIPSIS + (cell[len(cell) - tail :] if tail else "")
    text = cell if isinstance(cell, Text) else Text(cell)
    cut = text[:head] + Text(ELLIPSIS)
    if tail:
        cut += text[len(text) - tail :]
    return cut if isinstance(cell, Text) else cut.plain


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, e.g. `12s ago`, `3m ago`, `5h ago`, `6d ago`; the date after a week."""
    if value is None:
        return NONE
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    if seconds < 0:
        return when(value)  # a clock ahead of ours: say when, not "in the future"
    if seconds < 60:
        return f"{int(seconds)}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    if seconds < 7 * 86400:
        return f"{int(seconds // 86400)}d ago"
    return value.strftime("%Y-%m-%d")
