"""Key-hash matching: the packed sort gives exactly what a plain dictionary gives."""

from __future__ import annotations

import numpy as np
import pytest

from mlgrove.tabular import keymatch


def by_dict(k_old: np.ndarray, k_new: np.ndarray) -> dict[int, int]:
    """new index -> old index, for keys unique on each side."""
    where = {int(h): i for i, h in enumerate(k_old)}
    return {j: where[int(h)] for j, h in enumerate(k_new) if int(h) in where}


def unique(rng: np.random.Generator, pool: np.ndarray, size: int) -> np.ndarray:
    return rng.permutation(np.unique(rng.choice(pool, size)))


def pools(rng: np.random.Generator) -> list[np.ndarray]:
    random = rng.integers(0, 2**64 - 1, 40, dtype=np.uint64)
    # Hashes that differ only in their lowest bits share the packed prefix.
    low_bits = (random & ~np.uint64(63)) | rng.integers(0, 64, 40).astype(np.uint64)
    one_prefix = random[0] ^ np.arange(40, dtype=np.uint64)
    return [random, low_bits, one_prefix]


@pytest.mark.parametrize("block", [keymatch.BLOCK, 3, 1])
def test_matches_equal_keys_exactly(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(keymatch, "BLOCK", block)
    rng = np.random.default_rng(5)
    for _ in range(300):
        for pool in pools(rng):
            old, new = unique(rng, pool, int(rng.integers(0, 30))), unique(rng, pool, 25)
            expected = by_dict(old, new)
            found, new_idx, old_idx = keymatch.match_keys(old, new)
            assert dict(zip(new_idx.tolist(), old_idx.tolist(), strict=True)) == expected
            assert np.flatnonzero(found).tolist() == sorted(expected)


def test_repeated_hashes_match_some_equal_key() -> None:
    rng = np.random.default_rng(9)
    for pool in pools(rng):
        old, new = rng.choice(pool[:8], 20), rng.choice(pool[:12], 20)
        found, new_idx, old_idx = keymatch.match_keys(old, new)
        assert found.tolist() == [bool(np.isin(h, old)) for h in new]
        assert (old[old_idx] == new[new_idx]).all()


def test_empty_sides() -> None:
    some = np.arange(5, dtype=np.uint64)
    none = np.zeros(0, np.uint64)
    assert not keymatch.match_keys(none, some)[0].any()
    assert len(keymatch.match_keys(some, none)[1]) == 0
    kc = keymatch.keyed_changes(some, none, some, none)
    assert kc.removed.tolist() == [0, 1, 2, 3, 4]
    assert len(kc.added) == 0


@pytest.mark.parametrize("block", [keymatch.BLOCK, 7])
def test_keyed_changes_splits_added_removed_changed(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(keymatch, "BLOCK", block)
    rng = np.random.default_rng(3)
    for pool in pools(rng):
        old, new = unique(rng, pool, 30), unique(rng, pool, 30)
        r_old = rng.integers(0, 2, len(old)).astype(np.uint64)
        r_new = rng.integers(0, 2, len(new)).astype(np.uint64)
        pairs = by_dict(old, new)
        kc = keymatch.keyed_changes(old, new, r_old, r_new)
        assert kc.added.tolist() == [j for j in range(len(new)) if j not in pairs]
        assert kc.removed.tolist() == sorted(set(range(len(old))) - set(pairs.values()))
        changed = sorted(j for j, i in pairs.items() if r_new[j] != r_old[i])
        assert kc.changed_new.tolist() == changed
        assert kc.changed_old.tolist() == [pairs[j] for j in changed]
