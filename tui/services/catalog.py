"""The model catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from tui.db import Database
from tui.db.models import GeneratedApplication, ModelCapability
from tui.services.common import DEFAULT_LIMIT, Page, count_and_page, search_clause


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


def list_models(
    db: Database, *, search: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[ModelRow]:
    """Models with their number of apps, by provider then slug."""
    apps = (
        select(GeneratedApplication.model_slug, func.count().label("n"))
        .group_by(GeneratedApplication.model_slug)
        .subquery()
    )
    m = ModelCapability
    statement = (
        select(m, func.coalesce(apps.c.n, 0))
        .outerjoin(apps, apps.c.model_slug == m.canonical_slug)
        .order_by(m.provider, m.canonical_slug)
    )
    where = search_clause(search, [m.canonical_slug, m.provider, m.display_name])
    if where is not None:
        statement = statement.where(where)
    with db.session() as session:
        rows, total = count_and_page(session, statement, limit)
        return Page(
            [
                ModelRow(
                    id=model.id,
                    slug=model.canonical_slug,
                    provider=model.provider,
                    name=model.display_name,
                    parameters_billions=model.parameters_billions,
                    context_length=model.context_length,
                    price_prompt=model.pricing_prompt,
                    price_completion=model.pricing_completion,
                    vision=model.supports_vision,
                    function_calling=model.supports_function_calling,
                    json_mode=model.supports_json_mode,
                    streaming=model.supports_streaming,
                    is_free=model.is_free,
                    is_available=model.is_available,
                    app_count=n,
                )
                for model, n in rows
            ],
            total,
        )
