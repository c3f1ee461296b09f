"""Each analysis type's options, as one typed schema.

The start form, `thesis analyze`, `thesis batch create`, `AnalysisService.create` and the job
planner all parse a type's options here, so a value is checked once, the same way, and what
is stored in a task's config is the schema's dump: every option spelled out, defaults
included (which is also what the content-hash cache compares).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from tui.errors import ValidationError

SECURITY_TOOLS = ("bandit", "pylint", "eslint", "pip-audit", "npm-audit")
"""Every security tool, in the order they are shown and run."""
QUALITY_TOOLS = ("pylint", "eslint")
"""The quality profile's tools (their quality configurations)."""


CLI_ONLY = {"form": False}
"""An option the start form does not show as a text field (tools are check boxes; long
requirements text and the spawn rate are for the command line and job specs)."""


class Options(BaseModel):
    """Options of one analysis type; unknown names are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    LABELS: ClassVar[dict[str, str]] = {}
    """What the form and the CLI call each option, for error messages."""


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class StaticOptions(Options):
    """Security and quality: which tools run (one shared run per tool over all the apps)."""

    tools: tuple[str, ...] = Field(SECURITY_TOOLS, json_schema_extra=CLI_ONLY)
    LABELS: ClassVar[dict[str, str]] = {"tools": "Security tools"}

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        names = _split(value)
        if names is None or names == []:
            return SECURITY_TOOLS
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise ValueError("must be a comma-separated list of tool names")
        wanted = {name.strip().lower() for name in names}
        unknown = sorted(wanted - set(SECURITY_TOOLS))
        if unknown:
            raise ValueError(
                f"has no {', '.join(unknown)}: choose from {', '.join(SECURITY_TOOLS)}"
            )
        return tuple(tool for tool in SECURITY_TOOLS if tool in wanted)


class QualityOptions(StaticOptions):
    """Quality runs its own profile of pylint and eslint; the tools are not a choice."""

    tools: tuple[str, ...] = Field(QUALITY_TOOLS, json_schema_extra=CLI_ONLY)

    @field_validator("tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> Any:
        return QUALITY_TOOLS


class PerformanceOptions(Options):
    """The load test: users, how fast they start, for how long, on which paths."""

    users: int = Field(10, ge=1, le=10_000, description="default 10")
    spawn_rate: float = Field(10.0, gt=0, le=10_000, json_schema_extra=CLI_ONLY)
    duration: int = Field(10, ge=1, le=86_400, description="default 10")
    endpoints: tuple[str, ...] = Field(("/",), description="default /  (comma-separated paths)")
    LABELS: ClassVar[dict[str, str]] = {
        "users": "Load users",
        "spawn_rate": "Spawn rate",
        "duration": "Load seconds",
        "endpoints": "Endpoints",
    }

    @field_validator("spawn_rate", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, not {value}")
        return value

    @field_validator("endpoints", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        paths = _split(value)
        if not paths:
            return ("/",)
        if not isinstance(paths, list | tuple) or not all(
            isinstance(p, str) and p.startswith("/") and p.isprintable() and len(p) <= 500
            for p in paths
        ):
            raise ValueError("must be paths starting with /")
        return tuple(paths)


class ZapOptions(Options):
    """The dynamic scan: baseline (spider and passive rules) or full (adds the active scan)."""

    zap_scan: Literal["baseline", "full"] = Field(
        "baseline", description="default baseline; full adds the active scan"
    )
    LABELS: ClassVar[dict[str, str]] = {"zap_scan": "Dynamic scan"}

    @field_validator("zap_scan", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class ReviewOptions(Options):
    """The AI review: the reviewing model (default THESIS_REVIEW_MODEL) and, optionally, the
    requirements to review against (default: the app's REQUIREMENTS.md or its metadata)."""

    model: str | None = Field(
        None,
        max_length=200,
        description="default THESIS_REVIEW_MODEL, e.g. openai/gpt-4o-mini",
    )
    requirements: str | None = Field(None, max_length=200_000, json_schema_extra=CLI_ONLY)
    LABELS: ClassVar[dict[str, str]] = {"model": "Review model", "requirements": "Requirements"}


class FunctionalOptions(Options):
    """The functional test: the template the app is checked against (default: the one it
    was generated from)."""

    template: str | None = Field(
        None,
        max_length=100,
        description="default: the template the app was generated from; a slug or number",
    )
    LABELS: ClassVar[dict[str, str]] = {"template": "Template"}


class NoOptions(Options):
    """A type without options (the smoke test)."""


def parse_options(schema: type[Options], raw: dict[str, Any] | None, kind: str) -> Options:
    """`raw` checked by `schema`; None values and empty strings mean the default. A refusal
    is one line naming the option as the user typed it."""
    given = {
        key: value
        for key, value in (raw or {}).items()
        if value is not None and not (isinstance(value, str) and not value.strip())
    }
    try:
        return schema.model_validate(given)
    except PydanticError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "extra_forbidden":
            raise ValidationError(f"{kind} has no option {field}") from None
        label = schema.LABELS.get(field, field.replace("_", " "))
        raise ValidationError(f"{kind}: {label} {_plain(error, schema, field)}") from None


def _plain(error: Any, schema: type[Options], field: str) -> str:
    """A pydantic error in the words of the form: what the value must be, and what it was."""
    given = error.get("input")
    shown = given if isinstance(given, str) else repr(given)
    kind = error["type"]
    limits = [getattr(m, name) for m in schema.model_fields[field].metadata
              for name in ("ge", "gt", "le") if getattr(m, name, None) is not None]  # fmt: skip
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"must be a whole number, not “{shown}”"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"must be a number, not “{shown}”"
    if kind.startswith(("greater_than", "less_than")) and len(limits) == 2:
        return f"must be from {limits[0]:g} to {limits[1]:g}, not {shown}"
    if kind == "literal_error":
        choices = str(error["msg"]).removeprefix("Input should be ").replace("'", "")
        return f"must be {choices}, not “{shown}”"
    return str(error["msg"]).removeprefix("Value error, ")


def form_fields(schema: type[Options]) -> list[tuple[str, str, str]]:
    """(name, label, placeholder) of the options the start form shows as text fields."""
    return [
        (name, schema.LABELS.get(name, name), field.description or "")
        for name, field in schema.model_fields.items()
        if not (
            isinstance(field.json_schema_extra, dict)
            and field.json_schema_extra.get("form") is False
        )
    ]
