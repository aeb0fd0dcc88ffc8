"""Measured privacy of a masked table against the prod rows it came from (issue 11).

Five measurements, each with its threshold in the manifest (`privacy:` of the dataset), checked on
every masked copy and share before anything is written:

- `k`: the fewest distinct persons sharing the QI values of any row (rows whose QIs were suppressed
  or withheld form no group), recomputed on the output, independently of the gate that produced it;
- `l_diversity`: the fewest distinct values of a sensitive column (`privacy.sensitive`) in any group;
- `singling_out_risk`: share of sampled persons whose QI values in the output isolate them (a
  predicate "QIs = these values" that matches exactly one person);
- `linkability_risk`: an attacker who knows a target's prod QIs, generalised the way the output
  publishes them, picks one person of the matching group: the success rate (mean of 1/persons of
  the target's group) corrected for the 1/persons of a blind guess, as (rate − base)/(1 − base);
- `inference_risk`: the same attacker predicts a sensitive value as the majority of the target's
  group; success against the prod value, corrected by the baseline of guessing the overall majority.

Reported beside them, with no threshold of its own unless the manifest sets one
(`max_two_event_singling_out_risk`): `two_event_singling_out_risk`, the share of sampled persons
with two published rows in different groups whose two groups no other person shares. The five
above judge each row alone, but one person's rows carry one token, so an attacker who knows two of
a target's events (a payment's day and amount band) intersects the persons of their two groups:
k over persons holds row by row and still does not hold for the person's rows taken together.

These follow the definitions pyCANON (k, ℓ) and Anonymeter (attack success over a baseline, on a
sample of targets) use; neither package can be installed next to this project's numpy (pyCANON 1.3.x
pins numpy==2.0.2, Anonymeter 1.x numpy<1.27), so the measurements are implemented here, vectorised
over Arrow/numpy. The tests pin them on hand-computed tables and check k and ℓ against pyCANON run
in its own venv (tests/hurricane_assets/masking/test_measure_pycanon.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.distinct import dictionary_encode, sorted_unique
from hurricane_assets.masking.kanonymity import group_sizes


class PrivacyCheckFailed(ValueError):
    """A masked table whose measured privacy misses a threshold of its manifest; nothing is written."""

    def __init__(self, dataset: str, measurement: PrivacyMeasurement):
        self.dataset, self.measurement = dataset, measurement
        super().__init__(f"privacy checks failed for {dataset}: {'; '.join(measurement.failures)}; nothing was written")


@dataclass(frozen=True)
class PrivacyMeasurement:
    quasi_identifiers: tuple[str, ...]
    sensitive: tuple[str, ...]
    values: dict[str, float | int | None]
    thresholds: dict[str, float | int]
    sample_persons: int
    failures: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures

    def check(self, name: str) -> tuple[bool, str]:
        """(passed, description) of one measurement, for an asset check."""
        value, limit = self.values.get(name), self.thresholds.get(name)
        failing = [f for f in self.failures if f.startswith(name + " ")]
        shown = "n/a" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
        if limit is None:
            return True, f"{name} = {shown} (reported, no threshold set)"
        bound = ">=" if name in ("k", "l_diversity") else "<="
        return not failing, f"{name} = {shown} (must be {bound} {limit})"

    def to_dict(self) -> dict:
        return {"quasi_identifiers": list(self.quasi_identifiers), "sensitive": list(self.sensitive),
                "values": self.values, "thresholds": self.thresholds, "sample_persons": self.sample_persons,
                "passed": self.passed, "failures": list(self.failures),
                "method": "pyCANON/Anonymeter definitions, implemented in hurricane_assets.masking.measure"}


CHECKS = ("k", "l_diversity", "singling_out_risk", "linkability_risk", "inference_risk")
TWO_EVENTS = "two_event_singling_out_risk"  # reported; judged only where the manifest sets a limit


def measure_privacy(prod: pa.Table, masked: pa.Table, *, quasi_identifiers: list[str], person_column: str | None,
                    thresholds, seed: int = 0, persons: pa.Array | pa.ChunkedArray | None = None) -> PrivacyMeasurement:
    """Measure `masked` (row i masks `prod` row i) against `thresholds` (a manifest `PrivacyThresholds`).
    `persons`: one value per row that groups the rows exactly as the output's person column does (the
    engine passes the prod ids' encoding where the tokens are checked one-to-one); default: that column."""
    qis = [q for q in quasi_identifiers if q in masked.column_names]
    sensitive = [s for s in thresholds.sensitive if s in masked.column_names and s in prod.column_names]
    if persons is None:
        persons = masked.column(person_column) if person_column in masked.column_names else (
            prod.column(person_column) if person_column in prod.column_names else None)
    values: dict[str, float | int | None] = dict.fromkeys((*CHECKS, TWO_EVENTS))
    sample = 0
    if qis and masked.num_rows:
        published = _published_rows(masked, qis)
        person_ids, one_row_each = _ids(persons) if persons is not None else (np.arange(masked.num_rows), True)
        # Every row a different person: persons per group are rows per group (no person pairs to hash).
        sizes, groups = group_sizes(masked, qis, None if one_row_each else persons)
        if published.any():
            values["k"] = int(sizes[published].min())
            targets = _sample_targets(person_ids, published, thresholds.sample_persons, seed, one_row_each)
            sample = len(targets)
            n_persons = int(published.sum()) if one_row_each else len(sorted_unique(person_ids[published]))
            base = 1.0 / max(n_persons, 1)
            values["singling_out_risk"] = float(np.mean(sizes[targets] == 1))
            rate = float(np.mean(1.0 / sizes[targets]))
            values["linkability_risk"] = max(0.0, (rate - base) / (1 - base)) if n_persons > 1 else 1.0
            if not one_row_each:
                values[TWO_EVENTS] = _two_event_singling_out(person_ids, groups, published,
                                                             thresholds.sample_persons, seed)
            if sensitive:
                values["l_diversity"] = min(_l_diversity(masked.column(s), groups, published) for s in sensitive)
                values["inference_risk"] = max(_inference(prod.column(s), masked.column(s), groups, targets, published)
                                               for s in sensitive)
    return judge(tuple(qis), tuple(sensitive), values, thresholds, sample)


def judge(qis: tuple[str, ...], sensitive: tuple[str, ...], values: dict[str, float | int | None], thresholds,
          sample: int) -> PrivacyMeasurement:
    """The measurement of `values` against the manifest's `thresholds` (also for a streamed table,
    whose values `stream_gate.py` computes over batches)."""
    limits = {"k": thresholds.k, "l_diversity": thresholds.l_diversity,
              "singling_out_risk": thresholds.max_singling_out_risk,
              "linkability_risk": thresholds.max_linkability_risk, "inference_risk": thresholds.max_inference_risk,
              TWO_EVENTS: thresholds.max_two_event_singling_out_risk}
    failures = []
    for name in (*CHECKS, TWO_EVENTS):
        value, limit = values.get(name), limits[name]
        if value is None or limit is None:
            continue
        too_low = name in ("k", "l_diversity") and value < limit
        too_high = name not in ("k", "l_diversity") and value > limit
        if too_low or too_high:
            failures.append(f"{name} {value:.4f} {'below' if too_low else 'above'} {limit}"
                            if isinstance(value, float) else f"{name} {value} below {limit}")
    return PrivacyMeasurement(qis, sensitive, values, limits, sample, tuple(failures))


def _published_rows(masked: pa.Table, qis: list[str]) -> np.ndarray:
    """Rows with at least one QI published (all-null QIs: suppressed or withheld, nothing to match on)."""
    any_valid = np.zeros(masked.num_rows, dtype=bool)
    for q in qis:
        any_valid |= pc.is_valid(masked.column(q)).to_numpy(zero_copy_only=False)
    return any_valid


def _ids(column) -> tuple[np.ndarray, bool]:
    """(id per row, null → -1; whether every row is a different, known person)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = dictionary_encode(arr)
    ids = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return ids, arr.null_count == 0 and len(encoded.dictionary) == len(arr)


def _sample_targets(person_ids: np.ndarray, published: np.ndarray, n: int, seed: int,
                    one_row_each: bool = False) -> np.ndarray:
    """One published row for each of up to `n` persons, drawn with a fixed seed (reproducible checks)."""
    rows = np.flatnonzero(published)
    if one_row_each:  # ids are 0..n-1 in row order: each row is its person's first, in id order
        candidates = rows
    else:
        _, first = np.unique(person_ids[rows], return_index=True)
        candidates = rows[first]
    if len(candidates) > n:
        candidates = np.random.default_rng(seed).choice(candidates, size=n, replace=False)
    return np.sort(candidates)


def _two_event_singling_out(person_ids: np.ndarray, groups: np.ndarray, published: np.ndarray, n: int,
                            seed: int) -> float | None:
    """`two_event_risk` over a whole table: each person's first published row and first published row
    in another group (table order), persons in first-seen order (their ids)."""
    rows = np.flatnonzero(published & (person_ids >= 0))
    persons, row_groups = person_ids[rows], groups[rows]
    if not len(rows):
        return None
    first_group = np.full(int(persons.max()) + 1, -1, np.int64)
    seen, first = np.unique(persons, return_index=True)
    first_group[seen] = row_groups[first]
    other = row_groups != first_group[persons]
    candidates, second = np.unique(persons[other], return_index=True)
    known = person_ids >= 0
    return two_event_risk(first_group[candidates], row_groups[other][second], n, seed,
                          [(person_ids[known], groups[known])])


def two_event_risk(first: np.ndarray, second: np.ndarray, n: int, seed: int,
                   parts: Iterable[tuple[np.ndarray, np.ndarray]]) -> float | None:
    """Share of up to `n` candidates (drawn with a fixed seed; candidates in first-seen order, each
    with two published groups `first`, `second`) whose two groups hold no other person. `parts`:
    (person, group) of every row, each person's rows within one part. None without candidates."""
    if not len(first):
        return None
    if len(first) > n:
        chosen = np.sort(np.random.default_rng(seed).choice(len(first), size=n, replace=False))
        first, second = first[chosen], second[chosen]
    both = np.zeros(len(first), np.int64)
    for persons, groups in parts:
        both += persons_in_both(persons, groups, first, second)
    return float(np.mean(both == 1))


def persons_in_both(persons: np.ndarray, groups: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """For each (first[i], second[i]), the persons with a row in both groups: a person × group
    incidence matrix of the groups asked about, its two columns multiplied and summed."""
    from scipy.sparse import csc_matrix

    wanted = np.union1d(first, second)
    keep = np.isin(groups, wanted)
    if not keep.any():
        return np.zeros(len(first), np.int64)
    _, row = np.unique(persons[keep], return_inverse=True)
    incidence = csc_matrix((np.ones(int(keep.sum()), np.int32), (row, np.searchsorted(wanted, groups[keep]))),
                           shape=(int(row.max()) + 1, len(wanted)))
    incidence = (incidence > 0).astype(np.int32)  # a person's several rows in one group count once
    a = incidence[:, np.searchsorted(wanted, first)]
    b = incidence[:, np.searchsorted(wanted, second)]
    return np.asarray(a.multiply(b).sum(axis=0)).ravel().astype(np.int64)


def _l_diversity(column, groups: np.ndarray, published: np.ndarray) -> int:
    values, _ = _ids(column)
    rows = np.flatnonzero(published)
    pairs = np.unique(np.stack([groups[rows], values[rows]], axis=1), axis=0)
    return int(np.bincount(pairs[:, 0])[sorted_unique(pairs[:, 0])].min())


def _inference(prod_column, masked_column, groups: np.ndarray, targets: np.ndarray, published: np.ndarray) -> float:
    """Majority-of-group guess of the prod value vs the overall-majority baseline, (rate − base)/(1 − base)."""
    truth = np.asarray(prod_column.to_pylist(), dtype=object)
    published_values = np.asarray(masked_column.to_pylist(), dtype=object)
    rows = np.flatnonzero(published)
    overall = _majority(published_values[rows])
    majority_of: dict[int, object] = {}
    for g in sorted_unique(groups[targets]):
        majority_of[int(g)] = _majority(published_values[rows[groups[rows] == g]])
    hits = np.mean([majority_of[int(groups[t])] == truth[t] for t in targets])
    base = np.mean([overall == truth[t] for t in targets])
    return float(max(0.0, (hits - base) / (1 - base))) if base < 1 else 0.0


def _majority(values: np.ndarray):
    kept = [v for v in values if v is not None]
    if not kept:
        return None
    uniques, counts = np.unique(np.asarray([str(v) for v in kept]), return_counts=True)
    best = uniques[np.argmax(counts)]
    return next(v for v in kept if str(v) == best)
