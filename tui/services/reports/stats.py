"""The statistics a comparison of models rests on: bootstrap intervals and a permutation test.

Every model is a sample of apps, often 30 or fewer, so a per-app mean alone would rank
models on noise. Each mean comes with a 95 % percentile-bootstrap interval over the apps,
and two models are compared with a two-sided permutation test of their difference. The
resamples are drawn from the seed and the number of apps alone, so a report is the same
every time it is made and a model's interval does not change when another model is added.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

RESAMPLES = 2000
"""Bootstrap resamples per interval."""
PERMUTATIONS = 10_000
"""Random relabellings per permutation test."""
LEVEL = 0.95

K = TypeVar("K")


@dataclass(frozen=True)
class Estimate:
    """A mean over `apps` apps and its bootstrap interval (None when it cannot be told:
    no app, or one)."""

    mean: float | None
    low: float | None
    high: float | None
    apps: int


def _generator(seed: int, *labels: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(label.encode()) for label in labels)])


def resample_weights(n: int, seed: int, resamples: int, *labels: str) -> np.ndarray:
    """How often each of n apps is drawn in each resample (resamples x n). Seeded by the
    seed, n and `labels` alone: a model's interval is the same whatever else is in the
    report."""
    generator = _generator(seed, f"n={n}", *labels)
    return generator.multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(float)


def _percentiles(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The (1 - level) / 2 and (1 + level) / 2 percentiles of each row, interpolated
    linearly as numpy's default; by partitioning, not sorting, every row."""
    columns = draws.shape[1]
    found = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        position = q * (columns - 1)
        below, above = int(np.floor(position)), int(np.ceil(position))
        found.append((q, position, below, above))
    kth = sorted({index for _, _, below, above in found for index in (below, above)})
    parted = np.partition(draws, kth, axis=1)
    bounds = []
    for _, position, below, above in found:
        fraction = position - below
        bounds.append(parted[:, below] + (parted[:, above] - parted[:, below]) * fraction)
    return bounds[0], bounds[1]


def bootstrap_many(
    samples: Mapping[K, Sequence[float]],
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict[K, Estimate]:
    """The mean of each sample and its percentile-bootstrap interval, the samples of one
    size resampled together (one matrix product for hundreds of models)."""
    return bootstrap_ratios(
        {key: (values, [1.0] * len(values)) for key, values in samples.items()},
        seed=seed, resamples=resamples, level=level,
    )  # fmt: skip


def bootstrap_ratios(
    pairs: Mapping[K, tuple[Sequence[float], Sequence[float]]],
    *,
    scale: float = 1.0,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict[K, Estimate]:
    """sum(top) / sum(bottom) x scale of each (top, bottom) pair of per-app values, and its
    interval, resampling apps: findings per KLOC over a model's apps (not the mean of each
    app's rate, which a tiny app would swing), or with bottoms of 1 the plain mean."""
    found: dict[K, Estimate] = {}
    by_size: dict[int, list[tuple[K, np.ndarray, np.ndarray]]] = {}
    for key, (tops, bottoms) in pairs.items():
        top = np.asarray(tops, dtype=float)
        bottom = np.asarray(bottoms, dtype=float)
        n = len(top)
        if n == 0 or bottom.sum() <= 0:
            found[key] = Estimate(None, None, None, n)
            continue
        ratio = float(top.sum() / bottom.sum() * scale)
        if n == 1:
            found[key] = Estimate(ratio, None, None, 1)
            continue
        found[key] = Estimate(ratio, None, None, n)
        by_size.setdefault(n, []).append((key, top, bottom))
    for n, group in by_size.items():
        weights = resample_weights(n, seed, resamples)
        tops = np.stack([top for _, top, _ in group]) @ weights.T
        bottoms = np.stack([bottom for _, _, bottom in group]) @ weights.T
        # Bottoms are positive (lines of code, or 1), and each resample draws n apps.
        low, high = _percentiles(tops / bottoms * scale, level)
        for index, (key, _, _) in enumerate(group):
            mean = found[key].mean
            found[key] = Estimate(mean, float(low[index]), float(high[index]), n)
    return found


def bootstrap_mean(
    values: Sequence[float],
    *,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Estimate:
    """The mean of `values` and its percentile-bootstrap interval."""
    return bootstrap_many({0: values}, seed=seed, resamples=resamples, level=level)[0]


def bootstrap_ratio(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    scale: float = 1.0,
    seed: int = 0,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> Estimate:
    """One ratio of `bootstrap_ratios`."""
    pairs = {0: (numerators, denominators)}
    return bootstrap_ratios(pairs, scale=scale, seed=seed, resamples=resamples, level=level)[0]


def permutation_p(
    first: Sequence[float],
    second: Sequence[float],
    *,
    seed: int = 0,
    labels: Sequence[str] = (),
    permutations: int = PERMUTATIONS,
) -> float | None:
    """Two-sided p-value of the difference of the two means under random relabelling of
    the apps (None when either side has no app). Counted with the observed labelling, so
    it is never 0."""
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return None
    observed = abs(a.mean() - b.mean())
    pooled = np.concatenate([a, b])
    generator = _generator(seed, *labels)
    order = np.argsort(generator.random((permutations, len(pooled))), axis=1)
    shuffled = pooled[order]
    differences = np.abs(shuffled[:, : len(a)].mean(axis=1) - shuffled[:, len(a) :].mean(axis=1))
    extreme = int(np.count_nonzero(differences >= observed - 1e-12))
    return (extreme + 1) / (permutations + 1)
