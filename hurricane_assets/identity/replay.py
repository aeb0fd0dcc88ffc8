"""Nonces already accepted, persisted in SQLite so a replay is caught across processes and restarts."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path

from hurricane_assets.identity.errors import ReplayedNonceError
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.wal_database import connect_wal

REPLAY_DB = "replay_cache.sqlite"
PRUNE_EVERY = timedelta(minutes=1)  # of the verifier's clock; pruning is housekeeping, not a check


class ReplayCache:
    """One connection per cache, shared by the threads of a run (LangGraph runs nodes in a pool).

    WAL with `synchronous=NORMAL`: a commit is atomic and visible to every other process at once,
    but reaches the disk at the next checkpoint rather than by an fsync per nonce (each fsync cost
    ~28 ms, two per agent call, most of an in-process agent's overhead). What a power cut can lose
    is the last nonces of envelopes that expire within `MAX_LIFETIME` anyway; a process crash loses
    nothing.

    A nonce is one INSERT in autocommit (its own transaction): the primary key, not a read before
    the write, refuses a second use, so two processes racing on one nonce cannot both pass.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else hurricane_paths().home / REPLAY_DB
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._next_prune: datetime | None = None
        self._db = connect_wal(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, signer TEXT, expires_at TEXT)")
        self._db.execute("CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces (expires_at)")

    def remember(self, nonce: str, signer: str, expires_at: datetime, now: datetime) -> None:
        """Record a nonce once; a second time raises `ReplayedNonceError`.

        Expired nonces are pruned, at most once per `PRUNE_EVERY` of `now`: an expired envelope is
        rejected on its timestamp anyway, so keeping one a little longer changes no answer.
        """
        with self._lock:
            if self._next_prune is None or now >= self._next_prune:
                self._db.execute("DELETE FROM nonces WHERE expires_at < ?", (now.isoformat(),))
                self._next_prune = now + PRUNE_EVERY
            try:
                self._db.execute(
                    "INSERT INTO nonces (nonce, signer, expires_at) VALUES (?, ?, ?)",
                    (nonce, signer, expires_at.isoformat()),
                )
            except sqlite3.IntegrityError:
                raise ReplayedNonceError(f"nonce {nonce} from {signer!r} was already used (replayed envelope)") from None

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
