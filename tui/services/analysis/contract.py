"""The contract between the analysis service and the runners of each analysis type.

runner.py (the service) calls a `Runner` with an `AnalysisContext` and a `TaskRef`, and
stores the `Outcome` it returns; the runners (kinds.py, ai_review.py, zap.py) import only
this module, not the service, so neither side imports the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui.db.models import AnalysisStatus, AnalysisType
from tui.services.analysis.findings import Finding

if TYPE_CHECKING:
    from tui.config import Settings
    from tui.db import Database
    from tui.services.container_logs import ActionLog
    from tui.services.containers import ContainerService


@dataclass(frozen=True)
class TaskRef:
    """What a runner needs of one task and its app."""

    id: int
    task_id: str
    task_type: AnalysisType
    application_id: int
    model_slug: str
    app_number: int
    source_path: Path | None
    content_hash: str | None
    config: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.model_slug} app {self.app_number} {self.task_type}"


@dataclass(frozen=True)
class NewAnalysis:
    """An analysis to store as pending: which app, which type, with what options."""

    model_slug: str
    app_number: int
    type: AnalysisType
    config: dict[str, Any]
    cache_key: str | None = None
    content_hash: str | None = None
    """The app's content when the analysis was asked for (default: the last scan's)."""


@dataclass
class Outcome:
    """What a runner hands back; the service stores it."""

    status: AnalysisStatus = AnalysisStatus.COMPLETED
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    tools: dict[str, dict[str, Any]] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    typed_row: Callable[[TaskRef, Outcome, float], Any] | None = None
    """Builds the typed result row (SecurityAnalysis, PerformanceTest, ...) for the task."""


@dataclass(frozen=True)
class TaskResult:
    task_id: str
    label: str
    status: AnalysisStatus
    error: str | None
    summary: dict[str, Any]
    results_path: str | None


class AnalysisContext(Protocol):
    """What a runner may use of the service that runs it (runner.AnalysisService)."""

    settings: Settings

    @property
    def db(self) -> Database: ...

    @property
    def containers(self) -> ContainerService: ...


Runner = Callable[["AnalysisContext", TaskRef, "ActionLog"], Awaitable[Outcome]]
"""An analysis type's runner: one task of one app, its outcome for the service to store."""
