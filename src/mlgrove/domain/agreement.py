"""Inter-rater agreement: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha.

Pure NumPy. Ratings come as *reliability data*: a units x coders matrix of codes with
``NaN`` where a coder did not rate a unit (Krippendorff's layout). Every statistic is also
written as a sum of per-unit contributions, so a bootstrap over units (resample units with
replacement, seeded) is one matrix product per batch of resamples instead of a loop.

References, each checked in ``tests/unit/test_agreement.py`` against its worked example:

- Cohen (1960), "A coefficient of agreement for nominal scales".
- Fleiss (1971), "Measuring nominal scale agreement among many raters" (Table 1).
  Units rated by different numbers of raters use the usual generalisation: each unit's
  agreement is over its own pairs and category shares are pooled over all ratings; with a
  constant number of raters it is exactly Fleiss' formula.
- Krippendorff (2011), "Computing Krippendorff's alpha-reliability" (coincidence
  matrices, the four metric differences, missing values).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mlgrove.errors import InvalidInput

__all__ = [
    "AgreementReport",
    "Estimate",
    "Level",
    "agreement_report",
    "cohen_kappa",
    "encode",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
]

FloatArray = NDArray[np.float64]

#: Bootstrap resamples by default, and how many are computed per matrix product.
DEFAULT_RESAMPLES = 1000
_BATCH = 100


class Level(enum.StrEnum):
    """Krippendorff's levels of measurement: how far apart two different values are."""

    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    INTERVAL = "interval"
    RATIO = "ratio"


@dataclass(frozen=True)
class Estimate:
    """A statistic with its bootstrap confidence interval (``None`` when undefined,
    e.g. alpha when every rating is the same value, so no disagreement is expected)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "ci_low": self.low, "ci_high": self.high}


@dataclass(frozen=True)
class AgreementReport:
    items: int  # units with at least two ratings (the ones agreement is measured on)
    raters: int
    ratings: int
    level: Level
    percent_agreement: Estimate
    fleiss_kappa: Estimate
    krippendorff_alpha: Estimate
    cohen_kappa: Estimate | None  # only when exactly two raters took part
    confidence: float
    resamples: int
    per_label: dict[str, Estimate]  # alpha of "this label or not", nominal


# -- encoding ------------------------------------------------------------------------------


def encode(
    ratings: Sequence[Sequence[Hashable | None]], order: Sequence[Hashable] | None = None
) -> tuple[FloatArray, list[Hashable]]:
    """Turn a units x coders table of labels (``None`` = missing) into codes 0..K-1.

    ``order`` fixes the codes (needed for ordinal data: the order of the labels); without
    it, labels are sorted. Numbers stay numbers when every label is a number and no order
    is given, so interval and ratio data keep their values.
    """
    present = [v for row in ratings for v in row if v is not None]
    if not ratings or not any(len(row) for row in ratings):
        return np.zeros((len(ratings), 0)), list(order or [])
    if order is None and present and all(isinstance(v, int | float) for v in present):
        values = sorted({float(v) for v in present})  # type: ignore[arg-type]
        matrix = np.array(
            [[np.nan if v is None else float(v) for v in row] for row in ratings],  # type: ignore[arg-type]
            dtype=np.float64,
        ).reshape(len(ratings), -1)
        return matrix, list(values)
    labels = list(order) if order is not None else sorted(set(present), key=str)
    index = {label: i for i, label in enumerate(labels)}
    unknown = [v for v in present if v not in index]
    if unknown:
        raise InvalidInput(f"rating {unknown[0]!r} is not one of {labels!r}")
    matrix = np.array(
        [[np.nan if v is None else float(index[v]) for v in row] for row in ratings],
        dtype=np.float64,
    ).reshape(len(ratings), -1)
    return matrix, labels


def _as_matrix(data: FloatArray | Sequence[Sequence[float | None]]) -> FloatArray:
    matrix = np.array(
        [[np.nan if v is None else v for v in row] for row in data]
        if not isinstance(data, np.ndarray)
        else data,
        dtype=np.float64,
    )
    if matrix.ndim != 2:
        raise InvalidInput("reliability data must be a units x coders table")
    return matrix


def _pairable(matrix: FloatArray) -> FloatArray:
    """Only units with two or more ratings carry information about agreement."""
    counts = np.sum(~np.isnan(matrix), axis=1)
    kept: FloatArray = matrix[counts >= 2]
    return kept


def _value_counts(matrix: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The distinct values and a units x values table of how often each was given."""
    values = np.unique(matrix[~np.isnan(matrix)])
    counts = np.zeros((matrix.shape[0], values.size))
    for j, v in enumerate(values):
        counts[:, j] = np.sum(matrix == v, axis=1)
    return values, counts


# -- bootstrap -------------------------------------------------------------------------------


def _bootstrap(
    stat: Callable[[FloatArray], FloatArray],
    units: int,
    *,
    resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float | None, float | None]:
    """Percentile interval of ``stat`` over resampled units.

    ``stat`` takes a batch x units matrix of weights (how often each unit was drawn)
    and returns one value per row; the full sample is the all-ones row.
    """
    if resamples <= 0 or units < 2:
        return None, None
    rng = np.random.default_rng(seed)
    results: list[FloatArray] = []
    for start in range(0, resamples, _BATCH):
        size = min(_BATCH, resamples - start)
        draws = rng.integers(0, units, size=(size, units))
        weights = np.zeros((size, units))
        np.add.at(weights, (np.arange(size)[:, None], draws), 1.0)
        results.append(stat(weights))
    values = np.concatenate(results)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _estimate(
    stat: Callable[[FloatArray], FloatArray],
    units: int,
    *,
    resamples: int,
    confidence: float,
    seed: int,
) -> Estimate:
    value = _finite(float(stat(np.ones((1, units)))[0])) if units else None
    if value is None:
        return Estimate(None)
    low, high = _bootstrap(stat, units, resamples=resamples, confidence=confidence, seed=seed)
    return Estimate(value, low, high)


def _safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return out


# -- percent agreement ------------------------------------------------------------------------


def _percent_stat(matrix: FloatArray) -> tuple[Callable[[FloatArray], FloatArray], int]:
    units = _pairable(matrix)
    _, counts = _value_counts(units)
    m = counts.sum(axis=1)
    # Share of a unit's rating pairs that agree; units weigh equally.
    per_unit = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1)) if units.size else m

    def stat(w: FloatArray) -> FloatArray:
        return _safe_divide(w @ per_unit, w.sum(axis=1))

    return stat, units.shape[0]


def percent_agreement(
    data: FloatArray | Sequence[Sequence[float | None]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """The mean, over units rated at least twice, of the share of rating pairs that match."""
    stat, n = _percent_stat(_as_matrix(data))
    return _estimate(stat, n, resamples=resamples, confidence=confidence, seed=seed)


# -- Cohen's kappa --------------------------------------------------------------------------


def _cohen_stat(a: FloatArray, b: FloatArray) -> tuple[Callable[[FloatArray], FloatArray], int]:
    keep = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[keep], b[keep]
    values = np.unique(np.concatenate([a, b]))
    ia = np.searchsorted(values, a)
    ib = np.searchsorted(values, b)
    k = values.size
    onehot_a = np.zeros((a.size, k))
    onehot_b = np.zeros((b.size, k))
    onehot_a[np.arange(a.size), ia] = 1.0
    onehot_b[np.arange(b.size), ib] = 1.0
    same = (ia == ib).astype(np.float64)

    def stat(w: FloatArray) -> FloatArray:
        n = w.sum(axis=1)
        po = _safe_divide(w @ same, n)
        pa = _safe_divide(w @ onehot_a, n[:, None])
        pb = _safe_divide(w @ onehot_b, n[:, None])
        pe = (pa * pb).sum(axis=1)
        return _safe_divide(po - pe, 1.0 - pe)

    return stat, int(a.size)


def cohen_kappa(
    a: Sequence[float | None] | FloatArray,
    b: Sequence[float | None] | FloatArray,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Cohen's kappa of two raters over the units both rated."""
    left = np.array([np.nan if v is None else v for v in a], dtype=np.float64)
    right = np.array([np.nan if v is None else v for v in b], dtype=np.float64)
    if left.shape != right.shape:
        raise InvalidInput("Cohen's kappa needs two ratings per unit (one per rater)")
    stat, n = _cohen_stat(left, right)
    return _estimate(stat, n, resamples=resamples, confidence=confidence, seed=seed)


# -- Fleiss' kappa ------------------------------------------------------------------------------


def _fleiss_stat(counts: FloatArray) -> tuple[Callable[[FloatArray], FloatArray], int]:
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    per_unit = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1)) if counts.size else m

    def stat(w: FloatArray) -> FloatArray:
        p_bar = _safe_divide(w @ per_unit, w.sum(axis=1))
        shares = _safe_divide(w @ counts, (w @ m)[:, None])
        p_e = (shares**2).sum(axis=1)
        return _safe_divide(p_bar - p_e, 1.0 - p_e)

    return stat, int(counts.shape[0])


def fleiss_kappa(
    counts: FloatArray | Sequence[Sequence[float]],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Fleiss' kappa from a units x categories table of rating counts (Fleiss' layout)."""
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or np.any(table < 0):
        raise InvalidInput("Fleiss' kappa needs a units x categories table of counts >= 0")
    stat, n = _fleiss_stat(table)
    return _estimate(stat, n, resamples=resamples, confidence=confidence, seed=seed)


# -- Krippendorff's alpha ---------------------------------------------------------------------------


def _delta(values: FloatArray, totals: FloatArray, level: Level) -> FloatArray:
    """Squared metric differences between every two values (Krippendorff 2011, sec. 4)."""
    c = values[:, None]
    k = values[None, :]
    if level is Level.NOMINAL:
        nominal: FloatArray = (c != k).astype(np.float64)
        return nominal
    if level is Level.INTERVAL:
        return (c - k) ** 2
    if level is Level.RATIO:
        s = c + k
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.where(s != 0, ((c - k) / np.where(s != 0, s, 1.0)) ** 2, 0.0)
        return out
    # Ordinal: the ranks between two values, with the two ends counted half.
    cum = np.cumsum(totals)
    lo = np.minimum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    hi = np.maximum(np.arange(values.size)[:, None], np.arange(values.size)[None, :])
    between = cum[hi] - cum[lo] + totals[lo]
    ordinal: FloatArray = (between - (totals[:, None] + totals[None, :]) / 2) ** 2
    return ordinal


def _alpha_stat(matrix: FloatArray, level: Level) -> tuple[Callable[[FloatArray], FloatArray], int]:
    units = _pairable(matrix)
    values, counts = _value_counts(units)
    m = counts.sum(axis=1)
    k = values.size
    # Each unit's coincidences: pairs of values within it, weighted 1/(m_u - 1).
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs[:, np.arange(k), np.arange(k)] -= counts
    per_unit = (pairs / (m - 1)[:, None, None]).reshape(units.shape[0], k * k)
    ordinal_totals = counts.sum(axis=0)

    def stat(w: FloatArray) -> FloatArray:
        coincidences = (w @ per_unit).reshape(-1, k, k)
        totals = coincidences.sum(axis=2)
        n = totals.sum(axis=1)
        out = np.empty(w.shape[0])
        fixed = None if level is Level.ORDINAL else _delta(values, ordinal_totals, level)
        for i in range(w.shape[0]):
            # Ordinal distances depend on the marginals, so each resample has its own.
            delta = fixed if fixed is not None else _delta(values, totals[i], level)
            observed = float((coincidences[i] * delta).sum())
            expected = float((np.outer(totals[i], totals[i]) * delta).sum())
            out[i] = 1.0 - (n[i] - 1.0) * observed / expected if expected > 0 else np.nan
        return out

    return stat, int(units.shape[0])


def krippendorff_alpha(
    data: FloatArray | Sequence[Sequence[float | None]],
    level: Level | str = Level.NOMINAL,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """Krippendorff's alpha of units x coders reliability data (``NaN``/``None`` = missing)."""
    stat, n = _alpha_stat(_as_matrix(data), _level(level))
    return _estimate(stat, n, resamples=resamples, confidence=confidence, seed=seed)


def _level(level: Level | str) -> Level:
    try:
        return Level(level)
    except ValueError:
        raise InvalidInput(
            f"unknown level {level!r}", hint="use nominal, ordinal, interval or ratio"
        ) from None


# -- everything at once ----------------------------------------------------------------------------


def agreement_report(
    ratings: Sequence[Sequence[Hashable | None]],
    *,
    level: Level | str = Level.NOMINAL,
    order: Sequence[Hashable] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    seed: int = 0,
) -> AgreementReport:
    """All statistics for a units x raters table of labels (``None`` where not rated).

    ``per_label`` holds, for nominal data, Fleiss' kappa of "this label or another one"
    (Fleiss 1971's per-category kappa): which labels reviewers find hard to agree on.
    """
    lvl = _level(level)
    if not 0 < confidence < 1:
        raise InvalidInput("confidence must be between 0 and 1, e.g. 0.95")
    matrix, labels = encode(ratings, order)
    if matrix.size == 0:
        matrix = np.zeros((0, 0))

    def est(stat: tuple[Callable[[FloatArray], FloatArray], int]) -> Estimate:
        return _estimate(stat[0], stat[1], resamples=resamples, confidence=confidence, seed=seed)

    pairable = _pairable(matrix)
    rated = np.any(~np.isnan(pairable), axis=0)
    raters = int(np.sum(rated))
    values, counts = _value_counts(pairable)
    cohen = None
    if raters == 2:
        cols = np.flatnonzero(rated)
        cohen = est(_cohen_stat(pairable[:, cols[0]], pairable[:, cols[1]]))
    per_label: dict[str, Estimate] = {}
    if lvl is Level.NOMINAL:
        for j, code in enumerate(values):
            binary = np.stack([counts[:, j], counts.sum(axis=1) - counts[:, j]], axis=1)
            label = code if order is None and _numeric(labels) else labels[int(code)]
            per_label[_label_text(label)] = est(_fleiss_stat(binary))
    return AgreementReport(
        items=int(pairable.shape[0]),
        raters=raters,
        ratings=int(np.sum(~np.isnan(matrix))),
        level=lvl,
        percent_agreement=est(_percent_stat(pairable)),
        fleiss_kappa=est(_fleiss_stat(counts)),
        krippendorff_alpha=est(_alpha_stat(pairable, lvl)),
        cohen_kappa=cohen,
        confidence=confidence,
        resamples=resamples,
        per_label=per_label,
    )


def _label_text(label: Hashable) -> str:
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _numeric(labels: Sequence[Hashable]) -> bool:
    return all(isinstance(v, int | float) for v in labels)
