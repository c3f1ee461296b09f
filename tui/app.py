"""ThesisApp: the Textual application — screens registry, global keys, command palette.

The first frame comes before the heavy work: screens are imported when first shown, and
the database (SQLAlchemy, the schema check, reconciling dead processes' work) opens in a
thread after the first paint; a table's first load waits for it. Docker and the analyzers
are imported when first used.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import signal
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from tui.config import Settings
from tui.errors import DatabaseError, DockerUnavailableError, ThesisError
from tui.paths import stylesheet_path
from tui.screens.base import TableScreen
from tui.screens.help import HelpScreen
from tui.secrets import redact
from tui.widgets.confirm import ConfirmModal
from tui.widgets.keys import active_actions, key_display
from tui.widgets.nav_bar import SCREENS, NavBar
from tui.widgets.theme import THEMES, VARIABLES, pick_theme

if TYPE_CHECKING:
    from tui.db import Database
    from tui.jobs.engine import Engine, TaskEnded
    from tui.services.container_status import StatusSync
    from tui.services.containers import ContainerService

PRELOAD = (
    "tui.screens.models",
    "tui.screens.applications",
    "tui.screens.analyses",
    "tui.screens.ports",
    "tui.screens.batch",
    "tui.services.model_listing",
    "tui.services.apps",
    "tui.services.analyses",
    "tui.services.ports",
    "tui.services.batches",
)
"""What the other screens need to list their rows: imported in a thread once the first
rows are on screen, so the first switch to another screen does not wait for imports."""
WARM_STEP = 0.15
"""Seconds between making one screen and the next in the idle time after the first rows."""

SCREEN_CLASSES = {
    "dashboard": "tui.screens.dashboard:DashboardScreen",
    "models": "tui.screens.models:ModelsScreen",
    "applications": "tui.screens.applications:ApplicationsScreen",
    "ports": "tui.screens.ports:PortsScreen",
    "analyses": "tui.screens.analyses:AnalysesScreen",
    "batch": "tui.screens.batch:BatchJobsScreen",
    "reports": "tui.screens.reports:ReportsScreen",
}
"""Each screen's class, imported when the screen is first shown."""

DATABASE_WAIT = 120.0
"""Seconds a table's load waits for the database to open (a PostgreSQL server far away)."""


def _new_screen(mode: str) -> Screen:
    module, _, name = SCREEN_CLASSES[mode].partition(":")
    screen: Screen = getattr(importlib.import_module(module), name)()
    return screen


# (mode, key, title, description) — the one list the keys, the palette and help share.
# The palette's title and description for each screen of the nav bar.
TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

PALETTE = {
    "dashboard": ("Dashboard", "The lab's pulse: apps, analyses, findings, jobs, failures"),
    "models": ("Models", "The model catalogue"),
    "applications": ("Applications", "Generated apps, their status and ports"),
    "ports": ("Ports", "Host port allocations"),
    "analyses": ("Analyses", "Every analysis and its findings"),
    "batch": ("Batch jobs", "Batches of analyses and their progress"),
    "reports": ("Reports", "The models compared, with 95 % intervals"),
}


class ThesisApp(App[None]):
    """The TUI, on an open database or on a function that opens it (called in a thread
    after the first paint), with the settings in force."""

    TITLE = "ThesisApp"
    CSS_PATH = str(stylesheet_path())
    MODES = {mode: partial(_new_screen, mode) for mode in SCREEN_CLASSES}
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    """Screens get `-short` under 30 rows (80x24, 60x20): panes give rows to tables."""
    BINDINGS = [
        *(
            # The nav bar shows these keys, so the footer need not.
            Binding(key, f"show('{mode}')", label, show=False)
            for mode, key, label in SCREENS
        ),
        Binding("dollar_sign", "usage", "Usage", show=False),
        Binding("T", "templates", "Templates", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        db: Database | Callable[[], Database],
        settings: Settings,
        *,
        start: str = "dashboard",
        watch_docker: bool = True,
        resume_jobs: bool = False,
        warm_screens: bool = False,
    ) -> None:
        super().__init__()
        self._open: Callable[[], Database] | None = db if callable(db) else None
        self._db: Database | None = None if callable(db) else db
        self._db_error: str | None = None
        self._db_ready = threading.Event()
        if self._open is None:
            self._db_ready.set()
        self.fatal_error: str | None = None
        """Why the TUI had to stop (the database would not open): the CLI prints it."""
        self.settings = settings
        self.start_mode = start
        self._containers: ContainerService | None = None
        self._status: StatusSync | None = None
        self._preloaded = False
        self.watch_docker = watch_docker
        self.docker_problem: str | None = None
        """Why Docker cannot be used right now (shown in the nav bar), or None."""
        self.follow_job: int | None = None
        """An "analyse now" job just started, whose first analysis the Analyses screen
        follows once it is stored."""
        self.follow_next: str | None = None
        """An analysis just started, whose log the Analyses screen shows when it is next seen."""
        self.resume_jobs = resume_jobs
        """Once the database is open, run jobs left with pending tasks and no runner (a
        runner killed mid-job, a job created headless and never run)."""
        self.warm_screens = warm_screens
        """Make the other screens in the idle time after the first rows (`thesis` does; the
        tests mostly do not, as each of their apps lives a few seconds)."""
        self.job_engine: Engine | None = None
        """The batch engine running jobs in this TUI, while it runs."""
        self._jobs_again = False
        # Over SSH, animations only cost bandwidth and latency.
        self.animation_level = "none"
        for theme in THEMES.values():
            self.register_theme(theme)
        self.theme = pick_theme(settings.theme, self.console.color_system)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification, always in plain text (screens' `self.notify` comes here too, with
        Textual's markup=True): messages quote names, paths and input from outside, e.g. an
        app folder called `[/]`, which as markup would fail to render and stop the TUI."""
        del markup  # none of ours is markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return VARIABLES

    # --- the database, opened after the first paint --------------------------------------

    @property
    def db(self) -> Database:
        """The open database; waits (in a worker thread) while it is still opening."""
        if not self._db_ready.wait(DATABASE_WAIT):
            raise DatabaseError("The database is still opening; try again in a moment.")
        if self._db is None:
            raise DatabaseError(self._db_error or "The database could not be opened.")
        return self._db

    @property
    def containers(self) -> ContainerService:
        """Docker, for the apps' containers: the SDK is imported on first use."""
        if self._containers is None:
            db = self.db  # first: Docker's SDK is not imported while the first rows load
            from tui.services.containers import ContainerService

            self._containers = ContainerService(db, self.settings)
        return self._containers

    @work(thread=True, exclusive=True, exit_on_error=False, group="open-database")
    def _open_database(self) -> None:
        if self._open is None:
            return
        try:
            self._db = self._open()
        except ThesisError as exc:
            self._db_error = exc.msg
        except Exception as exc:  # a bug of ours: still one line, and the TUI stops
            self._db_error = redact(f"Cannot open the database: {type(exc).__name__}: {exc}")
        finally:
            self._db_ready.set()
        if self._db is None:
            self.fatal_error = self._db_error
            self.call_from_thread(self.exit, None, 1)
            return
        if self.resume_jobs:
            from tui.services.batches import orphaned_jobs

            with contextlib.suppress(ThesisError):
                orphans = orphaned_jobs(self._db)
                if orphans:
                    names = ", ".join(map(str, orphans[:5]))
                    self.call_from_thread(
                        self.notify,
                        f"Resuming job {names}: pending tasks and no runner; 5 shows them",
                        title="Batch jobs",
                    )
                    self.call_from_thread(self.run_jobs)

    def on_table_screen_rows_loaded(self) -> None:
        if not self._preloaded:
            self._preloaded = True
            self.call_after_refresh(self._preload)

    @work(thread=True, exit_on_error=False, group="preload")
    def _preload(self) -> None:
        for module in PRELOAD:
            importlib.import_module(module)
        if self.warm_screens:
            self.call_from_thread(self._warm_next_mode)

    @property
    def screens_made(self) -> list[str]:
        """The screens of the nav bar made so far (visited, or warmed)."""
        made = getattr(self, "_screen_stacks", {})
        return [mode for mode in SCREEN_CLASSES if made.get(mode)]

    def _warm_next_mode(self) -> None:
        """Make the next screen of the nav bar not yet made, then the next, a little apart.

        The first switch to a screen makes it: its widgets, their CSS added to the
        stylesheet (which Textual then parses again, whole) and applied, its first rows
        loaded; about 200-300 ms of the event loop. Done here, in the idle time after the
        first rows, one screen per step so keys typed meanwhile wait at most one step, the
        first switch is as quick as any other. `_init_mode` is Textual's own first step of
        `switch_mode` (Textual is pinned exactly in pyproject.toml).
        """
        init_mode = getattr(self, "_init_mode", None)
        quitting = getattr(self, "_exit", False) or self._closing
        internals = init_mode is not None and hasattr(self, "_screen_stacks")
        if not internals or not self.is_running or quitting:
            return
        made = self.screens_made
        for mode in SCREEN_CLASSES:
            if mode not in made:
                init_mode(mode)
                self.set_timer(WARM_STEP, self._warm_next_mode, name="warm screens")
                return

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        if self._open is not None:
            self.call_after_refresh(self._open_database)
        if self.watch_docker:
            self.call_after_refresh(self.sync_docker)
            self.set_interval(self.settings.refresh_interval, self.sync_docker, name="docker")
        # A closed SSH session (SIGHUP) or a kill (SIGTERM) quits as a confirmed `q` does:
        # the running tools are killed and their analyses end `cancelled`, not `running`.
        loop = asyncio.get_running_loop()
        for number in TERMINATING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, self.exit)

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for number in TERMINATING_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(number)
        if self._containers is not None:
            self._containers.close()
        if self._status is not None:
            self._status.close()

    @work(thread=True, exclusive=True, exit_on_error=False, group="docker-sync")
    def sync_docker(self) -> None:
        """Every app's status from one Docker call; off the event loop, never in the way."""
        try:
            if self._status is None:
                from tui.services.container_status import StatusSync

                self._status = StatusSync(self.db, self.settings)
            # The listing is the engine's HTTP API over its socket: the Docker SDK is
            # imported only when a container action runs.
            busy = self._containers.busy() if self._containers is not None else set()
            report = self._status.sync(skip=busy)
        except DockerUnavailableError as exc:
            if self._status is not None:
                self._status.close()  # reconnect (and ping) on the next tick
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

    # --- analyses ---------------------------------------------------------------------------

    def new_analyses(self, apps: list[tuple[str, int]]) -> None:
        """Open the start form for `apps`; the job it stores runs here at once."""
        if self._exit:  # a key typed right after `q` (`q` then `n`) opens nothing
            return

        from tui.screens.analysis_form import AnalysisFormScreen

        def started(job: tuple[int, int] | None) -> None:
            if job:
                self.start_analyses(*job)

        self.push_screen(AnalysisFormScreen(apps), started)

    def start_analyses(self, job_id: int, count: int) -> None:
        """Run an "analyse now" job (stored by the form) here; the Analyses screen follows
        its first analysis once the engine has stored it."""
        self.follow_job = job_id
        self.notify(
            f"Started {count} {'analysis' if count == 1 else 'analyses'}"
            + (
                ""
                if self.current_mode == "analyses"
                else "; 4 shows it with its log"
                if count == 1
                else "; 4 shows them with their log"
            )
        )
        self.run_jobs()
        if isinstance(self.screen, TableScreen):
            self.screen.reload()

    def _analyses_stored(self, job_id: int, task_ids: list[str]) -> None:
        if job_id == self.follow_job and task_ids:
            self.follow_job = None
            self.follow_next = task_ids[0]
            if isinstance(self.screen, TableScreen):
                self.screen.reload()

    # --- batch jobs -------------------------------------------------------------------------

    def run_jobs(self) -> None:
        """Run the open jobs' tasks in this TUI, in a worker that goes on while the user
        switches screens, until no task is left to claim (asked again while it runs, it
        looks again before it stops)."""
        if self._exit:
            return
        if self.job_engine is not None:
            self._jobs_again = True
            return
        self._run_jobs()

    @work(exit_on_error=False, group="jobs")
    async def _run_jobs(self) -> None:
        from tui.jobs.engine import Engine

        try:
            while True:
                self._jobs_again = False
                self.job_engine = Engine(
                    self.db,
                    self.settings,
                    containers=self._containers,
                    on_event=self._task_ended,
                    on_started=self._analyses_stored,
                    role="TUI",
                )
                report = await self.job_engine.run()
                if not self._jobs_again:
                    break
        except ThesisError as exc:
            self.notify(exc.msg, title="Batch runner", severity="error", timeout=10)
            return
        finally:
            self.job_engine = None
        studies = [event for event in report.ended if not event.one_off]
        if studies:
            failed = sum(1 for event in studies if event.status == "failed")
            self.notify(
                f"Batch runner idle: {len(studies)} batch tasks ended here"
                + (f", {failed} failed" if failed else ""),
                title="Batch jobs",
                severity="warning" if failed else "information",
            )
        self._refresh_jobs()

    def _task_ended(self, event: TaskEnded) -> None:
        if event.one_off:  # an "analyse now": how it went, as it ends
            self.notify(
                f"{event.label} {event.status}: {event.detail}",
                severity="information" if event.status == "completed" else "error",
                timeout=10,
            )
        elif event.status == "failed":
            self.notify(f"Job {event.job_id}: {event.label} failed: {event.detail}",
                        severity="warning", timeout=6)  # fmt: skip
        self._refresh_jobs()

    def _refresh_jobs(self) -> None:
        if self.current_mode in ("batch", "analyses") and isinstance(self.screen, TableScreen):
            self.screen.reload()

    async def action_quit(self) -> None:
        """Quit; when work of this TUI still runs, first say what quitting does to it."""
        held = self.job_engine.held_tasks() if self.job_engine else []
        analyses = sum(1 for task in held if task.one_off)
        batch = len(held) - analyses
        if not held:
            self.exit()
            return
        if analyses:
            title = f"Quit and cancel {analyses} {'analysis' if analyses == 1 else 'analyses'}?"
            body = (
                "They run inside this TUI: quitting kills their tools and marks them "
                "cancelled. For long runs use a batch job (thesis batch run) instead."
            )
        else:
            title = f"Quit and stop {batch} batch {'task' if batch == 1 else 'tasks'}?"
            body = (
                "They run inside this TUI: quitting kills their tools and queues them "
                "again; `thesis batch run` (or this TUI, next time) goes on with them."
            )

        def answer(confirmed: bool | None) -> None:
            if confirmed:
                self.exit()

        self.push_screen(ConfirmModal(title, body, confirm_label="Quit"), answer)

    def action_show(self, mode: str) -> None:
        """A screen's key: its screen; pressed on it (or on a drill-down opened from it), back
        to its top."""
        if self.current_mode != mode:
            self.switch_mode(mode)
            return
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen):
            self.pop_screen()

    def action_usage(self) -> None:
        """$: what the LLM calls cost, by model, kind of call and day."""
        from tui.screens.usage import UsageScreen

        if not isinstance(self.screen, UsageScreen):
            self.push_screen(UsageScreen())

    def action_workers(self) -> None:
        """W on the Batch screen: the workers running tasks, on any machine."""
        from tui.screens.workers import WorkersScreen

        if not isinstance(self.screen, WorkersScreen):
            self.push_screen(WorkersScreen())

    def action_templates(self) -> None:
        """T: the app templates in force."""
        from tui.screens.templates import TemplatesScreen

        if not isinstance(self.screen, TemplatesScreen):
            self.push_screen(TemplatesScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(type(self.screen)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # First what the screen under the palette can do, each with its key.
        seen: set[str] = set()
        for node, binding in active_actions(screen):
            if binding.action in seen or isinstance(node, App):
                continue  # the screens, help and quit come below
            if not binding.show and not binding.tooltip:
                continue  # movement keys (j, k): not commands
            seen.add(binding.action)
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} (key {key_display(binding)})",
                partial(self._run_from_palette, binding.action, node),
            )
        for mode, key, _ in SCREENS:
            title, description = PALETTE[mode]
            yield SystemCommand(
                f"Show {title}",
                f"{description} (key {key})",
                lambda mode=mode: self.switch_mode(mode),
            )
        yield SystemCommand(
            "Show Usage & cost", "LLM calls, tokens and USD by model, kind and day (key $)",
            self.action_usage,
        )  # fmt: skip
        yield SystemCommand(
            "Show Templates", "The app templates a study generates its apps from (key T)",
            self.action_templates,
        )  # fmt: skip
        yield SystemCommand(
            "Show Workers", "The workers running tasks, on any machine (key W on Batch)",
            self.action_workers,
        )  # fmt: skip
        yield SystemCommand("Help", "Every key of this screen (?)", self.action_help)
        yield from super().get_system_commands(screen)

    async def _run_from_palette(self, action: str, node: DOMNode) -> None:
        await self.run_action(action, node)
