"""Erasing a delivered share when its contract is revoked or expires.

A Delta delete commit first (readers holding the table see an empty table, and the history says
so), then a vacuum with zero retention removes the data files. The transaction log goes too: its
add actions carry per-file min/max statistics, i.e. values of the revoked data.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.fs as pafs
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.contracts.check import inside_consumer_root, share_uri_for
from hurricane_assets.storage import open_table
from negotiation_graph.terms import ShareTerms


class ErasureRefused(ValueError):
    """An erasure aimed outside the consumer's environment root: nothing was deleted."""


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


def erasable_uri(terms: ShareTerms) -> str:
    """The consumer's copy under `terms`, derived from settings; `ErasureRefused` unless it lies inside
    the consumer's environment root, so no contract file can make an erasure delete another table."""
    uri = share_uri_for(terms)
    if not inside_consumer_root(uri, terms):
        raise ErasureRefused(f"refusing to erase {uri}: not inside {terms.consumer}'s {terms.environment.value} root")
    return uri


def erase_share(terms: ShareTerms) -> Erasure:
    """Erase the consumer's copy under `terms` (`erasable_uri`)."""
    return erase_table(erasable_uri(terms))
