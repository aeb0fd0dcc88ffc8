"""Only a policy decision with requires_human pauses the graph; a human resumes it."""

from dataclasses import replace

import pytest

from negotiation_graph.checkpointing import sqlite_checkpointer
from negotiation_graph.messages import Performative
from negotiation_graph.runner import Negotiator, NotAwaitingHuman
from tests.negotiation_graph.ports_in_memory import ShareRule, TableGate
from tests.negotiation_graph.sample_world import M, context, fraud_need, rules

HUMAN_FOR_DEVICES = rules(**{"payments.transactions": ShareRule(
    purposes=("fraud_detection",), environments=("preprod",),
    min_masking={"txn_id": M.none, "channel": M.none, "device_id": M.tokenize},
    human_for=("device_id",))})


@pytest.fixture
def negotiator(tmp_path):
    with sqlite_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        yield Negotiator(context(gate=TableGate(HUMAN_FOR_DEVICES)), saver)


def test_requires_human_pauses_before_any_agreement_is_committed(negotiator):
    report = negotiator.run(fraud_need())
    assert report.status == "awaiting_human" and report.outcome is None
    assert not negotiator.context.ledger.of_type("AGREEMENT")
    assert len(negotiator.context.ledger.of_type("ESCALATED")) == 1


def test_approve_finishes_and_the_ledger_names_who_approved(negotiator):
    paused = negotiator.run(fraud_need())
    report = negotiator.resume(paused.negotiation_id, approve=True, by="alice")
    assert report.status == "done" and report.outcome.status == "agreed"
    resumed = negotiator.context.ledger.of_type("RESUMED")
    assert [e["payload"]["decided_by"] for e in resumed] == ["alice"]
    assert len(negotiator.context.ledger.of_type("ESCALATED")) == 1  # the re-run node did not log it twice
    assert len(negotiator.context.ledger.of_type("AGREEMENT")) == 2
    negotiator.context.ledger.verify()


def test_deny_ends_without_the_escalated_share(negotiator):
    paused = negotiator.run(fraud_need(wanted={"device": 1.0}))
    report = negotiator.resume(paused.negotiation_id, approve=False, by="bob")
    assert report.outcome.status == "no_deal" and "human_denied" in report.outcome.reason_codes
    assert not report.agreements
    decision = [m for m in report.transcript if m.performative is Performative.HUMAN_DECISION]
    assert decision[0].decided_by == "bob" and decision[0].reason_codes == ("human_denied",)


def test_a_negotiation_that_is_not_paused_cannot_be_resumed(negotiator, tmp_path):
    with sqlite_checkpointer(tmp_path / "other.sqlite") as saver:
        plain = Negotiator(context(), saver)
        done = plain.run(fraud_need())
        assert done.status == "done" and not plain.context.ledger.of_type("ESCALATED")
        with pytest.raises(NotAwaitingHuman, match="not waiting"):
            plain.resume(done.negotiation_id, approve=True, by="alice")


def test_running_a_finished_need_again_returns_the_stored_result_without_new_entries(negotiator, tmp_path):
    with sqlite_checkpointer(tmp_path / "again.sqlite") as saver:
        negotiator = Negotiator(context(), saver)
        first = negotiator.run(fraud_need())
        entries = len(negotiator.context.ledger.entries)
        assert negotiator.run(fraud_need()) == first
        assert len(negotiator.context.ledger.entries) == entries


def test_a_policy_tightened_during_the_pause_is_rechecked_before_the_approved_agreement_is_committed(negotiator):
    paused = negotiator.run(fraud_need(wanted={"device": 1.0}))
    gate = negotiator.context.gate
    rule = gate.rules["payments.transactions"]
    gate.rules["payments.transactions"] = replace(rule, purposes=())  # fraud_detection no longer allowed
    report = negotiator.resume(paused.negotiation_id, approve=True, by="alice")
    ledger = negotiator.context.ledger
    assert report.status == "done" and not report.agreements and not ledger.of_type("AGREEMENT")
    assert report.outcome.status == "no_deal" and "policy_denied" in report.outcome.reason_codes
    (denied,) = ledger.of_type("POLICY_DENIED")
    assert denied["payload"]["stage"] == "commit"
    assert {"purpose_not_allowed", "device_id:purpose_not_allowed"} <= set(denied["payload"]["reasons"])
    # transcript and ledger agree: the human's decision is both shown and recorded, with the outcome
    assert [e["payload"]["decided_by"] for e in ledger.of_type("RESUMED")] == ["alice"]
    assert len(ledger.of_type("NO_DEAL")) == 1
    ledger.verify()
