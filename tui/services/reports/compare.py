"""The models side by side: per model, its apps, and every headline metric over them.

What counts is each app's latest analysis of each type that completed (for the smoke test,
that ended: its failure is the result), or, for a report on one job, the analyses that
job's tasks ended with (run or reused). Four queries read the apps in scope, those
analyses' summaries (whole, read the same way on SQLite and PostgreSQL, which differ in how
they hand out a JSON field), the LLM calls recorded for the apps and the catalogue's prices;
the means, per-KLOC rates and their bootstrap intervals are then computed per model from
the apps' values, the resamples of all models drawn at once (stats.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, func, or_, select, tuple_

from tui.db import Database
from tui.db.tables import (
    AnalysisStatus,
    AnalysisType,
    TaskStatus,
    analysis_tasks,
    batch_tasks,
    generated_applications,
    model_capabilities,
    model_usage,
)
from tui.errors import NotFoundError
from tui.services.analysis.headlines import Headline, failure_counts, headlines, read
from tui.services.batches import require_job
from tui.services.reports.stats import (
    RESAMPLES,
    Estimate,
    bootstrap_many,
    bootstrap_ratios,
    permutation_p,
)


@dataclass(frozen=True)
class Metric:
    """A column of the comparison: a headline, or its rate per 1,000 lines of code."""

    key: str
    label: str
    better: str
    headline: Headline | None = None
    per_kloc: bool = False


APP_METRICS = (
    Metric("apps.analysed", "Analysed", "higher"),
    Metric("apps.loc", "LOC per app", "higher"),
)
"""Columns every report has, before the headlines."""
COST_METRICS = (
    Metric("cost.price", "Price $/1M", "lower"),
    Metric("cost.usd", "USD per app", "lower"),
    Metric("cost.tokens", "Tokens per app", "lower"),
)
"""Columns after the headlines: the catalogue's price (USD for 1M prompt plus 1M completion
tokens) and what the LLM calls recorded for the model's apps cost (generation, review), per
app that has any."""


@dataclass(frozen=True)
class ModelStats:
    model: str
    apps: int
    """Apps of the model in scope (all its apps, or those of the job)."""
    analysed: int
    """Apps with at least one analysis counted here."""
    metrics: dict[str, Estimate]


@dataclass(frozen=True)
class Report:
    metrics: list[Metric]
    models: list[ModelStats]
    job_id: int | None
    types: tuple[AnalysisType, ...]
    seed: int
    resamples: int
    samples: dict[tuple[str, str], list[tuple[int, float]]] = field(
        repr=False, default_factory=dict
    )
    """(model, metric key) -> (app number, value) of each app the estimate was made from."""
    analyses: dict[tuple[str, str], list[int]] = field(repr=False, default_factory=dict)
    """(model, analysis type) -> the ids of the analyses its metrics were read from."""
    ratios: dict[tuple[str, str], tuple[list[float], list[float]]] = field(
        repr=False, default_factory=dict
    )
    """(model, per-KLOC metric key) -> each app's findings and lines of code behind the rate."""

    def model(self, slug: str) -> ModelStats:
        for stats in self.models:
            if stats.model == slug:
                return stats
        raise NotFoundError(f"No model {slug} in this report")


TOOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
"""A tool's name as a metric key takes it (`security.tool.bandit`); others are left out."""


def _columns(chosen: list[Headline], tools: set[tuple[str, str]]) -> list[Metric]:
    """The metrics: the apps', each headline (and its rate per KLOC), after each type's
    headlines its findings per app of each tool that ran, then the costs."""
    columns = list(APP_METRICS)
    for index, headline in enumerate(chosen):
        columns.append(Metric(headline.key, headline.label, headline.better, headline))
        if headline.per_kloc:
            columns.append(
                Metric(f"{headline.key}_per_kloc", f"{headline.label} /KLOC", headline.better,
                       headline, per_kloc=True)
            )  # fmt: skip
        kind = str(headline.type)
        if index + 1 == len(chosen) or chosen[index + 1].type != headline.type:
            noun = kind.replace("_", " ").capitalize()
            columns += [
                Metric(f"{kind}.tool.{tool}", f"{noun} {tool}", "lower")
                for of, tool in sorted(tools) if of == kind
            ]  # fmt: skip
    return columns + list(COST_METRICS)


def model_report(
    db: Database,
    *,
    job_id: int | None = None,
    models: Sequence[str] | None = None,
    types: Sequence[AnalysisType] | None = None,
    seed: int = 0,
    resamples: int = RESAMPLES,
) -> Report:
    """The comparison of `models` (all models with apps when None) over `types` (all)."""
    kinds = tuple(types) if types else tuple(AnalysisType)
    chosen = headlines(kinds)
    g, t, b = generated_applications.c, analysis_tasks.c, batch_tasks.c
    apps = select(g.id, g.model_slug, g.app_number, g.app_metadata["lines_of_code"].label("loc"))
    if models:
        apps = apps.where(g.model_slug.in_(list(models)))
    ended = or_(
        t.status == AnalysisStatus.COMPLETED,
        and_(
            t.status == AnalysisStatus.FAILED,
            t.task_type.in_([k for k in kinds if failure_counts(k)]),
        ),
    )
    if job_id is not None:
        with db.read() as connection:
            require_job(connection, job_id)
        of_job = select(b.model_name, b.app_number).where(b.job_id == job_id)
        apps = apps.where(tuple_(g.model_slug, g.app_number).in_(of_job))
        analyses = select(b.analysis_task_id).where(
            b.job_id == job_id, b.status.in_([TaskStatus.COMPLETED, TaskStatus.FAILED])
        )
    else:
        analyses = (
            select(func.max(t.id))
            .where(ended, t.task_type.in_(kinds))
            .group_by(t.application_id, t.task_type)
        )
    latest = select(t.id, t.application_id, t.task_type, t.status, t.summary).where(
        t.id.in_(analyses), ended, t.task_type.in_(kinds)
    )
    m, u = model_capabilities.c, model_usage.c
    in_scope = apps.with_only_columns(g.id).scalar_subquery()
    usage = (
        select(u.application_id, func.sum(u.cost).label("usd"),
               func.sum(u.total_tokens).label("tokens"))
        .where(u.application_id.in_(in_scope))
        .group_by(u.application_id)
    )  # fmt: skip
    with db.read() as connection:
        app_rows = connection.execute(apps.order_by(g.model_slug, g.app_number)).all()
        analysis_rows = connection.execute(latest).all()
        usage_rows = connection.execute(usage).all()
        prices = {
            row.canonical_slug: row.pricing_prompt + row.pricing_completion
            for row in connection.execute(
                select(m.canonical_slug, m.pricing_prompt, m.pricing_completion).where(
                    m.pricing_prompt.is_not(None), m.pricing_completion.is_not(None)
                )
            )
        }

    model_of: dict[int, str] = {}
    number_of: dict[int, int] = {}
    loc_of: dict[int, float] = {}
    by_model: dict[str, list[int]] = defaultdict(list)
    for row in app_rows:
        model_of[row.id] = row.model_slug
        number_of[row.id] = row.app_number
        by_model[row.model_slug].append(row.id)
        if isinstance(row.loc, int | float) and not isinstance(row.loc, bool) and row.loc > 0:
            loc_of[row.id] = float(row.loc)

    values: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    per_kloc: dict[tuple[str, str], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    analysed: dict[str, set[int]] = defaultdict(set)
    behind: dict[tuple[str, str], list[int]] = defaultdict(list)
    tools: set[tuple[str, str]] = set()
    by_type: dict[AnalysisType, list[Headline]] = defaultdict(list)
    for headline in chosen:
        by_type[headline.type].append(headline)
    for row in analysis_rows:
        model = model_of.get(row.application_id)
        if model is None:
            continue  # an app outside the scope (another model's, not the job's)
        if row.task_type != AnalysisType.GENERATION:  # it made the app: no analysis of it
            analysed[model].add(row.application_id)
        behind[(model, str(row.task_type))].append(row.id)
        completed = row.status == AnalysisStatus.COMPLETED
        summary = row.summary
        for tool, found in _by_tool(summary) if completed else ():
            tools.add((str(row.task_type), tool))
            key = f"{row.task_type}.tool.{tool}"
            values[(model, key)].append((number_of[row.application_id], found))
        for headline in by_type.get(AnalysisType(row.task_type), ()):
            raw = summary.get(headline.field) if isinstance(summary, dict) else None
            value = read(headline, raw, completed)
            if value is None:
                continue
            values[(model, headline.key)].append((number_of[row.application_id], value))
            if headline.per_kloc and row.application_id in loc_of:
                top, bottom = per_kloc[(model, headline.key)]
                top.append(value)
                bottom.append(loc_of[row.application_id])

    for row in usage_rows:
        model = model_of.get(row.application_id)
        if model is not None:
            number = number_of[row.application_id]
            values[(model, "cost.usd")].append((number, float(row.usd or 0.0)))
            values[(model, "cost.tokens")].append((number, float(row.tokens or 0)))
    columns = _columns(chosen, tools)
    tool_keys = [f"{kind}.tool.{tool}" for kind, tool in sorted(tools)]
    rates: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    samples: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for model, ids in by_model.items():
        samples[(model, "apps.loc")] = [(number_of[i], loc_of[i]) for i in ids if i in loc_of]
        for key in (*(h.key for h in chosen), *tool_keys, "cost.usd", "cost.tokens"):
            samples[(model, key)] = values.get((model, key), [])
        for headline in chosen:
            if headline.per_kloc:
                rates[(model, f"{headline.key}_per_kloc")] = per_kloc.get(
                    (model, headline.key), ([], [])
                )
    means = {key: [value for _, value in sample] for key, sample in samples.items()}
    found = bootstrap_many(means, seed=seed, resamples=resamples)
    found.update(bootstrap_ratios(rates, scale=1000.0, seed=seed, resamples=resamples))
    stats = [
        ModelStats(
            model,
            len(by_model[model]),
            len(analysed[model]),
            {
                "apps.analysed": Estimate(
                    float(len(analysed[model])), None, None, len(by_model[model])
                ),
                **{c.key: found[(model, c.key)] for c in columns if (model, c.key) in found},
                "cost.price": Estimate(prices.get(model), None, None, len(by_model[model])),
            },
        )
        for model in sorted(by_model)
    ]
    return Report(columns, stats, job_id, kinds, seed, resamples, samples, dict(behind), rates)


def _by_tool(summary: object) -> list[tuple[str, float]]:
    """(tool, findings) of each tool that ran (`tools` says "ok") in a summary that counts
    findings by tool; none for an older summary, or one of another shape."""
    if not isinstance(summary, dict):
        return []
    ran, counted = summary.get("tools"), summary.get("by_tool")
    if not isinstance(ran, dict) or not isinstance(counted, dict):
        return []
    found = []
    for tool, state in ran.items():
        number = counted.get(tool, 0)
        if state != "ok" or not isinstance(tool, str) or not TOOL.fullmatch(tool):
            continue
        if isinstance(number, int) and not isinstance(number, bool) and number >= 0:
            found.append((tool, float(number)))
    return found


@dataclass(frozen=True)
class Difference:
    """One metric of two models: both estimates, the difference of the means, and the
    two-sided permutation p-value of that difference over their apps."""

    metric: Metric
    first: Estimate
    second: Estimate
    difference: float | None
    p_value: float | None

    @property
    def significant(self) -> bool | None:
        """At the 5 % level; None when it cannot be told (an app or none on a side)."""
        return None if self.p_value is None else self.p_value < 0.05


def compare_two(report: Report, first: str, second: str) -> list[Difference]:
    """Every per-app metric of the two models side by side, with its permutation test."""
    a, b = report.model(first), report.model(second)
    found = []
    for metric in report.metrics:
        sample_a = report.samples.get((first, metric.key))
        sample_b = report.samples.get((second, metric.key))
        if sample_a is None or sample_b is None:
            continue  # not a mean over apps (a count, a rate, the catalogue's price)
        ea, eb = a.metrics[metric.key], b.metrics[metric.key]
        difference = None if ea.mean is None or eb.mean is None else ea.mean - eb.mean
        p = None
        if len(sample_a) >= 2 and len(sample_b) >= 2:
            p = permutation_p([v for _, v in sample_a], [v for _, v in sample_b],
                              seed=report.seed, labels=(metric.key,))  # fmt: skip
        found.append(Difference(metric, ea, eb, difference, p))
    return found
