"""What the ledger says a consumer's copy holds, and whether the copy on storage is still that.

The copy lives in the consumer's environment, where anyone who can write that folder can also edit
it and copy the `dh.*` commit metadata along; a stamp stored inside the table therefore proves
nothing. The ledger can: each write of a copy is a DELIVERED entry (content digest, columns, the
Delta version it left) and each in-place change the platform makes is a RETENTION entry (the version
it left). A copy is as recorded when its current version and its columns are the ones the last of
those entries names, and its last commit carries the recorded digest.

Cost: one open of the Delta log (no data file read). Limit: an insider who rewrites the data files,
or the log itself, keeping the recorded version number and the columns (e.g. other values in a
masked column) is not noticed: only hashing every row would, i.e. reading the whole copy at every
use. Adding a commit (any `write_deltalake`), adding, dropping or renaming a column, or deleting the
copy is noticed.
"""

from __future__ import annotations

from dataclasses import dataclass

from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.delivery.retention import CONTENT_KEY
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.storage import open_table


@dataclass(frozen=True)
class RecordedCopy:
    """The state the ledger last recorded for a contract's copy (its own entries or its predecessors')."""

    delivered_seq: int  # the last DELIVERED entry: the next delivery's id follows it
    content_sha256: str | None  # None once an in-place change (RETENTION) followed that write
    columns: tuple[str, ...]
    table_version: int


def recorded_copy(history: LedgerHistory, contract_id: str) -> RecordedCopy | None:
    """What the ledger says the copy of `contract_id` holds; None if nothing was ever delivered."""
    chain = set(history.chain(contract_id))  # a renewal keeps the same copy, delivered under the old id
    recorded = None
    for row in history.of_type(EntryType.DELIVERED, EntryType.RETENTION):
        if row["contract_id"] not in chain:
            continue
        payload = row["payload"]
        if row["entry_type"] == EntryType.DELIVERED.value:
            recorded = RecordedCopy(row["seq"], payload["content_sha256"], tuple(payload["columns"]),
                                    payload["table_version"])
        elif recorded is not None and payload.get("how") != "redelivered":
            # deleted or emptied in place: same columns, a new version, no longer the delivered digest
            # (a re-delivery is its own DELIVERED entry)
            recorded = RecordedCopy(recorded.delivered_seq, None, recorded.columns, payload["table_version"])
    return recorded


def open_copy(uri: str) -> DeltaTable | None:
    try:
        return open_table(uri)
    except TableNotFoundError:
        return None


def copy_differs(table: DeltaTable | None, recorded: RecordedCopy | None) -> str | None:
    """Why the copy (opened once, so the caller reads the version checked here) is not what the
    ledger recorded; None when it is."""
    if recorded is None:
        return "the ledger holds no DELIVERED entry for this contract"
    if table is None:
        return f"no table (the ledger recorded version {recorded.table_version})"
    if table.version() != recorded.table_version:
        return f"table version {table.version()}, the ledger recorded {recorded.table_version}"
    columns = tuple(table.schema().to_arrow().names)
    if columns != recorded.columns:
        return f"columns {', '.join(columns)}; the ledger recorded {', '.join(recorded.columns)}"
    if recorded.content_sha256 is not None:
        stamp = (table.history(1) or [{}])[0].get(CONTENT_KEY)
        if stamp != recorded.content_sha256:
            return f"its last commit says content {str(stamp)[:12]}, the ledger recorded {recorded.content_sha256[:12]}"
    return None
