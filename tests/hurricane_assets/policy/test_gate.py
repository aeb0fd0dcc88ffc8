import shutil

import pytest

from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.policy import CedarPolicyGate
from negotiation_graph.ports import PolicyGate
from negotiation_graph.terms import MaskingMethod, RowFilter, ShareTerms


@pytest.fixture(scope="module")
def gate():
    return CedarPolicyGate()


def terms(producer, dataset, columns, *, consumer="risk", purpose="fraud_detection", env="preprod", retention=90, term=90):
    return ShareTerms(
        producer=producer,
        consumer=consumer,
        dataset=dataset,
        columns=columns,
        purpose=purpose,
        environment=env,
        freshness_hours=24,
        retention_days=retention,
        term_days=term,
    )


# (producer, dataset, consumer, purpose, env, column, masking, allowed, reason if denied)
CASES = [
    # payments: transactions to risk for fraud; device_id tokenized at least; card number never
    ("payments", "transactions", "risk", "fraud_detection", "preprod", "amount", "none", True, None),
    ("payments", "transactions", "risk", "fraud_detection", "preprod", "device_id", "tokenize", True, None),
    ("payments", "transactions", "risk", "fraud_detection", "prod", "device_id", "none", False, "masking_too_weak"),
    ("payments", "transactions", "risk", "fraud_detection", "prod", "card_number", "redact", False, "column_never_shared"),
    ("payments", "transactions", "risk", "fraud_detection", "preprod", "customer_id", "none", False, "masking_too_weak"),
    ("payments", "transactions", "risk", "fraud_detection", "prod", "customer_id", "none", True, None),
    ("payments", "transactions", "marketing", "churn_prediction", "preprod", "channel", "none", True, None),
    ("payments", "transactions", "marketing", "churn_prediction", "preprod", "device_id", "tokenize", False, "not_permitted"),
    ("payments", "transactions", "risk", "marketing_campaigns", "preprod", "amount", "none", False, "purpose_not_allowed"),
    ("payments", "chargebacks", "risk", "fraud_detection", "dev", "amount", "none", False, "environment_not_allowed"),
    # customers: features freely, contact details format-preserving, full name never below prod
    ("customers", "profiles", "risk", "fraud_detection", "dev", "account_opened_at", "none", True, None),
    ("customers", "profiles", "marketing", "churn_prediction", "dev", "segment", "none", True, None),
    ("customers", "profiles", "risk", "fraud_detection", "preprod", "email", "format_preserving", True, None),
    ("customers", "profiles", "risk", "fraud_detection", "preprod", "email", "tokenize", False, "masking_too_weak"),
    ("customers", "profiles", "risk", "fraud_detection", "preprod", "full_name", "redact", False, "column_never_shared"),
    ("customers", "profiles", "risk", "fraud_detection", "prod", "national_id", "redact", False, "column_never_shared"),
    ("customers", "profiles", "risk", "fraud_detection", "preprod", "postcode", "generalize", True, None),
    ("customers", "profiles", "risk", "fraud_detection", "preprod", "iban", "drop", True, None),
    # support: tickets only with the body redacted
    ("support", "tickets", "marketing", "churn_prediction", "preprod", "body", "redact", True, None),
    ("support", "tickets", "marketing", "churn_prediction", "prod", "body", "tokenize", False, "masking_too_weak"),
    ("support", "tickets", "marketing", "churn_prediction", "dev", "category", "none", True, None),
    # marketing: sessions for churn and analytics; campaign notes only redacted
    ("marketing", "web_sessions", "customers", "customer_analytics", "dev", "pages_viewed", "none", True, None),
    ("marketing", "web_sessions", "customers", "customer_analytics", "prod", "campaign_notes", "generalize", False, "masking_too_weak"),
    ("marketing", "churn_labels", "risk", "fraud_detection", "prod", "churned", "none", False, "purpose_not_allowed"),
    # risk: fraud only, never to marketing
    ("risk", "fraud_labels", "payments", "fraud_detection", "preprod", "is_fraud", "none", True, None),
    ("risk", "alerts", "marketing", "fraud_detection", "prod", "rule_score", "none", False, "consumer_not_allowed"),
]


@pytest.mark.parametrize("producer,dataset,consumer,purpose,env,column,masking,allowed,reason", CASES)
def test_policy_table(gate, producer, dataset, consumer, purpose, env, column, masking, allowed, reason):
    decision = gate.evaluate(
        terms(producer, dataset, {column: MaskingMethod(masking)}, consumer=consumer, purpose=purpose, env=env)
    )
    col = decision.columns[column]
    assert col.allowed is allowed, col
    if allowed:
        assert col.policy_ids, "an allow names the permit that granted it"
    else:
        assert reason in col.reasons, col


def test_gate_implements_port_and_decides_every_column(gate):
    assert isinstance(gate, PolicyGate)
    offer = terms(
        "payments",
        "transactions",
        {"txn_id": "none", "customer_id": "tokenize", "amount": "none", "device_id": "tokenize", "card_number": "drop"},
    )
    decision = gate.evaluate(offer)
    assert decision.allowed and set(decision.columns) == set(offer.columns)
    assert decision.bundle_sha256 == gate.bundle_sha256 and len(decision.decision_id) == 36
    assert "payments/transactions-to-risk-for-fraud" in decision.columns["amount"].policy_ids
    assert gate.evaluate(offer).decision_id != decision.decision_id


def test_implicit_deny_gets_computed_reason(gate):
    decision = gate.evaluate(terms("payments", "transactions", {"amount": "none"}, retention=200))
    assert decision.columns["amount"].reasons == ("retention_too_long",)
    assert not decision.allowed


def test_share_level_reasons(gate):
    decision = gate.evaluate(terms("payments", "chargebacks", {"amount": "none"}, env="dev", purpose="support_quality"))
    assert set(decision.reasons) >= {"purpose_not_allowed", "environment_not_allowed"}
    assert "nothing_shared" in gate.evaluate(terms("payments", "transactions", {"amount": "drop"})).reasons


def test_unknown_column_and_dataset_fail_closed(gate):
    decision = gate.evaluate(terms("payments", "transactions", {"amount": "none", "secret": "none"}))
    assert decision.columns["secret"].reasons == ("unknown_column",) and not decision.allowed
    unknown = gate.evaluate(terms("payments", "ledger", {"amount": "none"}))
    assert unknown.reasons == ("unknown_dataset",) and not unknown.allowed


def test_consumer_outside_the_catalog_is_denied(gate):
    decision = gate.evaluate(terms("payments", "transactions", {"amount": "none"}, consumer="intruder"))
    assert decision.columns["amount"].reasons == ("invalid_request",)


def test_requires_human_for_restricted_and_off_list_purposes(gate):
    auto = gate.evaluate(terms("customers", "profiles", {"segment": "none"}, purpose="churn_prediction"))
    assert auto.allowed and not auto.requires_human
    human = gate.evaluate(terms("customers", "profiles", {"segment": "none"}, purpose="customer_analytics"))
    assert human.allowed and human.requires_human
    assert "requires_human:customers/analytics-needs-a-human" in human.reasons


def test_feasible_masking_finds_the_weakest_allowed(gate):
    offer = terms("payments", "transactions", {"amount": "none"})
    assert gate.feasible_masking(offer, "amount") is MaskingMethod.none
    assert gate.feasible_masking(offer, "device_id") is MaskingMethod.tokenize
    assert gate.feasible_masking(offer, "ip_address") is MaskingMethod.generalize
    assert gate.feasible_masking(offer, "card_number") is None
    body = terms("support", "tickets", {"category": "none"}, consumer="marketing", purpose="churn_prediction")
    assert gate.feasible_masking(body, "body") is MaskingMethod.redact
    email = terms("customers", "profiles", {"segment": "none"})
    assert gate.allowed_maskings(email, "email") == (
        MaskingMethod.format_preserving,
        MaskingMethod.generalize,
        MaskingMethod.redact,
        MaskingMethod.drop,
    )


def test_row_filter_is_in_the_context(gate):
    offer = terms("payments", "transactions", {"amount": "none"}).model_copy(
        update={"row_filter": RowFilter(since_days=30)}
    )
    assert gate.evaluate(offer).allowed


def _policy_dir(tmp_path, customers_policy: str):
    root = tmp_path / "policies"
    (root / "customers").mkdir(parents=True)
    shutil.copy(default_domains_dir() / "org_policy.cedar", root / "org_policy.cedar")
    (root / "customers" / "policy.cedar").write_text(customers_policy)
    return root


def test_org_policy_overrides_a_permissive_domain_policy(tmp_path):
    permissive = '@id("share-everything")\npermit (principal, action, resource);\n'
    gate = CedarPolicyGate(policy_dir=_policy_dir(tmp_path, permissive))
    offer = terms(
        "customers",
        "profiles",
        {"segment": "none", "national_id": "redact", "full_name": "none", "email": "none"},
        env="dev",
        retention=400,
    )
    decision = gate.evaluate(offer)
    assert decision.columns["national_id"].reasons == ("column_never_shared", "retention_too_long")
    assert "org/national-id-never-shared" in decision.columns["national_id"].policy_ids
    assert "masking_too_weak" in decision.columns["full_name"].reasons
    assert "masking_too_weak" in decision.columns["email"].reasons
    relaxed = gate.evaluate(offer.model_copy(update={"retention_days": 30, "columns": {"segment": MaskingMethod.none}}))
    assert relaxed.allowed and relaxed.columns["segment"].policy_ids == ("customers/share-everything",)
    # other domains have no policy file in this folder, so they share nothing
    assert not gate.evaluate(terms("payments", "transactions", {"amount": "none"})).allowed


def test_bundle_hash_changes_with_any_policy_text(tmp_path):
    one = CedarPolicyGate(policy_dir=_policy_dir(tmp_path / "a", '@id("a")\npermit (principal, action, resource);\n'))
    two = CedarPolicyGate(policy_dir=_policy_dir(tmp_path / "b", '@id("b")\npermit (principal, action, resource);\n'))
    assert one.bundle_sha256 != two.bundle_sha256


def test_bundle_hash_changes_with_a_manifest_the_policy_reads():
    """Cedar decides on the manifests' facts too (allowed environments, classification, tags): a
    manifest change kept the hash, so the same need returned the negotiation stored under the old one."""
    from hurricane_assets.catalog import load_catalog
    from hurricane_assets.catalog.catalog import Catalog

    catalog = load_catalog()
    product = catalog.products["payments"]
    transactions = product.datasets["transactions"].model_copy(update={"allowed_environments": ("prod",)})
    changed = Catalog({**catalog.products, "payments": product.model_copy(
        update={"datasets": {**product.datasets, "transactions": transactions}})})
    before, after = CedarPolicyGate(catalog), CedarPolicyGate(changed)
    assert before.bundle_sha256 != after.bundle_sha256
    assert before.bundle.file_sha256["entities (from the manifests)"] != after.bundle.file_sha256[
        "entities (from the manifests)"]
    assert not after.evaluate(terms("payments", "transactions", {"amount": "generalize"})).allowed
