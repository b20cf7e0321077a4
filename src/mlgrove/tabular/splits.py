"""Deterministic train/validation/test assignment and its inheritance across versions.

A row's split comes from its identity (key hash, or content hash without a key) and a
seed, so the same row always lands in the same split for the same ratios. When a new
version is made, rows that existed before keep the split they had, whatever it was
(even if assigned by hand); only new rows are assigned by hash.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from mlgrove.errors import InvalidInput
from mlgrove.tabular.rowhash import splitmix64

MAX_SPLITS = 16


def parse_ratios(text: str) -> dict[str, float]:
    """``train=0.8,test=0.2`` -> {"train": 0.8, "test": 0.2}; must sum to 1."""
    ratios: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidInput(
                f"bad split ratio {part.strip()!r}",
                hint="write NAME=FRACTION, e.g. train=0.8,test=0.2",
            )
        try:
            ratios[name] = float(value)
        except ValueError:
            raise InvalidInput(
                f"split ratio for {name!r} is not a number: {value.strip()!r}"
            ) from None
    return check_ratios(ratios)


def check_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    if not ratios:
        raise InvalidInput("no splits given", hint="e.g. train=0.8,test=0.2")
    if len(ratios) > MAX_SPLITS:
        raise InvalidInput(f"at most {MAX_SPLITS} splits")
    if any(r <= 0 for r in ratios.values()):
        raise InvalidInput("every split ratio must be above 0")
    total = sum(ratios.values())
    if abs(total - 1.0) > 1e-6:
        raise InvalidInput(
            f"split ratios add up to {total:g}, not 1", hint="e.g. train=0.8,test=0.2"
        )
    return dict(ratios)


def assign_by_hash(row_ids: np.ndarray, ratios: Mapping[str, float], seed: int) -> np.ndarray:
    """Split codes (indexes into ``list(ratios)``) for each row id."""
    mixed = splitmix64(row_ids ^ splitmix64(np.full(1, seed, dtype=np.uint64))[0])
    # Top 53 bits -> a uniform float in [0, 1).
    u = (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    edges = np.cumsum(list(ratios.values()))
    edges[-1] = 1.0
    return np.searchsorted(edges, u, side="right").astype(np.uint8)


def inherit(
    parent_ids: np.ndarray, parent_codes: np.ndarray, row_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each row id: the parent's code and whether the row existed in the parent.

    ``parent_ids`` must be sorted. Missing rows get code 0 and False.
    """
    if len(parent_ids) == 0:
        return np.zeros(len(row_ids), np.uint8), np.zeros(len(row_ids), bool)
    pos = np.searchsorted(parent_ids, row_ids)
    clipped = np.minimum(pos, len(parent_ids) - 1)
    existed = (pos < len(parent_ids)) & (parent_ids[clipped] == row_ids)
    codes = np.where(existed, parent_codes[clipped], 0).astype(np.uint8)
    return codes, existed
