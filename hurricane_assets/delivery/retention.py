"""A contract's retention, enforced: no row of a share is older than `retention_days`, measured on
the dataset's event-time column (catalog) against the platform clock.

A delivery rewrites the whole share from the producer's rows inside the retention, so after any
delivery the share holds nothing older; it stamps the cutoff it applied on its commit
(`dh.retention_cutoff`), which tells the next delivery and the lifecycle sweep which rows the copy may
still hold. Between deliveries rows age: the daily sweep (`sharing/lifecycle.py`) removes them, in
place when the share carries the event-time column unmasked, else by re-delivering the share (a copy
without it, or with it generalised or shifted below prod, cannot tell a row's true age; if it cannot be
re-delivered either, it is emptied: fail closed).
Removed rows leave no history below prod: every earlier file and log entry goes
(`masking/history.keep_only_current_version`), as after every masked write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.masking.history import keep_only_current_version
from hurricane_assets.storage import open_table
from negotiation_graph.terms import ShareTerms

CUTOFF_KEY = "dh.retention_cutoff"  # commit metadata of a share: rows older than this are not in it
CONTENT_KEY = "dh.content_sha256"  # the delivered content's digest (deliver.py)


def retention_cutoff(terms: ShareTerms, now: datetime) -> datetime:
    return now - timedelta(days=terms.retention_days)


@dataclass
class RetentionCount:
    """What the retention did to one share: rows of the filtered source older than `cutoff` (not in
    the share) and, of those, the ones the previous cutoff still kept (the copy held them: removed now)."""

    cutoff: datetime
    previous_cutoff: datetime | None = None
    past: int = 0
    removed: int = 0

    def to_dict(self, retention_days: int) -> dict:
        return {"retention_days": retention_days, "cutoff": self.cutoff.isoformat(),
                "rows_past_retention": self.past, "rows_removed": self.removed}


def _older(column: pa.ChunkedArray, instant: datetime) -> pa.ChunkedArray:
    """True where the event time is before `instant` or missing (a row without an event time cannot be
    shown to be young enough: it counts as old, fail closed)."""
    return pc.fill_null(pc.less(column, pa.scalar(instant).cast(column.type)), True)


def keep_within(table: pa.Table, event_time: str, count: RetentionCount) -> pa.Table:
    """The rows of `table` at or after `count.cutoff`; adds what it left out to `count`."""
    if table.num_rows == 0:
        return table
    old = _older(table[event_time], count.cutoff)
    past = pc.sum(old).as_py() or 0
    if not past:
        return table
    count.past += past
    if count.previous_cutoff is not None and count.previous_cutoff < count.cutoff:
        kept_before = pc.invert(_older(table[event_time], count.previous_cutoff))
        count.removed += pc.sum(pc.and_(old, kept_before)).as_py() or 0
    return table.filter(pc.invert(old))


def stamped_cutoff(uri: str) -> datetime | None:
    """The retention cutoff the share's last commit applied; None for no share or an unstamped one."""
    try:
        last = open_table(uri).history(1)
    except TableNotFoundError:
        return None
    stamp = (last[0] if last else {}).get(CUTOFF_KEY)
    return datetime.fromisoformat(stamp) if stamp else None


def _last_metadata(table) -> dict[str, str]:
    last = table.history(1)
    return {k: v for k, v in (last[0] if last else {}).items() if k.startswith("dh.") and isinstance(v, str)}


@dataclass(frozen=True)
class InPlace:
    rows_deleted: int
    table_version: int


def delete_older(uri: str, *, event_time: str, cutoff: datetime) -> InPlace | None:
    """Delete the share's rows older than `cutoff` (or without an event time) in place, then every
    earlier file and log entry; None when none are older. The commit keeps the share's stamp (key id,
    contract) with the new cutoff, but no content digest: the next delivery writes the share anew."""
    table = open_table(uri)
    ages = table.to_pyarrow_table(columns=[event_time])[event_time]
    old = pc.sum(_older(ages, cutoff)).as_py() or 0
    if not old:
        return None
    stamp = {k: v for k, v in _last_metadata(table).items() if k != CONTENT_KEY} | {CUTOFF_KEY: cutoff.isoformat()}
    literal = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    metrics = table.delete(predicate=f"{event_time} IS NULL OR {event_time} < '{literal}'",
                           commit_properties=CommitProperties(custom_metadata=stamp))
    version = keep_only_current_version(uri, metadata=stamp).version
    return InPlace(int(metrics.get("num_deleted_rows", old) or 0), version)


def empty_share(uri: str, *, cutoff: datetime) -> InPlace:
    """Delete every row of the share (and its history): for a copy whose rows cannot be aged."""
    table = open_table(uri)
    stamp = {k: v for k, v in _last_metadata(table).items() if k != CONTENT_KEY} | {CUTOFF_KEY: cutoff.isoformat()}
    metrics = table.delete(commit_properties=CommitProperties(custom_metadata=stamp))
    version = keep_only_current_version(uri, metadata=stamp).version
    return InPlace(int(metrics.get("num_deleted_rows", 0) or 0), version)
