"""The privacy report of one masked copy: what happened to each column, and the re-identification gate.

It is evidence for reviewers and auditors, so it carries the key *id* (which key version masked the
data) but never key material, and statistics but never values.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from hurricane_assets.clock import utc_now
from hurricane_assets.masking.distinct import count_distinct
from hurricane_assets.masking.plans import ColumnRule

ColumnStatus = Literal["kept", "masked", "dropped"]
SENSITIVE_PARAMS = frozenset({"entity_rules", "row_values", "deny_list"})


class ColumnReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    status: ColumnStatus
    operator: str
    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    key_id: str | None = None
    quasi_identifier: bool = False
    null_rate_before: float
    null_rate_after: float | None = None
    distinct_before: int
    distinct_after: int | None = None


class PrivacyReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str
    env: str
    plan_version: str
    plan_source: str
    key_id: str
    rows: int
    created_at: str = Field(default_factory=lambda: utc_now().isoformat())
    columns: list[ColumnReport]
    k_anonymity: dict[str, Any]
    at_risk: list[str] = Field(default_factory=list, description="sensitive columns passed through unmasked")
    raised_to_floor: list[str] = Field(default_factory=list,
                                       description="contract columns masked more than asked (keys, quasi-identifiers)")
    measured: dict[str, Any] | None = Field(default=None, description="measured privacy against prod (privacy_checks)")
    source_uri: str | None = None
    target_uri: str | None = None
    target_version: int | None = None
    erasure: dict[str, Any] | None = Field(default=None, description="rows of erased persons removed before masking")

    def column(self, name: str) -> ColumnReport:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(f"no column {name!r} in the privacy report of {self.dataset}")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _null_rate(arr: pa.ChunkedArray | pa.Array) -> float:
    return arr.null_count / len(arr) if len(arr) else 0.0


def _distinct(arr: pa.ChunkedArray | pa.Array) -> int:
    return count_distinct(arr)


def column_report(name: str, rule: ColumnRule, before: pa.ChunkedArray | pa.Array,
                  after: pa.ChunkedArray | pa.Array | None, key_id: str, final_params: dict | None, *,
                  distinct_before: int | None = None, distinct_after: int | None = None) -> ColumnReport:
    """Distinct counts the caller already knows are passed in; the others are counted here."""
    from hurricane_assets.masking.registry import operator_class

    status: ColumnStatus = "dropped" if after is None else ("kept" if rule.operator == "keep" else "masked")
    params = {p: v for p, v in (final_params or rule.params).items() if p not in SENSITIVE_PARAMS}
    if after is not None and distinct_after is None:
        distinct_after = _distinct(after)
    return ColumnReport(
        column=name, status=status, operator=rule.operator, method=rule.method.value, params=params,
        key_id=key_id if operator_class(rule.operator).keyed and status == "masked" else None,
        quasi_identifier=rule.quasi_identifier,
        null_rate_before=_null_rate(before), null_rate_after=None if after is None else _null_rate(after),
        distinct_before=_distinct(before) if distinct_before is None else distinct_before,
        distinct_after=None if after is None else distinct_after,
    )
