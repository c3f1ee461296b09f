"""Ranking the models over criteria a user picks: TOPSIS or a weighted sum, and how stable
each rank is when the weights move.

A criterion is a metric of the comparison (compare.py) with a weight and a direction
(benefit: more is better; cost: less is better; by default the metric's own). A model is
ranked on a criterion only when enough of its apps are behind the value (`min_apps`);
otherwise it is listed as not ranked, with the reason, never silently ranked on noise.
Stability, two ways. Weights: each weight in turn is moved by ±20 % (the others
renormalised) and the models ranked again; a model's rank range is the lowest and highest
rank it took. Apps: the models are ranked again on RANK_RESAMPLES bootstrap resamples of
their apps (each criterion's mean or rate over a resample of the apps behind it; a price
stays as it is), and a model's rank interval is the 2.5th to 97.5th percentile of its ranks
there: when two models' intervals overlap, their apps do not tell them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tui.errors import ValidationError
from tui.services.reports.compare import Report
from tui.services.reports.criteria import DEFAULT_CRITERIA, METHODS
from tui.services.reports.stats import resample_weights

MIN_APPS = 5
"""Apps a model needs behind a value to be ranked on it."""
SHIFT = 0.2
"""How far each weight moves (±20 %) to test a rank's stability."""
RANK_RESAMPLES = 500
"""Bootstrap resamples of the apps the models are ranked again on."""


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    weight: float
    """Normalised: the weights of a ranking sum to 1."""
    benefit: bool


@dataclass(frozen=True)
class Ranked:
    model: str
    score: float
    rank: int
    best: int
    """The best (lowest) rank it took with the weights moved."""
    worst: int
    values: tuple[float, ...]
    """The model's value of each criterion, in the ranking's order."""
    low: int = 0
    """The 2.5th percentile of its ranks over bootstrap resamples of the apps."""
    high: int = 0
    """The 97.5th percentile."""


@dataclass(frozen=True)
class Ranking:
    method: str
    criteria: list[Criterion]
    ranked: list[Ranked]
    unranked: list[tuple[str, str]]
    """(model, why it is not ranked)."""
    min_apps: int


def parse_criteria(
    report: Report, criteria: Sequence[str] | None, weights: Sequence[float] | None
) -> list[Criterion]:
    """Criteria from `key[:benefit|cost]` names and weights (equal when none are given), or
    the defaults; refuses unknown metrics and weights that do not fit."""
    metrics = {metric.key: metric for metric in report.metrics}
    if not criteria:
        picked = [(key, w, None) for key, w in DEFAULT_CRITERIA if _has_values(report, key)]
        if not picked:
            raise ValidationError(
                "None of the default criteria has a value yet (run smoke, ai_review, security "
                "or quality analyses, or name --criteria)"
            )
    else:
        if weights is not None and len(weights) != len(criteria):
            raise ValidationError(
                f"{len(criteria)} criteria but {len(weights)} weights: give one weight each"
            )
        picked = []
        for index, raw in enumerate(criteria):
            key, _, direction = raw.strip().partition(":")
            if key not in metrics:
                raise ValidationError(
                    f"Unknown criterion {key!r}; choose from {', '.join(sorted(metrics))}"
                )
            if direction not in ("", "benefit", "cost"):
                raise ValidationError(f"{raw!r}: a direction is benefit or cost")
            weight = weights[index] if weights is not None else 1.0
            picked.append((key, weight, direction or None))
    if len({key for key, _, _ in picked}) != len(picked):
        raise ValidationError("A criterion is named twice")
    if any(not np.isfinite(w) or w < 0 for _, w, _ in picked) or sum(w for _, w, _ in picked) <= 0:
        raise ValidationError("Weights are numbers >= 0, and not all 0")
    total = sum(w for _, w, _ in picked)
    return [
        Criterion(
            key,
            metrics[key].label,
            weight / total,
            (direction == "benefit") if direction else metrics[key].better == "higher",
        )
        for key, weight, direction in picked
    ]


def _has_values(report: Report, key: str) -> bool:
    return any(
        key in stats.metrics and stats.metrics[key].mean is not None for stats in report.models
    )


def _scores(matrix: np.ndarray, weights: np.ndarray, benefit: np.ndarray, method: str):
    """One score per row (higher is better)."""
    if method == "topsis":
        norms = np.sqrt((matrix**2).sum(axis=0))
        norms[norms == 0] = 1.0
        weighted = matrix / norms * weights
        best = np.where(benefit, weighted.max(axis=0), weighted.min(axis=0))
        worst = np.where(benefit, weighted.min(axis=0), weighted.max(axis=0))
        to_best = np.sqrt(((weighted - best) ** 2).sum(axis=1))
        to_worst = np.sqrt(((weighted - worst) ** 2).sum(axis=1))
        spread = to_best + to_worst
        return np.where(spread > 0, to_worst / np.where(spread > 0, spread, 1.0), 1.0)
    low, high = matrix.min(axis=0), matrix.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = np.where(benefit, matrix - low, high - matrix) / span
    scaled[:, high == low] = 1.0  # every model alike on it: it tells them apart by nothing
    return scaled @ weights


def _ranks(scores: np.ndarray, names: list[str]) -> list[int]:
    """1 for the best score; ties broken by name, so a ranking reads the same every time."""
    order = sorted(range(len(scores)), key=lambda i: (-round(float(scores[i]), 12), names[i]))
    ranks = [0] * len(scores)
    for place, index in enumerate(order, start=1):
        ranks[index] = place
    return ranks


def rank_models(
    report: Report,
    criteria: list[Criterion],
    *,
    method: str = "topsis",
    min_apps: int = MIN_APPS,
) -> Ranking:
    """Rank the report's models on `criteria` with `method` (topsis or wsm)."""
    if method not in METHODS:
        raise ValidationError(f"Unknown method {method!r}; choose from {', '.join(METHODS)}")
    rows, names, unranked = [], [], []
    for stats in report.models:
        missing = []
        for criterion in criteria:
            estimate = stats.metrics.get(criterion.key)
            if estimate is None or estimate.mean is None:
                missing.append(f"no {criterion.label}")
            elif criterion.key != "cost.price" and estimate.apps < min_apps:
                missing.append(f"{criterion.label} from {estimate.apps} apps (< {min_apps})")
        if missing:
            unranked.append((stats.model, "; ".join(missing)))
            continue
        names.append(stats.model)
        rows.append([float(stats.metrics[c.key].mean) for c in criteria])  # type: ignore[arg-type]
    if not rows:
        return Ranking(method, criteria, [], unranked, min_apps)
    matrix = np.asarray(rows, dtype=float)
    weights = np.asarray([c.weight for c in criteria])
    benefit = np.asarray([c.benefit for c in criteria])
    scores = _scores(matrix, weights, benefit, method)
    ranks = _ranks(scores, names)
    best, worst = list(ranks), list(ranks)
    for index in range(len(criteria)):
        for factor in (1 - SHIFT, 1 + SHIFT):
            moved = weights.copy()
            moved[index] *= factor
            moved /= moved.sum()
            for i, rank in enumerate(_ranks(_scores(matrix, moved, benefit, method), names)):
                best[i], worst[i] = min(best[i], rank), max(worst[i], rank)
    low, high = _resampled_ranks(report, names, criteria, matrix, weights, benefit, method)
    ranked = [
        Ranked(names[i], float(scores[i]), ranks[i], best[i], worst[i], tuple(rows[i]),
               low[i], high[i])
        for i in sorted(range(len(names)), key=lambda i: ranks[i])
    ]  # fmt: skip
    return Ranking(method, criteria, ranked, unranked, min_apps)


def _resampled_ranks(
    report: Report,
    names: list[str],
    criteria: list[Criterion],
    matrix: np.ndarray,
    weights: np.ndarray,
    benefit: np.ndarray,
    method: str,
    resamples: int = RANK_RESAMPLES,
) -> tuple[list[int], list[int]]:
    """Each model's 2.5th and 97.5th percentile rank over resamples of the apps."""
    draws = np.repeat(matrix[np.newaxis, :, :], resamples, axis=0)  # resample x model x criterion
    for i, model in enumerate(names):
        drawn: dict[int, np.ndarray] = {}  # a model's criteria over as many apps share draws
        for j, criterion in enumerate(criteria):
            tops, bottoms, scale = _behind(report, model, criterion.key)
            n = len(tops)
            if n < 2:
                continue  # a price, a count, or one app: nothing to resample
            if n not in drawn:
                drawn[n] = resample_weights(n, report.seed, resamples, f"rank:{model}")
            counts = drawn[n]
            below = counts @ bottoms
            draws[:, i, j] = np.where(below > 0, counts @ tops / np.where(below > 0, below, 1),
                                      matrix[i, j] / scale) * scale  # fmt: skip
    scores = np.stack([_scores(draw, weights, benefit, method) for draw in draws])
    # Ranked as _ranks does (the best score first, ties by name), every resample at once.
    by_name = np.argsort(np.argsort(np.array(names, dtype=object)))
    order = np.lexsort((np.broadcast_to(by_name, scores.shape), -np.round(scores, 12)), axis=-1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, len(names) + 1)[np.newaxis, :], axis=-1)
    low = np.floor(np.percentile(ranks, 2.5, axis=0)).astype(int)
    high = np.ceil(np.percentile(ranks, 97.5, axis=0)).astype(int)
    return [int(v) for v in low], [int(v) for v in high]


def _behind(report: Report, model: str, key: str) -> tuple[np.ndarray, np.ndarray, float]:
    """The per-app values behind a model's criterion, as (tops, bottoms, scale) of a ratio:
    a rate's findings and lines of code (x 1,000), or a mean's values over ones."""
    if (model, key) in report.ratios:
        tops, bottoms = report.ratios[(model, key)]
        return np.asarray(tops, dtype=float), np.asarray(bottoms, dtype=float), 1000.0
    values = np.asarray([value for _, value in report.samples.get((model, key), [])], dtype=float)
    return values, np.ones_like(values), 1.0
