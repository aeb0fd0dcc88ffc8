"""Row filters as negotiated issues: a producer whose policy denies all rows narrows instead of
refusing (shorter window, consented rows only, a sample), the strategies bargain over how narrow,
and a share the policy allows whole stays whole."""

from dataclasses import replace

from negotiation_graph.concession import concession_path
from negotiation_graph.feasibility import FeasibleRegion, Infeasible, anchor, explore
from negotiation_graph.messages import Performative
from negotiation_graph.rows import row_share
from negotiation_graph.runner import Negotiator
from negotiation_graph.scoring import consumer_utility, producer_risk
from negotiation_graph.terms import Predicate
from tests.negotiation_graph.ports_in_memory import StaticDirectory, TableGate
from tests.negotiation_graph.sample_world import col, context, fraud_need, listings, rules

PAYMENTS, CHARGEBACKS, CUSTOMERS = listings()
# the profiles listing with a consent flag and a country column, as a catalog would tag them
CUSTOMERS_CONSENT = CUSTOMERS.model_copy(update={"columns": CUSTOMERS.columns | {
    "consent_research": col("bool", "internal", tags=("consent",)),
    "country": col("string", "public", tags=("country",)),
}})


def with_row_rules(**row_rules):
    table = rules()
    return TableGate(table | {key: replace(rule, **row_rules.get(key, {})) for key, rule in table.items()})


def offered_rows(report, dataset):
    return [m.terms.row_filter for m in report.transcript if m.terms is not None and m.terms.dataset == dataset]


def test_a_share_the_policy_allows_whole_has_no_row_issue_and_costs_one_more_evaluation_at_most():
    gate = TableGate(rules())
    region = explore(gate, fraud_need(), PAYMENTS)
    assert (region.windows, region.consents, region.samples) == ((None,), (False,), (None,))
    assert anchor(fraud_need(), PAYMENTS, region).row_filter.is_everything


def test_a_window_the_policy_caps_becomes_an_issue_from_the_shortest_to_the_longest_allowed():
    gate = with_row_rules(**{"payments.transactions": {"max_window_days": 90}})
    region = explore(gate, fraud_need(), PAYMENTS)
    assert isinstance(region, FeasibleRegion)
    assert region.windows == (30, 90)  # 365 and all history denied: window_too_long
    assert region.samples == (None,)  # sampling does not help this policy: not bargained
    path = concession_path(fraud_need(), PAYMENTS, region, ("channel", "device"))
    windows = [t.row_filter.since_days for t in path]
    assert windows[0] == 30 and windows[-1] == 90 and windows == sorted(windows)
    assert all(gate.evaluate(t).allowed for t in path)


def test_a_producer_that_would_refuse_all_rows_offers_consented_rows_and_the_deal_is_made():
    gate = with_row_rules(**{"customers.profiles": {"consented_only": "consent_research"}})
    need = fraud_need(countries=("DE", "FR"), retention_days=90, term_days=90)
    region = explore(gate, need, CUSTOMERS_CONSENT)
    assert isinstance(region, FeasibleRegion) and region.consents == (True,)
    # without a consent column there is nothing to narrow by: the listing is refused with the reason
    refused = explore(gate, need, CUSTOMERS)
    assert isinstance(refused, Infeasible) and "consent_required" in refused.reason_codes

    ctx = context(gate=gate, directory=StaticDirectory([PAYMENTS, CHARGEBACKS, CUSTOMERS_CONSENT]))
    report = Negotiator(ctx).run(need)
    assert report.outcome.status == "agreed"
    profiles = next(a for a in report.agreements if a.dataset == "profiles")
    assert profiles.terms.row_filter.all_of == (
        Predicate(column="country", op="in", values=("DE", "FR")),
        Predicate(column="consent_research", op="eq", values=(True,)),
    )
    for rows in offered_rows(report, "profiles"):
        assert Predicate(column="consent_research", op="eq", values=(True,)) in rows.all_of


def test_strategies_converge_on_a_window_and_a_sample_inside_policy():
    gate = with_row_rules(**{"payments.transactions": {"max_window_days": 365, "max_sample_fraction": 0.5}})
    ctx = context(gate=gate)
    report = Negotiator(ctx).run(fraud_need())
    assert report.outcome.status == "agreed"
    payments = next(a for a in report.agreements if a.dataset == "transactions")
    rows = payments.terms.row_filter
    assert rows.since_days is not None and rows.since_days <= 365
    assert rows.sample_fraction is not None and rows.sample_fraction <= 0.5
    for message in report.transcript:
        if message.terms is not None:
            assert gate.evaluate(message.terms).allowed, message.terms.row_filter
    # the producer opened narrower than it agreed: the row issues were conceded, not imposed
    proposals = [m for m in report.transcript if m.performative is Performative.PROPOSE and m.terms.dataset == "transactions"]
    opening = proposals[0].terms.row_filter
    assert row_share(PAYMENTS, opening) < row_share(PAYMENTS, rows)


def test_a_window_the_consumer_asks_for_is_bargained_like_retention():
    need = fraud_need(window_days=120)
    region = explore(TableGate(rules()), need, PAYMENTS)
    assert region.windows == (30, 60, 120)
    path = concession_path(need, PAYMENTS, region, ("channel", "device"))
    assert path[-1].row_filter.since_days == 120


def test_fewer_rows_are_worth_less_to_the_consumer_and_riskier_for_no_one():
    need = fraud_need()
    region = explore(with_row_rules(**{"payments.transactions": {"max_window_days": 90}}), need, PAYMENTS)
    path = concession_path(need, PAYMENTS, region, ("channel", "device"))
    narrow, wide = path[0], path[0].model_copy(update={"row_filter": path[-1].row_filter})
    assert consumer_utility(need, PAYMENTS, narrow, ("channel", "device")) < consumer_utility(
        need, PAYMENTS, wide, ("channel", "device"))
    assert producer_risk(PAYMENTS, narrow) < producer_risk(PAYMENTS, wide)
