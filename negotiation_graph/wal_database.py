"""SQLite files that several processes open at once (replay caches, the ledger's id index,
checkpoints), in WAL mode."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path


def connect_wal(path: str | Path, *, timeout: float = 30.0, **options) -> sqlite3.Connection:
    """A connection to `path` in WAL mode with `synchronous=NORMAL`; `options` go to `sqlite3.connect`.

    SQLite answers `PRAGMA journal_mode=WAL` with "database is locked" at once, without waiting in
    its busy handler, while another connection is switching the same new file: two processes
    starting on a fresh home at the same moment (code servers, benchmark workers) failed about one
    start in six. The switch is retried until `timeout`, the same bound every other statement waits.
    """
    conn = sqlite3.connect(str(path), timeout=timeout, **options)
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                conn.close()
                raise
            time.sleep(random.uniform(0.001, 0.01))
    # synchronous=NORMAL: a committed write survives a killed process; only an OS crash or power
    # loss may lose the last few, at a fraction of the fsyncs
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
