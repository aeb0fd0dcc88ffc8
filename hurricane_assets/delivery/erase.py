"""Erasing a delivered share when its contract is revoked or expires.

A Delta delete commit first (readers holding the table see an empty table, and the history says
so), then a vacuum with zero retention removes the data files. The transaction log goes too: its
add actions carry per-file min/max statistics, i.e. values of the revoked data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.fs as pafs
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.storage import open_table


@dataclass(frozen=True)
class Erasure:
    uri: str
    rows_deleted: int
    files_vacuumed: int
    existed: bool


def erase_table(uri: str) -> Erasure:
    try:
        table = open_table(uri)
    except TableNotFoundError:
        return Erasure(uri, 0, 0, existed=False)
    metrics = table.delete()
    vacuumed = table.vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    filesystem, path = pafs.FileSystem.from_uri(uri)
    filesystem.delete_dir(path)
    return Erasure(uri, int(metrics.get("num_deleted_rows", 0) or 0), len(vacuumed), existed=True)
