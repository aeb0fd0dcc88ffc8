"""The ledger's entry-id index, kept in SQLite beside the home so that opening a ledger does not
read the whole Delta table: an append needs to know whether its ids are already present (and with
which content), and at 100k entries a full read of the id column cost more than the negotiation.

It is a cache, not a record: it holds (seq, entry hash, content fields) per id and the last seq it
has seen; a ledger brings it up to date by reading only the entries after that seq (file
statistics on `seq` skip every older Parquet file). A lost or deleted index is rebuilt from the
table; an index ahead of its table (the table was replaced) is dropped and rebuilt. Integrity is
`verify_ledger`'s job: the index only saves reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from negotiation_graph.ports import LedgerReceipt
from negotiation_graph.wal_database import connect_wal

LOOKUP_CHUNK = 500  # ids per query (SQLite's variable limit is far above; keeps statements small)


class IdIndex:
    def __init__(self, folder: Path, ledger_uri: str):
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(ledger_uri.encode()).hexdigest()[:16]
        self.path = folder / f"ledger-ids-{name}.sqlite"
        self._conn = connect_wal(self.path, check_same_thread=False)
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS ids (entry_id TEXT PRIMARY KEY, seq INTEGER, entry_hash TEXT, content TEXT)"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER)")
        self._conn.commit()

    @property
    def through(self) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'through'").fetchone()
        return -1 if row is None else int(row[0])

    def reset(self) -> None:
        with self._conn:
            self._conn.execute("DELETE FROM ids")
            self._conn.execute("DELETE FROM meta")

    def add(self, rows: Iterable[tuple[str, int, str, tuple]], through: int) -> None:
        """Record (entry id, seq, entry hash, content fields) rows; the first seq of an id wins."""
        with self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO ids VALUES (?, ?, ?, ?)",
                ((i, s, h, json.dumps(list(c))) for i, s, h, c in rows),
            )
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('through', ?)", (max(through, self.through),))

    def lookup(self, entry_ids: list[str]) -> dict[str, tuple[LedgerReceipt, tuple]]:
        found: dict[str, tuple[LedgerReceipt, tuple]] = {}
        for start in range(0, len(entry_ids), LOOKUP_CHUNK):
            chunk = entry_ids[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            for entry_id, seq, entry_hash, content in self._conn.execute(
                f"SELECT entry_id, seq, entry_hash, content FROM ids WHERE entry_id IN ({marks})", chunk
            ):
                found[entry_id] = (LedgerReceipt(seq=seq, entry_hash=entry_hash), tuple(json.loads(content)))
        return found

    def close(self) -> None:
        self._conn.close()
