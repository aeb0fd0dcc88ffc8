"""A contract's retention, enforced on real Delta tables under the platform clock: a delivery keeps
exactly the rows inside the retention and removes the ones that aged out since the last one; the
lifecycle tick removes them between deliveries (in place, by re-delivering, or by emptying a share it
cannot rebuild); every removal is counted in the ledger and leaves no file of the removed rows behind.

The prod tables end at the pinned clock's hour and hold 120 days. txn_id is keyed-tokenized below
prod (deterministic), so rows are compared with prod's by count, and between deliveries by token."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import DeltaTable

from hurricane_assets.client import HurricaneClient
from hurricane_assets.clock import utc_now
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.lifecycle import sweep
from hurricane_assets.storage import read_table
from negotiation_graph.terms import MaskingMethod
from tests.hurricane_assets.delivery.test_deliver import run, signed, stricter_gate
from tests.hurricane_assets.masking.test_history import assert_only_current_version
from tests.hurricane_assets.share_terms import fraud_terms

RETENTION = 30
LIFECYCLE = ("gate", "signer", "ledger", "store")


def prod_rows(since, until=None) -> int:
    return len(prod_ids(since, until))


def prod_ids(since, until=None) -> set[str]:
    prod = read_table(hurricane_paths().table_uri("prod", "payments", "transactions"), columns=["txn_id", "event_ts"])
    keep = pc.greater_equal(prod["event_ts"], pa.scalar(since).cast(prod["event_ts"].type))
    if until is not None:
        keep = pc.and_(keep, pc.less(prod["event_ts"], pa.scalar(until).cast(prod["event_ts"].type)))
    return set(prod.filter(keep)["txn_id"].to_pylist())


def share_ids(contract) -> set[str]:
    return set(DeltaTable(contract.share_uri).to_pyarrow_table(columns=["txn_id"])["txn_id"].to_pylist())


def stored_ids(contract) -> set[str]:
    """Every txn_id in any data file under the share's folder, current or not."""
    ids = set()
    for path in Path(contract.share_uri).rglob("*.parquet"):
        if "_delta_log" not in path.parts:
            ids |= set(pq.read_table(path, columns=["txn_id"])["txn_id"].to_pylist())
    return ids


def entries(ledger, entry_type) -> list[dict]:
    return [json.loads(e["payload_json"]) for e in ledger.read(columns=["entry_type", "payload_json"]).to_pylist()
            if e["entry_type"] == entry_type]


def test_a_delivery_keeps_only_rows_inside_the_retention_and_the_next_removes_what_aged(share_parts, share_prod_tables):
    now = utc_now()
    contract = signed(share_parts, fraud_terms(retention_days=RETENTION))
    first = run(share_parts, contract, now=now)
    cutoff = now - timedelta(days=RETENTION)
    before = share_ids(contract)
    assert len(before) == first.rows == prod_rows(cutoff)
    past = prod_ids(now - timedelta(days=400), cutoff)
    assert past  # prod holds 120 days: most of it is past a 30-day retention
    recorded = entries(share_parts["ledger"], "DELIVERED")[-1]["retention"]
    assert recorded == {"retention_days": RETENTION, "cutoff": cutoff.isoformat(),
                        "rows_past_retention": len(past), "rows_removed": 0}

    later = now + timedelta(days=5)
    second = run(share_parts, contract, now=later)
    aged = prod_rows(cutoff, later - timedelta(days=RETENTION))
    assert aged and second.changed
    after = share_ids(contract)
    assert after < before and len(before - after) == aged  # exactly the rows that aged out went
    assert len(after) == prod_rows(later - timedelta(days=RETENTION))
    assert entries(share_parts["ledger"], "DELIVERED")[-1]["retention"]["rows_removed"] == aged
    assert not stored_ids(contract) & (before - after)  # the overwritten files went too
    assert_only_current_version(contract.share_uri)


def test_the_lifecycle_tick_deletes_aged_rows_in_place_and_records_it(share_parts, share_prod_tables):
    """A share in prod carries the event time as it is (below prod it is generalised or shifted per
    person, and such a share is re-delivered instead: the next test)."""
    now = utc_now()
    columns = dict(fraud_terms().columns) | {"event_ts": MaskingMethod.none}
    contract = signed(share_parts, fraud_terms(columns=columns, environment="prod", retention_days=RETENTION))
    run(share_parts, contract, now=now)
    before = share_ids(contract)
    later = now + timedelta(days=5)
    aged = prod_rows(now - timedelta(days=RETENTION), later - timedelta(days=RETENTION))
    assert aged

    parts = {k: share_parts[k] for k in LIFECYCLE}
    result = sweep(**parts, still_helps=lambda c: True, now=later)
    assert result.retention == ((contract.contract_id, aged),)
    after = share_ids(contract)
    # exactly the old rows went; the rows inside the retention stay
    assert after < before and len(before - after) == aged and len(after) == prod_rows(later - timedelta(days=RETENTION))
    share = DeltaTable(contract.share_uri).to_pyarrow_table(columns=["event_ts"])
    assert pc.min(share["event_ts"]).as_py() >= later - timedelta(days=RETENTION)
    assert not stored_ids(contract) & (before - after)
    assert_only_current_version(contract.share_uri)
    # the ledger records the version the tick left, so the consumer may still read the aged copy
    assert len(HurricaneClient(share_parts["catalog"]).read_share(contract.contract_id, now=later)) == len(after)
    [entry] = entries(share_parts["ledger"], "RETENTION")
    assert entry["contract_id"] == contract.contract_id and entry["rows_removed"] == aged
    assert entry["how"] == "deleted" and entry["cutoff"] == (later - timedelta(days=RETENTION)).isoformat()
    assert set(entry) == {"contract_id", "contract_version", "share_uri", "retention_days", "cutoff",
                          "rows_removed", "how", "table_version"}  # counts, no values
    # the same tick again finds nothing older and records nothing
    assert sweep(**parts, still_helps=lambda c: True, now=later).retention == ()
    assert len(entries(share_parts["ledger"], "RETENTION")) == 1
    # and the next delivery rebuilds the share under the cutoff the tick left
    run(share_parts, contract, now=later)
    assert share_ids(contract) == after
    assert verify_ledger().ok


def test_the_lifecycle_tick_redelivers_a_share_without_its_event_time(share_parts, share_prod_tables):
    now = utc_now()
    contract = signed(share_parts, fraud_terms(retention_days=RETENTION))  # no event_ts in the share
    run(share_parts, contract, now=now)
    before = share_ids(contract)
    later = now + timedelta(days=5)
    aged = prod_rows(now - timedelta(days=RETENTION), later - timedelta(days=RETENTION))

    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=later)
    assert result.retention == ((contract.contract_id, aged),)
    after = share_ids(contract)
    assert after < before and len(before - after) == aged
    assert not stored_ids(contract) & (before - after)
    [entry] = entries(share_parts["ledger"], "RETENTION")
    assert entry["how"] == "redelivered" and entry["rows_removed"] == aged
    assert entries(share_parts["ledger"], "DELIVERED")[-1]["retention"]["rows_removed"] == aged


def test_a_share_that_can_neither_be_aged_nor_rebuilt_is_emptied(share_parts, share_prod_tables, tmp_path):
    """Fail closed: the policy now denies the share, so it cannot be re-delivered, and without its
    event-time column nobody can tell which of its rows are too old."""
    now = utc_now()
    contract = signed(share_parts, fraud_terms(retention_days=RETENTION))
    first = run(share_parts, contract, now=now)
    parts = {k: share_parts[k] for k in LIFECYCLE} | {"gate": stricter_gate(share_parts, tmp_path)}
    result = sweep(**parts, still_helps=lambda c: False, now=now + timedelta(days=1))
    assert result.retention == ((contract.contract_id, first.rows),)
    assert share_ids(contract) == set() and not stored_ids(contract)
    [entry] = entries(share_parts["ledger"], "RETENTION")
    assert entry["how"] == "emptied" and "device_id:column_never_shared" in entry["reason"]


def test_the_daily_lifecycle_job_enforces_retention_under_the_platform_clock(share_parts, share_prod_tables,
                                                                              monkeypatch):
    """The schedule's job (a real Dagster run) sweeps with the catalog, at the platform clock's time."""
    import dagster as dg

    from hurricane_assets.exchange.jobs import share_lifecycle_job

    now = utc_now()
    contract = signed(share_parts, fraud_terms(retention_days=RETENTION))
    run(share_parts, contract, now=now)
    before = share_ids(contract)
    later = now + timedelta(days=5)
    monkeypatch.setenv("HURRICANE_NOW", later.isoformat())  # the clock moved on: five daily ticks late
    with dg.instance_for_test() as instance:
        assert share_lifecycle_job.execute_in_process(instance=instance).success
    aged = prod_rows(now - timedelta(days=RETENTION), later - timedelta(days=RETENTION))
    [entry] = entries(share_parts["ledger"], "RETENTION")
    assert entry["rows_removed"] == aged and len(before - share_ids(contract)) == aged
    assert entry["cutoff"] == (later - timedelta(days=RETENTION)).isoformat()
