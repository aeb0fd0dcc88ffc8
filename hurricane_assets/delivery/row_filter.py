"""A contract's row filter (a typed expression tree, never SQL) evaluated on an Arrow table."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from negotiation_graph.terms import Predicate, RowFilter


class RowFilterError(ValueError):
    """A row filter that names a column the table does not have, or compares it with a wrong type."""


def _predicate_mask(table: pa.Table, predicate: Predicate) -> pa.ChunkedArray:
    if predicate.column not in table.column_names:
        raise RowFilterError(
            f"row filter column {predicate.column!r} is not in the dataset (columns: {', '.join(table.column_names)})"
        )
    column = table[predicate.column]
    try:
        values = [pa.scalar(v).cast(column.type) for v in predicate.values]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise RowFilterError(f"row filter on {predicate.column!r}: values {predicate.values!r} do not fit {column.type}: {exc}") from None
    if predicate.op == "eq":
        return pc.equal(column, values[0])
    if predicate.op == "in":
        return pc.is_in(column, value_set=pa.array([v.as_py() for v in values], type=column.type))
    if predicate.op == ">=":
        return pc.greater_equal(column, values[0])
    if predicate.op == "<=":
        return pc.less_equal(column, values[0])
    low, high = values
    return pc.and_(pc.greater_equal(column, low), pc.less_equal(column, high))


def _sample_mask(table: pa.Table, keys: tuple[str, ...], fraction: float) -> pa.Array:
    # Sampling by a hash of the key, not at random, so a refresh keeps the same rows.
    joined = table.select(list(keys)).to_pandas().astype(str).agg("|".join, axis=1)
    digests = np.fromiter(
        (int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big") for k in joined),
        dtype=np.uint64,
        count=len(joined),
    )
    return pa.array(digests < np.uint64(int(fraction * 2**64 - 1)))


def row_filter_columns(row_filter: RowFilter, *, event_time: str, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The columns `apply_row_filter` reads, so a reader can leave the others on storage."""
    columns = [p.column for p in row_filter.all_of]
    if row_filter.since_days is not None:
        columns.append(event_time)
    if row_filter.sample_fraction is not None:
        columns.extend(keys)
    return tuple(dict.fromkeys(columns))


def apply_row_filter(
    table: pa.Table, row_filter: RowFilter, *, event_time: str, keys: tuple[str, ...], now: datetime
) -> pa.Table:
    """The rows the contract lets cross over. Null comparisons exclude the row (fail closed)."""
    if row_filter.is_everything or table.num_rows == 0:
        return table
    mask = pa.chunked_array([pa.array(np.ones(table.num_rows, dtype=bool))])
    for predicate in row_filter.all_of:
        mask = pc.and_kleene(mask, _predicate_mask(table, predicate))
    if row_filter.since_days is not None:
        cutoff = pa.scalar(now - timedelta(days=row_filter.since_days)).cast(table[event_time].type)
        mask = pc.and_kleene(mask, pc.greater_equal(table[event_time], cutoff))
    if row_filter.sample_fraction is not None:
        mask = pc.and_kleene(mask, _sample_mask(table, keys, row_filter.sample_fraction))
    return table.filter(pc.fill_null(mask, False))
