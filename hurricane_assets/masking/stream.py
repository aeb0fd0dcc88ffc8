"""Masking a table larger than memory: two passes over batches, one Delta commit.

`mask_table` holds the whole table; above `stream_rows()` rows (`HURRICANE_STREAM_ROWS`, default
2M) `copy_masked` and deliveries stream instead, with the same output:

1. **Whole-table pass over the few columns that need the whole table**: the quasi-identifiers, the
   person column, the sensitive columns of the measured checks, quantile-bucket columns (their edges
   are the whole column's quantiles) and the columns these read per row. They go through
   `mask_table` itself (k-anonymity in persons, generalisation, suppression, measured privacy), so
   the gate's decisions are the in-memory path's by construction; their masked values are kept (a
   few narrow columns) and sliced into the second pass. A failing gate raises here: nothing is written.
   The person column is kept unmasked in this pass: grouping by the raw id and by its token is the
   same grouping (a token collision, which `unique` columns are checked for, aside).
2. **Streaming pass over every other column**, batch by batch (`HURRICANE_STREAM_BATCH_ROWS`, default
   128k rows): each column's distinct values in the batch are masked once, through a bounded LRU
   cache per column (`HURRICANE_STREAM_CACHE_VALUES` values each) so a customer id seen in every
   batch is tokenised once while memory stays bounded. The batches feed `write_deltalake` as a
   `RecordBatchReader`: one commit, after the last batch; an error before it commits nothing. delta-rs
   pulls them on its own native thread, so this pass runs in one process: `parallel.run_split` never
   forks outside the main thread (measured in an audit: no streamed batch was ever split). Driving the
   batches from the main thread through a bounded queue would give it the second core back; not done.

Both passes read one pinned Delta version in the same order (a row count mismatch between the
passes raises). The report's distinct counts of streamed columns are counts of distinct 64-bit
hashes of the values (pandas' `hash_array`): exact unless two of the values collide (~n²/2⁶⁵).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking import stream_gate
from hurricane_assets.masking.distinct import sorted_unique
from hurricane_assets.masking.engine import (
    MaskedResult,
    TokenCollisionError,
    check_table,
    mask_table,
)
from hurricane_assets.masking.kanonymity import DEFAULT_K, MAX_SUPPRESSION
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import ColumnRule, MaskingPlan
from hurricane_assets.masking.report import ColumnReport, PrivacyReport
from hurricane_assets.settings import int_setting

STREAM_ROWS = 2_000_000
BATCH_ROWS = 131_072
CACHE_VALUES = 65_536  # per column; a Python entry (value, token, links) costs ~250 bytes
USEFUL_AFTER = 65_536  # values looked up before a cache without hits is given up


def _setting(name: str, default: int) -> int:
    return int_setting(name, default, unit="rows or values")


def stream_rows() -> int:
    """Tables with more rows than this are masked by streaming (0: always stream)."""
    return _setting("HURRICANE_STREAM_ROWS", STREAM_ROWS)


def batch_rows() -> int:
    return max(1, _setting("HURRICANE_STREAM_BATCH_ROWS", BATCH_ROWS))


def cache_values() -> int:
    return _setting("HURRICANE_STREAM_CACHE_VALUES", CACHE_VALUES)


class ValueCache:
    """Masked value per input value, the least recently used dropped beyond `limit` entries."""

    def __init__(self, limit: int):
        self.limit = limit
        self._values: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._values)

    @property
    def useful(self) -> bool:
        """False once a column's values have not repeated across batches (a unique key: every lookup
        would miss and every store evict), so that column stops paying for the cache."""
        seen = self.hits + self.misses
        return self.limit > 0 and (seen < 2 * USEFUL_AFTER or self.hits >= 0.01 * seen)

    def lookup(self, values: list) -> tuple[list, list[int]]:
        """(result per value, `_MISSING` where unknown; positions of the unknown values)."""
        if not self.useful:
            self.misses += len(values)
            return [_MISSING] * len(values), list(range(len(values)))
        found, missing = [], []
        for i, value in enumerate(values):
            try:
                hit = self._values[value]
            except (KeyError, TypeError):  # unhashable values are simply not cached
                found.append(_MISSING)
                missing.append(i)
                continue
            self._values.move_to_end(value)
            found.append(hit)
        self.hits += len(values) - len(missing)
        self.misses += len(missing)
        return found, missing

    def store(self, values: list, results: list) -> None:
        if not self.useful:
            self._values.clear()
            return
        for value, result in zip(values, results):
            try:
                self._values[value] = result
            except TypeError:
                continue
        while len(self._values) > self.limit:
            self._values.popitem(last=False)


_MISSING = object()


class DistinctCounter:
    """Distinct non-null values of a column seen batch by batch, as 64-bit hashes, in bounded memory:
    up to `limit` distinct hashes are held; beyond, they go to `PARTITIONS` files on local disk by
    their top bits, and `count` adds up the distinct hashes of one file at a time (a unique key of 20M
    rows held 320 MB of hashes for its before/after counts otherwise)."""

    PARTITIONS = 64
    LIMIT = 1 << 20  # hashes held in memory (8 MB)

    def __init__(self, limit: int | None = None):
        self.limit = self.LIMIT if limit is None else limit
        self._parts: list[np.ndarray] = []
        self._held = 0
        self._spill = None  # tempfile.TemporaryDirectory once spilled
        self._total: int | None = None  # the count, once the spilled files were counted and removed

    def add(self, arr: pa.Array) -> None:
        from pandas.util import hash_array

        if self._total is not None:
            raise RuntimeError("DistinctCounter: values added after the spilled count")
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        unique = pc.unique(arr.drop_null())
        if len(unique) == 0:
            return
        # the values are distinct already: hashed as they are (pandas' default factorizes them first,
        # 3x the time), and sorted and merged only when folded
        self._parts.append(hash_array(unique.to_numpy(zero_copy_only=False), categorize=False))
        self._held += len(self._parts[-1])
        if len(self._parts) > 64 or self._held > self.limit:  # fold, so a low-cardinality column holds one small array
            self._fold()

    def _fold(self, spill_above: int | None = None) -> None:
        merged = sorted_unique(np.concatenate(self._parts))
        self._parts, self._held = [merged], len(merged)
        # While adding, spilled from half the limit: a merged set kept just under it would be merged
        # (sorted) again at almost every batch, which made a 10M-row copy spend 198 of its 317 s here.
        if self._held > (self.limit // 2 if spill_above is None else spill_above):
            self._write(merged)
            self._parts, self._held = [], 0

    def _write(self, hashes: np.ndarray) -> None:
        import tempfile

        if self._spill is None:
            self._spill = tempfile.TemporaryDirectory(prefix="hurricane-distinct-")
        partition = (hashes >> np.uint64(58)).astype(np.int64)  # sorted hashes: partitions are runs
        bounds = np.searchsorted(partition, np.arange(self.PARTITIONS + 1))
        for p in range(self.PARTITIONS):
            if bounds[p] < bounds[p + 1]:
                with open(f"{self._spill.name}/{p}.u64", "ab") as out:
                    hashes[bounds[p]:bounds[p + 1]].tofile(out)

    @property
    def spilled(self) -> bool:
        return self._spill is not None or self._total is not None

    def count(self) -> int:
        if self._total is not None:
            return self._total
        if self._spill is None:
            if not self._parts:
                return 0
            self._fold(spill_above=self.limit)  # the last fold: in memory unless over the limit itself
            if self._spill is None:
                return len(self._parts[0]) if self._parts else 0
        from pathlib import Path

        if self._parts:
            self._write(sorted_unique(np.concatenate(self._parts)))
        folder, self._spill = Path(self._spill.name), self._spill
        total = sum(len(sorted_unique(np.fromfile(part, dtype=np.uint64))) for part in folder.iterdir())
        self._spill.cleanup()  # counted once: the files go, the count stays
        self._spill, self._parts, self._held = None, [np.zeros(0, np.uint64)], 0
        self._total = total
        return total


@dataclass
class _ColumnStats:
    rows: int = 0
    nulls_before: int = 0
    nulls_after: int = 0
    before: DistinctCounter = field(default_factory=DistinctCounter)
    after: DistinctCounter = field(default_factory=DistinctCounter)


BatchSource = Callable[[list[str] | None], Iterator[pa.RecordBatch]]


def whole_table_columns(plan: MaskingPlan, columns: list[str], thresholds) -> tuple[list[str], set[str]]:
    """(columns the first pass reads, the subset whose masked values it produces for the output)."""
    rules = plan.rules
    produced = {c for c in columns if not rules[c].drops and (
        rules[c].quasi_identifier or (rules[c].operator == "bucket" and "quantiles" in rules[c].params)
        or (thresholds is not None and c in thresholds.sensitive) or _reads_whole_column(rules[c]))}
    read = set(produced)
    if plan.person_column in columns:
        read.add(plan.person_column)
    for c in produced:
        params = rules[c].params
        for dependency in [params.get("entity_column"), *(params.get("row_columns") or {})]:
            if dependency in columns:
                read.add(dependency)
    return [c for c in columns if c in read], produced


def _reads_whole_column(rule: ColumnRule) -> bool:
    """An operator whose per-value output depends on the column's other values (phone fakes avoid
    every prod number of the column) masks in the first pass, over the whole column. Operators with a
    faster `mask_distinct` of their own (tokens, e-mails, IBANs) stream: each value's output is its own."""
    from hurricane_assets.masking.registry import operator_class

    return operator_class(rule.operator).reads_whole_column


@dataclass
class MaskedStream:
    """The masked batches of a table (iterate `batches()` once) and, after that, its `report`."""

    schema: pa.Schema
    _batches: Iterator[pa.RecordBatch]
    report: PrivacyReport | None = None
    cache_stats: dict[str, dict] = field(default_factory=dict)
    largest_batch: int = 0
    error: BaseException | None = None

    def batches(self) -> Iterator[pa.RecordBatch]:
        return self._batches

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self._batches)


def mask_stream(source: BatchSource, schema: pa.Schema, plan: MaskingPlan, keyring: Keyring, *,
                k: int | None = DEFAULT_K, max_suppression: float = MAX_SUPPRESSION, thresholds=None,
                split: bool | None = None) -> MaskedStream:
    """The streaming `mask_table`: `source(columns)` yields the rows (those columns, all when None) in
    the same order at every call. Raises what `mask_table` raises (drift, unclassified, k-anonymity,
    privacy checks) before the first batch; a token collision of a `unique` column after the last."""
    check_table(schema.empty_table(), plan)
    names = schema.names
    read, produced = whole_table_columns(plan, names, thresholds)
    first = None
    compact = None
    gated = produced or k is not None or thresholds is not None  # the gate reports persons and rows even without QIs
    if gated and stream_gate.fits(plan, names, produced, thresholds):
        try:
            compact = stream_gate.gate(source, schema, plan, keyring, k=k, max_suppression=max_suppression,
                                       thresholds=thresholds)
        except stream_gate.NotCompact:
            compact = None
    if compact is not None:
        first = MaskedResult(table=pa.table({}), report=compact.report)
        out_schema = pa.schema([pa.field(c, schema.field(c).type) if c in compact.changed else schema.field(c)
                                for c in names if not plan.rules[c].drops], metadata=schema.metadata)
        result = MaskedStream(out_schema, iter(()))
        streamed = [c for c in names if c not in produced]
        result._batches = _keeping_error(result, _second_pass(result, source, names, streamed, {}, plan, keyring, first,
                                                              split=split, gate=compact))
        return result
    if gated:
        # the person column only counts persons here: its 64-bit hashes group the rows as its values do
        hashed = plan.person_column if plan.person_column in read and plan.person_column not in produced else None
        narrow = _narrow_table(source, read, schema, hashed)
        # the person column and per-row dependencies only count persons / feed operators here
        rules = {c: plan.rules[c] if c in produced else ColumnRule(operator="keep") for c in read}
        types = {c: "int64" if c == hashed else plan.expected_types[c] for c in read}
        narrow_plan = plan.model_copy(update={"rules": rules, "expected_types": types})
        first = mask_table(narrow, narrow_plan, keyring, k=k, max_suppression=max_suppression,
                           thresholds=thresholds, split=split)
        del narrow
    produced_values = {c: _compact(first.table.column(c)) for c in produced} if first else {}
    streamed = [c for c in names if c not in produced_values]
    # the gate may turn a QI's field nullable (it sets columns), as in memory: the first pass's field
    out_schema = pa.schema([first.table.schema.field(c) if c in produced_values else schema.field(c)
                            for c in names if not plan.rules[c].drops], metadata=schema.metadata)
    if first is not None:  # only the produced columns and the report stay: the person column goes
        first = MaskedResult(table=pa.table({}), report=first.report)
    result = MaskedStream(out_schema, iter(()))
    result._batches = _keeping_error(result, _second_pass(result, source, names, streamed, produced_values, plan,
                                                          keyring, first, split=split))
    return result


def _narrow_table(source: BatchSource, read: list[str], schema: pa.Schema, hashed: str | None) -> pa.Table:
    """The first pass's columns of every row, the `hashed` column as int64 hashes of its values
    (nulls stay null): 8 bytes a row instead of the string and its dictionary."""
    fields = [pa.field(c, pa.int64()) if c == hashed else schema.field(c) for c in read]
    batches = []
    for batch in source(read):
        if hashed is not None:
            i = batch.schema.get_field_index(hashed)
            batch = batch.set_column(i, pa.field(hashed, pa.int64()), value_hashes(batch.column(i)))
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=pa.schema(fields))


def value_hashes(arr: pa.Array) -> pa.Array:
    from pandas.util import hash_array

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not arr.null_count:
        return pa.array(hash_array(arr.to_numpy(zero_copy_only=False)).view(np.int64))
    valid = pc.is_valid(arr)
    hashes = np.zeros(len(arr), dtype=np.uint64)
    hashes[valid.to_numpy(zero_copy_only=False)] = hash_array(arr.filter(valid).to_numpy(zero_copy_only=False))
    return pa.array(hashes.view(np.int64), mask=arr.is_null().to_numpy(zero_copy_only=False))


def _compact(column: pa.ChunkedArray) -> pa.Array:
    """A produced column kept for the second pass: dictionary-encoded when its values repeat (a day
    or an amount band: 4 bytes a row instead of 8, or of a string)."""
    values = column.combine_chunks()
    encoded = pc.dictionary_encode(values)
    return encoded if len(encoded.dictionary) * 2 < len(values) else values


def _keeping_error(result: MaskedStream, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The writer wraps an error raised while it pulls batches in its own; keep the original to raise."""
    try:
        yield from batches
    except BaseException as error:
        result.error = error
        raise


def writer_properties():
    """Row groups of one batch: delta-rs's default (about 1M rows) keeps each open row group in
    memory, uncompressed, per writer partition, so the writer's memory grew with the table."""
    from deltalake import WriterProperties

    return WriterProperties(max_row_group_size=batch_rows())


def write_stream(uri: str, stream: MaskedStream, **options) -> None:
    """`write_deltalake` from the stream in one commit; an error in a batch raises as itself, uncommitted."""
    from deltalake import write_deltalake

    try:
        write_deltalake(uri, stream.reader(), writer_properties=writer_properties(), **options)
    except Exception:
        if stream.error is not None:
            raise stream.error from None
        raise


def _second_pass(result: MaskedStream, source: BatchSource, names: list[str], streamed: list[str],
                 produced_values: dict[str, pa.Array], plan: MaskingPlan, keyring: Keyring, first, *,
                 split: bool | None, gate=None) -> Iterator[pa.RecordBatch]:
    from hurricane_assets.masking.columns import masked_columns

    # columns a streamed operator reads per row but the first pass produced: read raw, not output
    dependencies = [c for c in produced_values if any(
        c == plan.rules[s].params.get("entity_column") or c in (plan.rules[s].params.get("row_columns") or {})
        for s in streamed)]
    rules = {c: plan.rules[c] if c in streamed else ColumnRule(operator="keep")
             for c in names if c in streamed or c in dependencies}
    caches = {c: ValueCache(cache_values()) for c in streamed}
    stats = {c: _ColumnStats() for c in streamed}
    gated = set(gate.qis) if gate is not None else set()
    offset = 0
    for batch in source([c for c in names if c in rules or c in gated]):
        batch_table = pa.Table.from_batches([batch])
        qi_values = gate.mask_batch(batch_table) if gate is not None else {}
        if gated:
            batch_table = batch_table.select([c for c in batch_table.column_names if c in rules])
        columns = masked_columns(batch_table, rules, keyring.key, split=split, caches=caches)
        arrays = []
        for name in result.schema.names:
            if name in qi_values:
                arrays.append(qi_values[name])
            elif name in produced_values:
                part = produced_values[name].slice(offset, batch.num_rows)
                arrays.append(part.dictionary_decode() if pa.types.is_dictionary(part.type) else part)
            else:
                arrays.append(columns[name].values)
        for name in streamed:
            before = batch_table.column(name).combine_chunks()
            s = stats[name]
            s.rows += batch.num_rows
            s.nulls_before += before.null_count
            s.before.add(before)
            if name in columns:
                s.nulls_after += columns[name].values.null_count
                s.after.add(columns[name].values)
        offset += batch.num_rows
        result.largest_batch = max(result.largest_batch, batch.num_rows)
        yield pa.RecordBatch.from_arrays(arrays, schema=result.schema)
    expected = first.report.rows if first is not None else None
    if expected is not None and offset != expected:
        raise RuntimeError(f"{plan.dataset}: the two passes read {expected} and {offset} rows of one table version; "
                           "nothing was written")
    counted = {name: (s.before.count(), s.after.count() if name in result.schema.names else None)
               for name, s in stats.items()}
    for name, rule in plan.rules.items():
        if rule.unique and name in counted and counted[name][1] is not None and counted[name][1] < counted[name][0]:
            raise TokenCollisionError(
                f"{plan.dataset}.{name}: {rule.operator} mapped distinct keys to the same value; "
                "use a longer token or aes_siv for this column")
    result.cache_stats = {c: {"hits": caches[c].hits, "misses": caches[c].misses, "held": len(caches[c])}
                          for c in streamed if caches[c].hits or caches[c].misses}
    result.report = _report(plan, keyring, offset, names, stats, counted, first)


def _report(plan: MaskingPlan, keyring: Keyring, rows: int, names: list[str], stats: dict[str, _ColumnStats],
            counted: dict[str, tuple[int, int | None]], first) -> PrivacyReport:
    from hurricane_assets.masking.registry import operator_class
    from hurricane_assets.masking.report import SENSITIVE_PARAMS

    by_name: dict[str, ColumnReport] = {c.column: c for c in first.report.columns} if first else {}
    columns = []
    for name in names:
        if name in stats:
            rule, s = plan.rules[name], stats[name]
            dropped = rule.drops
            status = "dropped" if dropped else ("kept" if rule.operator == "keep" else "masked")
            columns.append(ColumnReport(
                column=name, status=status, operator=rule.operator, method=rule.method.value,
                params={p: v for p, v in rule.params.items() if p not in SENSITIVE_PARAMS},
                key_id=keyring.key_id if operator_class(rule.operator).keyed and status == "masked" else None,
                quasi_identifier=rule.quasi_identifier,
                null_rate_before=s.nulls_before / s.rows if s.rows else 0.0,
                null_rate_after=None if dropped else (s.nulls_after / s.rows if s.rows else 0.0),
                distinct_before=counted[name][0], distinct_after=None if dropped else counted[name][1]))
        else:
            columns.append(by_name[name])
    if first is not None:
        k_anonymity, measured = first.report.k_anonymity, first.report.measured
    else:
        k_anonymity, measured = {"k": None, "quasi_identifiers": plan.quasi_identifiers(), "actions": []}, None
    return PrivacyReport(
        dataset=plan.dataset, env=plan.env, plan_version=plan.version, plan_source=plan.source,
        key_id=keyring.key_id, rows=rows, columns=columns, k_anonymity=k_anonymity, measured=measured,
        at_risk=[c for c in plan.sensitive_columns if c in names and plan.rules[c].operator == "keep"],
        raised_to_floor=list(plan.raised_to_floor),
    )



class SourceChanged(RuntimeError):
    """The prepared rows of a pass differ from the first pass's."""


@dataclass
class DeltaBatches:
    """One pinned version of a Delta table as a `BatchSource`: `prepare` (row-wise: erasure, row
    filter) runs on every batch and may read `needs` columns besides those asked for. `version` -1
    pins the current version when the source is made."""

    uri: str
    prepare: Callable[[pa.Table], pa.Table]
    needs: tuple[str, ...] = ()
    version: int = -1
    rows: int = 0
    schema: pa.Schema = None  # type: ignore[assignment]
    removed_per_pass: list[int] = field(default_factory=list)

    def __post_init__(self):
        from deltalake.exceptions import TableNotFoundError

        from hurricane_assets.storage import open_table

        try:
            table = open_table(self.uri, None if self.version < 0 else self.version)
        except TableNotFoundError:
            raise TableNotFoundError(f"no Delta table at {self.uri}") from None
        self.version = table.version()
        self._dataset = table.to_pyarrow_dataset()
        self.schema = self._dataset.schema
        self.rows = self._dataset.count_rows()

    def read_all(self) -> pa.Table:
        """The pinned version whole, in memory (for a table small enough not to stream)."""
        return pa.table(self._dataset.to_table())

    def __call__(self, columns: list[str] | None) -> Iterator[pa.RecordBatch]:
        wanted = set(self.schema.names if columns is None else columns) | set(self.needs)
        read = [c for c in self.schema.names if c in wanted]
        self.removed_per_pass.append(0)
        for batch in self._dataset.to_batches(columns=read, batch_size=batch_rows(), batch_readahead=1,
                                              fragment_readahead=1):
            table = pa.Table.from_batches([batch])
            kept = self.prepare(table)
            self.removed_per_pass[-1] += table.num_rows - kept.num_rows
            if columns is not None:
                kept = kept.select(columns)
            for part in kept.to_batches(max_chunksize=batch_rows()):
                if part.num_rows:
                    yield part


def should_stream(rows: int) -> bool:
    return rows > stream_rows()
