"""Cedar sees what a row filter keeps (window, countries, consent, sample), not a yes/no flag: the
domains' real rule on tickets denies a window too long, and a policy can require each attribute."""

import shutil

import pytest

from hurricane_assets.catalog.catalog import default_domains_dir
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.policy.model import UNBOUNDED_WINDOW_DAYS, row_filter_attributes
from negotiation_graph.terms import Predicate, RowFilter, ShareTerms


@pytest.fixture(scope="module")
def gate():
    return CedarPolicyGate()


def tickets(purpose: str, rows: RowFilter = RowFilter(), consumer: str = "customers") -> ShareTerms:
    return ShareTerms(producer="support", consumer=consumer, dataset="tickets",
                      columns={"customer_id": "tokenize", "category": "none", "priority": "none"},
                      row_filter=rows, purpose=purpose, environment="preprod",
                      freshness_hours=24, retention_days=90, term_days=90)


@pytest.mark.parametrize("window, allowed", [(None, False), (365, False), (91, False), (90, True), (30, True)])
def test_support_shares_tickets_for_analytics_only_for_the_last_90_days(gate, window, allowed):
    decision = gate.evaluate(tickets("customer_analytics", RowFilter(since_days=window)))
    assert decision.allowed is allowed
    if not allowed:  # the rule's own reason, on every column that would cross
        assert {r for c in decision.columns.values() for r in c.reasons} == {"window_too_long"}


def test_the_window_rule_leaves_fraud_detection_whole_as_the_demo_needs(gate):
    assert gate.evaluate(tickets("fraud_detection", consumer="risk")).allowed


def test_attributes_cedar_sees_of_a_filter():
    columns = {"country": type("Spec", (), {"tags": ()})(), "ok": type("Spec", (), {"tags": ("consent",)})()}
    rows = RowFilter(
        all_of=(Predicate(column="country", op="in", values=("FR", "DE")), Predicate(column="ok", op="eq", values=(True,)),
                Predicate(column="amount", op=">=", values=(10,))),
        since_days=45, sample_fraction=0.101)
    assert row_filter_attributes(rows, columns) == {
        "window_days": 45, "consented_only": True, "sample_percent": 11, "all_countries": False,
        "countries": ["DE", "FR"], "other_predicates": 1,
    }
    assert row_filter_attributes(RowFilter(), columns) == {
        "window_days": UNBOUNDED_WINDOW_DAYS, "consented_only": False, "sample_percent": 100, "all_countries": True,
        "countries": [], "other_predicates": 0,
    }
    # a consent predicate on a column not tagged consent is just another predicate
    assert row_filter_attributes(rows, {})["consented_only"] is False


RULES = '''@id("profiles-rows")
permit (principal, action == Action::"share", resource)
when {
  resource.dataset == "profiles" &&
  context.row_filter.sample_percent <= 20 &&
  !context.row_filter.all_countries &&
  ["DE", "FR"].containsAll(context.row_filter.countries)
};
'''


def test_a_policy_can_require_a_sample_and_a_set_of_countries(tmp_path):
    root = tmp_path / "policies"
    (root / "customers").mkdir(parents=True)
    shutil.copy(default_domains_dir() / "org_policy.cedar", root / "org_policy.cedar")
    (root / "customers" / "policy.cedar").write_text(RULES)
    gate = CedarPolicyGate(policy_dir=root)

    def profiles(rows: RowFilter) -> bool:
        return gate.evaluate(ShareTerms(
            producer="customers", consumer="risk", dataset="profiles", columns={"segment": "none"}, row_filter=rows,
            purpose="fraud_detection", environment="preprod", freshness_hours=24, retention_days=90,
            term_days=90)).allowed

    de = Predicate(column="country", op="eq", values=("DE",))
    assert profiles(RowFilter(all_of=(de,), sample_fraction=0.2))
    assert not profiles(RowFilter(all_of=(de,), sample_fraction=0.21))  # rounded up: 21 %
    assert not profiles(RowFilter(sample_fraction=0.1))  # all countries
    assert not profiles(RowFilter(all_of=(Predicate(column="country", op="in", values=("DE", "US")),),
                                  sample_fraction=0.1))
    assert not profiles(RowFilter(all_of=(de,)))  # no sample: 100 %
    # the reason the gate gives for the implicit deny names the narrowing that would help
    denied = gate.evaluate(ShareTerms(
        producer="customers", consumer="risk", dataset="profiles", columns={"segment": "none"},
        row_filter=RowFilter(all_of=(de,)), purpose="fraud_detection", environment="preprod",
        freshness_hours=24, retention_days=90, term_days=90))
    assert denied.columns["segment"].reasons == ("sample_too_large",)
