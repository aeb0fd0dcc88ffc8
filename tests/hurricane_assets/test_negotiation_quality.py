"""Our strategies as NegMAS negotiators (negotiation_graph/negmas_adapter.py) on the demo's fraud need,
with the reference catalog's Cedar policies: what they agree is a valid share, and the quality
measures the benchmark reports (Pareto and Nash distances) are right on a case computed by hand."""

import json
import math
import re
from dataclasses import replace

import pytest
from negmas import AspirationNegotiator, BoulwareTBNegotiator, ConcederTBNegotiator, NaiveTitForTatNegotiator
from negmas.preferences import MappingUtilityFunction

from hurricane_assets.catalog import load_catalog
from hurricane_assets.negotiation_runtime import CatalogDirectory
from hurricane_assets.policy.gate import CedarPolicyGate
from negotiation_graph.concession import concession_path
from negotiation_graph.negmas_adapter import StrategyNegotiator, build_scenario, frontier, play, scenario_frontier
from negotiation_graph.strategies import RuleStrategy
from negotiation_graph.strategies.llm import LLMStrategy
from negotiation_graph.terms import Environment, NeedSpec
from tests.negotiation_graph.strategies.chat_stub import ChatStub, tool_call

STEPS = 20
FRAUD_NEED = NeedSpec(need_id="fraud-model-drift-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
                      environment=Environment.preprod, join_entities=("customer", "transaction"),
                      wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})


@pytest.fixture(scope="module")
def demo():
    catalog = load_catalog()
    gate = CedarPolicyGate(catalog)
    scenarios = {}
    for listing in CatalogDirectory(catalog).listings(FRAUD_NEED):
        scenario = build_scenario(gate, FRAUD_NEED, listing, name=f"{listing.producer}.{listing.dataset}")
        if scenario is not None:
            scenarios[scenario.name] = scenario
    return gate, scenarios


def rules(role, scenario):
    return StrategyNegotiator(RuleStrategy(), role, scenario)


def test_pareto_and_nash_distances_match_a_case_computed_by_hand():
    """Four outcomes with utilities A (1, 0), B (0, 1), C (0.5, 0.5), D (0.2, 0.2): D is dominated
    by C, so the frontier is {A, B, C}; D lies 0.3·√2 from it (from C), C lies on it; the Nash
    point (largest product over reservations 0) is C. A frontier that kept dominated points would
    put D at 0; a Nash point taken anywhere else would not be 0.3·√2 from D."""
    outcomes = [("a",), ("b",), ("c",), ("d",)]
    first = MappingUtilityFunction({("a",): 1.0, ("b",): 0.0, ("c",): 0.5, ("d",): 0.2}, reserved_value=0.0)
    second = MappingUtilityFunction({("a",): 0.0, ("b",): 1.0, ("c",): 0.5, ("d",): 0.2}, reserved_value=0.0)
    front = frontier([first, second], outcomes)
    assert sorted(front.points) == [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    assert front.distance((0.2, 0.2)) == pytest.approx(0.3 * math.sqrt(2))
    assert front.distance((0.5, 0.5)) == 0.0
    assert front.nash == (0.5, 0.5)
    assert front.nash_distance((0.2, 0.2)) == pytest.approx(0.3 * math.sqrt(2))
    assert front.nash_distance((1.0, 0.0)) == pytest.approx(math.sqrt(0.5))


def test_the_demo_need_gives_the_payments_and_customers_bargains_as_negmas_issues(demo):
    _, scenarios = demo
    assert set(scenarios) == {"payments.transactions", "customers.profiles"}
    payments = scenarios["payments.transactions"]
    assert [name for name, _ in payments.issue_values] == [
        "mask:channel", "mask:device_id", "retention_days", "term_days", "freshness_hours"]
    assert payments.features == ("channel", "device")
    # the path the platform bargains on is a chain of this space's outcomes, from the producer's
    # favourite to the consumer's
    utilities = payments.raw
    assert set(payments.path) <= set(payments.outcomes)
    # each outcome stands for exactly the terms the platform would offer there
    platform_path = concession_path(FRAUD_NEED, payments.listing, payments.region, payments.features)
    assert tuple(payments.terms(o) for o in payments.path) == platform_path
    assert all(payments.outcome(payments.terms(o)) == o for o in payments.outcomes)
    assert [utilities["consumer"][o] for o in payments.path] == sorted(utilities["consumer"][o] for o in payments.path)
    assert payments.has_zone_of_agreement


@pytest.mark.parametrize("pairing", [
    ("rules", "rules"), ("rules", "Aspiration"), ("Boulware", "rules"), ("NaiveTitForTat", "rules"),
    ("rules", "Conceder")])
def test_agreements_against_negmas_agents_are_inside_cedar_policy_and_above_both_reservations(demo, pairing):
    """Catches an adapter that offers off the concession path, maps an outcome to other terms than
    it stands for, or accepts below its reservation."""
    gate, scenarios = demo
    field = {"Aspiration": AspirationNegotiator, "Boulware": BoulwareTBNegotiator,
             "Conceder": ConcederTBNegotiator, "NaiveTitForTat": NaiveTitForTatNegotiator}

    def make(kind, role, scenario):
        return rules(role, scenario) if kind == "rules" else field[kind](ufun=scenario.ufun(role))

    for scenario in scenarios.values():
        result = play(scenario, make(pairing[0], "producer", scenario), make(pairing[1], "consumer", scenario), STEPS)
        assert result.agreement is not None, (scenario.name, pairing)
        terms = scenario.terms(result.agreement)
        assert gate.evaluate(terms).allowed
        assert terms.columns[scenario.region.join_key] is scenario.region.columns[scenario.region.join_key][0]
        assert scenario.acceptable(result.agreement)
        ours = {role for role, kind in zip(("producer", "consumer"), pairing, strict=True) if kind == "rules"}
        assert all(outcome in scenario.path for role, outcome in result.offers if role in ours)
        assert 0.0 <= scenario_frontier(scenario).distance((result.consumer, result.producer)) <= math.sqrt(2)


def test_a_side_whose_reservation_nothing_meets_never_agrees(demo):
    """A consumer needing more than the best share walks away: no agreement with our producer nor
    with NegMAS's conceder, which ends up offering everything."""
    _, scenarios = demo
    scenario = scenarios["payments.transactions"]
    greedy = replace(scenario, consumer_reservation=max(scenario.raw["consumer"].values()) + 0.01)
    assert not greedy.has_zone_of_agreement
    assert play(greedy, rules("producer", greedy), rules("consumer", greedy), STEPS).agreement is None
    conceder = ConcederTBNegotiator(ufun=greedy.ufun("producer"))
    assert play(greedy, conceder, rules("consumer", greedy), STEPS).agreement is None


def test_the_llm_strategy_over_the_chat_stub_agrees_inside_policy(demo):
    """The LLM selector (through ChatOpenAI and a loopback server that always picks the firmest
    candidate) plays the consumer against our rules producer; it is consulted and stays inside."""
    gate, scenarios = demo
    scenario = scenarios["payments.transactions"]

    def firmest(request):
        listed = re.findall(r"^(\d+): ", request["messages"][-1]["content"], flags=re.M)
        return 200, tool_call({"index": len(listed) - 1, "rationale": "the firmest candidate"})

    with ChatStub(firmest) as stub:
        consumer = StrategyNegotiator(LLMStrategy(stub.chat_model()), "consumer", scenario)
        result = play(scenario, rules("producer", scenario), consumer, STEPS)
    assert stub.requests and all(json.dumps(r) for r in stub.requests)
    assert result.agreement is not None and result.agreement in scenario.path
    assert gate.evaluate(scenario.terms(result.agreement)).allowed
    assert scenario.acceptable(result.agreement)
