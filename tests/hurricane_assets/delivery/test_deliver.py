"""Delivery with real components: prod Delta → filtered, masked consumer Delta, re-checked at copy time."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, write_deltalake

from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.delivery.deliver import DeliveryRefused, UpstreamSchemaChanged, deliver
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.storage import read_table
from negotiation_graph.terms import Predicate, RowFilter
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms


def signed(share_parts, terms):
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    return sign_agreements([agreement_for(terms, share_parts["gate"])], **args).contracts[0]


def run(share_parts, contract, **kw):
    return deliver(contract, **{k: share_parts[k] for k in ("catalog", "gate", "signer", "ledger")}, **kw)


def test_delivery_writes_exactly_the_contracted_masked_columns(share_parts, share_prod_tables):
    contract = signed(share_parts, fraud_terms())
    delivery = run(share_parts, contract)
    share = DeltaTable(contract.share_uri).to_pyarrow_table()
    prod = read_table(hurricane_paths().table_uri("prod", "payments", "transactions"))
    assert share.column_names == ["txn_id", "customer_id", "channel", "device_id"]
    # every row inside the contract's 90-day retention (prod holds 120 days)
    retained = prod.filter(pc.greater_equal(prod["event_ts"], utc_now() - timedelta(days=90)))
    assert 0 < share.num_rows == retained.num_rows == delivery.rows < prod.num_rows
    assert contract.share_uri.endswith("envs/preprod/risk/payments__transactions")
    assert not set(share["customer_id"].to_pylist()) & set(prod["customer_id"].to_pylist())
    assert not set(share["device_id"].to_pylist()) & set(prod["device_id"].to_pylist())
    assert share["channel"].to_pylist() == retained["channel"].to_pylist()
    entry = share_parts["ledger"].tail(1)[0]
    assert entry["entry_type"] == "DELIVERED" and entry["contract_id"] == contract.contract_id


def test_delivery_emits_lineage_and_records_its_hash(share_parts, share_prod_tables):
    from hurricane_assets.lineage.emitter import LineageEmitter

    contract = signed(share_parts, fraud_terms())
    run(share_parts, contract, lineage=LineageEmitter(catalog=share_parts["catalog"]))
    events = [json.loads(line) for line in (hurricane_paths().lineage / "events.jsonl").read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "COMPLETE"]
    complete = events[-1]
    assert complete["outputs"][0]["name"].endswith("preprod/risk/payments__transactions")
    assert complete["run"]["facets"]["dataHurricane_contract"]["contractId"] == contract.contract_id
    entry = share_parts["ledger"].tail(1)[0]
    assert json.loads(entry["payload_json"])["lineage_run_id"] == complete["run"]["runId"]


def test_a_producer_commit_during_a_delivery_is_left_to_the_next_one(share_parts, share_prod_tables, monkeypatch):
    """The share holds exactly the rows of the source version it records (ledger and Delivery), not
    those of a version the producer committed while the delivery ran: the source is opened once."""
    from hurricane_assets.masking import stream

    uri = hurricane_paths().table_uri("prod", "payments", "transactions")
    prod, pinned = read_table(uri), DeltaTable(uri).version()
    opened = stream.DeltaBatches.__post_init__

    def producer_commits_once_opened(source):
        opened(source)
        if source.uri == uri and DeltaTable(uri).version() == pinned:
            write_deltalake(uri, prod.slice(0, 10), mode="overwrite")

    monkeypatch.setattr(stream.DeltaBatches, "__post_init__", producer_commits_once_opened)
    delivery = run(share_parts, signed(share_parts, fraud_terms()))
    retained = prod.filter(pc.greater_equal(prod["event_ts"], utc_now() - timedelta(days=90)))
    assert DeltaTable(uri).version() == pinned + 1  # the producer did commit mid-delivery
    assert delivery.source_version == pinned
    assert delivery.rows == retained.num_rows == DeltaTable(delivery.share_uri).to_pyarrow_table().num_rows
    assert json.loads(share_parts["ledger"].tail(1)[0]["payload_json"])["source_version"] == pinned


def test_redelivery_of_unchanged_data_writes_nothing(share_parts, share_prod_tables):
    contract = signed(share_parts, fraud_terms())
    first = run(share_parts, contract)
    entries = len(share_parts["ledger"])
    second = run(share_parts, contract)
    assert first.changed and not second.changed
    assert second.table_version == first.table_version == DeltaTable(contract.share_uri).version()
    assert len(share_parts["ledger"]) == entries


def delivered_entries(share_parts, contract) -> list[dict]:
    rows = share_parts["ledger"].read(["entry_type", "contract_id", "entry_id", "payload_json"]).to_pylist()
    return [json.loads(r["payload_json"]) | {"entry_id": r["entry_id"]} for r in rows
            if r["entry_type"] == "DELIVERED" and r["contract_id"] == contract.contract_id]


def test_a_lost_copy_is_written_again_and_recorded(share_parts, share_prod_tables):
    """The consumer's copy deleted: the next delivery writes the same content at version 0 again and
    records that write (before: the digest alone named the entry, the ledger refused a second one
    with another table version and lineage run, LedgerConflict after the write)."""
    from hurricane_assets.lineage.emitter import LineageEmitter

    contract = signed(share_parts, fraud_terms())
    lineage, now = LineageEmitter(catalog=share_parts["catalog"]), contract.signed_at + timedelta(hours=1)
    first = run(share_parts, contract, lineage=lineage, now=now)
    shutil.rmtree(share_uri_for(contract.terms))
    again = run(share_parts, contract, lineage=lineage, now=now)
    assert again.changed and again.content_sha256 == first.content_sha256
    assert again.table_version == 0 == DeltaTable(again.share_uri).version()
    before, after = delivered_entries(share_parts, contract)
    assert after["previous_delivered_seq"] == first.ledger.seq and after["entry_id"] != before["entry_id"]
    assert after["copy_before"].startswith("no table")
    # recorded: the next delivery finds the copy as the ledger says and writes nothing
    assert not run(share_parts, contract, lineage=lineage, now=now).changed
    assert len(delivered_entries(share_parts, contract)) == 2


def test_content_back_to_an_earlier_digest_is_recorded_again(share_parts, share_prod_tables):
    """A producer's change, then its revert: the third write has the first one's digest."""
    uri = hurricane_paths().table_uri("prod", "payments", "transactions")
    original = read_table(uri)
    contract = signed(share_parts, fraud_terms())
    now = contract.signed_at + timedelta(hours=1)
    first = run(share_parts, contract, now=now)
    write_deltalake(uri, original.slice(0, original.num_rows - 10), mode="overwrite")
    second = run(share_parts, contract, now=now)
    write_deltalake(uri, original, mode="overwrite")
    third = run(share_parts, contract, now=now)
    assert second.changed and second.content_sha256 != first.content_sha256
    assert third.changed and third.content_sha256 == first.content_sha256
    entries = delivered_entries(share_parts, contract)
    assert [e["content_sha256"] for e in entries] == [first.content_sha256, second.content_sha256, first.content_sha256]
    assert len({e["entry_id"] for e in entries}) == 3
    assert entries[2]["table_version"] == third.table_version == DeltaTable(third.share_uri).version()


def test_a_write_left_without_its_entry_is_written_and_recorded_by_the_next_delivery(share_parts, share_prod_tables,
                                                                                    monkeypatch):
    """A crash between the write and the DELIVERED append: the copy is never served unrecorded, and
    the next delivery (a retry) writes it again and records it once (before: the copy's own stamp said
    'unchanged', so that write never got an entry)."""
    from hurricane_assets.client import HurricaneClient, ShareUnavailable
    from hurricane_assets.ledger.entry import EntryType

    contract = signed(share_parts, fraud_terms())
    now, ledger = contract.signed_at + timedelta(hours=1), share_parts["ledger"]
    append = ledger.append

    def killed_before_delivered(**entry):
        if entry["entry_type"] == EntryType.DELIVERED:
            raise RuntimeError("process killed")
        return append(**entry)

    with monkeypatch.context() as crash:
        crash.setattr(ledger, "append", killed_before_delivered)
        with pytest.raises(RuntimeError, match="process killed"):
            run(share_parts, contract, now=now)
    assert DeltaTable.is_deltatable(share_uri_for(contract.terms)) and not delivered_entries(share_parts, contract)
    client = HurricaneClient(share_parts["catalog"])
    with pytest.raises(ShareUnavailable, match="the ledger holds no DELIVERED entry for the table at"):
        client.read_share(contract.contract_id, now=now)

    retry = run(share_parts, contract, now=now)
    assert retry.changed
    [entry] = delivered_entries(share_parts, contract)
    assert entry["table_version"] == retry.table_version == DeltaTable(retry.share_uri).version()
    assert not run(share_parts, contract, now=now).changed and len(delivered_entries(share_parts, contract)) == 1
    assert len(client.read_share(contract.contract_id, now=now)) == retry.rows


def test_row_filter_is_applied(share_parts, share_prod_tables):
    terms = fraud_terms(row_filter=RowFilter(all_of=(Predicate(column="channel", op="eq", values=("instant_p2p",)),), since_days=30))
    contract = signed(share_parts, terms)
    share = DeltaTable(run(share_parts, contract).share_uri).to_pyarrow_table()
    assert share.num_rows > 0 and set(share["channel"].to_pylist()) == {"instant_p2p"}


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_a_contract_no_longer_active_is_not_delivered(share_parts, share_prod_tables, change):
    contract = signed(share_parts, fraud_terms())
    if change == "revoked":
        contract = contract.transition(ContractStatus.revoked)
        now = None
    else:
        now = contract.expires_at + timedelta(seconds=1)
    with pytest.raises(DeliveryRefused, match="revoked" if change == "revoked" else "expired at"):
        run(share_parts, contract, now=now)
    assert not DeltaTable.is_deltatable(contract.share_uri)
    assert share_parts["ledger"].tail(1)[0]["entry_type"] == "POLICY_DENIED"


def stricter_gate(share_parts, tmp_path) -> CedarPolicyGate:
    """The shipped policies plus a payments rule, added after agreement, that forbids device ids."""
    policies = tmp_path / "policies"
    shutil.copytree(default_domains_dir(), policies, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (policies / "payments" / "policy.cedar").write_text(
        (policies / "payments" / "policy.cedar").read_text()
        + '\n@id("no-devices-any-more")\n@reason("column_never_shared")\n'
        'forbid (principal, action == Action::"share", resource) when { resource.pii == "DEVICE_ID" && context.masking != "drop" };\n'
    )
    return CedarPolicyGate(share_parts["catalog"], policy_dir=policies)


def test_a_policy_change_after_agreement_blocks_delivery(share_parts, share_prod_tables, tmp_path):
    contract = signed(share_parts, fraud_terms())
    with pytest.raises(DeliveryRefused, match="device_id:column_never_shared"):
        deliver(contract, catalog=share_parts["catalog"], gate=stricter_gate(share_parts, tmp_path),
                signer=share_parts["signer"], ledger=share_parts["ledger"])
    assert not DeltaTable.is_deltatable(contract.share_uri)


def test_a_schema_change_upstream_fails_closed(share_parts, share_prod_tables):
    contract = signed(share_parts, fraud_terms())
    uri = hurricane_paths().table_uri("prod", "payments", "transactions")
    table = read_table(uri)
    write_deltalake(uri, table.append_column("risk_flag", pc.equal(table["channel"], "online")), mode="overwrite", schema_mode="overwrite")
    with pytest.raises(UpstreamSchemaChanged, match="columns not in the manifest: risk_flag"):
        run(share_parts, contract)
    assert not DeltaTable.is_deltatable(contract.share_uri)


def test_a_share_missing_its_measured_privacy_threshold_is_not_delivered(share_parts, share_prod_tables):
    # Issue 11: amounts and times cross as coarsened quasi-identifiers and the share is measured
    # against prod; a manifest asking for more than the share measures blocks the delivery.
    from hurricane_assets.masking.measure import PrivacyCheckFailed
    from negotiation_graph.terms import MaskingMethod

    terms = fraud_terms(columns={**fraud_terms().columns, "amount": MaskingMethod.none, "event_ts": MaskingMethod.none})
    contract = signed(share_parts, terms)
    spec = share_parts["catalog"].dataset("payments", "transactions")
    strict = spec.privacy.model_copy(update={"max_linkability_risk": 0.0})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(spec), "privacy", property(lambda self: strict), raising=False)
        with pytest.raises(PrivacyCheckFailed, match="payments.transactions: linkability_risk"):
            run(share_parts, contract)
    assert not DeltaTable.is_deltatable(contract.share_uri)
    delivery = run(share_parts, contract)
    share = DeltaTable(contract.share_uri).to_pyarrow_table()
    assert delivery.privacy.measured["passed"] and set(delivery.privacy.raised_to_floor) == {"txn_id", "amount", "event_ts"}
    assert pc.count_distinct(share["amount"]).as_py() <= 20
