"""Pause Python's cyclic garbage collector around work that allocates a great many small
objects and makes no reference cycles: a 100k-file walk or add, a 100k-task import.

Each burst of allocations would start a collection over everything alive, again and
again (a tenth of a 100k-file walk, a third of an add outside reading files, 4.9 s of a
5.5 s import parse). Nothing such work makes needs the collector, and objects are still
freed by reference counting as usual. It is switched back on afterwards only if it was on
before, so pauses nest and a caller that turned it off on purpose keeps it off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
