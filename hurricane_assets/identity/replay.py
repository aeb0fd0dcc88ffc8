"""Nonces already accepted, persisted in SQLite so a replay is caught across processes and restarts."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from hurricane_assets.identity.errors import ReplayedNonceError
from hurricane_assets.settings import hurricane_paths

REPLAY_DB = "replay_cache.sqlite"


class ReplayCache:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else hurricane_paths().home / REPLAY_DB
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, signer TEXT, expires_at TEXT)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def remember(self, nonce: str, signer: str, expires_at: datetime, now: datetime) -> None:
        """Record a nonce once; a second time raises `ReplayedNonceError`.

        Expired nonces are pruned: an expired envelope is rejected on its timestamp anyway.
        """
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM nonces WHERE expires_at < ?", (now.isoformat(),))
            try:
                db.execute(
                    "INSERT INTO nonces (nonce, signer, expires_at) VALUES (?, ?, ?)",
                    (nonce, signer, expires_at.isoformat()),
                )
            except sqlite3.IntegrityError:
                db.execute("ROLLBACK")
                raise ReplayedNonceError(f"nonce {nonce} from {signer!r} was already used (replayed envelope)") from None
            db.execute("COMMIT")
        finally:
            db.close()

    def __contains__(self, nonce: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM nonces WHERE nonce = ?", (nonce,)).fetchone() is not None
