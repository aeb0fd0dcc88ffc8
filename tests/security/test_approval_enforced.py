"""Human approval means something: `requires_human` is enforced where contracts are signed,
delivered and renewed, not only inside the negotiation graph, and an approval is an envelope signed
by an approver key a domain registered in the ledger, never a name.

Before: `sign_agreements(result.pending_approval)` produced an active contract with no human answer,
`check_deliverable` and `renew` (and the daily sweep) let it through, and `--by` took any string.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from hurricane_assets.approval import (
    APPROVAL_REQUIRED,
    ApprovalError,
    negotiation_approval_payload,
    record_approval,
    renewal_approval_payload,
    sign_approval,
)
from hurricane_assets.cli.main import app
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.identity.keys import public_raw_of
from hurricane_assets.ledger.entry import SYSTEM_ACTOR, EntryType
from hurricane_assets.negotiation_runtime import resume_negotiation, run_negotiation
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.lifecycle import renew, sweep
from negotiation_graph.context import fixed_clock
from negotiation_graph.terms import NeedSpec
from tests.hurricane_assets.approver_keys import answer, register_approver
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    DELIVERY,
    LIFECYCLE,
    entry_types,
    forge_active,
    prod_template,
    share_catalog,
    share_gate,
    share_parts,
    share_prod_tables,
)
from tests.security.test_policy_fail_closed import policy_copy

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
runner = CliRunner()
ANALYTICS = NeedSpec(need_id="analytics-sec", consumer="marketing", model="churn_model", purpose="customer_analytics",
                     environment="preprod", join_entities=("customer",), wanted={"account_age": 1.0})


def analytics_terms():
    """customers.profiles for analytics: allowed, but the customers policy asks for a human."""
    return fraud_terms(producer="customers", consumer="marketing", dataset="profiles",
                       columns={"customer_id": "tokenize", "segment": "none"}, purpose="customer_analytics")


def approve_terms(key, name, terms, negotiation_id, approve=True, now=T0):
    """An approver's answer for one agreement, recorded as the exchange would."""
    payload = negotiation_approval_payload(negotiation_id, [agreement_for(terms, _gate(), negotiation_id)], approve)
    return record_approval(_ledger(), sign_approval(key, name, payload, now=now), now=now)


def _gate():
    return CedarPolicyGate()


def _ledger():
    from hurricane_assets.ledger import Ledger

    return Ledger()


def test_signing_a_pending_approval_produces_no_active_contract(share_parts):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    assert paused.status == "awaiting_human" and paused.pending_approval
    outcome = sign_agreements(paused.pending_approval, **{k: share_parts[k] for k in LIFECYCLE}, now=T0)
    assert outcome.contracts == ()
    assert [reasons for _, reasons in outcome.refused] == [("requires_human:customers/analytics-needs-a-human", APPROVAL_REQUIRED)]
    assert share_parts["store"].list(status=ContractStatus.active) == []
    assert "CONTRACT_SIGNED" not in entry_types(share_parts)
    # with a registered approver's signed answer, the same agreements are signed
    alice = register_approver("alice", "customers")
    done = resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0)
    (contract,) = sign_agreements(done.agreements, **{k: share_parts[k] for k in LIFECYCLE}, now=T0).contracts
    assert contract.status is ContractStatus.active
    signed_entry = share_parts["ledger"].tail(1)[0]
    assert signed_entry["entry_type"] == "CONTRACT_SIGNED" and json.loads(signed_entry["payload_json"])["approval_seq"] is not None


def test_a_forged_approver_is_refused(share_parts):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    register_approver("alice", "customers")
    register_approver("bob", "payments")  # an approver, but not for customers' data
    bob = None
    mallory = Ed25519PrivateKey.generate()
    for name, key, why in (("alice", mallory, "is not a registered approver"),
                           ("mallory", mallory, "is not a registered approver")):
        with pytest.raises(ApprovalError, match=why):
            resume_negotiation(paused.negotiation_id, answer(key, name, paused, True, T0), now=T0)
    bob = register_approver("bob", ledger=share_parts["ledger"])  # a new key, registered nowhere
    with pytest.raises(ApprovalError, match="is not a registered approver"):
        resume_negotiation(paused.negotiation_id, answer(bob, "bob", paused, True, T0), now=T0)
    assert run_negotiation(ANALYTICS, clock=fixed_clock(T0)).status == "awaiting_human"
    assert "HUMAN_APPROVAL" not in entry_types(share_parts)


def test_an_approver_of_another_domain_cannot_approve(share_parts):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    bob = register_approver("bob", "payments")
    with pytest.raises(ApprovalError, match="'bob' is not an approver for customers"):
        resume_negotiation(paused.negotiation_id, answer(bob, "bob", paused, True, T0), now=T0)


def test_a_registration_signed_by_another_domain_registers_nobody(share_parts):
    """An insider holding only payments' key registers mallory as an approver of customers' data."""
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    mallory = Ed25519PrivateKey.generate()
    raw = public_raw_of(mallory.public_key())
    import base64

    from hurricane_assets.identity import key_id_of

    share_parts["ledger"].append(entry_type=EntryType.APPROVER_ADDED, actor="agent:payments/approvers",
                                 payload={"approver": "mallory", "domain": "customers", "key_id": key_id_of(raw),
                                          "public_key_b64": base64.b64encode(raw).decode()})
    with pytest.raises(ApprovalError, match="is not a registered approver"):
        resume_negotiation(paused.negotiation_id, answer(mallory, "mallory", paused, True, T0), now=T0)


def test_an_approval_written_straight_into_the_ledger_signs_nothing(share_parts):
    """The insider appends a HUMAN_APPROVAL entry (with the system key found in keys/) carrying an
    envelope signed by an unregistered key: signing re-verifies it and refuses."""
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    mallory = Ed25519PrivateKey.generate()
    register_approver("alice", "customers")
    envelope = answer(mallory, "alice", paused, True, T0)
    share_parts["ledger"].append(entry_type=EntryType.HUMAN_APPROVAL, actor=SYSTEM_ACTOR,
                                 payload={"approver": "alice", "key_id": envelope.key_id,
                                          "envelope": envelope.model_dump(mode="json")},
                                 negotiation_id=paused.negotiation_id)
    outcome = sign_agreements(paused.pending_approval, **{k: share_parts[k] for k in LIFECYCLE}, now=T0)
    assert outcome.contracts == () and APPROVAL_REQUIRED in outcome.refused[0][1]


def test_a_replayed_stale_or_long_lived_approval_is_refused(share_parts):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    alice = register_approver("alice", "customers")
    envelope = answer(alice, "alice", paused, True, T0)
    record_approval(share_parts["ledger"], envelope, now=T0)
    with pytest.raises(ApprovalError, match="already used"):
        record_approval(share_parts["ledger"], envelope, now=T0 + timedelta(seconds=5))
    with pytest.raises(ApprovalError, match="outside its validity window"):
        record_approval(share_parts["ledger"], answer(alice, "alice", paused, True, T0), now=T0 + timedelta(hours=2))
    payload = negotiation_approval_payload(paused.negotiation_id, paused.pending_approval, True)
    forever = sign_approval(alice, "alice", payload, now=T0, ttl=timedelta(days=36500))
    with pytest.raises(ApprovalError, match="lifetime over"):
        record_approval(share_parts["ledger"], forever, now=T0)


def test_an_approval_of_other_terms_does_not_answer_the_escalation(share_parts):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    alice = register_approver("alice", "customers")
    other = negotiation_approval_payload(paused.negotiation_id, [agreement_for(analytics_terms(), share_parts["gate"])], True)
    with pytest.raises(ApprovalError, match="exactly the escalated terms"):
        resume_negotiation(paused.negotiation_id, sign_approval(alice, "alice", other, now=T0), now=T0)


def test_the_cli_resume_needs_the_approvers_key_not_a_name(share_parts, tmp_path):
    paused = run_negotiation(ANALYTICS, clock=fixed_clock(T0))
    named = runner.invoke(app, ["negotiations", "resume", paused.negotiation_id, "--approve", "--by", "alice"])
    assert named.exit_code == 2 and "no such approver key file" in named.stderr
    register_approver("alice", "customers")
    mallory = tmp_path / "mallory.ed25519"
    mallory.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    mallory.chmod(0o600)
    forged = runner.invoke(app, ["negotiations", "resume", paused.negotiation_id, "--approve", "--by", "alice",
                                 "--key", str(mallory)])
    assert forged.exit_code == 2 and "is not a registered approver" in forged.stderr
    assert run_negotiation(ANALYTICS, clock=fixed_clock(T0)).status == "awaiting_human"


def test_delivery_of_a_human_gated_contract_without_approval_is_refused(share_parts, share_prod_tables):
    contract = forge_active(share_parts, analytics_terms())
    with pytest.raises(DeliveryRefused, match=APPROVAL_REQUIRED):
        deliver(contract, **{k: share_parts[k] for k in DELIVERY})
    assert "DELIVERED" not in entry_types(share_parts)


def test_renewing_a_human_approved_share_needs_a_new_approval(share_parts, share_prod_tables):
    terms = analytics_terms()
    alice = register_approver("alice", "customers")
    approve_terms(alice, "alice", terms, "neg-h")
    (contract,) = sign_agreements([agreement_for(terms, share_parts["gate"], "neg-h")],
                                  **{k: share_parts[k] for k in LIFECYCLE}).contracts
    deliver(contract, **{k: share_parts[k] for k in DELIVERY})
    soon = contract.expires_at - timedelta(days=2)
    # neither renew nor the daily sweep extends it on the strength of the first approval
    assert renew(contract, **{k: share_parts[k] for k in LIFECYCLE}, now=soon) is None
    denial = json.loads(share_parts["ledger"].tail(1)[0]["payload_json"])
    assert denial["stage"] == "renewal" and APPROVAL_REQUIRED in denial["reasons"]
    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=soon)
    assert result.renewed == () and result.not_renewed == (contract.contract_id,)
    # a signed approval of this renewal, and it renews; the successor is deliverable
    record_approval(share_parts["ledger"], sign_approval(alice, "alice", renewal_approval_payload(contract, True), now=soon),
                    now=soon)
    successor = renew(contract, **{k: share_parts[k] for k in LIFECYCLE}, now=soon)
    assert successor is not None and successor.previous_contract_id == contract.contract_id
    assert deliver(successor, **{k: share_parts[k] for k in DELIVERY}, now=soon).rows > 0
    # ...and the successor's own renewal needs its own approval again
    assert renew(successor, **{k: share_parts[k] for k in LIFECYCLE}, now=successor.expires_at - timedelta(days=1)) is None


def test_a_policy_may_let_renewals_go_without_a_new_approval(share_parts, share_prod_tables, tmp_path):
    root = policy_copy(tmp_path)
    customers = root / "customers" / "policy.cedar"
    customers.write_text(customers.read_text().replace('@id("analytics-needs-a-human")\n@requires_human',
                                                       '@id("analytics-needs-a-human")\n@requires_human\n@renew_without_human'))
    gate = CedarPolicyGate(share_parts["catalog"], policy_dir=root)
    parts = {**share_parts, "gate": gate}
    terms = analytics_terms()
    alice = register_approver("alice", "customers")
    approve_terms(alice, "alice", terms, "neg-auto")
    (contract,) = sign_agreements([agreement_for(terms, gate, "neg-auto")], **{k: parts[k] for k in LIFECYCLE}).contracts
    successor = renew(contract, **{k: parts[k] for k in LIFECYCLE}, now=contract.expires_at - timedelta(days=2))
    assert successor is not None
    assert deliver(successor, **{k: parts[k] for k in DELIVERY}, now=contract.expires_at - timedelta(days=1)).rows > 0
    # the exception covers renewals only: a contract that never had an approval is still refused
    unapproved = forge_active(parts, analytics_terms().model_copy(update={"retention_days": 30}))
    with pytest.raises(DeliveryRefused, match=APPROVAL_REQUIRED):
        deliver(unapproved, **{k: parts[k] for k in DELIVERY})
