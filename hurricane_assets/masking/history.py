"""No history below prod: after a masked write, only the current version stays on storage.

An overwrite commit leaves the previous version's data files on storage and its log entries
(whose add actions carry per-file min/max statistics, i.e. values) readable by time travel; so a
fixed masking rule or a person erased in prod would never leave a lower environment. After each
masked copy and each delivery the table therefore:

1. vacuums every file the current version does not reference, deliberately past Delta's retention
   guard (`retention_hours=0, enforce_retention_duration=False`, `full=True` so files from before
   the last checkpoint count too);
2. writes a checkpoint of the current version, then deletes every log entry and checkpoint before it
   (`cleanup_metadata` with a zero log retention set on the table, then any leftover the file clock
   kept, by name), so time travel to an earlier version fails.

Readers holding an older snapshot fail afterwards; this runs at the end of the writer's own run.
The vacuum's commits carry the write's custom metadata, so `history(1)` still describes the write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow.fs as pafs
from deltalake import CommitProperties

from hurricane_assets.storage import open_table

LOG_RETENTION = {"delta.logRetentionDuration": "interval 0 seconds"}
_LOG_FILE = re.compile(r"^(\d{20})\.(json|checkpoint\.parquet|checkpoint\.\d+\.\d+\.parquet|crc)$")


@dataclass(frozen=True)
class HistoryPurge:
    uri: str
    version: int  # the only version left
    files_removed: int
    log_files_removed: int


def keep_only_current_version(uri: str, *, metadata: dict[str, str] | None = None) -> HistoryPurge:
    """Remove every data file and log entry of `uri` except those of its current version."""
    table = open_table(uri)
    if not table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=True, full=True) \
            and not _older_logs(uri, table.version())[1]:
        # nothing but the current version on storage (a table's first write): a purge would only
        # add commits, and its listing just found nothing to remove
        return HistoryPurge(uri=uri, version=table.version(), files_removed=0, log_files_removed=0)
    if table.metadata().configuration.get("delta.logRetentionDuration") != LOG_RETENTION["delta.logRetentionDuration"]:
        table.alter.set_table_properties(LOG_RETENTION, raise_if_not_exists=False,
                                         commit_properties=CommitProperties(custom_metadata=metadata or {}))
    removed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True,
                           commit_properties=CommitProperties(custom_metadata=metadata or {}))
    table = open_table(uri)
    version = table.version()
    table.create_checkpoint()
    table.cleanup_metadata()
    logs = _drop_older_logs(uri, version)
    return HistoryPurge(uri=uri, version=version, files_removed=len(removed), log_files_removed=logs)


def _older_logs(uri: str, version: int) -> tuple[pafs.FileSystem, list[str]]:
    """The log entries and checkpoints of `uri` before `version`, and the filesystem holding them."""
    filesystem, root = pafs.FileSystem.from_uri(uri)  # as `erase_table` does, for local paths and S3
    infos = filesystem.get_file_info(pafs.FileSelector(f"{root}/_delta_log", allow_not_found=True))
    return filesystem, [i.path for i in infos if (m := _LOG_FILE.match(i.base_name)) and int(m.group(1)) < version]


def _drop_older_logs(uri: str, version: int) -> int:
    """Delete log entries and checkpoints before `version` that `cleanup_metadata` left (it compares
    file times with a zero retention, and a file written in the same millisecond survives)."""
    filesystem, stale = _older_logs(uri, version)
    for path in stale:
        filesystem.delete_file(path)
    return len(stale)

