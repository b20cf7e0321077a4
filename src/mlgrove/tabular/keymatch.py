"""Matching two sets of 64-bit key hashes: which new keys the old side has, and where.

This is the core of a keyed diff (10M keys per side in the benchmark), so it avoids
``np.argsort``, a comparison sort without SIMD here (about 1 s per 10M values). Each
side's hashes are *packed* with their row index in the low bits and sorted with
``np.sort`` (vectorised, about 0.15 s per 10M); the two sorted runs are merged by a
stable sort of their concatenation (timsort finds the two runs and merges them in linear
time). Equal keys end up next to each other, old first (its indices are lower).

Packing drops the low bits of each hash, so different keys can share a packed prefix.
Such runs are rare (a few hundred at 10M rows per side) and are matched exactly on the
full hashes by the slow path; every run of one old and one new entry is checked against
the full hashes too, so the result is exact.

After the sort, the work goes block by block: large fresh allocations cost more than the
arithmetic on them (page faults; about 1 to 2 s per GB on the benchmark's VM), so the
temporaries stay small and are reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

BLOCK = 1 << 20


def _slow(k_old: np.ndarray, k_new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(old index, new index) of each matched pair, by argsort: for small inputs."""
    if not len(k_old) or not len(k_new):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order_old = np.argsort(k_old, kind="stable")
    sorted_old = k_old[order_old]
    pos = np.searchsorted(sorted_old, k_new)
    hit = (pos < len(sorted_old)) & (sorted_old[np.minimum(pos, len(sorted_old) - 1)] == k_new)
    return order_old[pos[hit]], np.flatnonzero(hit)


def _pairs(k_old: np.ndarray, k_new: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Blocks of matched (old index, new index) pairs, each new index at most once."""
    n, m = len(k_old), len(k_new)
    if n == 0 or m == 0:
        return
    total = n + m
    bits = (total - 1).bit_length()
    if bits > 40:  # a trillion rows: no packing
        yield _slow(k_old, k_new)
        return
    low = np.uint64((1 << bits) - 1)
    high = ~low
    packed = np.empty(total, np.uint64)
    step = np.arange(min(BLOCK, total), dtype=np.uint64)
    offset = np.empty_like(step)
    for side, base in ((k_old, 0), (k_new, n)):
        for s in range(0, len(side), BLOCK):
            e = min(s + BLOCK, len(side))
            out = packed[base + s : base + e]
            np.bitwise_and(side[s:e], high, out=out)
            np.add(step[: e - s], np.uint64(base + s), out=offset[: e - s])
            out |= offset[: e - s]
    packed[:n].sort()
    packed[n:].sort()
    packed.sort(kind="stable")  # merges the two sorted runs
    # same[i]: entries i and i+1 share a prefix (their xor is below 2**bits).
    same = np.empty(total + 1, bool)
    same[0] = same[total] = False  # padding: every pair has two neighbours
    for s in range(0, total - 1, BLOCK):
        e = min(s + BLOCK, total - 1)
        xor = np.bitwise_xor(packed[s + 1 : e + 1], packed[s:e], out=offset[: e - s])
        np.less_equal(xor, low, out=same[s + 1 : e + 1])
    # same is shifted by one: same[i + 1] is about entries i and i + 1.
    crowded = False
    for s in range(0, total - 1, BLOCK):
        e = min(s + BLOCK, total - 1)
        here, before, after = same[s + 1 : e + 1], same[s:e], same[s + 2 : e + 2]
        # A run of exactly two: neither neighbouring pair shares its prefix.
        alone = here & ~before & ~after
        crowded = crowded or bool((here & ~alone).any())
        first = np.flatnonzero(alone) + s
        a = (packed[first] & low).view(np.int64)
        b = (packed[first + 1] & low).view(np.int64)
        keep = (a < n) & (b >= n)  # one old, one new (old sorts first)
        a, b = a[keep], b[keep] - n
        exact = k_old[a] == k_new[b]
        yield a[exact], b[exact]
    if crowded:  # runs of three or more: a prefix shared by different keys, or repeats
        inner = same[1:total] & ~(same[1:total] & ~same[0 : total - 1] & ~same[2 : total + 1])
        members = np.zeros(total, bool)
        members[:-1] |= inner
        members[1:] |= inner
        idx = (packed[members] & low).view(np.int64)
        old_members, new_members = idx[idx < n], idx[idx >= n] - n
        a, b = _slow(k_old[old_members], k_new[new_members])
        yield old_members[a], new_members[b]


def _as_u64(h: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(h, dtype=np.uint64)


def match_keys(k_old: np.ndarray, k_new: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each new key hash whether the old side has it, and the matched index pairs
    (ascending in the new side). Keys are meant to be unique within a version; if a hash
    repeats on one side, each new occurrence matches some old occurrence."""
    k_old, k_new = _as_u64(k_old), _as_u64(k_new)
    found = np.zeros(len(k_new), bool)
    old_of_new = np.empty(len(k_new), np.int64)
    for a, b in _pairs(k_old, k_new):
        found[b] = True
        old_of_new[b] = a
    matched = np.flatnonzero(found)
    return found, matched, old_of_new[matched]


@dataclass(frozen=True)
class KeyedChanges:
    """Positions of the rows that differ between two keyed versions."""

    added: np.ndarray  # new rows whose key the old side lacks, ascending
    removed: np.ndarray  # old rows whose key the new side lacks, ascending
    changed_new: np.ndarray  # new rows whose key matched but whose content differs, ascending
    changed_old: np.ndarray  # the matching old rows, aligned with ``changed_new``


def keyed_changes(
    k_old: np.ndarray, k_new: np.ndarray, r_old: np.ndarray, r_new: np.ndarray
) -> KeyedChanges:
    """Added, removed and changed rows from key hashes ``k_*`` and row hashes ``r_*``,
    without materialising the (mostly unchanged) matched pairs."""
    k_old, k_new = _as_u64(k_old), _as_u64(k_new)
    # The pairs come in hash order: only scatter them here, and compare the row hashes
    # in a second pass in row order, where the reads are (nearly) sequential.
    old_of_new = np.full(len(k_new), -1, np.int64)
    matched_old = np.zeros(len(k_old), bool)
    for a, b in _pairs(k_old, k_new):
        old_of_new[b] = a
        matched_old[a] = True
    ch_new, ch_old = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for s in range(0, len(k_new), BLOCK):
        oon = old_of_new[s : s + BLOCK]
        hit = np.flatnonzero(oon >= 0)
        differs = hit[r_new[s : s + BLOCK][hit] != r_old[oon[hit]]]
        ch_new.append(differs + s)
        ch_old.append(oon[differs])
    return KeyedChanges(
        added=np.flatnonzero(old_of_new < 0),
        removed=np.flatnonzero(~matched_old),
        changed_new=np.concatenate(ch_new),
        changed_old=np.concatenate(ch_old),
    )
