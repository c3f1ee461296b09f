"""What the screens need from the app that shows them: a small interface, not the App.

The screens are typed against this Protocol instead of `tui.app.ThesisApp`, so they do not
import the module that imports them (no import circle, not even one for type checking).
ThesisApp provides all of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.db import Database
    from tui.services.containers import ContainerService


class Host(Protocol):
    settings: Settings
    follow_next: str | None

    @property
    def db(self) -> Database: ...

    @property
    def containers(self) -> ContainerService: ...

    def new_analyses(self, apps: list[tuple[str, int]]) -> None: ...

    def sync_docker(self) -> object: ...

    def run_jobs(self) -> None: ...

    def start_analyses(self, job_id: int, count: int) -> None: ...
