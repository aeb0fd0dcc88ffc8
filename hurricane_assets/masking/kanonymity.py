"""The k-anonymity gate over the quasi-identifiers of a masked table, counted in persons.

A group is the set of rows sharing their QI values; its size is the number of distinct *persons*
(the entity the rows belong to, e.g. `customer_id`) among them, not rows: one customer with five
transactions of the same day and amount band is one person, not a group of five. When groups
smaller than k hold more than the suppression limit (5 % of rows), the QI with the most distinct
values is generalised one step further (event day → week → month …, birth year → 5-year band,
postcode district → area, quantile buckets halved), and past the end of its ladder withheld whole
(every value null: ARX's "*"); then the rows still in small groups are suppressed (their QI values
become null). If generalisation runs out (every QI withheld, i.e. fewer than k persons at all) while
more rows than the limit would need suppressing, the gate raises `KAnonymityError` with its outcome:
the copy fails closed.
Suppressed rows form no group of their own: the achieved k is measured over the rows that keep their QIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.distinct import dictionary_encode, sorted_unique
from hurricane_assets.masking.plans import ColumnRule
from hurricane_assets.masking.registry import operator_class

DEFAULT_K = 5
MAX_SUPPRESSION = 0.05  # share of rows that may lose their QIs; beyond it the copy fails closed
WITHHELD = "withheld"  # final param of a QI generalised to "any value": the column is all null


@dataclass(frozen=True)
class KAnonymityOutcome:
    k: int
    quasi_identifiers: tuple[str, ...]
    smallest_group: int | None  # persons in the smallest group of non-suppressed rows; None without QIs or rows
    groups: int
    suppressed_rows: int
    final_params: dict[str, dict]
    actions: tuple[str, ...]
    person_column: str | None = None  # None: every row is its own person
    persons: int = 0
    suppressed_persons: int = 0
    rows: int = 0
    max_suppression: float = MAX_SUPPRESSION

    @property
    def satisfied(self) -> bool:
        within_limit = self.suppressed_rows <= self.max_suppression * self.rows
        return within_limit and (self.smallest_group is None or self.smallest_group >= self.k)

    def to_dict(self) -> dict:
        return {"k": self.k, "quasi_identifiers": list(self.quasi_identifiers), "smallest_group": self.smallest_group,
                "groups": self.groups, "suppressed_rows": self.suppressed_rows, "satisfied": self.satisfied,
                "final_params": self.final_params, "actions": list(self.actions),
                "counted_in": f"persons ({self.person_column})" if self.person_column else "rows",
                "persons": self.persons, "suppressed_persons": self.suppressed_persons, "rows": self.rows,
                "max_suppression": self.max_suppression}


class KAnonymityError(ValueError):
    """k cannot be reached within the suppression limit: nothing may be written. Carries the outcome."""

    def __init__(self, dataset: str, outcome: KAnonymityOutcome, small_rows: int):
        self.dataset, self.outcome, self.small_rows = dataset, outcome, small_rows
        share = small_rows / outcome.rows if outcome.rows else 0.0
        super().__init__(
            f"k-anonymity not reachable for {dataset}: after generalising {', '.join(outcome.quasi_identifiers)} "
            f"as far as their ladders go, {small_rows} of {outcome.rows} rows ({share:.1%}) are in groups of fewer "
            f"than {outcome.k} {'persons' if outcome.person_column else 'rows'}, above the suppression limit of "
            f"{outcome.max_suppression:.0%}; nothing was written")

    def __reduce__(self):  # the gate may run in the helper process: the error crosses the pipe whole
        return type(self), (self.dataset, self.outcome, self.small_rows)


def group_sizes(table: pa.Table, columns: list[str], persons: pa.Array | pa.ChunkedArray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """(size of each row's QI group, group id per row); null is a value of its own. With `persons`
    (one id per row) a group's size is its number of distinct persons, else its number of rows."""
    person_ids, n_persons = _person_ids(persons) if persons is not None else (None, table.num_rows)
    codes = [_codes(table.column(name)) for name in columns]
    # Every row its own person: a group's persons are its rows (a bincount, no person pairs to hash).
    return _sizes(table.num_rows, codes, person_ids if n_persons < table.num_rows else None)


def _codes(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """(code per row, 0 for null and 1.. for the values, number of distinct non-null values): what
    the gate keeps per QI, so a step re-encodes only the column it changed. A dictionary array (every
    entry used, as `dictionary_encode` makes them) is coded from its dictionary: only its entries
    are encoded (equal entries share a code), the rows take their entry's code."""
    if pa.types.is_dictionary(column.type):
        entries, entry_count = _codes(column.dictionary)
        rows = pc.fill_null(column.indices, len(column.dictionary)).to_numpy(zero_copy_only=False)
        return np.append(entries, 0)[rows], entry_count
    encoded = dictionary_encode(column)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
    return codes, len(encoded.dictionary)


def _group_keys(rows: int, codes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """(group key per row, a bound above every key) from the QIs' codes: a mixed-radix key, made
    dense (hashing, not sorting) only when the next radix could overflow int64."""
    combined = np.zeros(rows, dtype=np.int64)
    span = 1  # combined < span
    for column_codes, distinct in codes:
        radix = distinct + 1
        if span * radix >= 2 ** 62:
            combined = _dense_ids(combined)
            span = int(combined.max(initial=-1)) + 1
        combined = combined * radix + column_codes
        span *= radix
    return combined, span


def _rows_in_small_groups(rows: int, codes: list[tuple[np.ndarray, int]], person_ids: np.ndarray | None,
                          k: int) -> tuple[int, tuple[np.ndarray, np.ndarray] | None]:
    """(How many rows `_sizes` puts in groups of fewer than `k`, `_sizes`' result when counting needed
    it). The gate's steps need only the count: sorting the group keys costs a fifth of the hashing
    `_sizes` needs for a million distinct keys to give every row its group's size. Counted in
    persons, it is `_sizes`' count, and the sizes are kept for the step that suppresses."""
    if person_ids is not None or rows == 0:
        sized = _sizes(rows, codes, person_ids)
        return int(np.count_nonzero(sized[0] < k)), sized
    ordered = np.sort(_group_keys(rows, codes)[0])
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    runs = np.diff(np.concatenate(([0], starts, [rows])))
    return int(runs[runs < k].sum()), None


def _sizes(rows: int, codes: list[tuple[np.ndarray, int]], person_ids: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Group size per row and dense group id per row from the QIs' codes (`_group_keys`)."""
    combined, span = _group_keys(rows, codes)
    if span > 4 * rows + 1024:  # a bincount over the key's span would cost more than hashing it
        combined = _dense_ids(combined)
    else:  # dense ids in order of first appearance, as hashing gives, without hashing
        used = np.zeros(span, dtype=bool)
        used[combined] = True
        remap = np.cumsum(used) - 1
        combined = remap[combined]
    if person_ids is None:
        counts = np.bincount(combined)
        return counts[combined], combined
    stride = int(person_ids.max(initial=0)) + 1
    pairs = sorted_unique(combined * stride + person_ids)
    counts = np.bincount(pairs // stride, minlength=int(combined.max(initial=-1)) + 1)
    return counts[combined], combined


def _person_ids(persons: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """(dense id per row, number of persons); rows without a person (null) count as persons of their own each."""
    encoded = dictionary_encode(persons)
    ids = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = ids < 0
    n_missing = int(missing.sum())
    if n_missing:
        ids[missing] = len(encoded.dictionary) + np.arange(n_missing)
    return ids, len(encoded.dictionary) + n_missing


def _dense_ids(keys: np.ndarray) -> np.ndarray:
    """0..n-1 ids of the distinct keys (hashing, not sorting), so the mixed-radix key built from
    them never overflows, however many QIs there are."""
    return pc.dictionary_encode(pa.array(keys)).indices.to_numpy().astype(np.int64)


def enforce_k_anonymity(
    table: pa.Table,
    rules: dict[str, ColumnRule],
    regeneralise: Callable[[str, dict], pa.Array],  # the column masked with other params (may be dictionary-encoded)
    k: int = DEFAULT_K,
    max_suppression: float = MAX_SUPPRESSION,
    *,
    persons: pa.Array | pa.ChunkedArray | None = None,
    person_column: str | None = None,
    dataset: str = "<table>",
) -> tuple[pa.Table, KAnonymityOutcome]:
    """Generalise and suppress until every remaining QI group holds at least `k` persons (rows when
    `persons` is None); raise `KAnonymityError` when that would suppress more than `max_suppression`.

    Each QI's codes are computed once and again only when a step changes that column; group sizes
    come from the codes (integers), never from the table's values."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0 <= max_suppression < 1:
        raise ValueError(f"max_suppression must be in [0, 1), got {max_suppression}")
    qis = [c for c, r in rules.items() if r.quasi_identifier and not r.drops and c in table.column_names]
    params = {q: dict(rules[q].params) for q in qis}
    actions: list[str] = []
    suppressed = np.zeros(table.num_rows, dtype=bool)
    if persons is not None:
        person_ids, n_persons = _person_ids(persons)
    else:
        person_ids, n_persons = np.arange(table.num_rows), table.num_rows
    by_persons = person_ids if persons is not None and n_persons < table.num_rows else None  # one row each: rows
    common = dict(person_column=person_column if persons is not None else None, persons=n_persons,
                  rows=table.num_rows, max_suppression=max_suppression)
    if not qis or table.num_rows == 0:
        return table, KAnonymityOutcome(k, tuple(qis), None, 0, 0, params, (), **common)
    codes = {q: _codes(table.column(q)) for q in qis}
    while True:
        small_rows, sized = _rows_in_small_groups(table.num_rows, [codes[q] for q in qis], by_persons, k)
        if not small_rows:
            break
        # The top of every ladder is "any value" (ARX's "*"): the whole column withheld (null).
        coarser = {q: None if params[q].get(WITHHELD) else
                   operator_class(rules[q].operator).coarser(params[q]) or {**params[q], WITHHELD: True} for q in qis}
        candidates = [q for q in qis if coarser[q] is not None]
        if small_rows / table.num_rows <= max_suppression:
            sizes, _ = sized or _sizes(table.num_rows, [codes[q] for q in qis], by_persons)
            small = sizes < k
            table = _suppress(table, qis, small)
            suppressed = small
            actions.append(f"suppressed the quasi-identifiers of {int(small.sum())} rows "
                           f"({len(sorted_unique(person_ids[small]))} persons) in groups smaller than {k}")
            break
        if not candidates:
            sizes, groups = sized or _sizes(table.num_rows, [codes[q] for q in qis], by_persons)
            outcome = KAnonymityOutcome(k, tuple(qis), int(sizes.min()), int(groups.max(initial=-1)) + 1, 0, params,
                                        tuple(actions), **common)
            raise KAnonymityError(dataset, outcome, small_rows)
        # Finer steps first: a column still on its ladder before one that would be withheld whole.
        widest = max(candidates, key=lambda q: (not coarser[q].get(WITHHELD), codes[q][1]))
        params[widest] = coarser[widest]
        index = table.column_names.index(widest)
        if params[widest].get(WITHHELD):
            table = table.set_column(index, widest, pa.nulls(table.num_rows, table.schema.field(widest).type))
            codes[widest] = (np.zeros(table.num_rows, dtype=np.int64), 0)
            actions.append(f"withheld {widest}: every value generalised to any (null)")
            continue
        regeneralised = regeneralise(widest, params[widest])
        codes[widest] = _codes(regeneralised)
        if pa.types.is_dictionary(regeneralised.type):
            regeneralised = regeneralised.dictionary_decode()
        table = table.set_column(index, widest, regeneralised)
        shown = {p: v for p, v in params[widest].items() if p not in ("base_width", "edges")}
        actions.append(f"generalised {widest} further to {rules[widest].operator}{shown}")
    if suppressed.any():  # suppressed QIs are null now
        codes = {q: _codes(table.column(q)) for q in qis}
    sizes, groups = _sizes(table.num_rows, [codes[q] for q in qis], by_persons)
    kept = ~suppressed
    smallest = int(sizes[kept].min()) if kept.any() else None
    return table, KAnonymityOutcome(k, tuple(qis), smallest, int(np.count_nonzero(np.bincount(groups[kept]))),
                                    int(suppressed.sum()), params, tuple(actions),
                                    suppressed_persons=int(len(sorted_unique(person_ids[suppressed]))), **common)


def _suppress(table: pa.Table, qis: list[str], rows: np.ndarray) -> pa.Table:
    mask = pa.array(rows)
    for q in qis:
        col = table.column(q).combine_chunks()
        table = table.set_column(table.column_names.index(q), q, pc.if_else(mask, pa.scalar(None, col.type), col))
    return table
