"""The privacy gate of one masked table: the k-anonymity gate, then the measured checks, over just the
columns they read (the quasi-identifiers; for the measurement also the person and sensitive columns).

Those columns are usually masked while the column work is prepared (generalised QIs are vectorised,
kept columns are themselves), so the gate need not wait for the per-value work: it runs as one more
task of the split (`ColumnWork.run(beside=...)`), in either process. At a million persons that takes
the gate's ~2 s off the copy's wall time. Where a column it reads is masked per value, it runs after
the split over the whole masked table, with the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial

import pyarrow as pa

from hurricane_assets.masking.columns import ColumnWork, mask_column
from hurricane_assets.masking.distinct import count_distinct, dictionary_encode
from hurricane_assets.masking.kanonymity import KAnonymityError, KAnonymityOutcome, enforce_k_anonymity
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.measure import PrivacyMeasurement, measure_privacy
from hurricane_assets.masking.plans import MaskingPlan
from hurricane_assets.masking.registry import operator_class

# the gate's steps and the measurement at 1M persons, 5 QIs: ~1.5 s beside the split's other work (the operators'
# costs are measured the same way)
MICROS_PER_QI_CELL = 0.3


@dataclass(frozen=True)
class GateResult:
    """What the gate made of the QI columns, or the error that stops the copy; it crosses the pipe
    from the helper process when the gate ran there, so it holds only Arrow arrays and plain data."""

    quasi_identifiers: pa.Table | None = None  # as the gate left them (fields included)
    outcome: KAnonymityOutcome | None = None  # None: no gate (k is None)
    error: KAnonymityError | None = None
    measurement: PrivacyMeasurement | None = None  # None: no thresholds
    distinct_after: dict[str, int] = field(default_factory=dict)  # of the QIs the gate changed

    def applied_to(self, masked: pa.Table) -> pa.Table:
        if self.quasi_identifiers is None:
            return masked
        for name in self.quasi_identifiers.column_names:
            masked = masked.set_column(masked.column_names.index(name), self.quasi_identifiers.schema.field(name),
                                       self.quasi_identifiers.column(name))
        return masked

    @property
    def changed(self) -> set[str]:
        """QIs the gate generalised further or suppressed: their distinct counts are the gate's output's."""
        return set(self.outcome.quasi_identifiers) if self.outcome is not None and self.outcome.actions else set()


class PrivacyGate:
    """`k`: the k-anonymity target in persons (None: no gate, e.g. prod); `thresholds`: a manifest's
    `PrivacyThresholds` to measure against (None: not measured). `persons`: the prod person column's
    dictionary encoding where the column work made one (`ColumnWork.encoding`), so neither the gate
    nor the measurement encodes a million ids again."""

    def __init__(self, table: pa.Table, plan: MaskingPlan, keyring: Keyring, *, k: int | None,
                 max_suppression: float, thresholds=None, persons: pa.Array | None = None):
        self.table, self.plan, self.keyring = table, plan, keyring
        self.k, self.max_suppression, self.thresholds = k, max_suppression, thresholds
        self.qis = [q for q in plan.quasi_identifiers() if q in table.column_names]
        column = plan.person_column if plan.person_column in table.column_names else None
        self.persons = persons if persons is not None or column is None else table.column(column)
        # The measurement groups rows by the output's person column. Kept, dropped (then the measures read
        # prod's) or a key whose tokens are checked one-to-one after the split (`TokenCollisionError`),
        # it groups them exactly as the prod ids do; otherwise the masked column itself must be read.
        rule = plan.rules.get(column) if column else None
        self._persons_as_prod = column is None or rule.drops or rule.unique or rule.operator == "keep"

    def reads(self) -> list[str]:
        """The masked columns the gate and the measurement read."""
        names = list(self.qis)
        if self.thresholds is not None:
            person = () if self._persons_as_prod else (self.plan.person_column,)
            names += [c for c in (*person, *self.thresholds.sensitive)
                      if c in self.table.column_names and not self.plan.rules[c].drops and c not in names]
        return names

    def beside(self, work: ColumnWork) -> tuple[pa.Table, float] | None:
        """(The columns the gate reads, as masked while `work` was prepared; its estimated µs), or None
        when one of them is masked per value (or there is nothing to gate): then it runs after."""
        if not self.qis or (self.k is None and self.thresholds is None):
            return None
        columns = {}
        for name in self.reads():
            values = work.ready(name)
            if values is None:
                return None
            columns[name] = values
        schema = pa.schema([self.table.schema.field(name) for name in columns])  # as the masked table's
        return pa.Table.from_arrays(list(columns.values()), schema=schema), MICROS_PER_QI_CELL * (
            self.table.num_rows * len(self.qis))

    def __call__(self, masked: pa.Table) -> GateResult:
        """The gate over `masked` (every column `reads` names, masked), then the measurement of its output."""
        gated, outcome = masked, None
        if self.k is not None:
            regeneralise = partial(self._regeneralise, masked, {})
            try:
                gated, outcome = enforce_k_anonymity(masked, dict(self.plan.rules), regeneralise, k=self.k,
                                                     max_suppression=self.max_suppression, persons=self.persons,
                                                     person_column=self.plan.person_column, dataset=self.plan.dataset)
            except KAnonymityError as error:
                return GateResult(error=error)
        result = GateResult(quasi_identifiers=gated.select(self.qis), outcome=outcome)
        distinct_after = {q: count_distinct(gated.column(q)) for q in result.changed}
        measurement = None if self.thresholds is None else measure_privacy(
            self.table, gated, quasi_identifiers=self.plan.quasi_identifiers(),
            person_column=self.plan.person_column, thresholds=self.thresholds,
            persons=self.persons if self._persons_as_prod else None)
        return replace(result, measurement=measurement, distinct_after=distinct_after)

    def _regeneralise(self, masked: pa.Table, encoded: dict, column: str, params: dict) -> pa.Array:
        """The column masked with `params`: from its masked values' dictionary (kept in `encoded`) where
        the operator gives the same from them (a million timestamps of ~4,000 days: 4,000 values to
        floor, and the gate's codes come from the dictionary too), else from the prod column."""
        base = self.plan.rules[column]
        rule = base.model_copy(update={"params": params})
        if operator_class(base.operator).coarsens_output_of(dict(base.params), params):
            if column not in encoded:
                encoded[column] = dictionary_encode(masked.column(column))
            coarser = mask_column(encoded[column].dictionary, rule, self.keyring.key, self.table)
            return pa.DictionaryArray.from_arrays(encoded[column].indices, coarser)
        return mask_column(self.table.column(column).combine_chunks(), rule, self.keyring.key, self.table)
