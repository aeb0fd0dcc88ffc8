"""Every policy check of the graph, removed or inverted, must turn a test red.

The mutants are generated from the source (`mutation.py`): each read of a decision's `.allowed`
in the functions below, removed (always passes) or inverted. Each mutant runs the killers in order until one fails; a mutant nobody kills fails here.
The score is reported in docs/negotiation.md."""

from __future__ import annotations

import pytest

from tests.negotiation_graph import test_feasibility, test_graph, test_policy_gates, test_row_issues
from tests.negotiation_graph.mutation import killed_by, mutants

CHECKS = [
    ("negotiation_graph.nodes.award", "open_bargain", ()),  # the path filter
    ("negotiation_graph.nodes.producer", "answer_cfp", ()),  # the opening-offer check
    ("negotiation_graph.nodes.bargaining", "gate_offer", ()),  # the per-COUNTER gate
    ("negotiation_graph.nodes.bargaining", "play", ()),  # the ACCEPT re-check
    ("negotiation_graph.nodes.closing", "sign_agreements", ()),  # the agreement-time re-check
    ("negotiation_graph.feasibility", "explore", ()),  # mapping the producer's region
]
MUTANTS = [m for module, function, calls in CHECKS for m in mutants(module, function, calls)]

KILLERS = [
    test_policy_gates.test_award_lays_the_concession_path_only_through_offers_the_gate_allows,
    test_policy_gates.test_an_opening_offer_the_gate_denies_is_refused_not_proposed,
    test_policy_gates.test_a_counter_is_never_sent_unless_the_gate_allows_it_when_sent,
    test_policy_gates.test_an_accept_of_terms_the_policy_no_longer_allows_becomes_a_reject,
    test_policy_gates.test_the_policy_at_agreement_time_decides_and_a_denied_agreement_is_recorded,
    test_policy_gates.test_a_region_whose_most_generous_corner_the_policy_denies_is_infeasible_with_its_reasons,
    test_policy_gates.test_refresh_is_clamped_to_what_policy_allows,
    test_graph.test_in_policy_request_is_agreed_with_each_feature_from_the_producer_that_has_it,
    test_graph.test_every_offer_and_agreement_is_inside_policy_and_every_acceptance_quotes_the_last_offer,
    test_graph.test_a_forbidden_column_is_refused_with_its_reason_and_the_rest_agreed,
    test_graph.test_disjoint_envelopes_end_at_once_with_reasons,
    test_feasibility.test_region_holds_allowed_maskings_strongest_first_and_refuses_what_is_never_shared,
    test_feasibility.test_retention_and_term_are_clamped_to_what_policy_allows,
    test_feasibility.test_a_purpose_the_producer_does_not_allow_is_infeasible_with_the_gates_reason,
    test_feasibility.test_a_join_key_the_policy_only_releases_destroyed_makes_the_listing_infeasible,
    test_row_issues.test_a_window_the_policy_caps_becomes_an_issue_from_the_shortest_to_the_longest_allowed,
]


def test_every_named_check_has_mutants():
    assert {(m.module, m.function) for m in MUTANTS} == {(module, function) for module, function, _ in CHECKS}
    assert len(MUTANTS) >= 20


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_is_killed(mutant):
    assert killed_by(mutant, KILLERS) is not None, f"no test fails when {mutant.source} is {mutant.operator}d"
