"""What generating apps should cost, before anything is asked: per model, the tokens of
the prompts (counted from their text), the tokens of the answers (the model's own mean per
generated app when it has generated some, else a typical app's), at the catalogue's prices.
The form and `thesis generate --estimate` show it; the retries a study needs come on top.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from tui.db import Database
from tui.db.tables import model_capabilities, model_usage
from tui.services.generation.prompt import SYSTEM, backend_prompt, frontend_prompt
from tui.services.generation.templates import Loaded

CHARS_PER_TOKEN = 3.5
"""Characters of an English prompt with code per token, roughly, across tokenizers."""
TYPICAL_COMPLETION = 9_000
"""Completion tokens of a typical app (backend and frontend) when a model has no history."""


@dataclass(frozen=True)
class CostEstimate:
    model: str
    apps: int
    prompt_tokens: int
    completion_tokens: int
    usd: float | None
    """None when the catalogue has no price for the model."""
    basis: str
    """`its N apps` (the model's past generations) or `typical apps`."""


def estimate_cost(
    db: Database, models: Sequence[str], templates: Sequence[Loaded]
) -> list[CostEstimate]:
    """One estimate per model for generating every template once."""
    prompt = sum(
        _tokens(SYSTEM) * 2 + _tokens(backend_prompt(t.template))
        + _tokens(frontend_prompt(t.template, []))
        for t in templates
    )  # fmt: skip
    m, u = model_capabilities.c, model_usage.c
    with db.read() as connection:
        prices = {
            row.canonical_slug: row
            for row in connection.execute(
                select(m.canonical_slug, m.model_id, m.model_id_openrouter, m.pricing_prompt,
                       m.pricing_completion).where(m.canonical_slug.in_(list(models)))
            )
        }  # fmt: skip
        ids = {slug: row.model_id_openrouter or row.model_id for slug, row in prices.items()}
        history = {
            row.model_name: (int(row.completion or 0), int(row.apps or 0))
            for row in connection.execute(
                select(u.model_name, func.sum(u.completion_tokens).label("completion"),
                       func.count(func.distinct(u.application_id)).label("apps"))
                .where(u.purpose == "generation", u.model_name.in_(list(ids.values())))
                .group_by(u.model_name)
            )
        }  # fmt: skip
    found = []
    for slug in models:
        row = prices.get(slug)
        completion_total, apps = history.get(ids.get(slug, ""), (0, 0))
        per_app = completion_total // apps if apps else TYPICAL_COMPLETION
        completion = per_app * len(templates)
        usd = None
        if (
            row is not None
            and row.pricing_prompt is not None
            and row.pricing_completion is not None
        ):
            usd = (prompt * row.pricing_prompt + completion * row.pricing_completion) / 1e6
        basis = f"its {apps} apps" if apps else "typical apps"
        found.append(CostEstimate(slug, len(templates), prompt, completion, usd, basis))
    return found


def generating_models(db: Database) -> list[str]:
    """The catalogue's models that can be asked to generate (they have an OpenRouter id)."""
    m = model_capabilities.c
    with db.read() as connection:
        rows = connection.execute(
            select(m.canonical_slug, m.model_id, m.model_id_openrouter).order_by(m.canonical_slug)
        ).all()
    return [row.canonical_slug for row in rows if row.model_id_openrouter or "/" in row.model_id]


def _tokens(text: str) -> int:
    return round(len(text) / CHARS_PER_TOKEN)
