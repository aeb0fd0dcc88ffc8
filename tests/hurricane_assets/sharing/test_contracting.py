from __future__ import annotations

from hurricane_assets.contracts.contract import ContractStatus, verify_contract
from hurricane_assets.contracts.odcs import import_odcs, odcs_path
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.sharing.contracting import sign_agreements
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms


def test_agreement_becomes_an_active_signed_recorded_exported_contract(share_parts):
    outcome = sign_agreements([agreement_for(fraud_terms(), share_parts["gate"])], **{k: share_parts[k] for k in ("gate", "signer", "ledger", "store")})
    (contract,) = outcome.contracts
    assert contract.status is ContractStatus.active
    verify_contract(contract, share_parts["signer"])
    # seq 0 pins the policy bundle the contract was signed under (POLICY_CHANGED), seq 1 signs it
    assert contract.ledger is not None and contract.ledger.seq == 1
    assert [e["entry_type"] for e in share_parts["ledger"].tail(2)] == ["POLICY_CHANGED", "CONTRACT_SIGNED"]
    assert share_parts["store"].get(contract.contract_id) == contract
    assert import_odcs(odcs_path(contract.contract_id)).terms == contract.terms
    assert verify_ledger().ok


def test_signing_twice_returns_the_same_contract_and_one_ledger_entry(share_parts):
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    agreement = agreement_for(fraud_terms(), share_parts["gate"])
    first = sign_agreements([agreement], **args).contracts
    second = sign_agreements([agreement], **args).contracts
    assert first == second
    assert len(share_parts["ledger"]) == 2  # the bundle pin and one CONTRACT_SIGNED


def test_policy_is_checked_again_at_signature(share_parts):
    # An agreement carrying a column the policy forbids (as if forged or the policy changed since).
    bad = fraud_terms(columns={"txn_id": "none", "card_number": "tokenize"})
    outcome = sign_agreements([agreement_for(bad, share_parts["gate"])], **{k: share_parts[k] for k in ("gate", "signer", "ledger", "store")})
    assert outcome.contracts == ()
    (_, reasons), = outcome.refused
    assert any("card_number" in r for r in reasons)
    assert share_parts["store"].list() == []
    assert share_parts["ledger"].tail(1)[0]["entry_type"] == "POLICY_DENIED"


def test_a_new_contract_for_the_same_share_supersedes_the_active_one(share_parts):
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    (old,) = sign_agreements([agreement_for(fraud_terms(), share_parts["gate"], "neg-1")], **args).contracts
    (new,) = sign_agreements([agreement_for(fraud_terms(retention_days=30), share_parts["gate"], "neg-2")], **args).contracts
    assert new.previous_contract_id == old.contract_id and new.version == "2.0.0"
    assert share_parts["store"].get(old.contract_id).status is ContractStatus.renewed
    assert [c.contract_id for c in share_parts["store"].list(status=ContractStatus.active)] == [new.contract_id]


def test_a_share_for_another_purpose_does_not_replace_the_copy_a_model_reads(share_parts):
    """One copy per consumer, producer and dataset: a customer-analytics request for the transactions
    replaced the fraud model's share (the copy rewritten with other columns, the fraud contract
    renewed away), and the fraud model then lost it. The consumer's agent refuses to sign it."""
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    (fraud,) = sign_agreements([agreement_for(fraud_terms(), share_parts["gate"], "neg-1")], **args).contracts
    analytics = fraud_terms(purpose="customer_analytics",
                            columns={"txn_id": "none", "amount": "generalize", "merchant_category": "none"})
    outcome = sign_agreements([agreement_for(analytics, share_parts["gate"], "neg-2")], **args)
    assert outcome.contracts == ()
    (_, (reason,)), = outcome.refused
    assert reason.startswith("copy_held_for_another_purpose: risk holds payments.transactions for fraud_detection")
    assert fraud.contract_id in reason
    assert [c.contract_id for c in share_parts["store"].list(status=ContractStatus.active)] == [fraud.contract_id]
    denied = share_parts["ledger"].tail(1)[0]
    assert denied["entry_type"] == "POLICY_DENIED" and denied["actor"] == "agent:risk/consumer"


def test_a_share_in_another_environment_does_not_renew_the_held_copy_away(share_parts):
    """A prod request superseded the preprod contract: renewed, its copy stayed in preprod with no
    active contract, so it was never aged, expired or revocable ('status is renewed')."""
    args = {k: share_parts[k] for k in ("gate", "signer", "ledger", "store")}
    (preprod,) = sign_agreements([agreement_for(fraud_terms(), share_parts["gate"], "neg-1")], **args).contracts
    outcome = sign_agreements([agreement_for(fraud_terms(environment="prod"), share_parts["gate"], "neg-2")], **args)
    assert outcome.contracts == ()
    (_, (reason,)), = outcome.refused
    assert reason.startswith("copy_held_in_another_environment: risk holds payments.transactions in preprod")
    assert share_parts["store"].get(preprod.contract_id).status is ContractStatus.active
