"""Acceptance of the negotiation on the real platform: the reference catalog, the Cedar policies
of the domains, the Delta ledger and the domains' Ed25519 keys."""

from datetime import UTC, datetime

import pytest
from deltalake import DeltaTable

from hurricane_assets.agents.exchange import SYSTEM_ACTOR
from hurricane_assets.catalog import load_catalog
from hurricane_assets.ledger import verify_ledger
from hurricane_assets.negotiation_runtime import (
    CatalogDirectory,
    NegotiationNotFound,
    NotAwaitingHuman,
    load_transcript,
    resume_negotiation,
    run_negotiation,
)
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.context import NegotiationLimits, fixed_clock
from negotiation_graph.messages import Performative
from negotiation_graph.terms import Environment, MaskingMethod, NeedSpec
from tests.hurricane_assets.approver_keys import answer, register_approver
from tests.transcripts import logged_bytes
from tests.trust_keys import install_keys

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def fraud_need(**changes) -> NeedSpec:
    fields = dict(need_id="fraud-model-drift-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
                  environment=Environment.preprod, join_entities=("customer", "transaction"),
                  wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3})
    return NeedSpec(**(fields | changes))


def ledger_rows() -> list[dict]:
    return DeltaTable(hurricane_paths().ledger).to_pyarrow_table().to_pylist()


def assert_ledger_holds(transcript, beside: tuple[str, ...] = ()) -> None:
    """Every message of the transcript is in the ledger with the same bytes, written by the log for
    the domain that signed it, and nothing else of it (a human's signed approval, the contracts and
    the entry types in `beside` are their own entries beside the transcript)."""
    rows = [r for r in ledger_rows() if r["negotiation_id"] == transcript[0].negotiation_id
            and r["entry_type"] not in ("HUMAN_APPROVAL", "CONTRACT_SIGNED", *beside)]
    assert {r["actor"] for r in rows} == {SYSTEM_ACTOR}
    assert {m.msg_id: logged_bytes(m) for m in transcript} == {r["entry_id"]: r["payload_json"] for r in rows}


def test_the_fraud_models_need_is_agreed_with_payments_and_customers_inside_cedar_policy():
    result = run_negotiation(fraud_need(), clock=fixed_clock(T0))
    assert result.status == "done" and result.outcome.status == "agreed"
    by_dataset = {f"{a.producer}.{a.dataset}": a for a in result.agreements}
    assert set(by_dataset) == {"payments.transactions", "customers.profiles"}
    assert by_dataset["payments.transactions"].features == ("channel", "device")
    assert set(by_dataset["customers.profiles"].terms.columns) == {"customer_id", "account_opened_at"}
    gate = CedarPolicyGate(load_catalog())
    for agreement in result.agreements:
        assert gate.evaluate(agreement.terms).allowed
        assert agreement.rounds <= NegotiationLimits().max_rounds
    offers = [m for m in result.transcript if m.terms is not None]
    assert offers and all(gate.evaluate(m.terms).allowed for m in offers)
    verdict = verify_ledger()
    assert verdict.ok, verdict.problem
    # every message once; the one other entry pins the policy bundle the negotiation ran under
    ids = [row["entry_id"] for row in ledger_rows() if row["entry_type"] != "POLICY_CHANGED"]
    assert [row["entry_type"] for row in ledger_rows()].count("POLICY_CHANGED") == 1
    assert len(ids) == len(set(ids)) == len(result.transcript)


def test_join_keys_keep_the_masking_that_joins_with_the_consumers_own_copies():
    """txn_id is a non-PII id the default masking plan keeps plain below prod, customer_id a PII
    id it tokenizes with an entity context: the join key takes the weakest masking Cedar allows,
    in every offer of either side, so the agreed share joins the consumer's copies."""
    result = run_negotiation(fraud_need(), clock=fixed_clock(T0))
    by_dataset = {f"{a.producer}.{a.dataset}": a for a in result.agreements}
    assert by_dataset["payments.transactions"].terms.columns["txn_id"] is MaskingMethod.none
    assert by_dataset["customers.profiles"].terms.columns["customer_id"] is MaskingMethod.tokenize
    for message in result.transcript:
        if message.terms is not None and message.terms.dataset == "transactions":
            assert message.terms.columns["txn_id"] is MaskingMethod.none, message.performative
        if message.terms is not None and message.terms.dataset == "profiles":
            assert message.terms.columns["customer_id"] is MaskingMethod.tokenize, message.performative


def test_forbidden_columns_are_refused_with_cedars_reason_and_the_rest_agreed():
    need = fraud_need(wanted={"channel": 0.4, "card_number": 0.3, "national_id": 0.1, "account_age": 0.2})
    result = run_negotiation(need, clock=fixed_clock(T0))
    assert result.outcome.status == "partial"
    assert result.outcome.unserved_features == ("card_number", "national_id")
    shared = {c for a in result.agreements for c in a.terms.columns}
    assert {"channel", "account_opened_at"} <= shared and not {"card_number", "national_id"} & shared
    refused = {c: r for a in result.agreements for c, r in a.refused_columns.items()}
    assert refused["card_number"] == ("column_never_shared",) and "national_id" in refused


def test_a_purpose_no_producer_allows_ends_at_once_with_reasons():
    result = run_negotiation(fraud_need(purpose="credit_scoring"), clock=fixed_clock(T0))
    assert result.outcome.status == "no_deal" and not result.agreements
    assert {"no_zopa", "purpose_not_allowed"} <= set(result.outcome.reason_codes)
    assert {m.performative for m in result.transcript} == {Performative.CFP, Performative.REFUSE}
    assert [row["entry_type"] for row in ledger_rows()].count("NO_DEAL") == 1


def test_same_need_in_a_fresh_home_gives_the_same_terms(tmp_path, monkeypatch):
    first = run_negotiation(fraud_need(), clock=fixed_clock(T0))
    monkeypatch.setenv("HURRICANE_HOME", str(tmp_path / "other"))
    install_keys(tmp_path / "other")
    second = run_negotiation(fraud_need(), clock=fixed_clock(T0))
    assert first.negotiation_id == second.negotiation_id
    assert [a.terms.canonical() for a in first.agreements] == [a.terms.canonical() for a in second.agreements]


def test_restricted_escalation_pauses_and_a_named_human_approves():
    need = fraud_need(need_id="analytics-1", consumer="marketing", purpose="customer_analytics",
                      join_entities=("customer",), wanted={"account_age": 1.0})
    paused = run_negotiation(need, clock=fixed_clock(T0))
    assert paused.status == "awaiting_human" and not paused.agreements
    assert [a.dataset for a in paused.pending_approval] == ["profiles"]
    assert "AGREEMENT" not in [row["entry_type"] for row in ledger_rows()]
    # one commit per negotiation, but what the human is asked to judge is in the ledger already
    assert_ledger_holds(paused.transcript)
    alice = register_approver("alice", "customers")
    done = resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0)
    assert done.outcome.status == "agreed"
    assert_ledger_holds(done.transcript)
    resumed = [row for row in ledger_rows() if row["entry_type"] == "RESUMED"]
    assert len(resumed) == 1 and '"decided_by":"alice (approver key' in resumed[0]["payload_json"]
    assert [row["entry_type"] for row in ledger_rows()].count("HUMAN_APPROVAL") == 1
    assert verify_ledger().ok
    with pytest.raises(NotAwaitingHuman):
        resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0)


def test_a_denied_escalation_ends_without_a_deal():
    need = fraud_need(need_id="analytics-2", consumer="marketing", purpose="customer_analytics",
                      join_entities=("customer",), wanted={"account_age": 1.0})
    paused = run_negotiation(need, clock=fixed_clock(T0))
    bob = register_approver("bob", "customers")
    done = resume_negotiation(paused.negotiation_id, answer(bob, "bob", paused, False, T0), now=T0)
    assert done.outcome.status == "no_deal" and "human_denied" in done.outcome.reason_codes
    transcript = load_transcript(paused.negotiation_id)
    assert transcript[-1].performative is Performative.HUMAN_DECISION and transcript[-1].decided_by.startswith("bob ")


def test_catalog_directory_lists_other_domains_datasets_joinable_on_the_need():
    listings = CatalogDirectory(load_catalog()).listings(fraud_need())
    names = {f"{l.producer}.{l.dataset}" for l in listings}
    assert {"payments.transactions", "customers.profiles", "support.tickets"} <= names
    assert not any(l.producer == "risk" for l in listings)
    transactions = next(l for l in listings if l.dataset == "transactions")
    assert transactions.columns["device_id"].sensitivity == 2 and "device" in transactions.columns["device_id"].tags
    assert transactions.join_entities == ("customer", "transaction")


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown negotiation strategy 'genius'"):
        run_negotiation(fraud_need(), strategy="genius")
    with pytest.raises(NegotiationNotFound):
        load_transcript("no-such-negotiation")
    with pytest.raises(NegotiationNotFound):
        resume_negotiation("whatever", None, now=T0)


def test_a_need_naming_an_unknown_domain_or_listing_is_refused_before_anything_runs(hurricane_home):
    known = "customers, marketing, payments, risk, support"
    with pytest.raises(ValueError, match=f"^consumer: unknown domain 'nosuch'; known: {known}$"):
        run_negotiation(fraud_need(consumer="nosuch"))
    with pytest.raises(ValueError, match="^listings: unknown dataset payments.nope; payments offers: "):
        run_negotiation(fraud_need(listings=("payments.nope",)))
    with pytest.raises(ValueError, match="^listings: unknown domain 'shop'"):
        run_negotiation(fraud_need(listings=("shop.orders",)))
    assert not hurricane_paths().checkpoints.exists() and not (hurricane_home / "ledger").exists()


def test_support_narrows_tickets_to_90_days_for_analytics_instead_of_refusing():
    """support's Cedar rule denies tickets for analytics beyond 90 days: the producer offers a
    window instead of refusing, the sides bargain over it, and no offer ever passes 90 days."""
    need = NeedSpec(need_id="ticket-analytics-1", consumer="customers", model="csat_model",
                    purpose="customer_analytics", environment=Environment.preprod, join_entities=("customer",),
                    wanted={"category": 0.5, "priority": 0.5})
    result = run_negotiation(need, clock=fixed_clock(T0))
    tickets = [a for a in result.agreements if a.dataset == "tickets"]
    assert len(tickets) == 1, result.outcome
    window = tickets[0].terms.row_filter.since_days
    assert window is not None and window <= 90
    offers = [m for m in result.transcript if m.terms is not None and m.terms.dataset == "tickets"]
    assert offers and all(0 < m.terms.row_filter.since_days <= 90 for m in offers)
    assert offers[0].terms.row_filter.since_days < 90 <= window  # conceded from 30 to the policy's 90
    gate = CedarPolicyGate(load_catalog())
    assert all(gate.evaluate(m.terms).allowed for m in offers)
    whole = tickets[0].terms.model_copy(update={"row_filter": tickets[0].terms.row_filter.model_copy(
        update={"since_days": None})})
    assert gate.evaluate(whole).columns["category"].reasons == ("window_too_long",)


def test_after_a_policy_change_the_same_need_is_negotiated_anew_under_the_new_bundle(tmp_path):
    """The negotiation id includes the policy bundle's hash: the same need under a changed policy is a
    new negotiation decided by the new rules, never the result stored under the old ones."""
    import shutil

    from hurricane_assets.catalog.catalog import default_domains_dir
    from hurricane_assets.negotiation_runtime import negotiator, platform_context
    from negotiation_graph.runner import negotiation_id_for

    first = run_negotiation(fraud_need(), clock=fixed_clock(T0))
    assert run_negotiation(fraud_need(), clock=fixed_clock(T0)).negotiation_id == first.negotiation_id
    shared = {a.dataset: set(a.terms.shared_columns()) for a in first.agreements}
    assert "device_id" in shared["transactions"]

    policies = tmp_path / "policies"  # payments stops sharing device ids
    shutil.copytree(default_domains_dir(), policies, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    payments = policies / "payments" / "policy.cedar"
    payments.write_text(payments.read_text() + '\n@id("no-devices-any-more")\n@reason("column_never_shared")\n'
                        'forbid (principal, action == Action::"share", resource) when { resource.pii == "DEVICE_ID" };\n')
    gate = CedarPolicyGate(load_catalog(), policy_dir=policies)
    with negotiator(platform_context(gate=gate, clock=fixed_clock(T0))) as n:
        changed = n.run(fraud_need())
    assert changed.negotiation_id == negotiation_id_for(fraud_need(), gate.bundle_sha256) != first.negotiation_id
    assert {a.policy_bundle_sha256 for a in changed.agreements} == {gate.bundle_sha256}
    transactions = next(a for a in changed.agreements if a.dataset == "transactions")
    assert "device_id" not in transactions.terms.shared_columns()


def test_producers_answer_in_parallel_only_where_a_party_waits_on_the_network(monkeypatch):
    """In-process agents with the rules strategy are CPU only (one task at a time); agents over A2A
    or an LLM strategy wait on the network, so the fan-out stays parallel."""
    monkeypatch.setenv("HURRICANE_LLM_MODEL", "stub")  # configured, never called: nothing negotiates here
    from hurricane_assets.agents.exchange import Exchange
    from hurricane_assets.negotiation_runtime import platform_context

    embedded = Exchange.embedded()
    over_http = Exchange.over_http({d: "http://127.0.0.1:9/" for d in embedded.domains})
    assert embedded.in_process and not over_http.in_process
    assert platform_context(exchange=embedded).parallel_parties is False
    assert platform_context(exchange=embedded, strategy="llm").parallel_parties is True
    assert platform_context(exchange=over_http).parallel_parties is True


def test_an_approval_after_the_policy_forbade_the_share_ends_recorded_not_stuck(tmp_path, monkeypatch):
    """The policy changes while the negotiation waits for a human: the approval is recorded, the
    commit re-checks the agreement, and the negotiation ends with POLICY_DENIED and an outcome, its
    transcript and the ledger holding the same messages. Before, the consumer's agent refused to sign
    the AGREEMENT, the resume failed after the approval was recorded and the negotiation was stuck."""
    import shutil

    from hurricane_assets.catalog.catalog import default_domains_dir

    need = fraud_need(need_id="analytics-3", consumer="marketing", purpose="customer_analytics",
                      join_entities=("customer",), wanted={"account_age": 0.5, "channel": 0.5})
    paused = run_negotiation(need, clock=fixed_clock(T0))
    assert [a.dataset for a in paused.pending_approval if a.requires_human] == ["profiles"]
    alice = register_approver("alice", "customers", "payments")  # the approval names every pending agreement

    policies = tmp_path / "policies"  # customers stops sharing profiles for analytics during the pause
    shutil.copytree(default_domains_dir(), policies, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    customers = policies / "customers" / "policy.cedar"
    customers.write_text(customers.read_text() + '\n@id("no-analytics-on-profiles")\n@reason("purpose_not_allowed")\n'
                         'forbid (principal, action == Action::"share", resource)\n'
                         'when { resource.dataset == "profiles" && context.purpose == "customer_analytics" };\n')
    monkeypatch.setattr("hurricane_assets.policy.gate.default_domains_dir", lambda: policies)

    done = resume_negotiation(paused.negotiation_id, answer(alice, "alice", paused, True, T0), now=T0)
    assert done.status == "done" and done.outcome.status == "partial"
    assert "policy_denied" in done.outcome.reason_codes and "account_age" in done.outcome.unserved_features
    assert [a.dataset for a in done.agreements] == ["transactions"]
    assert_ledger_holds(done.transcript, beside=("POLICY_DENIED",))
    rows = [r for r in ledger_rows() if r["negotiation_id"] == paused.negotiation_id]
    denied = [r for r in rows if r["entry_type"] == "POLICY_DENIED"]
    assert len(denied) == 1 and '"stage":"commit"' in denied[0]["payload_json"]
    assert [r["entry_type"] for r in rows].count("RESUMED") == 1
    assert verify_ledger().ok
