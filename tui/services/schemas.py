"""Validated shapes of what goes into and comes out of the model catalogue.

Seed 004's pattern: `ModelCreate` (what a new model needs), `ModelUpdate` (every field
optional, only the ones given change) and `ModelRead` (what services hand back — plain
data, never an ORM object bound to a closed session). The add / edit form, the CLI and the
OpenRouter sync all go through these, so a slug or price the form refuses cannot sneak in
through an import either.

Pydantic reports problems as a multi-line `ValidationError`; `parse_input` turns that into
`tui.errors.ValidationError` with one line that names the field, which is what the UI shows
in a notification and the CLI prints before exiting 1.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from tui.errors import ValidationError

SLUG_MAX_LENGTH = 200
_SLUG_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_OPENROUTER_ID_PATTERN = re.compile(r"[^\s/]+/\S+")
"""Both matched whole (`fullmatch`): `$` would let a trailing newline through."""


def check_slug(value: str) -> str:
    """A slug names a folder (`<apps_dir>/<slug>/app<N>/`), so it must be one safe path part.

    `/` would nest folders and `..` would climb out of the apps folder; both are refused
    with a message saying what to write instead.
    """
    if not value:
        raise ValueError("must not be empty")
    if len(value) > SLUG_MAX_LENGTH:
        raise ValueError(f"must be at most {SLUG_MAX_LENGTH} characters")
    if "/" in value:
        raise ValueError("must not contain '/' (write provider_model, e.g. openai_gpt-4o)")
    if ".." in value:
        raise ValueError("must not contain '..'")
    if not _SLUG_PATTERN.fullmatch(value):
        raise ValueError(
            "may contain only letters, digits, '.', '_' and '-', and must start with a "
            "letter or digit"
        )
    return value


def _check_openrouter_id(value: str | None) -> str | None:
    if value is not None and not _OPENROUTER_ID_PATTERN.fullmatch(value):
        raise ValueError("must look like provider/model, e.g. openai/gpt-4o")
    return value


def _printable(value: str) -> str:
    """Names are shown in a terminal and stored as text: no control characters (an escape
    sequence would act on the terminal; PostgreSQL refuses NUL)."""
    if not value.isprintable():
        raise ValueError("must not contain control characters")
    return value


Slug = Annotated[str, AfterValidator(check_slug)]
Provider = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_printable)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]
OpenRouterId = Annotated[str | None, Field(max_length=200), AfterValidator(_check_openrouter_id)]
# USD per 1M tokens, as the catalogue stores them (seed 000).
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# The columns are INTEGER: a bigger count would fail in PostgreSQL with a raw DataError.
Tokens = Annotated[int, Field(ge=1, le=2**31 - 1)]
Billions = Annotated[float, Field(gt=0, allow_inf_nan=False)]

# Fields the database stores as NOT NULL: an update may leave them out, never clear them.
_REQUIRED_ON_UPDATE = (
    "provider",
    "name",
    "model_name",
    "vision",
    "function_calling",
    "json_mode",
    "streaming",
    "is_free",
    "is_available",
)


class _Input(BaseModel):
    # Unknown keys are refused so a typo in a form field or import is not silently dropped.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ModelCreate(_Input):
    """A model to add by hand (the form) or from a sync entry."""

    slug: Slug
    provider: Provider
    name: Name
    model_name: Name | None = None
    """The model part of the slug (`claude-3.5-sonnet`); derived from the slug when left out."""
    model_id_openrouter: OpenRouterId = None
    parameters_billions: Billions | None = None
    context_length: Tokens | None = None
    max_output_tokens: Tokens | None = None
    price_prompt: Price | None = None
    price_completion: Price | None = None
    vision: bool = False
    function_calling: bool = False
    json_mode: bool = False
    streaming: bool = False
    is_free: bool | None = None
    """Left out: free when both prices are known and zero."""
    is_available: bool = True
    additional_capabilities: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _derive_defaults(self) -> ModelCreate:
        if self.model_name is None:
            self.model_name = self.slug.split("_", 1)[-1]
        if self.is_free is None:
            self.is_free = self.price_prompt == 0 and self.price_completion == 0
        return self


class ModelUpdate(_Input):
    """Changes to a model: only the fields given are written. The slug cannot change here,
    because app folders and results on disk are named after it."""

    provider: Provider | None = None
    name: Name | None = None
    model_name: Name | None = None
    model_id_openrouter: OpenRouterId = None
    parameters_billions: Billions | None = None
    context_length: Tokens | None = None
    max_output_tokens: Tokens | None = None
    price_prompt: Price | None = None
    price_completion: Price | None = None
    vision: bool | None = None
    function_calling: bool | None = None
    json_mode: bool | None = None
    streaming: bool | None = None
    is_free: bool | None = None
    is_available: bool | None = None
    additional_capabilities: dict[str, Any] | None = None

    @field_validator(*_REQUIRED_ON_UPDATE)
    @classmethod
    def _not_cleared(cls, value: Any) -> Any:
        # Runs only for fields actually given: leaving one out keeps the stored value.
        if value is None:
            raise ValueError("cannot be empty")
        return value


class ModelRead(BaseModel):
    """One model as the UI and CLI see it, with its number of generated apps."""

    model_config = ConfigDict(frozen=True)

    id: int
    slug: str
    model_id: str
    provider: str
    name: str
    model_name: str
    model_id_openrouter: str | None
    parameters_billions: float | None
    context_length: int | None
    max_output_tokens: int | None
    price_prompt: float | None
    price_completion: float | None
    vision: bool
    function_calling: bool
    json_mode: bool
    streaming: bool
    is_free: bool
    is_available: bool
    cost_efficiency: float | None
    safety_score: float | None
    additional_capabilities: dict[str, Any] | None
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    app_count: int = 0


Schema = TypeVar("Schema", bound=BaseModel)


_PLAIN = {
    "missing": "is required",
    "string_too_short": "is required",
    "float_parsing": "must be a number",
    "int_parsing": "must be a whole number",
}
"""Pydantic's wording for the commonest problems, as a person filling a form reads them."""


def describe_errors(exc: PydanticValidationError) -> str:
    """Pydantic's errors as `field: problem; field: problem` on one line."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        plain = _PLAIN.get(str(error.get("type")))
        if plain and field:
            problems.append(f"{field} {plain}")
            continue
        message = " ".join(message.split())
        problems.append(f"{field}: {message}" if field else message)
    return "; ".join(problems)


def parse_input(schema: type[Schema], data: Schema | Mapping[str, Any], what: str) -> Schema:
    """`data` as a validated `schema`; a problem raises ValidationError naming the field."""
    if isinstance(data, schema):
        return data
    if not isinstance(data, Mapping):
        raise ValidationError(f"Invalid {what}: expected fields, got {type(data).__name__}")
    try:
        return schema.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise ValidationError(f"Invalid {what}: {describe_errors(exc)}") from None
