"""What each analysis type contributes to a comparison of models: its headline metrics.

Every type of the registry (registry.py) has its entry here, read from the summary its runner
stores on the analysis row, so reports (tui/services/reports) list a type added later
without being edited. Kept apart from the registry so reports load neither pydantic nor an
analyzer. tests/test_reports.py checks that every registered type has headlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tui.db.tables import AnalysisType

Better = Literal["lower", "higher"]
Reading = Literal["number", "share", "passed"]
"""How an app's analysis is read: its summary field as a number; its `m/n` field as the
share m/n; or 1 when the analysis completed and 0 when it failed (the smoke test: a failure
is the result, the app is not deployable)."""


@dataclass(frozen=True)
class Headline:
    type: AnalysisType
    name: str
    """Short and unique within the type: the metric is `<type>.<name>`."""
    label: str
    field: str
    """The key of the analysis summary it is read from."""
    better: Better
    reading: Reading = "number"
    per_kloc: bool = False
    """Also reported per 1,000 lines of the app's code (findings grow with the code)."""
    unit: str = ""
    failed_reads: bool = False
    """A failed analysis of the type is read too, through its summary: the functional test
    of an app that did not start stores 0 passed (one failed for a reason of ours stores
    no summary, and stays no value)."""

    @property
    def key(self) -> str:
        return f"{self.type}.{self.name}"


def _severities(kind: AnalysisType, noun: str) -> tuple[Headline, ...]:
    return (
        Headline(kind, "findings", f"{noun} findings", "total_findings", "lower", per_kloc=True),
        Headline(kind, "critical", f"{noun} critical", "critical", "lower"),
        Headline(kind, "high", f"{noun} high", "high", "lower"),
        Headline(kind, "medium", f"{noun} medium", "medium", "lower"),
        Headline(kind, "low", f"{noun} low", "low", "lower"),
    )


HEADLINES: dict[AnalysisType, tuple[Headline, ...]] = {
    AnalysisType.SECURITY: _severities(AnalysisType.SECURITY, "Security"),
    AnalysisType.QUALITY: (
        Headline(
            AnalysisType.QUALITY, "findings", "Quality issues", "total_findings", "lower",
            per_kloc=True,
        ),
    ),
    AnalysisType.SMOKE: (
        Headline(AnalysisType.SMOKE, "deployable", "Deployable", "healthy", "higher", "passed"),
    ),
    AnalysisType.PERFORMANCE: (
        Headline(AnalysisType.PERFORMANCE, "rps", "Requests/s", "requests_per_second", "higher",
                 unit="req/s"),
        Headline(AnalysisType.PERFORMANCE, "p95", "p95 latency", "p95_ms", "lower", unit="ms"),
        Headline(AnalysisType.PERFORMANCE, "errors", "Error rate", "error_rate", "lower"),
    ),
    AnalysisType.ZAP: (
        Headline(AnalysisType.ZAP, "alerts", "Scan alerts", "total_findings", "lower"),
        Headline(AnalysisType.ZAP, "high", "Scan alerts high", "high", "lower"),
        Headline(AnalysisType.ZAP, "medium", "Scan alerts medium", "medium", "lower"),
    ),
    AnalysisType.GENERATION: (
        Headline(AnalysisType.GENERATION, "attempts", "Generation requests", "attempts",
                 "lower"),
    ),
    AnalysisType.FUNCTIONAL: (
        Headline(AnalysisType.FUNCTIONAL, "passed", "Endpoints passed", "endpoints_passed",
                 "higher", "share", failed_reads=True),
    ),
    AnalysisType.AI_REVIEW: (
        Headline(AnalysisType.AI_REVIEW, "score", "Review score", "score", "higher"),
        Headline(AnalysisType.AI_REVIEW, "requirements", "Requirements met",
                 "requirements_met", "higher", "share"),
    ),
}  # fmt: skip
"""Each type's headline metrics, in the order reports show them."""


def headlines(types: tuple[AnalysisType, ...] | None = None) -> list[Headline]:
    """The headlines of `types` (all types when None), in the order of HEADLINES."""
    wanted = set(HEADLINES) if types is None else set(types)
    return [h for kind, entries in HEADLINES.items() if kind in wanted for h in entries]


def failure_counts(kind: AnalysisType) -> bool:
    """Whether a failed analysis of `kind` is a result (read as 0, or through its summary),
    not a missing one."""
    return any(h.reading == "passed" or h.failed_reads for h in HEADLINES.get(kind, ()))


def read(headline: Headline, raw: object, completed: bool = True) -> float | None:
    """The value of one app's analysis as the headline reads it; None when its field is
    absent or not of its shape (an older summary, a skipped tool)."""
    if headline.reading == "passed":
        return 1.0 if completed else 0.0
    if raw is None or isinstance(raw, bool):
        return None
    if headline.reading == "number":
        return float(raw) if isinstance(raw, int | float) else None
    if not isinstance(raw, str) or raw.count("/") != 1:
        return None
    done, _, total = raw.partition("/")
    if not (done.strip().isdigit() and total.strip().isdigit()) or int(total) == 0:
        return None
    return int(done) / int(total)
