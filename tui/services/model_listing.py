"""The model catalogue as a table: one query for the Models screen and `thesis models list`.

Apart from catalog.py (the forms, sync and their schemas) so that the first screen loads
without pydantic, the OpenRouter client or YAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tui.db import Database
from tui.db.tables import generated_applications, model_capabilities
from tui.services.common import DEFAULT_LIMIT, Page, apply_sort, count_and_page, search_clause


@dataclass(frozen=True)
class ModelRow:
    id: int
    slug: str
    provider: str
    name: str
    parameters_billions: float | None
    context_length: int | None
    price_prompt: float | None
    price_completion: float | None
    vision: bool
    function_calling: bool
    json_mode: bool
    streaming: bool
    is_free: bool
    is_available: bool
    app_count: int
    model_id_openrouter: str | None = None
    max_output_tokens: int | None = None
    last_synced_at: datetime | None = None


# Public field name -> ModelCapability column, where they differ (the rest are the same).
COLUMN_OF = {
    "slug": "canonical_slug",
    "name": "display_name",
    "price_prompt": "pricing_prompt",
    "price_completion": "pricing_completion",
    "vision": "supports_vision",
    "function_calling": "supports_function_calling",
    "json_mode": "supports_json_mode",
    "streaming": "supports_streaming",
}


def public_fields(model: Any, names: Iterable[str]) -> dict[str, Any]:
    """The model's columns (a ModelCapability, or a row of its table) under the names
    ModelRow / ModelRead use."""
    return {name: getattr(model, COLUMN_OF.get(name, name)) for name in names}


def list_models(
    db: Database,
    *,
    search: str | None = None,
    sort: str | None = None,
    descending: bool = False,
    limit: int | None = DEFAULT_LIMIT,
    count: bool = True,
) -> Page[ModelRow]:
    """Models with their number of apps, by provider then slug unless sorted (`limit=None`:
    all)."""
    g = generated_applications.c
    apps = select(g.model_slug, func.count().label("n")).group_by(g.model_slug).subquery()
    m = model_capabilities.c
    statement = (
        select(model_capabilities, func.coalesce(apps.c.n, 0).label("app_count"))
        .outerjoin(apps, apps.c.model_slug == m.canonical_slug)
        .order_by(m.provider, m.canonical_slug)
    )
    statement = apply_sort(
        statement,
        sort,
        descending,
        {
            "slug": m.canonical_slug,
            "provider": m.provider,
            "name": m.display_name,
            "params": m.parameters_billions,
            "context": m.context_length,
            "in": m.pricing_prompt,
            "out": m.pricing_completion,
            "apps": func.coalesce(apps.c.n, 0),
        },
        tiebreak=[m.canonical_slug],
    )
    where = search_clause(search, [m.canonical_slug, m.provider, m.display_name])
    if where is not None:
        statement = statement.where(where)
    with db.read() as connection:
        rows, total = count_and_page(connection, statement, limit, count)
    return Page(
        [ModelRow(**public_fields(row, _ROW_FIELDS), app_count=row.app_count) for row in rows],
        total,
    )


# The fields ModelRow takes from a ModelCapability (app_count is counted).
_ROW_FIELDS = [field.name for field in fields(ModelRow) if field.name != "app_count"]
