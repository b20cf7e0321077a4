"""SQLite: WAL checkpoints from a thread of their own, not inside a writer's commit.

In WAL mode a commit appends pages to the write-ahead log; a *checkpoint* copies them
back into the database file and, with ``synchronous=NORMAL``, waits for the disk
(fsync). SQLite runs one automatically in the connection whose commit takes the log past
``wal_autocheckpoint`` pages (1,000 by default), inside that commit. On our write path
that commit still holds the process's write lock (``FairLock`` in ``store/db.py``), so
every other writer waited for the copy and the fsync too: with twenty reviewers on a
million-item queue, about a third of the next-item p99 (17 ms against 12 ms with no
checkpoint during the rounds, ADR 0017).

So write connections raise the automatic threshold far out of the way
(:data:`AUTO_CHECKPOINT_PAGES`, a safety net only) and a :class:`Checkpointer` thread,
started by the first write of a process, runs a ``PASSIVE`` checkpoint about once a
second while there are new writes. ``PASSIVE`` never waits for readers or writers: it
copies what it can and leaves the rest for its next turn. The thread has its own
connection and holds no lock of ours.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

__all__ = ["AUTO_CHECKPOINT_PAGES", "INTERVAL_S", "Checkpointer"]

log = logging.getLogger(__name__)

#: ``wal_autocheckpoint`` of Grove's SQLite connections: far above what the thread lets
#: the log reach (it only matters if the thread cannot keep up, or never started).
AUTO_CHECKPOINT_PAGES = 20_000
#: How often the thread checkpoints while there are new writes.
INTERVAL_S = 1.0


class Checkpointer:
    """Checkpoints one SQLite database file's WAL in the background."""

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._written = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def written(self) -> None:
        """A write committed: checkpoint soon (the thread starts on the first call)."""
        self._written.set()
        if self._thread is None or self._pid != os.getpid():
            self._start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint of what is written."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None or self._pid != os.getpid():
            return
        self._stop.set()
        thread.join(timeout=10)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _start(self) -> None:
        with self._lock:
            if self._pid != os.getpid():
                # A forked child: the parent's thread did not come along (and its
                # connection must not be used here); the child gets its own.
                self._pid, self._thread = os.getpid(), None
            if self._thread is not None:
                return
            # A stop signal of its own: a thread started after stop() (the database used
            # again after it was closed) must not see the old one and quit at once.
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="grove-sqlite-checkpoint", daemon=True
            )
            self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
            while True:
                stopping = stop.wait(INTERVAL_S)
                if self._written.is_set():
                    self._written.clear()
                    self._checkpoint(conn)
                if stopping:
                    return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:
            # Not fatal: the pages stay in the log (readers still see them) and the
            # next turn, or SQLite's own threshold, copies them.
            log.warning("WAL checkpoint of %s did not run: %s", self._path, exc)
