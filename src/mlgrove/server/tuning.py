"""Process settings for a serving process (``mlgrove serve``).

The server answers requests on threads of one process, which share CPython's global
interpreter lock. A thread whose database reply has arrived must take the lock back
before it can answer; when another thread is running Python code, CPython lets it run
for up to the *switch interval* (default 5 ms) before it asks it to hand over, and with
twenty busy reviewers a next-item call could wait several such turns. A shorter interval
costs a little throughput on CPU-bound work (more hand-overs) and buys shorter waits for
the short requests a server mostly has: at 1 ms the p99 of next-item calls under twenty
reviewers fell by about a third (ADR 0017).
"""

from __future__ import annotations

import sys

__all__ = ["SWITCH_INTERVAL_S", "tune_for_serving"]

#: The GIL switch interval a serving process runs with (CPython's default is 0.005 s).
SWITCH_INTERVAL_S = 0.001


def tune_for_serving() -> None:
    """Apply the serving process's settings; called once, before the server starts."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
