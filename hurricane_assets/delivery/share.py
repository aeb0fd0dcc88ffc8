"""The masked share a delivery writes: in memory for a small table, else streamed and spilled.

A delivery must know the share's content digest before it writes (an unchanged share is not written
again, and the digest goes into the commit), so a share larger than memory is masked once, batch by
batch (`masking/stream.py`), into a local Arrow IPC stream file while it is hashed, and the writer
then reads that file (memory-mapped) into one Delta commit. The file holds masked rows only and is
removed when the delivery ends. Its digest is the SHA-256 of that IPC stream, batch by batch as the
source's row groups give them: stable for the same source version and settings, but not equal to
the in-memory path's digest of the same rows (one batch), so a table crossing `HURRICANE_STREAM_ROWS`
is written once more.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self

import pyarrow as pa

from hurricane_assets.catalog import Catalog
from hurricane_assets.catalog.schema import arrow_schema, schema_diff
from hurricane_assets.delivery.join_match import entity_columns
from hurricane_assets.delivery.retention import RetentionCount, keep_within
from hurricane_assets.delivery.row_filter import RowFilterError, apply_row_filter
from hurricane_assets.masking.erasure import (
    erased_columns,
    erasure_applied,
    load_erasures,
    remove_erased,
)
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import plan_from_contract
from hurricane_assets.masking.report import PrivacyReport
from hurricane_assets.masking.stream import (
    DeltaBatches,
    MaskedStream,
    mask_stream,
    should_stream,
)
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.terms import ShareTerms


@dataclass
class Share:
    """A masked share ready to write: its report, size, digest and data (a table or a stream file)."""

    report: PrivacyReport
    rows: int
    columns: tuple[str, ...]
    digest: str
    source_version: int  # the producer's table version it was made from
    table: pa.Table | None = None
    spill: Path | None = None
    largest_batch: int | None = None
    # the prod values of the share's entity columns in the rows it holds, before masking: the
    # join-match check's prod reference without reading the producer's table again. In memory only
    # (never written), and only for an in-memory share: a streamed one would hold them all at once.
    join_keys: dict[str, pa.ChunkedArray] | None = field(default=None, repr=False)

    def data(self) -> pa.Table | pa.RecordBatchReader:
        if self.table is not None:
            return self.table
        # read, not memory-mapped: mapped pages would count as resident for the whole file
        return pa.ipc.open_stream(pa.OSFile(str(self.spill), "rb"))

    def close(self) -> None:
        if self.spill is not None:
            shutil.rmtree(self.spill.parent, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def share_for_delivery(terms: ShareTerms, *, catalog: Catalog, now: datetime, split: bool | None = None,
                       retention: RetentionCount | None = None) -> Share:
    """The masked share of `terms`: `masked_share` in memory up to `HURRICANE_STREAM_ROWS` source rows,
    streamed above. Raises what `masked_share` raises, before anything is spilled or written. Rows
    older than `retention`'s cutoff are left out and counted into it."""
    from hurricane_assets.delivery.deliver import (
        UpstreamSchemaChanged,
        content_sha256,
        contracted_rows,
        mask_contracted,
    )

    spec = catalog.dataset(terms.producer, terms.dataset)
    erasures = load_erasures()
    erased_by_pass: list[int] = []
    aged_by_pass: list[RetentionCount] = []  # the source is read once per pass: the last pass counts

    def prepare(table: pa.Table) -> pa.Table:
        kept, applied = remove_erased(table, spec, erasures)
        if len(erased_by_pass) < len(source.removed_per_pass):
            erased_by_pass.append(0)
            if retention is not None:
                aged_by_pass.append(RetentionCount(retention.cutoff, retention.previous_cutoff))
        erased_by_pass[-1] += applied.rows_removed
        rows = apply_row_filter(kept, terms.row_filter, event_time=spec.event_time, keys=spec.keys, now=now)
        return rows if retention is None else keep_within(rows, spec.event_time, aged_by_pass[-1])

    needs = set(erased_columns(spec, erasures)) | {p.column for p in terms.row_filter.all_of}
    if terms.row_filter.since_days is not None or retention is not None:
        needs.add(spec.event_time)
    if terms.row_filter.sample_fraction is not None:
        needs |= set(spec.keys)
    source = DeltaBatches(hurricane_paths().table_uri("prod", terms.producer, terms.dataset), prepare,
                          needs=tuple(sorted(needs)))
    if not should_stream(source.rows):
        rows, erased = contracted_rows(terms, catalog=catalog, now=now, retention=retention, source=source.read_all())
        masked = mask_contracted(terms, rows, erased, catalog=catalog)
        return Share(masked.report, masked.table.num_rows, tuple(masked.table.column_names),
                     content_sha256(masked.table), source.version, table=masked.table,
                     join_keys=entity_columns(rows, spec, masked.table.column_names))
    diff = schema_diff(arrow_schema(spec), source.schema)
    if not diff.ok:
        raise UpstreamSchemaChanged(f"{terms.producer}.{terms.dataset}", f"changed upstream: {diff.describe()}")
    for predicate in terms.row_filter.all_of:
        if predicate.column not in source.schema.names:
            raise RowFilterError(f"row filter column {predicate.column!r} is not in the dataset "
                                 f"(columns: {', '.join(source.schema.names)})")
    plan = plan_from_contract(spec, terms.environment.value, dict(terms.columns),
                              name=f"{terms.producer}.{terms.dataset}")
    k = None if terms.environment.value == "prod" else spec.privacy.k
    stream = mask_stream(source, source.schema, plan, Keyring.load(terms.environment.value), k=k,
                         max_suppression=spec.privacy.max_suppression,
                         thresholds=None if k is None else spec.privacy, split=split)
    folder = Path(tempfile.mkdtemp(prefix="hurricane-share-"))
    try:
        path, digest = spill(stream, folder / "share.arrows")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    erased = erasure_applied(erasures, erased_by_pass[-1] if erased_by_pass else 0)
    if retention is not None and aged_by_pass:
        retention.past, retention.removed = aged_by_pass[-1].past, aged_by_pass[-1].removed
    report = stream.report.model_copy(update={"erasure": erased.to_dict()})
    return Share(report, report.rows, tuple(stream.schema.names), digest, source.version, spill=path,
                 largest_batch=stream.largest_batch)


def spill(stream: MaskedStream, path: Path) -> tuple[Path, str]:
    """The stream's batches into an Arrow IPC stream file at `path`, and that file's SHA-256."""
    digest = hashlib.sha256()
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, stream.schema) as writer:
        for batch in stream.batches():
            writer.write_batch(batch)
    with open(path, "rb") as written:
        while chunk := written.read(1 << 22):
            digest.update(chunk)
    return path, digest.hexdigest()
