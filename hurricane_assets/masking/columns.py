"""Column-level masking over Arrow: each distinct value is transformed once and mapped back.

Null positions and the Arrow type are the engine's job, not the operators': nulls never reach an
operator, and the result is built with the input's type, so string stays string and date stays
date (Delta enforces the schema).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.distinct import count_distinct, dictionary_encode
from hurricane_assets.masking.keys import MaskingKey
from hurricane_assets.masking.operators.dates import shift_days
from hurricane_assets.masking.parallel import run_split
from hurricane_assets.masking.plans import ColumnRule
from hurricane_assets.masking.registry import operator_class

MICROS_PER_UNIT = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class MaskedColumn:
    """A masked column with the distinct counts the privacy report needs, taken from the dictionary
    the engine builds anyway (counting them again over every row cost as much as the masking)."""

    values: pa.Array
    distinct_before: int
    distinct_after: int


_distinct = count_distinct


@dataclass(frozen=True)
class DistinctValues:
    """A column's dictionary encoding, prepared apart from the transform so the transforms can run
    elsewhere. `values` (the distinct non-null values as Python objects, what an operator transforms)
    are made on first use, in the process that transforms them: made before the fork, the helper's
    columns cost this process ~0.15 s per million strings while the helper waited."""

    encoded: pa.DictionaryArray

    @classmethod
    def of(cls, arr: pa.Array) -> DistinctValues:
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        return cls(dictionary_encode(arr))

    @cached_property
    def values(self) -> list:
        return self.encoded.dictionary.to_pylist()

    @property
    def count(self) -> int:
        return len(self.encoded.dictionary)

    def part(self, start: int, stop: int | None = None) -> list:
        """`values[start:stop]`, without making the others."""
        stop = self.count if stop is None else stop
        return self.encoded.dictionary.slice(start, max(stop - start, 0)).to_pylist()

    def mapped(self, transformed: list | pa.Array, out_type: pa.DataType | None = None,
               distinct_after: int | None = None) -> MaskedColumn:
        """The column with each distinct value replaced by its transform (a list, or an Arrow array of
        the output type); nulls stay null. `distinct_after`: the transforms' distinct count, when the
        caller counted it already."""
        out = transformed if isinstance(transformed, pa.Array) else pa.array(
            transformed, type=out_type or self.encoded.dictionary.type)
        # Every dictionary entry occurs in the column, so the mapped dictionary has the column's distinct values.
        return MaskedColumn(pc.take(out, self.encoded.indices), self.count,
                            _distinct(out) if distinct_after is None else distinct_after)


def map_distinct(arr: pa.Array, transform: Callable[[list], list], out_type: pa.DataType | None = None) -> pa.Array:
    """`transform` sees each distinct non-null value once; nulls stay null, the type stays the type
    (unless `out_type` asks for another)."""
    distinct = DistinctValues.of(arr)
    return distinct.mapped(transform(distinct.values), out_type).values


def mask_column(arr: pa.Array, rule: ColumnRule, key: MaskingKey, table: pa.Table) -> pa.Array:
    """The masked column (`table` supplies other columns of the same rows to row-context operators)."""
    vectorised = _array_values(arr, rule, key)  # no distinct counts: nobody reads them here
    if vectorised is not None:
        return vectorised
    return masked_column(arr, rule, key, table).values


def resolved_params(arr: pa.Array, rule: ColumnRule) -> dict:
    """The rule's params with what depends on the column's data filled in: quantile buckets become
    the edges of this column's quantiles."""
    params = dict(rule.params)
    if rule.operator == "bucket" and "quantiles" in params:
        from hurricane_assets.masking.operators.generalise import quantile_edges

        params["edges"] = quantile_edges(arr, params.pop("quantiles"))
    return params


def _array_values(arr: pa.Array, rule: ColumnRule, key: MaskingKey) -> pa.Array | None:
    """The column through the operator's vectorised path, if it has one for this column."""
    operator = operator_class(rule.operator)()
    params = {**resolved_params(arr, rule), "key": key}
    operator.validate(params)
    return operator.mask_array(arr, params)


def _array_result(arr: pa.Array, rule: ColumnRule, key: MaskingKey) -> MaskedColumn | None:
    """`_array_values` with the distinct counts before and after."""
    out = _array_values(arr, rule, key)
    if out is None:
        return None
    return MaskedColumn(out, _distinct(arr), _distinct(out))


def masked_column(arr: pa.Array, rule: ColumnRule, key: MaskingKey, table: pa.Table, *,
                  split: bool | None = None) -> MaskedColumn:
    """`mask_column` with the column's distinct counts before and after."""
    vectorised = _array_result(arr, rule, key)
    if vectorised is not None:
        return vectorised
    job = _distinct_job(arr, rule, key)
    if job is not None:
        distinct, transform = job
        return distinct.mapped(transform())
    operator = operator_class(rule.operator)()
    params = {**rule.params, "key": key}
    operator.validate(params)
    if rule.operator == "keep":
        distinct_count = _distinct(arr)
        return MaskedColumn(arr, distinct_count, distinct_count)
    if operator.row_context == "entity_column":
        shifted = _shift_by_entity(arr, params, table)
        return MaskedColumn(shifted, _distinct(arr), _distinct(shifted))
    redacted = _mask_with_row_values(arr, operator, params, table, split=split)
    return MaskedColumn(redacted, _distinct(arr), _distinct(redacted))


def masked_columns(table: pa.Table, rules: dict[str, ColumnRule], key: MaskingKey, *,
                   split: bool | None = None, caches: dict | None = None) -> dict[str, MaskedColumn]:
    """Every column the rules do not drop, masked, in table order (`ColumnWork` without work beside)."""
    return ColumnWork(table, rules, key, split=split, caches=caches).run(split=split)[0]


LIGHT_COLUMN_MICROS = 20_000  # estimated per-value work of a column `ready` masks when asked


class ColumnWork:
    """A table's masking in two steps, so that other work can join the split: preparing (the
    vectorised columns, the kept ones, and the dictionary encoding of the others) and running (the
    per-distinct-value work, shared with a forked helper process when it is large,
    `parallel.run_split`, with the distinct counts of kept columns taken in a thread meanwhile).
    `caches` (column → `stream.ValueCache`, when streaming batches): values masked in an earlier batch
    are taken from the column's cache; only the others are transformed (here or in the helper)."""

    def __init__(self, table: pa.Table, rules: dict[str, ColumnRule], key: MaskingKey, *,
                 split: bool | None = None, caches: dict | None = None):
        self._table, self._rules, self._caches = table, rules, caches
        self._out: dict[str, MaskedColumn] = {}
        self._kept: dict[str, pa.Array] = {}
        wanted: dict[str, tuple[pa.Array, object, dict]] = {}  # columns to encode, with their operator and params
        for name in table.column_names:
            rule = rules[name]
            if rule.drops:
                continue
            arr = table.column(name).combine_chunks()
            vectorised = _array_result(arr, rule, key)
            if vectorised is not None:
                self._out[name] = vectorised
                continue
            prepared = _distinct_operator(arr, rule, key)
            if prepared is not None:
                wanted[name] = (arr, *prepared)
            elif rule.operator == "keep":
                self._kept[name] = arr
            else:
                self._out[name] = masked_column(arr, rule, key, table, split=split)
        encoded = _encoded([arr for arr, _, _ in wanted.values()])
        self._jobs = {name: (distinct, _DistinctTransform(operator, distinct, params))
                      for (name, (_, operator, params)), distinct in zip(wanted.items(), encoded)}
        self._encodings = dict(zip(wanted, encoded))

    def encoding(self, name: str) -> pa.DictionaryArray | None:
        """The column's prod values dictionary-encoded, where preparing encoded them (columns masked per
        distinct value): ids in order of first appearance, which the k gate and the measures use."""
        distinct = self._encodings.get(name)
        return distinct.encoded if distinct is not None else None

    def ready(self, name: str) -> pa.Array | None:
        """The masked column if preparing made it (vectorised, kept or masked row by row) or its
        per-value work is light enough to do now (few distinct values: a postcode district), else None."""
        if name in self._kept:
            return self._kept[name]
        job = self._jobs.get(name)
        if job is not None and self._caches is None and self._weight(name, job[0].count) < LIGHT_COLUMN_MICROS:
            self._out[name] = _Mapped(*self._jobs.pop(name))()
        return self._out[name].values if name in self._out else None

    def _weight(self, name: str, values: int) -> float:
        """Estimated µs to mask `values` distinct values of the column (its operator's measured cost)."""
        return values * operator_class(self._rules[name].operator).cost_per_value

    def run(self, *, split: bool | None = None,
            beside: Sequence[tuple[Callable[[], object], float]] = ()) -> tuple[dict[str, MaskedColumn], list]:
        """(Every column the rules do not drop, masked, in table order; the results of `beside`).
        `beside`: (task, estimated µs) pairs that join the split as tasks of their own, in either
        process, e.g. the k gate over columns that are `ready`: their results must pickle."""
        out, jobs, caches = dict(self._out), self._jobs, self._caches

        def count_kept() -> None:
            for name, arr in self._kept.items():
                distinct = _distinct(arr)
                out[name] = MaskedColumn(arr, distinct, distinct)

        known: dict[str, tuple[list, list[int]]] = {}
        tasks = []
        for name, (distinct, transform) in jobs.items():
            cache = caches.get(name) if caches is not None else None
            if cache is None:
                tasks.append((_Mapped(distinct, transform), distinct.count))
                continue
            found, missing = cache.lookup(distinct.values)
            known[name] = (found, missing)
            todo = [distinct.values[i] for i in missing]
            tasks.append((_transform_of(distinct.values, transform, todo), len(todo)))
        weights = [self._weight(name, n) for name, (_, n) in zip(jobs, tasks)]
        names = list(jobs)
        beside_weight = sum(w for _, w in beside)
        split_at = _heaviest_to_split(names, weights, self._rules, known, beside_weight)
        runnable, run_weights = [task for task, _ in tasks], list(weights)
        if split_at is not None:
            # one column outweighing all other work would leave one process idle while the other masks
            # it: a part of it worth half of all the work goes to one side, its rest with the other tasks
            distinct, transform = jobs[names[split_at]]
            heavy, total = weights[split_at], sum(weights) + beside_weight
            cut = round(distinct.count * total / 2 / heavy)
            runnable[split_at] = lambda: transform.part(0, cut)
            runnable.append(lambda: transform.part(cut))
            run_weights[split_at] = total / 2
            run_weights.append(heavy - total / 2)
        runnable += [task for task, _ in beside]
        run_weights += [weight for _, weight in beside]
        results = run_split(runnable, run_weights, split=split, alongside=count_kept)
        beside_results = results[len(results) - len(beside):]
        del results[len(results) - len(beside):]
        if split_at is not None:  # the split column's two parts, in order
            parts = [results[split_at], results.pop()]
            joined = pa.concat_arrays(parts) if all(isinstance(p, pa.Array) for p in parts) else [
                v for p in parts for v in (p.to_pylist() if isinstance(p, pa.Array) else p)]
            distinct = jobs[names[split_at]][0]
            counted, distinct_after = _counted(joined, distinct.encoded.dictionary.type)
            results[split_at] = distinct.mapped(counted, distinct_after=distinct_after)
        for (name, (distinct, _)), transformed in zip(jobs.items(), results):
            if name in known:
                found, missing = known[name]
                if isinstance(transformed, pa.Array):  # the whole column went through `mask_strings`
                    transformed = transformed.to_pylist()
                caches[name].store([distinct.values[i] for i in missing], transformed)
                for i, value in zip(missing, transformed):
                    found[i] = value
                out[name] = distinct.mapped(found)
                continue
            out[name] = transformed  # mapped to its rows where it ran (`_Mapped`)
        return {name: out[name] for name in self._table.column_names if name in out}, beside_results


def _heaviest_to_split(names: list[str], weights: list[float], rules: dict[str, ColumnRule],
                       known: dict, other: float = 0.0) -> int | None:
    """The index of a column whose per-value work outweighs all other work together (the other columns'
    and `other` µs beside them) and whose operator masks each value on its own (`value_local`), so
    splitting it balances the two processes."""
    if not weights:
        return None
    heaviest = max(range(len(weights)), key=weights.__getitem__)
    name = names[heaviest]
    if name in known or not operator_class(rules[name].operator).value_local:
        return None
    return heaviest if weights[heaviest] > sum(weights) + other - weights[heaviest] else None


def _transform_of(values: list, transform: Callable[[], list], todo: list) -> Callable[[], list]:
    """`transform` (of every distinct value) narrowed to the values the cache did not know."""
    if len(todo) == len(values):
        return transform
    return lambda: transform.mask_values(todo)  # type: ignore[attr-defined]


class _Mapped:
    """A column's transform, counted and mapped back to the column's rows where it ran: the helper
    process shares that work too, and its result crosses as Arrow buffers (through the spill file of
    `parallel.py`; a list of a million strings took 0.35 s to pickle and 0.14 s to unpickle)."""

    def __init__(self, distinct: DistinctValues, transform: Callable[[], list]):
        self.distinct, self.transform = distinct, transform

    def __call__(self) -> MaskedColumn:
        transformed, distinct_after = _counted(self.transform(), self.distinct.encoded.dictionary.type)
        return self.distinct.mapped(transformed, distinct_after=distinct_after)


def _counted(transformed: list | pa.Array, out_type: pa.DataType) -> tuple[pa.Array, int | None]:
    """Transformed values as an Arrow array of `out_type`, and their distinct count where it is cheap here."""
    if isinstance(transformed, pa.Array):  # an operator's Arrow path: counted by Arrow, no Python set
        out = transformed.cast(out_type)
        return out, _distinct(out)
    out = pa.array(transformed, type=out_type)
    if set(map(type, transformed)) <= {str}:  # strings: a set counts them as Arrow would
        return out, len(set(transformed))
    return out, None  # other types (NaN, 1 == 1.0 …): Arrow counts them


class _DistinctTransform:
    """The operator over a column's distinct values, callable (all of them: an Arrow array where the
    operator masks strings in Arrow, `mask_strings`, else a list) or over any list."""

    def __init__(self, operator, distinct: DistinctValues, params: dict):
        self.operator, self.distinct, self.params = operator, distinct, params

    def __call__(self) -> list | pa.Array:
        return self.part(0)

    def part(self, start: int, stop: int | None = None) -> list | pa.Array:
        """The transforms of the distinct values `start:stop` (a column split between two processes)."""
        dictionary = self.distinct.encoded.dictionary
        stop = len(dictionary) if stop is None else stop
        if dictionary.type == pa.string():
            masked = self.operator.mask_strings(dictionary.slice(start, max(stop - start, 0)), self.params)
            if masked is not None:
                return masked
        whole = start == 0 and stop == len(dictionary)
        return self.mask_values(self.distinct.values if whole else self.distinct.part(start, stop))

    def mask_values(self, values: list) -> list:
        return self.operator.mask_distinct(values, self.params) if values else []


def _distinct_job(arr: pa.Array, rule: ColumnRule, key: MaskingKey) -> tuple[DistinctValues, Callable[[], list]] | None:
    """The column's distinct values and their transform, for operators that need nothing but the
    value; None for keep and for operators that read other columns of the row."""
    prepared = _distinct_operator(arr, rule, key)
    if prepared is None:
        return None
    distinct = DistinctValues.of(arr)
    operator, params = prepared
    return distinct, _DistinctTransform(operator, distinct, params)


def _distinct_operator(arr: pa.Array, rule: ColumnRule, key: MaskingKey) -> tuple[object, dict] | None:
    """`_distinct_job`'s operator and params, before the column is encoded; None as there."""
    operator = operator_class(rule.operator)()
    params = {**resolved_params(arr, rule), "key": key}
    operator.validate(params)
    if rule.operator == "keep" or operator.row_context == "entity_column" or (
            operator.row_context == "row_columns" and params.get("row_columns")):
        return None
    return operator, params


ENCODE_IN_THREADS_ABOVE = 200_000  # values in all columns: below, two threads cost more than they save


def _encoded(arrays: list[pa.Array]) -> list[DistinctValues]:
    """`DistinctValues.of` each array, two at a time where there is much to encode: Arrow's hashing
    releases the GIL (a million distinct strings take ~0.2 s each). The threads end before anything
    forks (`parallel.run_split` forks only where no other Python thread runs)."""
    if len(arrays) < 2 or sum(len(a) for a in arrays) < ENCODE_IN_THREADS_ABOVE:
        return [DistinctValues.of(a) for a in arrays]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hurricane-encode") as pool:
        return list(pool.map(DistinctValues.of, arrays))


def _shift_by_entity(arr: pa.Array, params: dict, table: pa.Table) -> pa.Array:
    column = params.get("entity_column")
    if column not in table.column_names:
        raise ValueError(f"date_shift keys on entity column {column!r}, which the table does not have")
    entity, max_days = params.get("entity", "entity"), params.get("max_days", 180)
    ids = table.column(column).combine_chunks()
    offsets = map_distinct(ids, lambda values: [shift_days(params["key"], entity, v, max_days) for v in values],
                           out_type=pa.int64())
    offsets = pc.fill_null(offsets, shift_days(params["key"], entity, None, max_days))
    if pa.types.is_date32(arr.type):
        return pc.add(arr.view(pa.int32()).cast(pa.int64()), offsets).cast(pa.int32()).view(pa.date32())
    if pa.types.is_timestamp(arr.type):
        # to the day, then shifted: the time of day is not shifted and singles out (see DateShift)
        per_day = SECONDS_PER_DAY * MICROS_PER_UNIT[arr.type.unit]
        midnight = pc.floor_temporal(arr, 1, "day").view(pa.int64())
        return pc.add(midnight, pc.multiply(offsets, per_day)).view(arr.type)
    raise TypeError(f"date_shift applies to date32 or timestamp columns, got {arr.type}")


ROW_VALUE_CHUNKS = 16  # free-text work in slices, so the helper process can take half of it


def _mask_with_row_values(arr: pa.Array, operator, params: dict, table: pa.Table, *,
                          split: bool | None = None) -> pa.Array:
    """Free text that also removes its row's identifying values; deduplicated on (text, values found).
    The distinct texts are masked in slices shared with the helper process (`parallel.run_split`)."""
    row_columns = {c: e for c, e in params["row_columns"].items() if c in table.column_names}
    context = [(entity, table.column(c).to_pylist()) for c, entity in row_columns.items()]
    jobs: dict[tuple, int] = {}
    positions: list[int | None] = []
    for i, text in enumerate(arr.to_pylist()):
        if text is None:
            positions.append(None)
            continue
        folded = text.casefold()
        # Only values that occur in this text matter, which keeps identical texts deduplicated.
        found = tuple((entity, values[i]) for entity, values in context
                      if isinstance(values[i], str) and values[i].strip() and values[i].casefold() in folded)
        positions.append(jobs.setdefault((text, found), len(jobs)))
    distinct = list(jobs)
    size = -(-len(distinct) // ROW_VALUE_CHUNKS) or 1
    slices = [distinct[i:i + size] for i in range(0, len(distinct), size)]

    def task(part: list[tuple]):
        return lambda: [operator.operate(text, {**params, "row_values": [list(f) for f in found]})
                        for text, found in part]

    results = run_split([task(part) for part in slices], [len(p) * operator.cost_per_value for p in slices], split=split)
    masked = [value for part in results for value in part]
    return pa.array([None if p is None else masked[p] for p in positions], type=arr.type)
