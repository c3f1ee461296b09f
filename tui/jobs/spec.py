"""What a job is, as a user writes it: which models, which apps, which analyses, how urgent.

The form, `thesis batch create` and the TUI's "analyse now" all build a `JobSpec`; the planner
(planner.py) expands it into tasks. A spec is stored whole in the job's `config`, so a job
can be shown, extended and re-run as it was asked for.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from tui.db.models import AnalysisType, JobPriority
from tui.errors import ValidationError
from tui.services.analysis.registry import KINDS, parse_types
from tui.services.schemas import describe_errors

APP_NUMBERS = range(1, 31)
"""App numbers a study can name (the schema's 1-30)."""


def parse_app_range(text: str) -> tuple[int, ...]:
    """`1-30`, `1,3,5-7` or `all` as sorted app numbers; refuses numbers outside 1-30."""
    text = text.strip().lower()
    if text in ("", "all"):
        return tuple(APP_NUMBERS)
    numbers: set[int] = set()
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()) or len(part) > 11:
            raise ValidationError(f"“{part}” is not an app number or range (e.g. 1-30 or 1,3,5-7)")
        low, high = int(first), int(last or first)
        if not (low in APP_NUMBERS and high in APP_NUMBERS and low <= high):
            raise ValidationError(f"“{part}”: app numbers go from 1 to 30, ranges upwards")
        numbers.update(range(low, high + 1))
    if not numbers:
        raise ValidationError("Name at least one app number, e.g. 1-30")
    return tuple(sorted(numbers))


def format_app_range(numbers: tuple[int, ...] | list[int]) -> str:
    """The inverse of `parse_app_range`: `1-5,7`."""
    parts: list[str] = []
    ordered = sorted(set(numbers))
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[index], ordered[end]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index = end + 1
    return ",".join(parts)


class JobSpec(BaseModel):
    """A job as asked for. `models` empty means every model that has apps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    models: tuple[str, ...] = ()
    apps: tuple[int, ...] = tuple(APP_NUMBERS)
    types: tuple[AnalysisType, ...]
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Each type's options, parsed by its schema (registry.py)."""
    priority: JobPriority = JobPriority.NORMAL
    force: bool = False
    """Run even where an earlier analysis of the same content could be reused."""
    max_attempts: int = Field(3, ge=1, le=20)
    """Runs of a task whose runner died before it is failed instead of re-queued."""
    explicit: tuple[tuple[str, int], ...] = ()
    """Exact (model, app) pairs instead of models x apps (the TUI's "analyse now")."""
    max_cost: float | None = Field(None, gt=0, le=1_000_000)
    """USD: once the job's model calls (every attempt's; generation, AI review) have cost
    this much, its pending tasks are skipped instead of claimed (the running ones finish)."""

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value or not value.isprintable():
            raise ValueError("must be printable text")
        return value

    @classmethod
    def build(
        cls,
        *,
        name: str,
        types: str | list[str] | tuple[str, ...],
        models: str | list[str] | tuple[str, ...] = "all",
        apps: str | tuple[int, ...] = "1-30",
        options: dict[str, Any] | None = None,
        priority: str = "normal",
        force: bool = False,
        explicit: list[tuple[str, int]] | None = None,
        max_cost: float | None = None,
    ) -> JobSpec:
        """A spec from what a user typed; each type's options checked by its schema. `options`
        is one flat set (the CLI's flags), given to each type whose schema has the name, or
        a {type: options} mapping. Raises ValidationError with one line."""
        chosen = parse_types(types)
        if isinstance(models, str):
            listed = [] if models.strip().lower() in ("", "all") else models.split(",")
            if (
                models.strip()
                and models.strip().lower() != "all"
                and not any(slug.strip() for slug in listed)
            ):
                raise ValidationError(
                    f"“{models}” names no model: write all, or slugs separated by commas"
                )
        else:
            listed = list(models)
        slugs = tuple(dict.fromkeys(slug.strip() for slug in listed if slug.strip()))
        for slug in slugs:
            if not slug.isprintable() or len(slug) > 200 or "/" in slug:
                raise ValidationError(f"“{slug}” is not a model slug")
        numbers = parse_app_range(apps) if isinstance(apps, str) else tuple(sorted(set(apps)))
        per_type = _per_type(chosen, options or {})
        try:
            level = JobPriority(priority.strip().lower())
        except ValueError:
            raise ValidationError(
                f"Unknown priority “{priority}”; choose from {', '.join(JobPriority.values())}"
            ) from None
        if not name or not " ".join(name.split()) or not name.isprintable() or len(name) > 200:
            raise ValidationError("A job needs a name of printable text, up to 200 characters")
        if max_cost is not None and not (math.isfinite(max_cost) and 0 < max_cost <= 1_000_000):
            raise ValidationError(
                f"The cost limit is a number of USD above 0, up to 1,000,000, not {max_cost}"
            )
        try:
            return cls(
                name=name,
                models=slugs,
                apps=numbers,
                types=chosen,
                options=per_type,
                priority=level,
                force=force,
                explicit=tuple(explicit or ()),
                max_cost=max_cost,
            )
        except PydanticValidationError as exc:  # what the checks above let through
            raise ValidationError(f"Invalid job: {describe_errors(exc)}") from None

    def config_of(self, kind: AnalysisType) -> dict[str, Any]:
        return self.options.get(str(kind)) or KINDS[kind].config(None)

    def describe(self) -> str:
        models = ", ".join(self.models) if self.models else "all models"
        if self.explicit:
            where = f"{len(self.explicit)} app{'s' if len(self.explicit) != 1 else ''}"
        else:
            where = f"{models} x apps {format_app_range(self.apps)}"
        return f"{where} x {', '.join(map(str, self.types))}"


def _per_type(
    types: tuple[AnalysisType, ...], options: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    if options and all(key in {str(t) for t in AnalysisType} for key in options):
        nested = {str(kind): options.get(str(kind)) or {} for kind in types}
        for key in options:
            if AnalysisType(key) not in types:
                raise ValidationError(f"Options for {key}, which the job does not run")
    else:
        nested = {
            str(kind): {
                key: value
                for key, value in options.items()
                if key in KINDS[kind].options.model_fields
            }
            for kind in types
        }
    return {str(kind): KINDS[kind].config(nested[str(kind)]) for kind in types}
