"""How well a delivered share joins the consumer's own table: a silent 0 % match must fail loudly.

A share is only useful if its join key finds the consumer's rows. When masking keys differ (a key
lost and recreated, a share masked in another environment than the consumer's copies) every token
changes and nothing joins; the model then sees empty features and the share looks useless, with no
error anywhere. This measures, on the consumer's side, the share of distinct join keys of the
consumer's table (its model's rows in the model's training environment; else any of its tables in
the share's environment with a column for the entity) that the share holds.

A sparse share (tickets: few customers have one; a row filter keeps the last days) legitimately
matches few of the consumer's keys, so the measured rate is judged against the rate the same computation gives on the unmasked prod tables
(the consumer's prod rows, the producer's prod rows under the contract's erasures and row filter as
of the delivery): deterministic tokens keep it exactly, so the check fails below 90 % of it. Without
the consumer's prod table, an absolute floor of 5 % applies.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.compute as pc
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.catalog import Catalog
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import open_table, read_table

MIN_JOIN_MATCH_RATE = 0.05  # without a prod reference: below this, practically nothing joins
MIN_FRACTION_OF_EXPECTED = 0.9  # masking keeps joins exactly; less than this is a key or normalisation mismatch


@dataclass(frozen=True)
class JoinMatch:
    entity: str | None
    share_column: str | None
    consumer_table: str | None  # "<domain>.<dataset>@<env>"
    consumer_column: str | None
    consumer_keys: int
    matched: int
    rate: float
    min_rate: float
    reason: str = ""
    expected_rate: float | None = None  # the same measure on the unmasked prod tables

    @property
    def measured(self) -> bool:
        """False when there is nothing of the consumer's to match yet (its table not written, or empty
        over the share's time span): a warning, not the silent-mismatch error."""
        return self.consumer_keys > 0

    @property
    def passed(self) -> bool:
        return self.measured and self.rate >= self.min_rate

    @property
    def floor(self) -> str:
        if self.expected_rate is None:
            return f"{self.min_rate:.0%}"
        return f"{self.min_rate:.1%}: {MIN_FRACTION_OF_EXPECTED:.0%} of the {self.expected_rate:.1%} the unmasked prod tables give"

    def describe(self) -> str:
        if self.reason:
            return self.reason
        return (f"{self.matched} of {self.consumer_keys} {self.entity} keys of {self.consumer_table} "
                f"({self.consumer_column}) found in the share's {self.share_column}: {self.rate:.1%} "
                f"({'≥' if self.passed else '<'} {self.floor})")

    def to_dict(self) -> dict:
        return {**asdict(self), "measured": self.measured, "passed": self.passed, "description": self.describe()}


@dataclass(frozen=True)
class _Side:
    env: str
    dataset: str
    column: str
    time_column: str | None


def _consumer_sides(consumer: str, share_env: str, catalog: Catalog) -> dict[str, list[_Side]]:
    """entity -> the consumer's tables that can join on it, its models' rows first."""
    from hurricane_assets.models.spec import load_model_specs

    sides: dict[str, list[_Side]] = {}
    for spec in load_model_specs(consumer, catalog=catalog).values():
        for entity, column in spec.entity_keys.items():
            sides.setdefault(entity, []).append(_Side(spec.training.environment, spec.rows, column, spec.time_column))
    for name, dataset in catalog.product(consumer).datasets.items():
        for column, facts in dataset.columns.items():
            if facts.refers_to and share_env in dataset.allowed_environments:
                sides.setdefault(facts.refers_to, []).append(_Side(share_env, name, column, dataset.event_time))
    return sides


class ConsumerKeys:
    """The distinct values of a consumer table's join column, read once per table version for as long
    as this object lives: one delivery run measures all its shares against the same consumer tables
    (its model rows, in the training environment and in prod). A new version is read again."""

    def __init__(self) -> None:
        self._distinct: dict[tuple[str, int, str], pa.Array] = {}
        self._reading: dict[tuple[str, int, str], threading.Lock] = {}  # one reader per key at a time

    def __call__(self, uri: str, column: str) -> pa.Array:
        table = open_table(uri)  # raises TableNotFoundError: no consumer table there yet
        key = (uri, table.version(), column)
        with self._reading.setdefault(key, threading.Lock()):
            if key not in self._distinct:
                values = table.to_pyarrow_dataset().to_table(columns=[column])[column]
                self._distinct[key] = pc.unique(values.combine_chunks().drop_null())
        return self._distinct[key]


def entity_columns(rows: pa.Table, spec, columns) -> dict[str, pa.ChunkedArray]:
    """The values (unmasked, as they are: no pass over them here) of each of `columns` that refers to
    an entity, in `rows`; the check hashes only the one it joins on."""
    return {c: rows[c] for c in columns
            if c in spec.columns and spec.columns[c].refers_to and c in rows.column_names}


def join_match_rate(contract, catalog: Catalog, *, min_rate: float = MIN_JOIN_MATCH_RATE,
                    consumer_keys: ConsumerKeys | None = None,
                    delivered_keys: Mapping[str, pa.ChunkedArray] | None = None) -> JoinMatch:
    """The consumer-side match rate of `contract`'s delivered share (read where the delivery writes it:
    settings decide, not the `share_uri` the contract was signed with, whose home may have moved);
    `consumer_keys` shares the consumer tables' reads between the shares of one run. `delivered_keys`
    (`Share.join_keys` of the delivery just made): the prod values of the rows it delivered, so the prod
    reference needs no second read of the producer's table; without, that table is read as of the
    delivery (its erasures, row filter and retention applied again)."""
    consumer_keys = consumer_keys or ConsumerKeys()
    terms = contract.terms
    share_uri = share_uri_for(terms)
    producer = catalog.dataset(terms.producer, terms.dataset)
    shared = [c for c in terms.shared_columns() if c in producer.columns]
    sides = _consumer_sides(terms.consumer, terms.environment.value, catalog)
    share_columns = {producer.columns[c].refers_to: c for c in reversed(shared) if producer.columns[c].refers_to}
    candidates = [(e, c) for e, c in share_columns.items() if e in sides]
    if not candidates:
        return JoinMatch(None, None, None, None, 0, 0, 0.0, min_rate,
                         reason=f"no table of {terms.consumer} joins on any entity of the share's columns "
                                f"({', '.join(shared)})")
    # the finest entity the consumer's model rows know (a transaction before its customer)
    entity, share_column = next(((e, c) for e, c in candidates if e == producer.entity), candidates[0])
    for side in sides[entity]:
        uri = hurricane_paths().table_uri(side.env, terms.consumer, side.dataset)
        try:
            open_table(uri)
        except TableNotFoundError:
            continue
        # the prod reference on a second thread while this one measures the share: both are Arrow
        # reads and hash passes over the consumer's tables, which release the GIL (1.1 -> 0.6 s at 1M rows)
        with ThreadPoolExecutor(1) as prod_side:
            reference = prod_side.submit(_expected_rate, contract, share_uri, producer, side, share_column,
                                         consumer_keys, (delivered_keys or {}).get(share_column))
            share = read_table(share_uri, columns=[share_column])
            matched, total = _matches(consumer_keys(uri, side.column), share[share_column])
            expected = reference.result()
        floor = min_rate if expected is None else MIN_FRACTION_OF_EXPECTED * expected
        reason = "" if total else f"{terms.consumer}.{side.dataset}@{side.env} has no {side.column}"
        if total and expected == 0.0:
            reason = f"the share and {terms.consumer}.{side.dataset} have no {entity} in common in prod either"
        return JoinMatch(entity, share_column, f"{terms.consumer}.{side.dataset}@{side.env}", side.column,
                         total if expected != 0.0 else 0, matched, matched / total if total else 0.0,
                         round(floor, 6), reason=reason, expected_rate=expected)
    return JoinMatch(entity, share_column, None, None, 0, 0, 0.0, min_rate,
                     reason=f"no table of {terms.consumer} to join on {entity} exists yet "
                            f"({', '.join(f'{s.dataset}@{s.env}' for s in sides[entity])})")


def _matches(keys: pa.Array, share_keys: pa.ChunkedArray) -> tuple[int, int]:
    """(matched, total) of the consumer's distinct `keys` found in the share. No time window: a masked
    time column (shifted, generalised) would move it; the prod reference carries the row filter's effect.
    The share's keys go into the lookup set as they are: it holds each value once anyway."""
    found = pc.is_in(keys, value_set=share_keys.combine_chunks().cast(keys.type), skip_nulls=True)
    return pc.sum(found).as_py() or 0, len(keys)


def _expected_rate(contract, share_uri: str, producer, side: _Side, share_column: str, consumer_keys: ConsumerKeys,
                   delivered: pa.ChunkedArray | None = None) -> float | None:
    """The same measure on the unmasked prod tables, as of the share's delivery; None without them.
    `delivered`: the prod values of `share_column` in the rows the delivery held, instead of a re-read."""
    from hurricane_assets.delivery.retention import RetentionCount, keep_within, stamped_cutoff
    from hurricane_assets.delivery.row_filter import apply_row_filter, row_filter_columns
    from hurricane_assets.masking.erasure import erased_columns, load_erasures, remove_erased
    from hurricane_assets.models.utility import delivered_at

    terms = contract.terms
    paths = hurricane_paths()
    try:
        keys = consumer_keys(paths.table_uri("prod", terms.consumer, side.dataset), side.column)
    except TableNotFoundError:
        return None
    if delivered is not None:
        matched, total = _matches(keys, delivered)
        return matched / total if total else None
    erasures = load_erasures()
    cutoff = stamped_cutoff(share_uri)
    # only what the measure reads: the join key and what decides which rows the share holds
    needed = {share_column, *erased_columns(producer, erasures),
              *row_filter_columns(terms.row_filter, event_time=producer.event_time, keys=producer.keys),
              *([producer.event_time] if cutoff is not None else [])}
    try:
        source = read_table(paths.table_uri("prod", terms.producer, terms.dataset),
                            columns=[c for c in producer.columns if c in needed])
    except TableNotFoundError:
        return None
    source, _ = remove_erased(source, producer, erasures)
    source = apply_row_filter(source, terms.row_filter, event_time=producer.event_time, keys=producer.keys,
                              now=delivered_at(share_uri))
    if cutoff is not None:  # the rows the contract's retention left in the share, no older ones
        source = keep_within(source, producer.event_time, RetentionCount(cutoff))
    matched, total = _matches(keys, source[share_column])
    return matched / total if total else None
