"""ThesisApp: the Textual application — screens registry, global keys, command palette."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tui.config import Settings
from tui.db import Database
from tui.errors import DockerUnavailableError, ThesisError
from tui.paths import stylesheet_path
from tui.screens.analyses import AnalysesScreen
from tui.screens.applications import ApplicationsScreen
from tui.screens.batch import BatchJobsScreen
from tui.screens.help import HelpScreen
from tui.screens.models import ModelsScreen
from tui.screens.ports import PortsScreen
from tui.services.containers import ContainerService
from tui.widgets.nav_bar import SCREENS, NavBar

# (mode, key, title, description) — the one list the keys, the palette and help share.
# The palette's title and description for each screen of the nav bar.
PALETTE = {
    "models": ("Models", "The model catalogue"),
    "applications": ("Applications", "Generated apps, their status and ports"),
    "ports": ("Ports", "Host port allocations"),
    "analyses": ("Analyses", "Every analysis and its findings"),
    "batch": ("Batch jobs", "Batches of analyses and their progress"),
}


class ThesisApp(App[None]):
    """The TUI. It is handed an open, migrated database and the settings in force."""

    TITLE = "ThesisApp"
    CSS_PATH = str(stylesheet_path())
    MODES = {
        "models": ModelsScreen,
        "applications": ApplicationsScreen,
        "ports": PortsScreen,
        "analyses": AnalysesScreen,
        "batch": BatchJobsScreen,
    }
    BINDINGS = [
        *(
            # The nav bar shows these keys, so the footer need not.
            Binding(key, f"switch_mode('{mode}')", label, show=False)
            for mode, key, label in SCREENS
        ),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        start: str = "models",
        watch_docker: bool = True,
    ) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.start_mode = start
        self.containers = ContainerService(db, settings)
        self.watch_docker = watch_docker
        self.docker_problem: str | None = None
        """Why Docker cannot be used right now (shown in the nav bar), or None."""
        # Over SSH, animations only cost bandwidth and latency.
        self.animation_level = "none"

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        if self.watch_docker:
            self.sync_docker()
            self.set_interval(self.settings.refresh_interval, self.sync_docker, name="docker")

    def on_unmount(self) -> None:
        self.containers.close()

    @work(thread=True, exclusive=True, exit_on_error=False, group="docker-sync")
    def sync_docker(self) -> None:
        """Every app's status from one Docker call; off the event loop, never in the way."""
        try:
            report = self.containers.sync_status()
        except DockerUnavailableError as exc:
            self.containers.close()  # reconnect on the next tick
            self.call_from_thread(self._docker_state, exc.msg)
            return
        except ThesisError as exc:
            self.call_from_thread(self.notify, exc.msg, title=exc.title, severity="error")
            return
        self.call_from_thread(self._docker_state, None, report.changed > 0)

    def _docker_state(self, problem: str | None, changed: bool = False) -> None:
        if problem and self.docker_problem is None:
            self.notify(
                f"{problem} Container actions are off; everything else works.",
                title="Docker unavailable",
                severity="warning",
                timeout=10,
            )
        elif problem is None and self.docker_problem is not None:
            self.notify("Docker is available again.")
        if (problem is None) != (self.docker_problem is None):
            self.docker_problem = problem
            for bar in self.screen.query(NavBar):
                bar.refresh()
        if changed and self.screen.is_current and hasattr(self.screen, "reload"):
            self.screen.reload()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, key, _ in SCREENS:
            title, description = PALETTE[mode]
            yield SystemCommand(
                f"Show {title}",
                f"{description} (key {key})",
                lambda mode=mode: self.switch_mode(mode),
            )
        yield SystemCommand("Help", "Show the keys (?)", self.action_help)
        yield from super().get_system_commands(screen)
