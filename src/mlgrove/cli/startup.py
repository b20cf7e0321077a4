"""The cyclic garbage collector during a command's start-up.

Start-up makes a few hundred thousand objects that live as long as the process: modules,
classes, SQLAlchemy's mappings, Typer's parameters. The collector would traverse them
again and again while they are being made, and find nothing to free (measured: about
50 ms of the 0.4 s of CPU `mlgrove project list` takes). So :func:`quiet` turns it off
when the command starts, and :func:`done` turns it back on once the command has what it
needs (the client or runtime is open), first freezing what exists then so that later
collections never traverse it again (it is still freed as usual when unreferenced).

Commands that never say they are done (the server, the worker, anything new) are not
left without a collector: it comes back on by itself after :data:`LONGEST_S`, and in any
process forked meanwhile at once.
"""

from __future__ import annotations

import gc
import os
import threading

__all__ = ["LONGEST_S", "done", "quiet"]

LONGEST_S = 1.0
_quiet = False


def quiet() -> None:
    """Turn the collector off for the start-up of this process."""
    global _quiet
    if _quiet or not gc.isenabled():
        return  # already quiet, or someone else turned it off on purpose
    _quiet = True
    gc.disable()
    os.register_at_fork(after_in_child=gc.enable)
    timer = threading.Timer(LONGEST_S, _back_on)
    timer.daemon = True  # never keeps the process alive
    timer.start()


def done() -> None:
    """Start-up is over: freeze what it made and turn the collector back on."""
    global _quiet
    if _quiet:
        _quiet = False
        gc.freeze()
        gc.enable()


def _back_on() -> None:
    global _quiet
    if _quiet:
        _quiet = False
        gc.enable()
