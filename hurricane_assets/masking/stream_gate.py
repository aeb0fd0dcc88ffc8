"""The k-anonymity gate and the measured privacy of a streamed table, in memory that does not grow
with its rows.

`mask_table` decides over whole columns; on a 20M-row table its per-row arrays (group ids, person
ids, the pairs it sorts) cost over 100 bytes a row. Here every decision is taken from passes over
the batches that keep only what the decision needs:

- the raw values' histogram of a quantile-bucket QI (its edges are the column's quantiles, "lower"
  interpolation: the value at rank floor(q·(n−1)), read off the cumulative counts);
- a code per distinct masked QI value and a group id per distinct combination of codes;
- the distinct (group, person) pairs, spilled to disk partitions by person (`PairCounter`): a
  group's size in persons is its number of pairs;
- per person (a 64-bit hash of its id, first-seen order): its first row and its first published row
  with that row's group (`PersonIndex`): what `measure._sample_targets` draws its targets from; and
  the group of its first published row in another group, for the two-event risk.

The ladder is `enforce_k_anonymity`'s: generalise the QI with the most distinct masked values one
step (or withhold it), recount, until the rows in groups smaller than k are within the suppression
limit, then suppress them; the outcome, the columns' report entries and the measurement are the ones
`mask_table` gives (the tests compare them on every dataset of the world). The second pass masks its
QI columns batch by batch with the final params (`GateResult.mask_batch`).

Used when the table fits the model: the produced columns are exactly the quasi-identifiers, none
reads other columns of its row, no sensitive column is measured (ℓ-diversity and inference need the
values per group), and the person column has no nulls (a pass finds out). Otherwise `stream.py` keeps
the whole-table pass through `mask_table`. Memory: the pairs in memory up to `PairCounter.limit`,
the persons (24 bytes each: 24 MB per million customers; a table without a person column counts
every row as a person, which makes this part grow with the rows), the histograms and the groups.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.columns import mask_column
from hurricane_assets.masking.distinct import sorted_unique
from hurricane_assets.masking.kanonymity import WITHHELD, KAnonymityError, KAnonymityOutcome
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.measure import (
    CHECKS,
    TWO_EVENTS,
    PrivacyCheckFailed,
    PrivacyMeasurement,
    judge,
    two_event_risk,
)
from hurricane_assets.masking.operators.generalise import edges_of_quantiles
from hurricane_assets.masking.plans import ColumnRule, MaskingPlan
from hurricane_assets.masking.registry import operator_class
from hurricane_assets.masking.report import SENSITIVE_PARAMS, ColumnReport, PrivacyReport


class NotCompact(Exception):
    """The table does not fit the compact gate (found during a pass): use the whole-table pass."""


def fits(plan: MaskingPlan, names: list[str], produced: set[str], thresholds) -> bool:
    qis = _qis(plan, names)
    if set(qis) != produced or plan.person_column in qis:
        return False
    if thresholds is not None and any(s in names for s in thresholds.sensitive):
        return False
    return all(operator_class(plan.rules[q].operator).row_context is None for q in qis)


def _qis(plan: MaskingPlan, names: list[str]) -> list[str]:
    return [c for c, r in plan.rules.items() if r.quasi_identifier and not r.drops and c in names]


class PairCounter:
    """Distinct (group, person) pairs: held up to `limit`, beyond that in PARTITIONS files by person
    (a person's pairs all land in one file), counted one file at a time. A pair is told apart by a
    64-bit mix of its group and person (a collision of two pairs, ~n²/2⁶⁵, is what the person
    hashes already accept), deduplicated by hashing rather than sorting."""

    PARTITIONS = 64
    LIMIT = 1 << 20  # pairs held in memory (24 MB)
    DTYPE = np.dtype([("key", "<u8"), ("group", "<i8"), ("person", "<i8")])

    def __init__(self, limit: int | None = None):
        self.limit = self.LIMIT if limit is None else limit
        self._parts: list[np.ndarray] = []
        self._held = 0
        self._folder: tempfile.TemporaryDirectory | None = None
        self._spilled = False

    def add(self, groups: np.ndarray, persons: np.ndarray) -> None:
        pairs = np.empty(len(groups), dtype=self.DTYPE)
        pairs["group"], pairs["person"] = groups, persons
        with np.errstate(over="ignore"):
            key = persons.view(np.uint64) ^ (groups.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
            key ^= key >> np.uint64(31)
            key *= np.uint64(0xBF58476D1CE4E5B9)
            key ^= key >> np.uint64(29)
        pairs["key"] = key
        self._parts.append(_distinct_pairs(pairs))
        self._held += len(self._parts[-1])
        if self._held > self.limit:
            merged = _distinct_pairs(np.concatenate(self._parts))
            self._parts, self._held = [merged], len(merged)
            if self._held > self.limit // 2:
                self._spill(merged)
                self._parts, self._held = [], 0

    def _spill(self, pairs: np.ndarray) -> None:
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="hurricane-pairs-")
            self._spilled = True
        # multiplied first, so row numbers (a table without a person column) spread over the files too
        with np.errstate(over="ignore"):
            part = ((pairs["person"].view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(58)).astype(np.int64)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.PARTITIONS + 1))
        for p in range(self.PARTITIONS):
            if bounds[p] < bounds[p + 1]:
                with open(Path(self._folder.name) / f"{p}.pairs", "ab") as out:
                    pairs[order[bounds[p]:bounds[p + 1]]].tofile(out)

    @property
    def spilled(self) -> bool:
        return self._spilled

    def parts(self) -> Iterator[np.ndarray]:
        """The distinct pairs, one partition at a time (every pair of a person in the same one)."""
        if self._folder is None:
            if self._parts:
                yield _distinct_pairs(np.concatenate(self._parts))
            return
        if self._parts:
            self._spill(_distinct_pairs(np.concatenate(self._parts)))
            self._parts = []
        for path in sorted(Path(self._folder.name).iterdir()):
            yield _distinct_pairs(np.fromfile(path, dtype=self.DTYPE))

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


def _distinct_pairs(pairs: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pairs[~pd.Index(pairs["key"]).duplicated()]


class PersonIndex:
    """Per person (a 64-bit id), in first-seen order: its first row, its first published row and that
    row's group, and the group of its first published row in another group; sorted arrays merged
    batch by batch."""

    def __init__(self):
        self.ids = np.zeros(0, np.int64)
        self.first_row = np.zeros(0, np.int64)
        self.first_published = np.zeros(0, np.int64)
        self.published_group = np.zeros(0, np.int64)
        self.second_group = np.zeros(0, np.int64)

    def add(self, persons: np.ndarray, offset: int) -> None:
        unique, first = np.unique(persons, return_index=True)
        new = ~self._known(unique)
        if new.any():  # inserted in place (linear), the arrays stay sorted by id
            at = np.searchsorted(self.ids, unique[new])
            fresh = int(new.sum())
            self.ids = np.insert(self.ids, at, unique[new])
            self.first_row = np.insert(self.first_row, at, first[new] + offset)
            self.first_published = np.insert(self.first_published, at, np.full(fresh, -1))
            self.published_group = np.insert(self.published_group, at, np.full(fresh, -1))
            self.second_group = np.insert(self.second_group, at, np.full(fresh, -1))

    def _known(self, unique: np.ndarray) -> np.ndarray:
        if not len(self.ids):
            return np.zeros(len(unique), bool)
        at = np.minimum(np.searchsorted(self.ids, unique), len(self.ids) - 1)
        return self.ids[at] == unique

    def reset_published(self) -> None:
        self.first_published[:] = -1
        self.published_group[:] = -1
        self.second_group[:] = -1

    def publish(self, persons: np.ndarray, rows: np.ndarray, groups: np.ndarray) -> None:
        """Rows (in table order) that publish a QI: the first of each person not yet published."""
        if len(persons) == 0:
            return
        unique, first = np.unique(persons, return_index=True)
        at = np.searchsorted(self.ids, unique)
        fresh = self.first_published[at] < 0
        self.first_published[at[fresh]] = rows[first[fresh]]
        self.published_group[at[fresh]] = groups[first[fresh]]
        of_row = np.searchsorted(self.ids, persons)
        other = (groups != self.published_group[of_row]) & (self.second_group[of_row] < 0)
        if other.any():
            unique, first = np.unique(persons[other], return_index=True)
            self.second_group[np.searchsorted(self.ids, unique)] = groups[other][first]

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        """(first published row, its group) of each person with one, in first-seen order."""
        order = np.argsort(self.first_row, kind="stable")
        published = self.first_published[order] >= 0
        return self.first_published[order][published], self.published_group[order][published]

    def two_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(first, second) published group of each person with two, in first-seen order."""
        order = np.argsort(self.first_row, kind="stable")
        both = self.second_group[order] >= 0
        return self.published_group[order][both], self.second_group[order][both]


class _Codes:
    """A code per distinct masked value of one QI (0: null), kept across the batches of a pass."""

    def __init__(self):
        self.of: dict = {}

    def encode(self, arr: pa.Array) -> np.ndarray:
        encoded = pc.dictionary_encode(arr)
        table = np.array([self.of.setdefault(v, len(self.of) + 1) for v in encoded.dictionary.to_pylist()] or [0],
                         dtype=np.int64)
        indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        return np.where(indices < 0, 0, table[np.maximum(indices, 0)])


class _Groups:
    """A group id per distinct combination of QI codes, kept across the batches of a pass."""

    def __init__(self):
        self.of: dict[tuple, int] = {}
        self.keys: list[tuple] = []

    def ids(self, codes: np.ndarray) -> np.ndarray:
        """Group id per row of `codes` (rows × QIs): the batch's combinations found by hashing one
        int64 key per row, then looked up (few) in the pass's dictionary."""
        import pandas as pd

        key = np.zeros(len(codes), np.int64)
        for column in codes.T:
            key = key * (int(column.max(initial=0)) + 1) + column
            if int(key.max(initial=0)) > 1 << 40:  # re-densify before the next column could overflow
                key = pd.factorize(key)[0].astype(np.int64)
        local, _ = pd.factorize(key)  # codes in order of first appearance
        first = np.flatnonzero(~pd.Index(local).duplicated())  # so: the first row of code 0, 1, …
        ids = np.empty(len(first), np.int64)
        for i, combo in enumerate(map(tuple, codes[first].tolist())):
            known = self.of.get(combo)
            if known is None:
                known = self.of[combo] = len(self.keys)
                self.keys.append(combo)
            ids[i] = known
        return ids[local]


@dataclass
class _Pass:
    """What one pass over the QIs under some params counted."""

    codes: dict[str, _Codes]
    groups: _Groups
    rows: np.ndarray  # rows per group
    kept_rows: np.ndarray  # rows per group that the gate did not suppress
    persons: np.ndarray  # distinct persons per group
    pairs: PairCounter
    nulls: dict[str, int]

    def close(self) -> None:
        self.pairs.close()

    def persons_in(self, group_ids: np.ndarray) -> int:
        """Distinct persons with a row in one of `group_ids`."""
        return sum(len(sorted_unique(part["person"][np.isin(part["group"], group_ids)])) for part in self.pairs.parts())


@dataclass
class GateResult:
    """The gate's decisions and report, and the masker of the QI columns for the second pass."""

    qis: list[str]
    rules: dict[str, ColumnRule]
    key: object
    params: dict[str, dict]  # as reported (quantiles)
    resolved: dict[str, dict] = field(default_factory=dict)  # as masked (quantiles resolved to edges)
    small_groups: np.ndarray | None = None  # ids (in `groups`) of the groups whose rows are suppressed
    groups: _Groups | None = None
    codes: dict[str, _Codes] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # columns the gate replaced (their field turns nullable)
    report: PrivacyReport | None = None

    def mask_batch(self, batch: pa.Table) -> dict[str, pa.Array]:
        """The QI columns of one batch as the gate's output has them."""
        masked, _ = self._gate_output(batch)
        return masked

    def _masked(self, batch: pa.Table, q: str) -> pa.Array:
        arr = batch.column(q).combine_chunks()
        if self.resolved[q].get(WITHHELD):
            return pa.nulls(len(arr), arr.type)
        rule = self.rules[q].model_copy(update={"params": self.resolved[q]})
        return mask_column(arr, rule, self.key, batch)

    def _gate_output(self, batch: pa.Table) -> tuple[dict[str, pa.Array], np.ndarray | None]:
        masked = {q: self._masked(batch, q) for q in self.qis}
        if self.small_groups is None or not len(self.small_groups):
            return masked, None
        before = self.groups.ids(np.stack([self.codes[q].encode(masked[q]) for q in self.qis], axis=1))
        hidden = np.isin(before, self.small_groups)
        mask = pa.array(hidden)
        return {q: pc.if_else(mask, pa.scalar(None, a.type), a) for q, a in masked.items()}, hidden


@dataclass
class _Scan:
    rows: int
    nulls: dict[str, int]
    distinct: dict[str, int]
    histograms: dict[str, tuple[np.ndarray, np.ndarray, bool]]
    index: PersonIndex


@dataclass
class _Ladder:
    actions: list[str]
    suppressed_rows: int = 0
    suppressed_persons: int = 0


def gate(source, schema: pa.Schema, plan: MaskingPlan, keyring: Keyring, *, k: int | None, max_suppression: float,
         thresholds) -> GateResult:
    """Decide over the batches of `source`; raises `KAnonymityError` / `PrivacyCheckFailed` (with
    `.report`) as `mask_table` does, `NotCompact` when the person column holds nulls."""
    if k is not None and k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0 <= max_suppression < 1:
        raise ValueError(f"max_suppression must be in [0, 1), got {max_suppression}")
    names = schema.names
    qis = _qis(plan, names)
    person = plan.person_column if plan.person_column in names else None
    read = [c for c in names if c in qis or c == person]
    rules = {q: plan.rules[q] for q in qis}
    result = GateResult(qis, rules, keyring.key, {q: dict(rules[q].params) for q in qis})
    scan = _scan(source, read, qis, person, rules)
    result.resolved = {q: _resolve(result.params[q], scan.histograms.get(q)) for q in qis}
    common = dict(person_column=person, persons=len(scan.index.ids), rows=scan.rows, max_suppression=max_suppression)
    ladder = None
    if k is not None and qis and scan.rows:
        ladder = _ladder(source, read, qis, person, result, scan, k=k, max_suppression=max_suppression,
                         plan=plan, keyring=keyring, common=common)
    final = _count_pass(source, read, qis, person, result, index=scan.index)
    try:
        if result.groups is None:  # no ladder ran: the base masking's groups
            result.codes, result.groups = final.codes, final.groups
        if k is None:
            k_anonymity, final_params = {"k": None, "quasi_identifiers": plan.quasi_identifiers(), "actions": []}, {}
        elif ladder is None:
            outcome = KAnonymityOutcome(k, tuple(qis), None, 0, 0, result.params, (), **common)
            k_anonymity, final_params = outcome.to_dict(), outcome.final_params
        else:
            kept = np.flatnonzero(final.kept_rows > 0)
            outcome = KAnonymityOutcome(
                k, tuple(qis), int(final.persons[kept].min()) if len(kept) else None, len(kept),
                ladder.suppressed_rows, result.params, tuple(ladder.actions),
                suppressed_persons=ladder.suppressed_persons, **common)
            k_anonymity, final_params = outcome.to_dict(), outcome.final_params
        report = _report(plan, keyring, names, scan, final, k_anonymity, final_params)
        if thresholds is not None:
            measurement = _measure(plan, qis, final, scan, thresholds)
            report = report.model_copy(update={"measured": measurement.to_dict()})
            if not measurement.passed:
                error = PrivacyCheckFailed(plan.dataset, measurement)
                error.report = report
                raise error
    finally:
        final.close()
    result.report = report
    return result


def _person_ids(batch: pa.Table, person: str | None, offset: int) -> np.ndarray:
    from hurricane_assets.masking.stream import value_hashes

    if person is None:  # every row its own person
        return np.arange(offset, offset + batch.num_rows, dtype=np.int64)
    column = batch.column(person).combine_chunks()
    if column.null_count:
        raise NotCompact(f"{person} has nulls")
    return value_hashes(column).to_numpy()


def _scan(source, read, qis, person, rules) -> _Scan:
    """Rows, nulls and distinct raw values per QI, histograms of quantile-bucket QIs, persons."""
    from hurricane_assets.masking.stream import DistinctCounter

    counters = {q: DistinctCounter() for q in qis}
    nulls = dict.fromkeys(qis, 0)
    quantiled = [q for q in qis if rules[q].operator == "bucket" and "quantiles" in rules[q].params]
    histograms: dict[str, tuple] = {}
    index = PersonIndex()
    offset = 0
    for batch in source(read):
        table = pa.Table.from_batches([batch])
        index.add(_person_ids(table, person, offset), offset)
        for q in qis:
            arr = table.column(q).combine_chunks()
            nulls[q] += arr.null_count
            counters[q].add(arr)
            if q in quantiled:
                histograms[q] = _histogram(arr, histograms.get(q))
        offset += table.num_rows
    for q in quantiled:
        histograms.setdefault(q, (np.zeros(0), np.zeros(0, np.int64), False))
    return _Scan(offset, nulls, {q: c.count() for q, c in counters.items()}, histograms, index)


def _histogram(arr: pa.Array, earlier: tuple | None):
    """(sorted distinct finite values, their counts, integer type), merged with an earlier histogram."""
    kept = pc.drop_null(arr)
    if pa.types.is_floating(arr.type):
        kept = pc.filter(kept, pc.is_finite(kept))
    counted = pc.value_counts(kept)
    values = counted.field("values").to_numpy(zero_copy_only=False)
    counts = counted.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
    if earlier is not None and len(earlier[0]):
        values, counts = np.concatenate([earlier[0], values]), np.concatenate([earlier[1], counts])
    unique, inverse = np.unique(values, return_inverse=True)
    merged = np.zeros(len(unique), np.int64)
    np.add.at(merged, inverse.reshape(-1), counts)
    return unique, merged, pa.types.is_integer(arr.type)


def _resolve(params: dict, histogram) -> dict:
    """Params as masked: quantiles become the edges of the whole column's quantiles."""
    if "quantiles" not in params or histogram is None:
        return dict(params)
    values, counts, integer = histogram
    resolved = {p: v for p, v in params.items() if p != "quantiles"}
    resolved["edges"] = edges_of_quantiles(values, counts, params["quantiles"], integer)
    return resolved


def _count_pass(source, read, qis, person, result: GateResult, *, index: PersonIndex | None = None) -> _Pass:
    """Group the rows as the gate's output (under `result.resolved`, suppression applied) has them;
    with `index`, each person's first published row is recorded."""
    codes = {q: _Codes() for q in qis}
    groups = _Groups()
    pairs = PairCounter()
    rows, kept_rows = np.zeros(0, np.int64), np.zeros(0, np.int64)
    nulls = dict.fromkeys(qis, 0)
    if index is not None:
        index.reset_published()
    offset = 0
    for batch in source(read):
        table = pa.Table.from_batches([batch])
        persons = _person_ids(table, person, offset)
        masked, hidden = result._gate_output(table)
        matrix = np.stack([codes[q].encode(masked[q]) for q in qis], axis=1) if qis \
            else np.zeros((table.num_rows, 1), np.int64)
        for q in qis:
            nulls[q] += masked[q].null_count
        ids = groups.ids(matrix)
        pairs.add(ids, persons)
        rows = _added(rows, np.bincount(ids))
        kept_rows = _added(kept_rows, np.bincount(ids if hidden is None else ids[~hidden]))
        if index is not None:
            where = np.flatnonzero((matrix != 0).any(axis=1)) if qis else np.zeros(0, np.int64)
            index.publish(persons[where], where + offset, ids[where])
        offset += table.num_rows
    n = len(groups.keys)
    persons_per_group = np.zeros(n, np.int64)
    for part in pairs.parts():
        persons_per_group += np.bincount(part["group"], minlength=n)
    return _Pass(codes, groups, _added(rows, np.zeros(n, np.int64)), _added(kept_rows, np.zeros(n, np.int64)),
                 persons_per_group, pairs, nulls)


def _added(total: np.ndarray, counts: np.ndarray) -> np.ndarray:
    if len(counts) > len(total):
        total = np.concatenate([total, np.zeros(len(counts) - len(total), np.int64)])
    total[:len(counts)] += counts
    return total


def _ladder(source, read, qis, person, result: GateResult, scan: _Scan, *, k, max_suppression, plan,
            keyring, common) -> _Ladder:
    """`enforce_k_anonymity`'s loop, one pass per step; sets the result's suppression and params."""
    params, rules, ladder = result.params, result.rules, _Ladder([])
    while True:
        counted = _count_pass(source, read, qis, person, result)
        try:
            result.codes, result.groups = counted.codes, counted.groups
            small = np.flatnonzero(counted.persons < k)
            if not len(small):
                return ladder
            coarser = {q: None if params[q].get(WITHHELD) else
                       operator_class(rules[q].operator).coarser(params[q]) or {**params[q], WITHHELD: True}
                       for q in qis}
            candidates = [q for q in qis if coarser[q] is not None]
            small_rows = int(counted.rows[small].sum())
            if small_rows / scan.rows <= max_suppression:
                result.small_groups = small
                result.changed |= set(qis)
                ladder.suppressed_rows, ladder.suppressed_persons = small_rows, counted.persons_in(small)
                ladder.actions.append(f"suppressed the quasi-identifiers of {small_rows} rows "
                                      f"({ladder.suppressed_persons} persons) in groups smaller than {k}")
                return ladder
            if not candidates:
                outcome = KAnonymityOutcome(k, tuple(qis), int(counted.persons.min()), len(counted.groups.keys), 0,
                                            params, tuple(ladder.actions), **common)
                error = KAnonymityError(plan.dataset, outcome, small_rows)
                error.report = _report(plan, keyring, list(read), scan, counted, outcome.to_dict(), params)
                raise error
            distinct = {q: len(counted.codes[q].of) for q in candidates}
        finally:
            counted.close()
        widest = max(candidates, key=lambda q: (not coarser[q].get(WITHHELD), distinct[q]))
        params[widest] = coarser[widest]
        result.resolved[widest] = _resolve(params[widest], scan.histograms.get(widest))
        result.changed.add(widest)
        if params[widest].get(WITHHELD):
            ladder.actions.append(f"withheld {widest}: every value generalised to any (null)")
            continue
        shown = {p: v for p, v in params[widest].items() if p not in ("base_width", "edges")}
        ladder.actions.append(f"generalised {widest} further to {rules[widest].operator}{shown}")


def _report(plan: MaskingPlan, keyring: Keyring, names: list[str], scan: _Scan, counted: _Pass, k_anonymity: dict,
            final_params: dict) -> PrivacyReport:
    """The QI columns' entries (the streamed columns' come from the second pass), as `column_report`."""
    columns = []
    for q in counted.codes:
        rule = plan.rules[q]
        status = "kept" if rule.operator == "keep" else "masked"
        params = {p: v for p, v in (final_params.get(q) or rule.params).items() if p not in SENSITIVE_PARAMS}
        columns.append(ColumnReport(
            column=q, status=status, operator=rule.operator, method=rule.method.value, params=params,
            key_id=keyring.key_id if operator_class(rule.operator).keyed and status == "masked" else None,
            quasi_identifier=rule.quasi_identifier,
            null_rate_before=scan.nulls[q] / scan.rows if scan.rows else 0.0,
            null_rate_after=counted.nulls[q] / scan.rows if scan.rows else 0.0,
            distinct_before=scan.distinct[q], distinct_after=len(counted.codes[q].of)))
    return PrivacyReport(
        dataset=plan.dataset, env=plan.env, plan_version=plan.version, plan_source=plan.source,
        key_id=keyring.key_id, rows=scan.rows, columns=columns, k_anonymity=k_anonymity,
        at_risk=[c for c in plan.sensitive_columns if c in names and plan.rules[c].operator == "keep"],
        raised_to_floor=list(plan.raised_to_floor))


def _measure(plan: MaskingPlan, qis: list[str], final: _Pass, scan: _Scan, thresholds, seed: int = 0
             ) -> PrivacyMeasurement:
    """`measure_privacy` (no sensitive columns) from the final pass's groups and the persons' first
    published rows: the same targets, drawn with the same seed from the same candidates."""
    measured = [q for q in plan.quasi_identifiers() if q in qis]
    values: dict[str, float | int | None] = dict.fromkeys((*CHECKS, TWO_EVENTS))
    sample = 0
    if measured and scan.rows:
        positions = [qis.index(q) for q in measured]
        published = np.array([any(key[i] != 0 for i in positions) for key in final.groups.keys], dtype=bool)
        if published.any():
            values["k"] = int(final.persons[published].min())
            rows, groups = scan.index.candidates()
            if len(rows) > thresholds.sample_persons:
                chosen = np.random.default_rng(seed).choice(len(rows), size=thresholds.sample_persons, replace=False)
                rows, groups = rows[chosen], groups[chosen]
            order = np.argsort(rows)  # in table order, as `_sample_targets` sorts them: the same float sums
            sample, sizes = len(rows), final.persons[groups[order]]
            n_persons = len(scan.index.candidates()[0])
            base = 1.0 / max(n_persons, 1)
            values["singling_out_risk"] = float(np.mean(sizes == 1))
            rate = float(np.mean(1.0 / sizes))
            values["linkability_risk"] = max(0.0, (rate - base) / (1 - base)) if n_persons > 1 else 1.0
            first, second = scan.index.two_groups()
            values[TWO_EVENTS] = two_event_risk(first, second, thresholds.sample_persons, seed,
                                                ((part["person"], part["group"]) for part in final.pairs.parts()))
    return judge(tuple(measured), (), values, thresholds, sample)
