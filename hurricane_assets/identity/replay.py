"""Nonces already accepted, persisted in SQLite so a replay is caught across processes and restarts."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from hurricane_assets.identity.errors import ReplayedNonceError
from hurricane_assets.settings import hurricane_paths

REPLAY_DB = "replay_cache.sqlite"


class ReplayCache:
    """One connection per cache, shared by the threads of a run (LangGraph runs nodes in a pool).

    WAL with `synchronous=NORMAL`: a commit is atomic and visible to every other process at once,
    but reaches the disk at the next checkpoint rather than by an fsync per nonce (each fsync cost
    ~28 ms, two per agent call, most of an in-process agent's overhead). What a power cut can lose
    is the last nonces of envelopes that expire within `MAX_LIFETIME` anyway; a process crash loses
    nothing.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else hurricane_paths().home / REPLAY_DB
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, signer TEXT, expires_at TEXT)")
        self._db.execute("CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at)")

    def remember(self, nonce: str, signer: str, expires_at: datetime, now: datetime) -> None:
        """Record a nonce once; a second time raises `ReplayedNonceError`.

        Expired nonces are pruned: an expired envelope is rejected on its timestamp anyway.
        """
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM nonces WHERE expires_at < ?", (now.isoformat(),))
                db.execute(
                    "INSERT INTO nonces (nonce, signer, expires_at) VALUES (?, ?, ?)",
                    (nonce, signer, expires_at.isoformat()),
                )
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                raise ReplayedNonceError(f"nonce {nonce} from {signer!r} was already used (replayed envelope)") from None
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def __contains__(self, nonce: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM nonces WHERE nonce = ?", (nonce,)).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __del__(self) -> None:
        try:
            self._db.close()
        except Exception:  # interpreter shutdown: the module globals may be gone
            pass
