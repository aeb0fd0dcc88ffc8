"""The dataset checks, on Arrow tables built to pass or fail each one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.quality import evaluate_dataset_checks
from hurricane_assets.catalog.schema import arrow_schema

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def chargebacks(rows: list[dict]) -> tuple:
    ds = load_catalog().dataset("payments", "chargebacks")
    return ds, pa.Table.from_pylist(rows, schema=arrow_schema(ds))


def row(i: int, ts: datetime) -> dict:
    return {"chargeback_id": f"cb{i}", "txn_id": f"t{i}", "customer_id": f"c{i}", "amount": 1.0,
            "reason": "fraud", "event_ts": ts}


def outcomes(ds, table):
    return {o.name: o for o in evaluate_dataset_checks(ds, table, now=NOW)}


def test_good_table_passes_everything():
    ds, table = chargebacks([row(1, NOW - timedelta(hours=1)), row(2, NOW - timedelta(hours=2))])
    assert all(o.passed for o in outcomes(ds, table).values())


def test_schema_change_upstream_fails_with_column_diff():
    ds, table = chargebacks([row(1, NOW)])
    changed = table.drop_columns(["reason"]).append_column("reason_code", pa.array(["x"]))
    changed = changed.set_column(changed.schema.get_field_index("amount"), "amount", pa.array(["1.0"]))
    result = outcomes(ds, changed)["schema_matches_manifest"]
    assert not result.passed
    assert "missing columns: reason" in result.description
    assert "columns not in the manifest: reason_code" in result.description
    assert "amount (manifest double, table string)" in result.description


def test_duplicate_and_null_keys_fail():
    ds, table = chargebacks([row(1, NOW), row(1, NOW)])
    assert "1 duplicate rows" in outcomes(ds, table)["keys_unique_not_null"].description
    nulls = table.set_column(0, "chargeback_id", pa.array([None, "x"], pa.string()))
    assert not outcomes(ds, nulls)["keys_unique_not_null"].passed


def test_empty_table_fails_row_count_and_freshness():
    ds, table = chargebacks([])
    result = outcomes(ds, table)
    assert not result["row_count_positive"].passed
    assert not result["data_fresh"].passed


def test_future_event_time_fails():
    ds, table = chargebacks([row(1, NOW + timedelta(days=1))])
    assert not outcomes(ds, table)["event_time_not_in_future"].passed


def test_stale_data_fails_freshness_sla():
    ds, table = chargebacks([row(1, NOW - timedelta(hours=73))])
    result = outcomes(ds, table)["data_fresh"]
    assert not result.passed and "SLA 72 h" in result.description
