"""Only a policy decision with requires_human pauses the graph; a human resumes it."""

import json
from dataclasses import replace

import pytest

from negotiation_graph.checkpointing import sqlite_checkpointer
from negotiation_graph.messages import Performative
from negotiation_graph.ports import PartyUnavailable, SignatureBlock
from negotiation_graph.runner import AnswerAlreadyGiven, Negotiator, NotAwaitingHuman
from tests.negotiation_graph.ports_in_memory import SeededSigner, ShareRule, TableGate
from tests.negotiation_graph.sample_world import M, context, fraud_need, rules

HUMAN_FOR_DEVICES = rules(**{"payments.transactions": ShareRule(
    purposes=("fraud_detection",), environments=("preprod",),
    min_masking={"txn_id": M.none, "channel": M.none, "device_id": M.tokenize},
    human_for=("device_id",))})


def human_gate() -> TableGate:
    """A gate on a copy of the rules: a test that tightens the policy mid-way changed the shared
    table, and every later test's negotiation then ended without asking a human."""
    return TableGate(dict(HUMAN_FOR_DEVICES))


@pytest.fixture
def negotiator(tmp_path):
    with sqlite_checkpointer(tmp_path / "checkpoints.sqlite") as saver:
        yield Negotiator(context(gate=human_gate()), saver)


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


class StoppingSigner(SeededSigner):
    """The parties' signatures, except that `domain`'s agent is down when asked to sign a message
    of `performative` (until `back()`): a resume failing after the human answered."""

    def __init__(self, domain: str, performative: Performative):
        super().__init__()
        self.domain, self.performative, self.down = domain, performative, True

    def sign(self, domain: str, message: bytes) -> SignatureBlock:
        if self.down and domain == self.domain and json.loads(message).get("performative") == self.performative.value:
            raise PartyUnavailable(domain, "stopped")
        return super().sign(domain, message)

    def back(self) -> None:
        self.down = False


@pytest.fixture(params=[Performative.HUMAN_DECISION, Performative.AGREEMENT], ids=["at-decision", "at-agreement"])
def failing(request, tmp_path):
    """A paused negotiation whose resume fails: the consumer's agent stops while signing the
    HUMAN_DECISION (in `escalate`, after `interrupt()` took the answer) or the AGREEMENT (in `commit`)."""
    signer = StoppingSigner("risk", request.param)
    with sqlite_checkpointer(tmp_path / "failing.sqlite") as saver:
        negotiator = Negotiator(replace(context(gate=human_gate()), signer=signer), saver)
        paused = negotiator.run(fraud_need())
        with pytest.raises(PartyUnavailable, match="risk's agent is unavailable"):
            negotiator.resume(paused.negotiation_id, approve=True, by="alice")
        yield negotiator, paused.negotiation_id, signer


def test_a_resume_that_failed_after_the_answer_is_unfinished_not_done_nor_awaiting(failing):
    negotiator, nid, _ = failing
    report = negotiator.report(nid)
    assert report.status == "unfinished" and report.outcome is None
    assert negotiator.answer_given(nid).by == "alice"


@pytest.mark.parametrize("how", ["finish", "same answer again"])
def test_a_failed_resume_finishes_once_the_agent_is_back_with_the_answer_given_once(failing, how):
    negotiator, nid, signer = failing
    signer.back()
    if how == "finish":
        report = negotiator.finish(nid)
    else:
        report = negotiator.resume(nid, approve=True, by="alice")
    assert report.status == "done" and report.outcome.status == "agreed"
    ledger = negotiator.context.ledger
    assert [e["payload"]["decided_by"] for e in ledger.of_type("RESUMED")] == ["alice"]
    assert len(ledger.of_type("AGREEMENT")) == 2 and not ledger.of_type("NO_DEAL")
    assert {m.msg_id for m in report.transcript} == {e["entry_id"] for e in ledger.entries if e["entry_type"] not in (
        "POLICY_DENIED", "NO_DEAL")}
    ledger.verify()


def test_another_answer_after_a_failed_resume_is_refused_not_swapped(failing):
    negotiator, nid, signer = failing
    signer.back()
    with pytest.raises(AnswerAlreadyGiven, match="already approved by alice; an answer cannot be changed"):
        negotiator.resume(nid, approve=False, by="bob")
    assert not negotiator.context.ledger.of_type("AGREEMENT") and not negotiator.context.ledger.of_type("NO_DEAL")
    assert negotiator.finish(nid).outcome.status == "agreed"  # the answer given stands
