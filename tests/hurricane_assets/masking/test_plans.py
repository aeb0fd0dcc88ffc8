from __future__ import annotations

import pytest

from hurricane_assets.masking.plans import PlanError, default_plan, plan_from_contract
from negotiation_graph.terms import MaskingMethod as M


@pytest.fixture
def profiles(catalog):
    return catalog.dataset("customers", "profiles")


def test_prod_keeps_everything(profiles):
    plan = default_plan(profiles, "prod", name="customers.profiles")
    assert {r.operator for r in plan.rules.values()} == {"keep"}


def test_default_below_prod_follows_classification_and_entity(profiles, catalog):
    rules = default_plan(profiles, "dev", name="customers.profiles").rules
    ops = {c: r.operator for c, r in rules.items()}
    assert ops["full_name"] == ops["national_id"] == ops["iban"] == "drop"
    assert ops["email"] == "email" and ops["phone"] == "phone"
    assert ops["customer_id"] == "hmac_token" and rules["customer_id"].params["entity"] == "customer"
    assert rules["customer_id"].unique
    assert ops["date_of_birth"] == "generalize_date" and rules["date_of_birth"].quasi_identifier
    assert ops["postcode"] == "prefix" and ops["country"] == "keep" and rules["country"].quasi_identifier
    assert ops["segment"] == "keep"
    txn = default_plan(catalog.dataset("payments", "transactions"), "preprod").rules
    assert txn["customer_id"].params == rules["customer_id"].params  # joins survive across tables
    assert txn["card_number"].operator == "drop" and txn["device_id"].params["entity"] == "device"
    body = default_plan(catalog.dataset("support", "tickets"), "dev").rules["body"]
    assert body.operator == "redact_text" and body.params["row_columns"] == {"customer_id": "CUSTOMER_ID"}


def test_restricted_identifiers_can_be_tokenized_on_request_but_never_national_id(profiles):
    plan = default_plan(profiles, "dev", tokenize_restricted=("full_name",))
    assert plan.rules["full_name"].operator == "hmac_token"
    assert default_plan(profiles, "dev", tokenize_restricted=("national_id",)).rules["national_id"].operator == "drop"
    with pytest.raises(PlanError, match="'nope', which is not a column"):
        default_plan(profiles, "dev", tokenize_restricted=("nope",))


def test_plan_version_changes_with_rules(profiles):
    a = default_plan(profiles, "dev")
    assert a.version == default_plan(profiles, "dev").version
    assert a.version != default_plan(profiles, "dev", tokenize_restricted=("full_name",)).version


def test_contract_maps_methods_by_entity_and_drops_unlisted(profiles):
    plan = plan_from_contract(profiles, "preprod", {
        "customer_id": M.tokenize, "email": M.format_preserving, "date_of_birth": M.generalize,
        "segment": M.none, "postcode": M.generalize, "phone": M.redact,
    }, name="customers.profiles")
    ops = {c: r.operator for c, r in plan.rules.items()}
    assert ops["email"] == "email" and ops["date_of_birth"] == "generalize_date" and ops["phone"] == "redact_text"
    assert ops["full_name"] == ops["iban"] == ops["country"] == "drop"
    shifted = plan_from_contract(profiles, "prod", {"date_of_birth": M.format_preserving}).rules["date_of_birth"]
    assert shifted.operator == "date_shift" and shifted.params["entity_column"] == "customer_id"


@pytest.mark.parametrize("columns, message", [
    ({"email": M.none}, "holds EMAIL_ADDRESS and cannot cross to preprod unmasked"),
    ({"email": M.tokenize}, "asks for tokenize, weaker than the default format_preserving"),
    ({"card_number": M.format_preserving}, "weaker than the default drop"),
    ({"amount": M.tokenize}, "has type float64; tokenize applies to string or int64"),
    ({"nope": M.drop}, "columns not in the manifest: nope"),
])
def test_contract_may_not_weaken_the_default_below_prod(catalog, columns, message):
    dataset = catalog.dataset("payments", "transactions") if "card_number" in columns or "amount" in columns \
        else catalog.dataset("customers", "profiles")
    with pytest.raises(PlanError, match=message):
        plan_from_contract(dataset, "preprod", columns, name="x.y")


def test_prod_contract_may_pass_pii_through(profiles):
    assert plan_from_contract(profiles, "prod", {"email": M.none}).rules["email"].operator == "keep"
    with pytest.raises(PlanError, match="unknown environment 'qa'"):
        default_plan(profiles, "qa")


def test_generalize_keeps_the_month_of_a_feature_date_and_year_bands_for_a_quasi_identifier(profiles):
    plan = plan_from_contract(profiles, "preprod", {"customer_id": M.tokenize, "account_opened_at": M.generalize,
                                                   "date_of_birth": M.generalize}, name="customers.profiles")
    opened, born = plan.rules["account_opened_at"], plan.rules["date_of_birth"]
    assert (opened.operator, opened.params, opened.quasi_identifier) == ("generalize_date", {"months": 1}, True)
    assert (born.operator, born.params, born.quasi_identifier) == ("generalize_date", {"years": 1}, True)
