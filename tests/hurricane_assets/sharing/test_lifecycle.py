"""Revocation, expiry, renewal and the keep-or-revoke judgement, on real contracts and tables."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from deltalake import DeltaTable

from hurricane_assets.client import HurricaneClient
from hurricane_assets.contracts.contract import ContractStatus, IllegalTransitionError, verify_contract
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.lifecycle import end_share, judge_shares, renew, sweep
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

LIFECYCLE = ("gate", "signer", "ledger", "store")


def delivered(parts, terms=None):
    contract = sign_agreements([agreement_for(terms or fraud_terms(), parts["gate"])], **{k: parts[k] for k in LIFECYCLE}).contracts[0]
    deliver(contract, **{k: parts[k] for k in ("catalog", "gate", "signer", "ledger")})
    return contract


def test_revocation_erases_the_copy_records_it_and_drops_lineage(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    assert DeltaTable.is_deltatable(contract.share_uri)
    lineage = LineageEmitter(catalog=share_parts["catalog"])
    ended = end_share(contract, ContractStatus.revoked, reason="uplift -0.001 < 0.010", by="agent:risk/consumer",
                      store=share_parts["store"], ledger=share_parts["ledger"], lineage=lineage)
    assert ended.status is ContractStatus.revoked
    assert share_parts["store"].get(contract.contract_id).status is ContractStatus.revoked
    assert not DeltaTable.is_deltatable(contract.share_uri)
    revoked, erased, dropped = share_parts["ledger"].tail(3)  # the end first, then what the erasure removed
    assert revoked["entry_type"] == "REVOKED" and json.loads(revoked["payload_json"])["reason"] == "uplift -0.001 < 0.010"
    payload = json.loads(erased["payload_json"])
    assert erased["entry_type"] == "ERASURE" and payload["stage"] == "share_ended"
    assert payload["rows_deleted"] > 0 and payload["files_vacuumed"] >= 1
    assert dropped["entry_type"] == "LINEAGE_EMITTED" and json.loads(dropped["payload_json"])["event"] == "copy_dropped"
    with pytest.raises(DeliveryRefused, match="revoked"):
        deliver(ended, **{k: share_parts[k] for k in ("catalog", "gate", "signer", "ledger")})
    with pytest.raises(IllegalTransitionError):
        ended.transition(ContractStatus.active)
    assert verify_ledger().ok


def test_sweep_expires_past_term_and_renews_what_still_helps(share_parts, share_prod_tables):
    keep = delivered(share_parts)
    drop = delivered(share_parts, fraud_terms(dataset="chargebacks", columns={"chargeback_id": "none", "reason": "none"}, term_days=30))
    # a week before `keep` ends, after `drop` ended
    now = keep.expires_at - timedelta(days=3)
    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: c.contract_id == keep.contract_id, now=now)
    assert result.expired == (drop.contract_id,)
    ((old, new),) = result.renewed
    assert old == keep.contract_id
    successor = share_parts["store"].get(new)
    assert successor.version == "1.1.0" and successor.previous_contract_id == keep.contract_id
    assert successor.expires_at == now + timedelta(days=keep.terms.term_days)
    verify_contract(successor, share_parts["signer"])
    assert share_parts["store"].get(keep.contract_id).status is ContractStatus.renewed
    assert not DeltaTable.is_deltatable(drop.share_uri)
    assert DeltaTable.is_deltatable(successor.share_uri)
    # the successor's copy is the one delivered under the contract it renews: readable, not re-written
    HurricaneClient(share_parts["catalog"]).read_share(successor.contract_id, now=now)
    types = [e["entry_type"] for e in share_parts["ledger"].tail(3)]
    assert set(types) == {"EXPIRED", "ERASURE", "RENEWED"}  # the expiry, what it erased, the renewal


def test_renewal_is_refused_when_the_policy_no_longer_allows(share_parts, share_prod_tables, tmp_path):
    from tests.hurricane_assets.delivery.test_deliver import stricter_gate

    contract = delivered(share_parts)
    assert renew(contract, gate=stricter_gate(share_parts, tmp_path), signer=share_parts["signer"],
                 ledger=share_parts["ledger"], store=share_parts["store"]) is None
    assert share_parts["store"].get(contract.contract_id).status is ContractStatus.active
    assert share_parts["ledger"].tail(1)[0]["entry_type"] == "POLICY_DENIED"


def test_judge_keeps_only_shares_that_helped(share_parts, share_prod_tables):
    useful = delivered(share_parts)
    useless = delivered(share_parts, fraud_terms(columns={"txn_id": "none", "currency": "none"}))
    unmeasured = delivered(share_parts, fraud_terms(columns={"txn_id": "none", "merchant_category": "none"}))
    verdicts = judge_shares([useful, useless, unmeasured], {useful.contract_id: 0.09, useless.contract_id: 0.002}, min_uplift=0.01)
    assert [(v.contract_id, v.keep) for v in verdicts] == [(useful.contract_id, True), (useless.contract_id, False)]
    assert "+0.0020 < 0.0100" in verdicts[1].reason


def test_a_file_that_is_no_contract_is_reported_and_the_sweep_expires_the_others(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    junk = share_parts["store"].folder / "notes.json"
    junk.write_text("{}")
    after_expiry = contract.expires_at + timedelta(days=1)
    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=after_expiry)
    assert result.expired == (contract.contract_id,)
    assert result.unreadable == ((str(junk), "not a valid contract record: negotiation_id: Field required (6 error(s))"),)
    assert share_parts["store"].get(contract.contract_id).status is ContractStatus.expired
    assert not DeltaTable.is_deltatable(contract.share_uri)
