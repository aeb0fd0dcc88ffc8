"""The whole graph with the rule strategy and in-memory ports."""

import dataclasses
import json
import threading

import pytest

from negotiation_graph.context import NegotiationLimits
from negotiation_graph.messages import Performative
from negotiation_graph.runner import Negotiator
from tests.negotiation_graph.ports_in_memory import ShareRule, TableGate
from tests.negotiation_graph.sample_world import M, context, fraud_need, listings, rules, ticking_clock


def run(need=None, **ctx_args):
    ctx = context(**ctx_args)
    return ctx, Negotiator(ctx).run(need or fraud_need())


def test_in_policy_request_is_agreed_with_each_feature_from_the_producer_that_has_it():
    ctx, report = run()
    assert report.outcome.status == "agreed"
    by_listing = {f"{a.producer}.{a.dataset}": a for a in report.agreements}
    assert set(by_listing) == {"payments.transactions", "customers.profiles"}
    assert by_listing["payments.transactions"].features == ("channel", "device")
    assert by_listing["customers.profiles"].features == ("account_age",)
    assert set(by_listing["payments.transactions"].terms.columns) == {"txn_id", "channel", "device_id"}
    assert set(by_listing["customers.profiles"].terms.columns) == {"customer_id", "account_opened_at"}
    assert all(a.rounds <= NegotiationLimits().max_rounds for a in report.agreements)


def test_every_offer_and_agreement_is_inside_policy_and_every_acceptance_quotes_the_last_offer():
    ctx, report = run()
    gate = TableGate(rules())
    last_offer = {}
    for message in report.transcript:
        if message.terms is not None:
            assert gate.evaluate(message.terms).allowed, message
            last_offer[frozenset((message.sender, message.receiver))] = message
        if message.performative is Performative.ACCEPT:
            quoted = last_offer[frozenset((message.sender, message.receiver))]
            assert message.terms_sha256 == quoted.terms_sha256 and quoted.sender == message.receiver
    for agreement in report.agreements:
        assert gate.evaluate(agreement.terms).allowed
        assert agreement.terms_sha256 == agreement.terms.sha256()


def test_agreements_are_signed_by_both_parties():
    ctx, report = run()
    for agreement in report.agreements:
        assert [s.signer for s in agreement.signatures] == [agreement.producer, agreement.consumer]
        for signature in agreement.signatures:
            ctx.signer.verify(agreement.body(), signature)
        with pytest.raises(ValueError):
            ctx.signer.verify(agreement.body().replace(b"tokenize", b"none"), agreement.signatures[0])


def test_every_message_is_in_the_ledger_once_and_the_chain_verifies():
    ctx, report = run()
    ctx.ledger.verify()
    message_entries = [e for e in ctx.ledger.entries if e["entry_type"] not in ("POLICY_DENIED", "NO_DEAL")]
    assert [e["entry_id"] for e in message_entries] == [m.msg_id for m in sorted_by_ledger(report, ctx.ledger)]
    assert len(ctx.ledger.of_type("AGREEMENT")) == 2


def sorted_by_ledger(report, ledger):
    order = {e["entry_id"]: e["seq"] for e in ledger.entries}
    return sorted(report.transcript, key=lambda m: order[m.msg_id])


def test_a_forbidden_column_is_refused_with_its_reason_and_the_rest_agreed():
    need = fraud_need(wanted={"channel": 0.4, "card_number": 0.3, "national_id": 0.1, "account_age": 0.2})
    ctx, report = run(need)
    assert report.outcome.status == "partial"
    assert report.outcome.unserved_features == ("card_number", "national_id")
    shared = {c for a in report.agreements for c in a.terms.columns}
    assert {"channel", "account_opened_at"} <= shared and not {"card_number", "national_id"} & shared
    refused = {c: r for a in report.agreements for c, r in a.refused_columns.items()}
    assert refused == {"card_number": ("column_never_shared",), "national_id": ("column_never_shared",)}


def test_disjoint_envelopes_end_at_once_with_reasons():
    ctx, report = run(fraud_need(purpose="marketing_campaigns"))
    assert report.outcome.status == "no_deal"
    assert {"no_zopa", "purpose_not_allowed"} <= set(report.outcome.reason_codes)
    assert [m.performative for m in report.transcript] == [Performative.CFP] + [Performative.REFUSE] * 3
    assert len(ctx.ledger.of_type("NO_DEAL")) == 1 and not report.agreements


def test_consumer_reservation_above_anything_policy_allows_is_no_zopa():
    masked_only = rules(**{
        "customers.profiles": ShareRule(purposes=("fraud_detection",), environments=("preprod",),
                                        min_masking={"customer_id": M.tokenize, "account_opened_at": M.generalize}),
    })
    need = fraud_need(wanted={"account_age": 1.0})
    ctx, report = run(need, gate=TableGate(masked_only), limits=NegotiationLimits(consumer_reservation=0.7))
    assert report.outcome.status == "no_deal"
    rejects = [m for m in report.transcript if m.performative is Performative.REJECT]
    assert [m.reason_codes for m in rejects] == [("no_zopa",)]


def test_same_inputs_give_the_same_agreement_bytes():
    _, first = run()
    _, second = run()
    assert [a.canonical() for a in first.agreements] == [a.canonical() for a in second.agreements]
    assert [m.canonical() for m in first.transcript] == [m.canonical() for m in second.transcript]


class FixedEstimate:
    def __init__(self, value):
        self.value = value
        self.calls = 0

    def estimate(self, need, terms):
        self.calls += 1
        return self.value


def test_useless_data_by_the_estimator_is_declined_with_no_value():
    estimator = FixedEstimate(0.0)
    ctx, report = run(estimator=estimator)
    assert report.outcome.status == "no_deal" and estimator.calls == 2
    assert {m.reason_codes for m in report.transcript if m.performative is Performative.REJECT} == {("no_value",)}


def test_a_useful_estimate_still_reaches_agreement():
    ctx, report = run(estimator=FixedEstimate(0.04))
    assert report.outcome.status == "agreed"


class Stubborn:
    """Both sides repeat their favourite offer forever."""

    def decide(self, turn, briefing):
        from negotiation_graph.strategies import Move

        return Move("counter", 0 if turn.role == "producer" else len(turn.utilities) - 1)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (NegotiationLimits(max_rounds=4, no_progress_rounds=10), "max_rounds"),
        (NegotiationLimits(max_rounds=20, no_progress_rounds=2), "no_progress"),
        (NegotiationLimits(max_rounds=20, no_progress_rounds=10, deadline_s=5), "deadline"),
    ],
)
def test_bargaining_that_goes_nowhere_is_ended_with_the_reason(limits, reason):
    clock = ticking_clock(1.0)
    ctx, report = run(fraud_need(wanted={"device": 1.0}), limits=limits, strategy=Stubborn(), clock=clock)
    withdrawals = [m for m in report.transcript if m.performative is Performative.WITHDRAW]
    assert report.outcome.status == "no_deal" and reason in report.outcome.reason_codes
    assert [w.reason_codes for w in withdrawals] == [(reason,)]
    assert max(m.round for m in report.transcript) <= limits.max_rounds + 1


def test_nobody_to_ask_ends_with_no_producers():
    from tests.negotiation_graph.ports_in_memory import StaticDirectory

    ctx, report = run(directory=StaticDirectory([]))
    assert report.outcome.status == "no_deal" and report.outcome.reason_codes == ("no_producers",)


def test_cfp_reaches_every_listing_and_each_answers_once():
    ctx, report = run()
    answers = [m for m in report.transcript if m.performative in (Performative.PROPOSE, Performative.REFUSE)]
    assert sorted(m.sender for m in answers) == ["agent:customers/producer", "agent:payments/producer", "agent:payments/producer"]
    cfp = report.transcript[0]
    assert all(m.in_reply_to == cfp.msg_id and m.prev_msg_sha256 == cfp.sha256() for m in answers)


def test_a_need_naming_its_listings_asks_only_them():
    # txn_id is a column of payments.chargebacks too: without the restriction chargebacks would answer
    need = fraud_need(wanted={"txn_id": 1.0, "channel": 1.0}, listings=("payments.transactions",))
    ctx, report = run(need)
    assert {m.sender for m in report.transcript if m.performative in (Performative.PROPOSE, Performative.REFUSE)} \
        == {"agent:payments/producer"}
    assert {(m.terms.producer, m.terms.dataset) for m in report.transcript if m.terms} == {("payments", "transactions")}
    assert [(a.producer, a.dataset) for a in report.agreements] == [("payments", "transactions")]
    assert report.transcript[0].need.listings == ("payments.transactions",)  # the CFP carries it, signed


def test_a_listing_must_be_named_producer_dot_dataset():
    with pytest.raises(ValueError, match="listing 'transactions': expected PRODUCER.DATASET"):
        fraud_need(listings=("transactions",))


def test_a_need_open_to_every_listing_keeps_its_bytes():
    # the negotiation id and every signed CFP hash the need's canonical form: a need that names no
    # listing must hash as it did before needs could name one
    assert "listings" not in fraud_need().model_dump(mode="json")
    assert fraud_need(listings=("payments.transactions",)).model_dump(mode="json")["listings"] == ["payments.transactions"]


class ThreadRecordingSigner:
    """The sample signer, noting the thread each producer signs its answer to the CFP in (the fan-out)."""

    def __init__(self, signer):
        self.signer, self.threads, self.answers = signer, set(), 0

    def sign(self, domain, message):
        if json.loads(message).get("performative") in ("PROPOSE", "REFUSE"):  # not agreements
            self.threads.add(threading.get_ident())
            self.answers += 1
        return self.signer.sign(domain, message)

    def verify(self, *args, **kwargs):
        return self.signer.verify(*args, **kwargs)


@pytest.mark.parametrize("parallel", [True, False])
def test_producers_answer_one_after_another_unless_parallel_parties_and_agree_the_same(parallel):
    """With every party in-process (`parallel_parties=False`) the fan-out's tasks run one at a time in
    one thread; the transcript and the agreements are the same bytes either way."""
    ctx = context()
    recording = ThreadRecordingSigner(ctx.signer)
    ctx = dataclasses.replace(ctx, signer=recording, parallel_parties=parallel)
    report = Negotiator(ctx).run(fraud_need())
    baseline = Negotiator(context()).run(fraud_need())
    assert recording.answers == len(listings()) > 1
    if not parallel:
        assert len(recording.threads) == 1
    assert [m.canonical() for m in report.transcript] == [m.canonical() for m in baseline.transcript]
    assert [a.body() for a in report.agreements] == [a.body() for a in baseline.agreements]
