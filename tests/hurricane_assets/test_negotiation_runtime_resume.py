"""A resume that fails for a reason other than policy, on the real platform (Cedar, the Delta
ledger, the domains' in-process agents, SQLite checkpoints): the human's answer is recorded once,
the failure says what failed and how to finish, and finishing records exactly one outcome, the
ledger holding byte for byte what the transcript holds. Before, the approval stayed recorded with
no outcome: answering again was refused as "not waiting for a human decision" (or recorded a second
approval, a different one even, which the graph then ignored)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hurricane_assets.agents.client import InProcessTransport
from hurricane_assets.agents.exchange import Exchange
from hurricane_assets.approval import record_approval, sign_approval
from hurricane_assets.cli.main import app
from hurricane_assets.ledger import Ledger, verify_ledger
from hurricane_assets.negotiation_runtime import (
    AnswerAlreadyGiven,
    NotAwaitingHuman,
    ResumeUnfinished,
    load_result,
    resume_negotiation,
    run_negotiation,
)
from negotiation_graph.context import fixed_clock
from negotiation_graph.messages import Performative
from negotiation_graph.ports import PartyUnavailable
from tests.hurricane_assets.approver_keys import answer, register_approver
from tests.hurricane_assets.test_negotiation_runtime import T0, assert_ledger_holds, fraud_need, ledger_rows

ROOT = Path(__file__).resolve().parents[2]


class AgentStops(InProcessTransport):
    """The embedded agents, except that `domain`'s is down when asked to sign a `performative`
    message, until `back()`: the consumer's agent stopping in the middle of a resume."""

    def __init__(self, agents, domain: str, performative: Performative):
        super().__init__(agents)
        self.domain, self.performative, self.down = domain, performative, True

    def send(self, domain, request):
        body = request.payload.get("body")
        if self.down and domain == self.domain and isinstance(body, str) and (
                json.loads(body).get("performative") == self.performative.value):
            raise PartyUnavailable(domain, "connection refused")
        return super().send(domain, request)

    def back(self) -> None:
        self.down = False


def analytics_need(need_id: str):
    return fraud_need(need_id=need_id, consumer="marketing", purpose="customer_analytics",
                      join_entities=("customer",), wanted={"account_age": 1.0})


def entries_of(negotiation_id: str, entry_type: str) -> list[dict]:
    return [r for r in ledger_rows() if r["negotiation_id"] == negotiation_id and r["entry_type"] == entry_type]


def assert_finished_once(done, approver: str) -> None:
    """One approval, one RESUMED naming it, one outcome; ledger == transcript; the chain verifies."""
    nid = done.negotiation_id
    assert done.status == "done" and done.outcome.status == "agreed"
    assert len(entries_of(nid, "HUMAN_APPROVAL")) == 1
    (resumed,) = entries_of(nid, "RESUMED")
    assert f'"decided_by":"{approver} (approver key' in resumed["payload_json"]
    assert len(entries_of(nid, "AGREEMENT")) == 1 and not entries_of(nid, "NO_DEAL")
    assert_ledger_holds(done.transcript)
    assert verify_ledger().ok


@pytest.fixture(params=[Performative.HUMAN_DECISION, Performative.AGREEMENT], ids=["at-decision", "at-agreement"])
def failed_resume(request):
    """A paused negotiation whose approval was recorded and whose resume then failed: marketing's
    agent stopped while signing the HUMAN_DECISION (the step that takes the answer) or the AGREEMENT
    (the commit after it)."""
    exchange = Exchange.embedded()
    agents = AgentStops(exchange.router.transport.agents, "marketing", request.param)
    exchange.router.transport = agents
    paused = run_negotiation(analytics_need(f"resume-fails-{request.param.value}"), clock=fixed_clock(T0))
    alice = register_approver("alice", "customers")
    with pytest.raises(ResumeUnfinished) as failed:
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)
    return paused, alice, agents, exchange, str(failed.value)


def test_the_failed_resume_says_what_failed_and_how_to_finish(failed_resume):
    paused, _, _, _, error = failed_resume
    assert "marketing's agent is unavailable: connection refused" in error
    assert f"run `hurricane negotiations resume {paused.negotiation_id}` to finish it" in error
    assert "approved by alice (approver key" in error and "not asked again" in error
    assert load_result(paused.negotiation_id).status == "unfinished"
    assert len(entries_of(paused.negotiation_id, "HUMAN_APPROVAL")) == 1
    assert not entries_of(paused.negotiation_id, "AGREEMENT") and not entries_of(paused.negotiation_id, "NO_DEAL")


def test_once_the_agent_is_back_resume_without_an_answer_finishes_with_one_outcome(failed_resume):
    paused, _, agents, exchange, _ = failed_resume
    agents.back()
    done = resume_negotiation(paused.negotiation_id, now=T0, exchange=exchange)
    assert_finished_once(done, "alice")
    assert resume_negotiation(paused.negotiation_id, now=T0, exchange=exchange) == done  # nothing left to do


def test_the_same_resume_command_again_finishes_without_recording_the_approval_twice(failed_resume):
    paused, alice, agents, exchange, _ = failed_resume
    with pytest.raises(ResumeUnfinished):  # the agent still down: fails again, records nothing new
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)
    agents.back()
    done = resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)
    assert_finished_once(done, "alice")
    with pytest.raises(NotAwaitingHuman, match="is finished"):
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)


def test_a_different_answer_after_the_recorded_approval_is_refused(failed_resume):
    paused, _, agents, exchange, _ = failed_resume
    agents.back()
    bob = register_approver("bob", "customers")
    with pytest.raises(AnswerAlreadyGiven, match="already approved by alice .* cannot be changed once recorded"):
        resume_negotiation(paused.negotiation_id, answer(bob, "bob", paused, False, T0), now=T0, exchange=exchange)
    assert len(entries_of(paused.negotiation_id, "HUMAN_APPROVAL")) == 1
    assert_finished_once(resume_negotiation(paused.negotiation_id, now=T0, exchange=exchange), "alice")


runner = CliRunner()


def killed_resume(home: Path, after: str, *args: str) -> int:
    """`hurricane negotiations resume …` in its own process, SIGKILLed right after the ledger commit
    holding the `after` entry (`resume_crash_child.py`); its exit status."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.hurricane_assets.resume_crash_child", after, "--", "negotiations", "resume", *args],
        cwd=ROOT, env=os.environ | {"PYTHONPATH": str(ROOT), "HURRICANE_HOME": str(home)}, capture_output=True,
        timeout=300)
    return child.returncode


@pytest.mark.parametrize("after", ["HUMAN_APPROVAL", "RESUMED"])
def test_a_resume_killed_after_recording_finishes_with_the_recorded_answer(after, hurricane_home):
    paused = run_negotiation(analytics_need(f"resume-killed-{after}"), clock=fixed_clock(T0))
    nid = paused.negotiation_id
    assert runner.invoke(app, ["approvers", "add", "alice", "--for", "customers"]).exit_code == 0
    assert killed_resume(hurricane_home, after, nid, "--approve", "--by", "alice") == -signal.SIGKILL
    assert len(entries_of(nid, "HUMAN_APPROVAL")) == 1 and len(entries_of(nid, after)) == 1
    # one commit per negotiation: the RESUMED went with the AGREEMENT, but no checkpoint says so
    assert bool(entries_of(nid, "AGREEMENT")) is (after == "RESUMED")
    assert load_result(nid).status == ("awaiting_human" if after == "HUMAN_APPROVAL" else "unfinished")

    assert runner.invoke(app, ["approvers", "add", "bob", "--for", "customers"]).exit_code == 0
    swapped = runner.invoke(app, ["negotiations", "resume", nid, "--deny", "--by", "bob"])
    assert swapped.exit_code == 2 and "already approved by alice" in swapped.stderr
    finished = runner.invoke(app, ["negotiations", "resume", nid], terminal_width=250)
    assert finished.exit_code == 0, finished.output + finished.stderr
    assert "outcome: agreed" in finished.output
    assert_finished_once(load_result(nid), "alice")


class LedgerFails:
    """The exchange's Delta ledger, except that the first batch holding an `entry_type` entry fails,
    before its commit or after it (the commit made, the caller told it failed: a lost reply)."""

    def __init__(self, exchange: Exchange, entry_type: str, *, after_commit: bool):
        ledger = exchange.ledger.ledger  # under the exchange's log wrapper: every append reaches this one
        self.append_batch, self.entry_type, self.after_commit = ledger.append_batch, entry_type, after_commit
        self.failed = False
        ledger.append_batch = self.failing_batch

    def failing_batch(self, entries):
        types = {getattr(t, "value", t) for t in (e["entry_type"] if isinstance(e, dict) else e.entry_type
                                                  for e in entries)}
        if self.failed or self.entry_type not in types:
            return self.append_batch(entries)
        self.failed = True
        if self.after_commit:
            self.append_batch(entries)
        raise OSError("ledger storage unavailable")


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-commit", "after-commit"])
def test_a_ledger_error_during_the_resume_is_finished_by_resume_with_one_outcome(after_commit):
    exchange = Exchange.embedded()
    paused = run_negotiation(analytics_need(f"resume-ledger-fails-{after_commit}"), clock=fixed_clock(T0))
    alice = register_approver("alice", "customers")
    failing = LedgerFails(exchange, "RESUMED", after_commit=after_commit)
    with pytest.raises(ResumeUnfinished, match="approved by alice .* could not finish: OSError"):
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)
    assert failing.failed and load_result(paused.negotiation_id).status == "unfinished"
    assert bool(entries_of(paused.negotiation_id, "RESUMED")) is after_commit
    done = resume_negotiation(paused.negotiation_id, now=T0, exchange=exchange)
    assert_finished_once(done, "alice")


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-commit", "after-commit"])
def test_a_ledger_error_recording_the_answer_leaves_it_paused_or_finished_by_resume(after_commit):
    exchange = Exchange.embedded()
    paused = run_negotiation(analytics_need(f"record-ledger-fails-{after_commit}"), clock=fixed_clock(T0))
    alice = register_approver("alice", "customers")
    LedgerFails(exchange, "HUMAN_APPROVAL", after_commit=after_commit)
    with pytest.raises(OSError, match="ledger storage unavailable"):
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0, exchange=exchange)
    finished = resume_negotiation(paused.negotiation_id, now=T0, exchange=exchange)
    if not after_commit:  # nothing recorded: no answer to finish with, it waits for one
        assert finished.status == "awaiting_human" and not entries_of(paused.negotiation_id, "HUMAN_APPROVAL")
        return
    assert_finished_once(finished, "alice")


def test_an_approval_recorded_for_other_terms_does_not_answer_the_escalation():
    """Mallory approves for payments only. Her envelope names this negotiation but payments' terms, so
    the exchange records it (signed, registered for every producer it names, fresh); a resume without
    an answer then finished the customers escalation 'approved by mallory'. It must stay paused."""
    paused = run_negotiation(analytics_need("resume-other-terms"), clock=fixed_clock(T0))
    mallory = register_approver("mallory", "payments")
    other = {"kind": "negotiation", "negotiation_id": paused.negotiation_id, "approve": True,
             "agreements": [{"producer": "payments", "dataset": "transactions", "terms_sha256": "0" * 64}]}
    record_approval(Ledger(), sign_approval(mallory, "mallory", other, now=T0), now=T0)
    assert resume_negotiation(paused.negotiation_id, now=T0).status == "awaiting_human"
    assert not entries_of(paused.negotiation_id, "RESUMED")
    alice = register_approver("alice", "customers")
    done = resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0)
    assert done.outcome.status == "agreed"
    (resumed,) = entries_of(paused.negotiation_id, "RESUMED")
    assert '"decided_by":"alice (approver key' in resumed["payload_json"]


def test_two_resumes_that_each_saw_no_answer_record_one(hurricane_home):
    """Two approvers answering at the same moment: each resume read the ledger before the other
    wrote, and each recorded its answer (two HUMAN_APPROVAL entries, contradicting, for one
    escalation). The answer's entry id is the negotiation's: the second is refused by the ledger."""
    from hurricane_assets.negotiation_runtime import platform_context, record_answer

    paused = run_negotiation(analytics_need("resume-raced"), clock=fixed_clock(T0))
    alice, bob, carol = (register_approver(name, "customers") for name in ("alice", "bob", "carol"))
    context = platform_context()
    assert record_answer(context, paused, answer(alice, "alice", paused, True, T0), now=T0)[0] is True
    with pytest.raises(AnswerAlreadyGiven, match="answered by another resume at the same time .approved by alice"):
        record_answer(context, paused, answer(bob, "bob", paused, False, T0), now=T0)
    same, by = record_answer(context, paused, answer(carol, "carol", paused, True, T0), now=T0)
    assert same is True and by.startswith("alice (approver key")  # the same answer: the recorded one stands
    assert len(entries_of(paused.negotiation_id, "HUMAN_APPROVAL")) == 1
    assert_finished_once(resume_negotiation(paused.negotiation_id, now=T0), "alice")
