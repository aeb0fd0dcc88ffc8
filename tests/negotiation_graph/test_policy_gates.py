"""Each policy check of the graph, attacked on its own: a policy with a hole the region mapping
cannot see, an anchor the policy denies, a policy that tightens as bargaining starts, at an
acceptance, and between the last acceptance and the agreement. Each test names the check whose
removal (or inversion) it catches; `test_gate_mutants.py` proves it by mutation."""

from __future__ import annotations

from dataclasses import dataclass, field

from langgraph.checkpoint.memory import InMemorySaver

from negotiation_graph.concession import concession_path
from negotiation_graph.feasibility import FeasibleRegion, Infeasible, anchor, explore
from negotiation_graph.graph import build_graph
from negotiation_graph.messages import Performative, message_id
from negotiation_graph.nodes.award import open_bargain
from negotiation_graph.ports import ColumnDecision, PolicyDecision
from negotiation_graph.runner import Negotiator, negotiation_id_for, thread
from negotiation_graph.strategies import RuleStrategy
from negotiation_graph.terms import ShareTerms
from tests.negotiation_graph.ports_in_memory import MemoryLedger, TableGate
from tests.negotiation_graph.sample_world import M, context, fraud_need, listings, rules


@dataclass
class HoleyGate:
    """The table policy plus denials it cannot express: `deny(terms)` True means denied."""

    deny: object = lambda terms: False
    table: TableGate = field(default_factory=lambda: TableGate(rules()))

    def evaluate(self, terms: ShareTerms) -> PolicyDecision:
        decision = self.table.evaluate(terms)
        if decision.allowed and self.deny(terms):
            columns = {c: ColumnDecision(allowed=False, reasons=("column_tightened",)) for c in terms.columns}
            return decision.model_copy(update={"allowed": False, "columns": columns, "reasons": ("tightened",)})
        return decision


def tokenized_channel_kept_60_days(terms: ShareTerms) -> bool:
    return terms.columns.get("channel") is M.tokenize and terms.retention_days == 60


def test_award_lays_the_concession_path_only_through_offers_the_gate_allows():
    """Catches: the path filter in `nodes/award.py` removed or inverted."""
    gate = HoleyGate(deny=tokenized_channel_kept_60_days)
    need, transactions = fraud_need(), listings()[0]
    region = explore(gate, need, transactions)
    unfiltered = concession_path(need, transactions, region, ("channel", "device"))
    assert any(not gate.evaluate(t).allowed for t in unfiltered), "the hole lies on the path"
    bargain = open_bargain(context(gate=gate), need, transactions, region, ("channel", "device"))
    assert all(gate.evaluate(t).allowed for t in bargain.path)
    assert len(bargain.path) == len(unfiltered) - sum(not gate.evaluate(t).allowed for t in unfiltered)


def test_an_opening_offer_the_gate_denies_is_refused_not_proposed():
    """Catches: the opening-offer check in `nodes/producer.py` removed or inverted."""
    need, transactions = fraud_need(), listings()[0]
    opening = anchor(need, transactions, explore(TableGate(rules()), need, transactions))
    gate = HoleyGate(deny=lambda terms: terms == opening)
    report = Negotiator(context(gate=gate)).run(need)
    answer_id = message_id(report.negotiation_id, "payments.transactions", 0)
    (answer,) = [m for m in report.transcript if m.msg_id == answer_id]
    assert answer.performative is Performative.REFUSE and "tightened" in answer.reason_codes
    proposals = [m for m in report.transcript if m.performative is Performative.PROPOSE]
    assert proposals and all(gate.evaluate(m.terms).allowed for m in proposals)
    assert all(a.dataset != "transactions" for a in report.agreements)


class Tightening:
    """A strategy that, at a chosen moment, tightens the policy (a policy change mid-negotiation)."""

    def __init__(self, gate: HoleyGate, deny, *, on: str):
        self.gate, self.deny, self.on, self.rules = gate, deny, on, RuleStrategy()

    def decide(self, turn, briefing):
        move = self.rules.decide(turn, briefing)
        if self.on == "first_move" or (self.on == "accept" and move.kind == "accept"):
            self.gate.deny = self.deny
        return move


def only_anchors(anchors: set[str]):
    return lambda terms: terms.sha256() not in anchors


def test_a_counter_is_never_sent_unless_the_gate_allows_it_when_sent():
    """Catches: the per-COUNTER gate in `nodes/bargaining.py` removed or inverted."""
    need = fraud_need()
    base = TableGate(rules())
    anchors = {anchor(need, l, explore(base, need, l)).sha256() for l in listings() if l.dataset != "chargebacks"}
    gate = HoleyGate()
    ledger = MemoryLedger()
    report = Negotiator(context(gate=gate, ledger=ledger, strategy=Tightening(gate, only_anchors(anchors), on="first_move"))).run(need)
    counters = [m for m in report.transcript if m.performative is Performative.COUNTER]
    assert counters and all(gate.evaluate(m.terms).allowed for m in counters)
    assert ledger.of_type("POLICY_DENIED"), "the denied drafts are recorded"
    assert all(gate.evaluate(a.terms).allowed for a in report.agreements)


def test_an_accept_of_terms_the_policy_no_longer_allows_becomes_a_reject():
    """Catches: the ACCEPT re-check in `nodes/bargaining.py` removed or inverted."""
    gate = HoleyGate()
    report = Negotiator(context(gate=gate, strategy=Tightening(gate, lambda terms: True, on="accept"))).run(fraud_need())
    performatives = [m.performative for m in report.transcript]
    assert Performative.ACCEPT not in performatives
    rejects = [m for m in report.transcript if m.performative is Performative.REJECT and m.round > 0]
    assert rejects and all("policy_denied" in m.reason_codes and "tightened" in m.reason_codes for m in rejects)
    assert report.agreements == () and report.outcome.status == "no_deal"


def test_the_policy_at_agreement_time_decides_and_a_denied_agreement_is_recorded():
    """Catches: the agreement-time re-check in `nodes/closing.py` removed or inverted."""
    gate, ledger, need = HoleyGate(), MemoryLedger(), fraud_need()
    ctx = context(gate=gate, ledger=ledger)
    graph = build_graph(InMemorySaver())
    nid = negotiation_id_for(need, gate.table.bundle_sha256)
    graph.invoke({"negotiation_id": nid, "need": need}, thread(nid), context=ctx, interrupt_before=["close"])
    accepted = [b for b in graph.get_state(thread(nid)).values["bargains"] if b.status == "accepted"]
    assert len(accepted) == 2
    gate.deny = lambda terms: terms.dataset == "transactions"  # the policy changes before signing
    values = graph.invoke(None, thread(nid), context=ctx)
    assert [a.dataset for a in values["agreements"]] == ["profiles"]
    assert values["outcome"].status == "partial" and "policy_denied" in values["outcome"].reason_codes
    (denied,) = [e for e in ledger.of_type("POLICY_DENIED") if e["payload"].get("stage") == "agreement"]
    (transactions,) = [b for b in accepted if b.listing.dataset == "transactions"]
    assert denied["payload"]["terms_sha256"] == transactions.path[transactions.on_table].sha256()
    assert {"tightened", "policy_denied", "channel:column_tightened"} <= set(denied["payload"]["reasons"])
    agreements = [e for e in ledger.of_type("AGREEMENT")]
    assert [e["payload"]["terms"]["dataset"] for e in agreements] == ["profiles"]


def test_a_region_whose_most_generous_corner_the_policy_denies_is_infeasible_with_its_reasons():
    """Catches: the check of the conservative corner in `feasibility.explore` removed. Each column
    passes alone, but the policy forbids plain channel together with tokenized devices."""
    gate = HoleyGate(deny=lambda t: t.columns.get("channel") is M.none and t.columns.get("device_id") is M.tokenize)
    region = explore(gate, fraud_need(), listings()[0])
    assert isinstance(region, Infeasible) and {"tightened", "policy_denied"} <= set(region.reason_codes)


def test_refresh_is_clamped_to_what_policy_allows():
    """Catches: the freshness ladder's gate check in `feasibility.explore` removed."""
    table = rules()
    table["payments.transactions"].min_freshness_hours = 48
    region = explore(TableGate(table), fraud_need(), listings()[0])
    assert isinstance(region, FeasibleRegion) and region.freshness_hours == (96, 48)
