"""Text similarity between designs and projects: TF-IDF vectors and cosine similarity.

scikit-learn does the work (tokenising, English stop words, inverse document frequency,
cosine); it is imported only when a comparison runs, so importing Grove stays light.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

#: Below this cosine two texts share little more than common words.
THRESHOLD = 0.15
TOP = 5


@dataclass(frozen=True)
class Match(Generic[K]):
    key: K
    score: float


def similar(
    text: str,
    corpus: Sequence[tuple[K, str]],
    *,
    top: int = TOP,
    threshold: float = THRESHOLD,
) -> list[Match[K]]:
    """The ``top`` texts of ``corpus`` most similar to ``text``, best first."""
    if not text.strip() or not corpus:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2))
    try:
        matrix = vectorizer.fit_transform([text, *(t for _, t in corpus)])
    except ValueError:  # nothing but stop words anywhere
        return []
    scores = cosine_similarity(matrix[0:1], matrix[1:])[0]
    found = [
        Match(key, round(float(s), 3))
        for (key, _), s in zip(corpus, scores, strict=True)
        if s >= threshold
    ]
    found.sort(key=lambda m: -m.score)
    return found[:top]
