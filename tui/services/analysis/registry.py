"""The analysis types: one entry each, the one list every part of ThesisApp reads.

An entry says what a type is called, how its options are parsed (options.py), whether it is
static (its tools read the source and one run of each tool serves every app of a run), which
resource bounds how many run at once (the batch engine's limits), whether a completed result
can be reused for unchanged content, and where its runner lives. The runner is named, not
imported, so listing the types (the CLI's help, the form) loads no analyzer.

Adding an analysis type is one module with its runner and one entry here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tui.db.models import AnalysisType
from tui.errors import ValidationError
from tui.services.analysis.options import (
    FunctionalOptions,
    NoOptions,
    Options,
    PerformanceOptions,
    QualityOptions,
    ReviewOptions,
    StaticOptions,
    ZapOptions,
    form_fields,
    parse_options,
)

if TYPE_CHECKING:
    from tui.services.analysis.contract import Runner

Resource = Literal["cpu", "app", "llm"]
"""What bounds a type's concurrency: the cores (static tools), apps up at once (types that
need the app running), or LLM calls."""


@dataclass(frozen=True)
class AnalysisKind:
    type: AnalysisType
    title: str
    options: type[Options]
    resource: Resource
    static: bool = False
    """Its tools read the source: one run per tool serves all the apps of a run."""
    cacheable: bool = False
    """A completed result stands for the same content, options and tool versions."""
    needs_app: bool = False
    """The app must be up (started first if it is not)."""
    runner: str | None = None
    """`module:function` of its Runner; None for static types (the shared scan runs them)."""
    check: str | None = None
    """`module:function(db, settings, options)` that refuses options only the database can
    judge (a reviewing model missing from the catalogue) before anything is stored."""

    @property
    def name(self) -> str:
        return str(self.type)

    def parse(self, raw: dict[str, Any] | None) -> Options:
        return parse_options(self.options, raw, self.name)

    def config(self, raw: dict[str, Any] | None) -> dict[str, Any]:
        """The options as stored in a task's config (JSON: tuples become lists)."""
        return self.parse(raw).model_dump(mode="json")

    def load_runner(self) -> Runner:
        if self.runner is None:
            raise ValueError(f"{self.name} is run by the shared static scan")
        return _resolve(self.runner)

    def run_check(self, db: Any, settings: Any, options: dict[str, Any]) -> None:
        if self.check is not None:
            _resolve(self.check)(db, settings, options)


def _resolve(reference: str) -> Callable[..., Any]:
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


_KINDS = "tui.services.analysis.kinds"
KINDS: dict[AnalysisType, AnalysisKind] = {
    kind.type: kind
    for kind in (
        AnalysisKind(
            AnalysisType.SECURITY,
            "Security (bandit, pylint, eslint, pip-audit, npm audit)",
            StaticOptions,
            "cpu",
            static=True,
            cacheable=True,
        ),
        AnalysisKind(
            AnalysisType.QUALITY,
            "Quality (pylint and eslint, quality rules)",
            QualityOptions,
            "cpu",
            static=True,
            cacheable=True,
        ),
        AnalysisKind(
            AnalysisType.PERFORMANCE,
            "Load test of the backend (locust)",
            PerformanceOptions,
            "app",
            needs_app=True,
            runner=f"{_KINDS}:run_performance",
        ),
        AnalysisKind(
            AnalysisType.ZAP,
            "Dynamic scan (ZAP, or wapiti without it)",
            ZapOptions,
            "app",
            needs_app=True,
            runner=f"{_KINDS}:run_zap",
        ),
        AnalysisKind(
            AnalysisType.AI_REVIEW,
            "AI review of the code against its requirements",
            ReviewOptions,
            "llm",
            cacheable=True,
            runner=f"{_KINDS}:run_ai_review",
            check="tui.services.analysis.ai_review:reviewing_model",
        ),
        AnalysisKind(
            AnalysisType.SMOKE,
            "Smoke test: the app's containers up and answering",
            NoOptions,
            "app",
            needs_app=True,
            runner=f"{_KINDS}:run_smoke",
        ),
        AnalysisKind(
            AnalysisType.GENERATION,
            "Generation of the app from its template (app N from template N, OpenRouter)",
            NoOptions,
            "llm",
            runner="tui.services.generation.task:run_generation",
        ),
        AnalysisKind(
            AnalysisType.FUNCTIONAL,
            "Functional test: the API's endpoints against the app's template",
            FunctionalOptions,
            "app",
            needs_app=True,
            runner="tui.services.analysis.functional:run_functional",
            check="tui.services.analysis.functional:check_template_option",
        ),
    )
}
"""Every type, in the order the form and the CLI list them."""

RUNNABLE: tuple[AnalysisType, ...] = tuple(KINDS)
ANALYSES: tuple[AnalysisType, ...] = tuple(t for t in KINDS if t != AnalysisType.GENERATION)
"""The types that analyse an app (not generation, which makes it): what the start forms
offer."""
RUN_ORDER: tuple[AnalysisType, ...] = (
    AnalysisType.GENERATION,
    AnalysisType.SECURITY,
    AnalysisType.QUALITY,
    AnalysisType.SMOKE,
    AnalysisType.FUNCTIONAL,
    AnalysisType.PERFORMANCE,
    AnalysisType.ZAP,
    AnalysisType.AI_REVIEW,
)
"""The order an app's analyses run in: the static ones, then while the app is up the smoke
test first (is it up at all?), the load test, the dynamic scan; the review needs no app."""
STATIC: tuple[AnalysisType, ...] = tuple(t for t, kind in KINDS.items() if kind.static)


FORM_OPTIONS: list[tuple[str, str, str]] = list(
    dict.fromkeys(field for kind in KINDS.values() for field in form_fields(kind.options))
)
"""(option, label, placeholder) of every type's text options, once each, as the start
forms show them; empty means the type's default."""


def kind_of(name: str | AnalysisType) -> AnalysisKind:
    try:
        return KINDS[AnalysisType(str(name).strip().lower())]
    except (ValueError, KeyError):
        raise ValidationError(
            f"Unknown analysis type {name!r}; choose from {', '.join(map(str, RUNNABLE))}"
        ) from None


def parse_types(value: str | list[str] | tuple[str, ...]) -> tuple[AnalysisType, ...]:
    """`security,quality` (or a list) as types in run order; refuses unknown or none."""
    names = value.split(",") if isinstance(value, str) else list(value)
    wanted = {str(name).strip().lower() for name in names if str(name).strip()}
    unknown = sorted(wanted - {str(kind) for kind in RUNNABLE})
    if unknown or not wanted:
        raise ValidationError(
            f"Unknown analysis type {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(str(kind) for kind in RUNNABLE)}"
        )
    return tuple(kind for kind in RUNNABLE if str(kind) in wanted)


def split_options(
    types: tuple[AnalysisType, ...], flat: dict[str, Any] | None
) -> dict[AnalysisType, dict[str, Any]]:
    """One flat set of options (the form's fields, the CLI's flags) as each type's own:
    an option goes to every chosen type whose schema has it; the rest are not any chosen
    type's and are dropped (a load-test user count means nothing to a security scan)."""
    flat = dict(flat or {})
    return {
        kind: {key: value for key, value in flat.items() if key in KINDS[kind].options.model_fields}
        for kind in types
    }


def task_configs(
    types: tuple[AnalysisType, ...], per_type: dict[AnalysisType, dict[str, Any]]
) -> dict[AnalysisType, dict[str, Any]]:
    """Each type's options parsed; the first refusal raises, before anything is stored."""
    return {kind: KINDS[kind].config(per_type.get(kind)) for kind in types}
