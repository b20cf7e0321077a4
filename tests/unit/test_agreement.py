"""Agreement statistics against published worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from mlgrove.domain.agreement import (
    Level,
    agreement_report,
    cohen_kappa,
    encode,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from mlgrove.errors import InvalidInput

_ = None
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section E: four
# observers, twelve units, values 1-5, with missing values. Rows are observers A-D.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
UNITS = [list(u) for u in zip(*KRIPPENDORFF_2011, strict=True)]

# Fleiss (1971), Table 1: 30 patients, each diagnosed by 6 psychiatrists
# (1 depression, 2 personality disorder, 3 schizophrenia, 4 neurosis, 5 other).
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip
FLEISS_COUNTS = np.stack([(c == FLEISS_1971).sum(axis=1) for c in range(1, 6)], axis=1)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_matches_the_2011_worked_example(level: str, published: float) -> None:
    alpha = krippendorff_alpha(UNITS, level, resamples=200)
    assert alpha.value == pytest.approx(published, abs=5e-4)
    assert alpha.low is not None
    assert alpha.high is not None
    assert alpha.low < alpha.value <= alpha.high


def test_fleiss_kappa_matches_fleiss_1971() -> None:
    assert FLEISS_COUNTS.sum(axis=0).tolist() == [26, 26, 30, 55, 43]  # the table's margins
    kappa = fleiss_kappa(FLEISS_COUNTS, resamples=200)
    assert kappa.value == pytest.approx(0.430, abs=5e-4)


def test_per_label_kappa_matches_fleiss_1971_per_category_values() -> None:
    report = agreement_report(FLEISS_1971.tolist(), resamples=50)
    per_label = {k: round(v.value or 0, 3) for k, v in report.per_label.items()}
    assert per_label == {"1": 0.245, "2": 0.245, "3": 0.520, "4": 0.471, "5": 0.566}


def test_cohen_kappa_textbook_example() -> None:
    # 50 grant proposals read by two readers: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no.
    # p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    codes, labels = encode([list(p) for p in zip(a, b, strict=True)])
    assert labels == ["no", "yes"]
    kappa = cohen_kappa(codes[:, 0], codes[:, 1], resamples=200)
    assert kappa.value == pytest.approx(0.4)
    report = agreement_report([list(p) for p in zip(a, b, strict=True)], resamples=50)
    assert report.cohen_kappa is not None
    assert report.cohen_kappa.value == pytest.approx(0.4)
    assert report.percent_agreement.value == pytest.approx(0.7)


def test_bootstrap_is_seeded_and_narrows_with_more_units() -> None:
    first = krippendorff_alpha(UNITS, "interval", seed=7, resamples=300)
    again = krippendorff_alpha(UNITS, "interval", seed=7, resamples=300)
    other = krippendorff_alpha(UNITS, "interval", seed=8, resamples=300)
    assert first == again
    assert first != other
    many = krippendorff_alpha(UNITS * 20, "interval", seed=7, resamples=300)
    assert many.value == pytest.approx(first.value, abs=0.02)
    assert (many.high or 0) - (many.low or 0) < (first.high or 0) - (first.low or 0)


def test_perfect_and_undefined_agreement() -> None:
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3]], resamples=10).value == pytest.approx(1.0)
    # Everybody gave the same value: no disagreement is expected, alpha is undefined.
    assert krippendorff_alpha([[1, 1], [1, 1]], resamples=10).value is None
    # Units rated once say nothing about agreement.
    assert percent_agreement([[1, None], [None, 2]], resamples=10).value is None


def test_no_ratings_yet_is_an_empty_report_not_an_error() -> None:
    report = agreement_report([], resamples=10)
    assert (report.items, report.raters, report.ratings) == (0, 0, 0)
    assert report.krippendorff_alpha.value is None
    assert report.fleiss_kappa.value is None
    assert agreement_report([[None, None]], resamples=10).items == 0


def test_report_counts_items_raters_and_ratings() -> None:
    report = agreement_report(UNITS, level=Level.ORDINAL, resamples=20)
    assert report.items == 11  # unit 12 was rated once
    assert report.raters == 4
    assert report.ratings == 41
    assert report.krippendorff_alpha.value == pytest.approx(0.815, abs=5e-4)
    assert report.cohen_kappa is None


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(InvalidInput, match="unknown level 'loud'"):
        krippendorff_alpha(UNITS, "loud")
    with pytest.raises(InvalidInput, match="'maybe' is not one of"):
        encode([["yes", "maybe"]], order=["yes", "no"])
    with pytest.raises(InvalidInput, match="counts"):
        fleiss_kappa([[1, -1]])
