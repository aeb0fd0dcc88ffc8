from dataclasses import replace

from negotiation_graph.feasibility import FeasibleRegion, Infeasible, explore, join_key
from negotiation_graph.messages import ReasonCode
from tests.negotiation_graph.ports_in_memory import ShareRule, TableGate
from tests.negotiation_graph.sample_world import M, fraud_need, listings, rules

PAYMENTS, CHARGEBACKS, CUSTOMERS = listings()


def test_region_holds_allowed_maskings_strongest_first_and_refuses_what_is_never_shared():
    need = fraud_need(wanted={"channel": 0.5, "device": 0.3, "card_number": 0.2})
    region = explore(TableGate(rules()), need, PAYMENTS)
    assert isinstance(region, FeasibleRegion)
    assert region.join_key == "txn_id"
    assert region.columns["device_id"] == (M.tokenize,)  # a string: generalize does not apply
    assert region.columns["channel"] == (M.tokenize, M.none)
    assert region.refused_columns == {"card_number": ("column_never_shared",)}


def test_retention_and_term_are_clamped_to_what_policy_allows():
    region = explore(TableGate(rules()), fraud_need(retention_days=360, term_days=360), CUSTOMERS)
    assert region.retention_days == (90,) and region.term_days == (90,)
    assert region.columns["account_opened_at"] == (M.generalize,)


def test_a_listing_without_a_join_key_or_a_wanted_column_is_infeasible_with_a_reason():
    assert explore(TableGate(rules()), fraud_need(join_entities=("device_model",)), PAYMENTS) == Infeasible(
        reason_codes=(ReasonCode.NO_JOIN_KEY.value,)
    )
    assert explore(TableGate(rules()), fraud_need(), CHARGEBACKS).reason_codes == (ReasonCode.NO_MATCHING_COLUMNS.value,)


def test_a_purpose_the_producer_does_not_allow_is_infeasible_with_the_gates_reason():
    result = explore(TableGate(rules()), fraud_need(purpose="marketing_campaigns"), PAYMENTS)
    assert isinstance(result, Infeasible)
    assert "purpose_not_allowed" in result.reason_codes
    assert result.column_reasons["channel"] == ("purpose_not_allowed",)


def test_join_key_prefers_the_listings_own_entity():
    assert join_key(fraud_need(), PAYMENTS) == "txn_id"
    assert join_key(fraud_need(join_entities=("customer",)), PAYMENTS) == "customer_id"


def test_a_join_key_the_policy_only_releases_destroyed_makes_the_listing_infeasible():
    strict = rules(**{"customers.profiles": ShareRule(
        purposes=("fraud_detection",), environments=("preprod",),
        min_masking={"customer_id": M.redact, "account_opened_at": M.none})})
    result = explore(TableGate(strict), fraud_need(), CUSTOMERS)
    assert isinstance(result, Infeasible) and "customer_id" in result.column_reasons


def test_the_join_key_is_fixed_at_the_weakest_masking_policy_allows_in_every_offer():
    from negotiation_graph.concession import concession_path
    from negotiation_graph.feasibility import anchor

    need = fraud_need()
    for listing, key, masking in ((PAYMENTS, "txn_id", M.none), (CUSTOMERS, "customer_id", M.tokenize)):
        region = explore(TableGate(rules()), need, listing)
        assert region.join_key == key and region.columns[key] == (masking,)
        features = ("channel", "device") if listing is PAYMENTS else ("account_age",)
        offers = (anchor(need, listing, region), *concession_path(need, listing, region, features))
        assert {terms.columns[key] for terms in offers} == {masking}


def test_a_join_key_policy_keeps_tokenized_is_tokenized_in_every_offer():
    payments = rules()["payments.transactions"]
    tokenized = rules(**{"payments.transactions": replace(
        payments, min_masking=payments.min_masking | {"txn_id": M.tokenize})})
    region = explore(TableGate(tokenized), fraud_need(), PAYMENTS)
    assert region.columns["txn_id"] == (M.tokenize,)
