"""What the LLM calls cost: `model_usage` summed by model, by kind of call or by day.

Every call of ours to a model (an AI review; generation, when it lands) is a `model_usage`
row with its tokens and its cost in USD from the catalogue's prices. Summed in SQL, with
the total of all rows; one job's share is the calls of every attempt of its tasks
(`batches.job_calls`; not those of analyses it reused: another run paid for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Date, cast, func, select

from tui.db import Database
from tui.db.tables import model_usage
from tui.services.batches import job_calls, require_job

By = Literal["model", "kind", "day"]
BY: tuple[By, ...] = ("model", "kind", "day")


@dataclass(frozen=True)
class UsageRow:
    key: str
    """The model called, the kind of call (`review`, `generation`, …) or the day (UTC)."""
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    usd: float


def _key(db: Database, by: By) -> Any:
    u = model_usage.c
    if by == "model":
        return u.model_name
    if by == "kind":
        return func.coalesce(u.purpose, "unknown")
    if db.dialect == "postgresql":
        return cast(func.timezone("UTC", u.timestamp), Date)
    return func.date(u.timestamp)  # SQLite keeps UTC times as text: its date part


def usage(db: Database, by: By = "model", *, job_id: int | None = None) -> list[UsageRow]:
    """Calls, tokens and USD for each `by` value, largest cost first, then a `total` row."""
    if by not in BY:
        raise ValueError(f"by is one of {BY}")
    u = model_usage.c
    key = _key(db, by).label("key")
    sums = (
        func.count().label("calls"),
        func.coalesce(func.sum(u.prompt_tokens), 0).label("prompt"),
        func.coalesce(func.sum(u.completion_tokens), 0).label("completion"),
        func.coalesce(func.sum(u.total_tokens), 0).label("tokens"),
        func.coalesce(func.sum(u.cost), 0.0).label("usd"),
    )
    where = []
    with db.read() as connection:
        if job_id is not None:
            require_job(connection, job_id)
            where.append(job_calls(job_id))
        rows = connection.execute(
            select(key, *sums).where(*where).group_by(key).order_by(func.sum(u.cost).desc(), key)
        ).all()
        total = connection.execute(select(*sums).where(*where)).one()
    found = [
        UsageRow(str(row.key), row.calls, int(row.prompt), int(row.completion), int(row.tokens),
                 float(row.usd))
        for row in rows
    ]  # fmt: skip
    found.append(UsageRow("total", total.calls, int(total.prompt), int(total.completion),
                          int(total.tokens), float(total.usd)))  # fmt: skip
    return found
