"""Checks every data product must pass, evaluated on an Arrow table (no Dagster here).

The Dagster layer turns each `CheckOutcome` into an asset-check result; the CLI and tests can run
the same functions directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.catalog.manifest import Dataset
from hurricane_assets.catalog.schema import arrow_schema, schema_diff
from hurricane_assets.clock import utc_now


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def check_schema(dataset: Dataset, table: pa.Table) -> CheckOutcome:
    diff = schema_diff(arrow_schema(dataset), table.schema)
    return CheckOutcome(
        "schema_matches_manifest",
        diff.ok,
        diff.describe(),
        {"missing": list(diff.missing), "unexpected": list(diff.unexpected),
         "retyped": [list(r) for r in diff.retyped]},
    )


def check_keys(dataset: Dataset, table: pa.Table) -> CheckOutcome:
    keys = [k for k in dataset.keys if k in table.column_names]
    if len(keys) != len(dataset.keys):
        return CheckOutcome("keys_unique_not_null", False, "key columns missing from the table")
    nulls = {k: table[k].null_count for k in keys}
    distinct = table.select(keys).group_by(keys).aggregate([]).num_rows
    duplicates = table.num_rows - distinct
    passed = duplicates == 0 and not any(nulls.values())
    desc = (
        f"key ({', '.join(keys)}) unique and not null"
        if passed
        else f"key ({', '.join(keys)}): {duplicates} duplicate rows, nulls {nulls}"
    )
    return CheckOutcome("keys_unique_not_null", passed, desc, {"duplicates": duplicates, "nulls": nulls})


def check_row_count(table: pa.Table) -> CheckOutcome:
    n = table.num_rows
    return CheckOutcome("row_count_positive", n > 0, f"{n} rows", {"rows": n})


def _max_event_time(dataset: Dataset, table: pa.Table) -> datetime | None:
    if dataset.event_time not in table.column_names:
        return None
    value = pc.max(table[dataset.event_time]).as_py()
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def check_event_time_not_future(
    dataset: Dataset, table: pa.Table, now: datetime, tolerance: timedelta = timedelta(minutes=5)
) -> CheckOutcome:
    latest = _max_event_time(dataset, table)
    if latest is None:
        return CheckOutcome("event_time_not_in_future", table.num_rows == 0, "no event time values")
    passed = latest <= now + tolerance
    return CheckOutcome(
        "event_time_not_in_future",
        passed,
        f"latest {dataset.event_time} is {latest.isoformat()}" + ("" if passed else " (in the future)"),
        {"latest_event_time": latest.isoformat()},
    )


def check_data_freshness(dataset: Dataset, table: pa.Table, now: datetime) -> CheckOutcome:
    """Data time, not materialization time: the newest event must be within the SLA."""
    latest = _max_event_time(dataset, table)
    sla = timedelta(hours=dataset.freshness.max_lag_hours)
    if latest is None:
        return CheckOutcome("data_fresh", False, "no event time values: freshness unknown")
    lag = now - latest
    passed = lag <= sla
    return CheckOutcome(
        "data_fresh",
        passed,
        f"newest {dataset.event_time} lags {lag.total_seconds() / 3600:.1f} h (SLA {sla.total_seconds() / 3600:.0f} h)",
        {"lag_hours": round(lag.total_seconds() / 3600, 3), "sla_hours": dataset.freshness.max_lag_hours},
    )


def evaluate_dataset_checks(dataset: Dataset, table: pa.Table, now: datetime | None = None) -> list[CheckOutcome]:
    now = now or utc_now()
    return [
        check_schema(dataset, table),
        check_keys(dataset, table),
        check_row_count(table),
        check_event_time_not_future(dataset, table, now),
        check_data_freshness(dataset, table, now),
    ]


BLOCKING_CHECKS = ("schema_matches_manifest", "keys_unique_not_null", "row_count_positive")
DATASET_CHECKS = (*BLOCKING_CHECKS, "event_time_not_in_future", "data_fresh")
