"""W · Workers: the processes running a study's tasks on any machine (`thesis worker`), with
their host, state, last heartbeat, the tasks they run now and their throughput; as
`thesis workers list` prints them. Opened from the Batch screen (`W`) or the palette; `a`
shows the stopped ones too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding

from tui.errors import shown
from tui.screens.base import Column, Query, TableScreen
from tui.widgets.format import NONE, ago, number

if TYPE_CHECKING:
    from tui.services.common import Page
    from tui.services.workers import WorkerRow


class WorkersScreen(TableScreen):
    SUB_TITLE = "Workers"
    MODE = "batch"
    PUSHED = True
    NOUN = "workers"
    BINDINGS = [
        Binding("a", "everything", "All", tooltip="Show the stopped workers too (a again: not)"),
    ]
    EMPTY_HINT = (
        "No worker is running.\n\n"
        "Start one on each machine of the study, all pointing at one database:\n"
        "thesis worker --name NAME"
    )
    COLUMNS: ClassVar[list[Column]] = [
        Column("name", "Name", sortable=True, elide="middle", min_width=10),
        Column("host", "Host", sortable=True, elide="middle", priority=1),
        Column("state", "State", sortable=True),
        Column("heartbeat", "Beat", sortable=True),
        Column("running", "Run", sortable=True),
        Column("per_minute", "Per min", sortable=True),
        Column("types", "Types", elide="end", priority=2),
        Column("docker", "Docker", elide="middle", priority=3),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.everything = False
        self.now: Any = None

    def fetch(self, query: Query, count: bool = True) -> Page[Any]:
        from tui.db.types import utcnow
        from tui.services.common import Page, matches
        from tui.services.workers import list_workers

        self.now = utcnow()
        timeout = self.thesis.settings.heartbeat_timeout
        rows = [
            (row, row.state(self.now, timeout))
            for row in list_workers(self.thesis.db, everything=self.everything)
            if matches(query.search, f"{row.name} {row.host}")
        ]
        if query.sort:

            def key(item: tuple[WorkerRow, str]) -> Any:
                row, state = item
                return {
                    "state": state, "heartbeat": self._age(row), "per_minute": row.per_minute,
                }.get(query.sort, getattr(row, query.sort, row.name))  # fmt: skip

            rows.sort(key=key, reverse=query.descending)
        return Page(rows[: query.limit] if query.limit else [], len(rows))

    def _age(self, row: WorkerRow) -> float:
        return (self.now - (row.heartbeat_at or row.started_at)).total_seconds()

    def row_cells(self, item: tuple[WorkerRow, str]) -> tuple[str, tuple[Any, ...]]:
        row, state = item
        return str(row.id), (
            shown(row.name),  # names and hosts as given: never acting on the terminal
            shown(row.host),
            state,
            ago(self._age(row)),
            number(row.running),
            number(row.per_minute, 1),
            ", ".join(row.types) if row.types else "all",
            shown(row.docker_host) if row.docker_host else NONE,
        )

    def action_everything(self) -> None:
        self.everything = not self.everything
        self.notify("Stopped workers shown" if self.everything else "Only live workers")
        self.reload()
