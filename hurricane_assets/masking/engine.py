"""`mask_table`: a whole table through its plan, failing closed, with a privacy report.

Fail closed: a column the manifest does not know is schema drift, a column the plan does not cover
is unclassified; both stop the copy before anything is masked or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pyarrow as pa

from hurricane_assets.catalog.schema import arrow_type, schema_diff
from hurricane_assets.masking.columns import ColumnWork, MaskedColumn
from hurricane_assets.masking.gate import GateResult, PrivacyGate
from hurricane_assets.masking.kanonymity import DEFAULT_K, MAX_SUPPRESSION
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.measure import PrivacyCheckFailed
from hurricane_assets.masking.plans import MaskingPlan
from hurricane_assets.masking.report import PrivacyReport, column_report


class SchemaDriftError(ValueError):
    """The table's columns or types differ from the manifest the plan was built from."""

    def __init__(self, dataset: str, source: str, diff):
        self.dataset, self.source, self.diff = dataset, source, diff
        super().__init__(f"schema drift in {dataset} against {source}: {diff.describe()}; nothing was copied")


class UnclassifiedColumnError(ValueError):
    """A column of the table that the masking plan has no rule for."""

    def __init__(self, dataset: str, source: str, columns: list[str]):
        self.dataset, self.source, self.columns = dataset, source, columns
        super().__init__(f"unclassified column(s) {', '.join(columns)} in {dataset}: no masking rule in {source}; "
                         "classify them in the manifest before they can be copied")


class TokenCollisionError(ValueError):
    """A key column whose masked values are no longer distinct (a truncated-token collision)."""


@dataclass(frozen=True)
class MaskedResult:
    table: pa.Table
    report: PrivacyReport


def check_table(table: pa.Table, plan: MaskingPlan) -> None:
    """Raise `SchemaDriftError` / `UnclassifiedColumnError` before anything is masked."""
    expected = pa.schema([pa.field(c, arrow_type(t)) for c, t in plan.expected_types.items()])
    diff = schema_diff(expected, table.schema)
    if not diff.ok:
        raise SchemaDriftError(plan.dataset, plan.source, diff)
    uncovered = [c for c in table.column_names if c not in plan.rules]
    if uncovered:
        raise UnclassifiedColumnError(plan.dataset, plan.source, uncovered)


def mask_table(table: pa.Table, plan: MaskingPlan, keyring: Keyring, *, k: int | None = DEFAULT_K,
               max_suppression: float = MAX_SUPPRESSION, thresholds=None, split: bool | None = None) -> MaskedResult:
    """The masked copy of `table` (the input is never changed) and its privacy report.

    `k` is the k-anonymity target over the plan's quasi-identifiers, counted in persons (the plan's
    `person_column`; None: no gate, e.g. for prod). When k cannot be reached without suppressing more
    than `max_suppression` of the rows, `KAnonymityError` is raised with the report (`error.report`).
    `thresholds` (a manifest's `PrivacyThresholds`): measure the output against the input
    (`measure.py`) and raise `PrivacyCheckFailed` (with `error.report`) when it misses one.
    `split`: share the per-value work with a forked helper process (None: when safe and worth it,
    see `parallel.py`; the output is the same either way).
    """
    check_table(table, plan)
    work = ColumnWork(table, plan.rules, keyring.key, split=split)
    gate = PrivacyGate(table, plan, keyring, k=k, max_suppression=max_suppression, thresholds=thresholds,
                       persons=work.encoding(plan.person_column) if plan.person_column else None)
    beside = gate.beside(work)
    columns, gated = work.run(split=split, beside=[(partial(gate, beside[0]), beside[1])] if beside else [])
    fields = [table.schema.field(name) for name in columns]
    masked = pa.Table.from_arrays([c.values for c in columns.values()],
                                  schema=pa.schema(fields, metadata=table.schema.metadata))
    _check_unique(columns, plan)
    result: GateResult = gated[0] if beside else gate(masked)
    if result.error is not None:
        error = result.error
        error.report = _report(table, masked, plan, keyring, columns, error.outcome.to_dict(),
                               error.outcome.final_params, set(error.outcome.quasi_identifiers), {})
        raise error
    if result.outcome is None:
        outcome_dict, final_params = {"k": None, "quasi_identifiers": plan.quasi_identifiers(), "actions": []}, {}
    else:
        outcome_dict, final_params = result.outcome.to_dict(), result.outcome.final_params
    masked = result.applied_to(masked)
    report = _report(table, masked, plan, keyring, columns, outcome_dict, final_params, result.changed,
                     result.distinct_after)
    if result.measurement is not None:
        report = report.model_copy(update={"measured": result.measurement.to_dict()})
        if not result.measurement.passed:
            error = PrivacyCheckFailed(plan.dataset, result.measurement)
            error.report = report
            raise error
    return MaskedResult(table=masked, report=report)


def _report(table: pa.Table, masked: pa.Table, plan: MaskingPlan, keyring: Keyring,
            columns: dict[str, MaskedColumn], outcome_dict: dict, final_params: dict,
            changed_by_gate: set[str], gate_distinct_after: dict[str, int]) -> PrivacyReport:
    """`gate_distinct_after`: distinct counts of the QIs the gate changed, where it counted them."""
    return PrivacyReport(
        dataset=plan.dataset, env=plan.env, plan_version=plan.version, plan_source=plan.source,
        key_id=keyring.key_id, rows=table.num_rows,
        columns=[
            column_report(name, plan.rules[name], table.column(name),
                          masked.column(name) if name in columns else None,
                          keyring.key_id, final_params.get(name),
                          distinct_before=columns[name].distinct_before if name in columns else None,
                          distinct_after=columns[name].distinct_after
                          if name in columns and name not in changed_by_gate else gate_distinct_after.get(name))
            for name in table.column_names
        ],
        k_anonymity=outcome_dict,
        at_risk=[c for c in plan.sensitive_columns if c in table.column_names and plan.rules[c].operator == "keep"],
        raised_to_floor=list(plan.raised_to_floor),
    )


def _check_unique(columns: dict[str, MaskedColumn], plan: MaskingPlan) -> None:
    for name, rule in plan.rules.items():
        if not rule.unique or name not in columns:
            continue
        if columns[name].distinct_after < columns[name].distinct_before:
            raise TokenCollisionError(
                f"{plan.dataset}.{name}: {rule.operator} mapped distinct keys to the same value; "
                "use a longer token or aes_siv for this column")
