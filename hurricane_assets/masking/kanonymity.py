"""The k-anonymity gate over the quasi-identifiers of a masked table.

When the smallest group of rows sharing QI values is below k, the QI with the most distinct values
is generalised one step further (birth year → 5-year band, postcode district → area, …) until few
enough rows remain in small groups to suppress them (their QI values become null). Suppressed rows
form no group of their own: the achieved k is measured over the rows that keep their QIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.plans import ColumnRule
from hurricane_assets.masking.registry import operator_class

DEFAULT_K = 5
MAX_SUPPRESSION = 0.05  # share of rows that may lose their QIs before we generalise further


@dataclass(frozen=True)
class KAnonymityOutcome:
    k: int
    quasi_identifiers: tuple[str, ...]
    smallest_group: int | None  # over non-suppressed rows; None without QIs or rows
    groups: int
    suppressed_rows: int
    final_params: dict[str, dict]
    actions: tuple[str, ...]

    @property
    def satisfied(self) -> bool:
        return self.smallest_group is None or self.smallest_group >= self.k

    def to_dict(self) -> dict:
        return {"k": self.k, "quasi_identifiers": list(self.quasi_identifiers), "smallest_group": self.smallest_group,
                "groups": self.groups, "suppressed_rows": self.suppressed_rows, "satisfied": self.satisfied,
                "final_params": self.final_params, "actions": list(self.actions)}


def group_sizes(table: pa.Table, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(size of each row's QI group, group id per row); null is a value of its own."""
    combined = np.zeros(table.num_rows, dtype=np.int64)
    for name in columns:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks())
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        combined = _dense_ids(combined * (len(encoded.dictionary) + 1) + codes)
    counts = np.bincount(combined)
    return counts[combined], combined


def _dense_ids(keys: np.ndarray) -> np.ndarray:
    """0..n-1 ids of the distinct keys (hashing, not sorting), so the mixed-radix key built from
    them never overflows, however many QIs there are."""
    return pc.dictionary_encode(pa.array(keys)).indices.to_numpy().astype(np.int64)


def enforce_k_anonymity(
    table: pa.Table,
    rules: dict[str, ColumnRule],
    regeneralise: Callable[[str, dict], pa.Array],
    k: int = DEFAULT_K,
    max_suppression: float = MAX_SUPPRESSION,
) -> tuple[pa.Table, KAnonymityOutcome]:
    """Generalise and suppress until every remaining QI group has at least `k` rows."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    qis = [c for c, r in rules.items() if r.quasi_identifier and not r.drops and c in table.column_names]
    params = {q: dict(rules[q].params) for q in qis}
    actions: list[str] = []
    suppressed = np.zeros(table.num_rows, dtype=bool)
    if not qis or table.num_rows == 0:
        return table, KAnonymityOutcome(k, tuple(qis), None, 0, 0, params, ())
    while True:
        sizes, _ = group_sizes(table, qis)
        small = sizes < k
        if not small.any():
            break
        coarser = {q: operator_class(rules[q].operator).coarser(params[q]) for q in qis}
        candidates = [q for q in qis if coarser[q] is not None]
        if small.mean() <= max_suppression or not candidates:
            table = _suppress(table, qis, small)
            suppressed = small
            actions.append(f"suppressed the quasi-identifiers of {int(small.sum())} rows in groups smaller than {k}")
            break
        widest = max(candidates, key=lambda q: pc.count_distinct(table.column(q)).as_py())
        params[widest] = coarser[widest]
        table = table.set_column(table.column_names.index(widest), widest, regeneralise(widest, params[widest]))
        shown = {p: v for p, v in params[widest].items() if p != "base_width"}
        actions.append(f"generalised {widest} further to {rules[widest].operator}{shown}")
    sizes, groups = group_sizes(table, qis)
    kept = ~suppressed
    smallest = int(sizes[kept].min()) if kept.any() else None
    return table, KAnonymityOutcome(k, tuple(qis), smallest, int(len(np.unique(groups[kept]))),
                                    int(suppressed.sum()), params, tuple(actions))


def _suppress(table: pa.Table, qis: list[str], rows: np.ndarray) -> pa.Table:
    mask = pa.array(rows)
    for q in qis:
        col = table.column(q).combine_chunks()
        table = table.set_column(table.column_names.index(q), q, pc.if_else(mask, pa.scalar(None, col.type), col))
    return table
