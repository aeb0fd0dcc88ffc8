"""The LLM strategy against a real loopback HTTP server speaking the OpenAI chat API."""

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation_graph.messages import Performative
from negotiation_graph.runner import Negotiator
from negotiation_graph.scoring import consumer_utility
from negotiation_graph.strategies import Briefing, RuleStrategy, Turn
from negotiation_graph.strategies.llm import LLMConfigError, LLMStrategy, chat_model_from_env
from tests.negotiation_graph.ports_in_memory import ShareRule, TableGate
from tests.negotiation_graph.sample_world import M, context, fraud_need, listings, rules
from tests.negotiation_graph.strategies.chat_stub import ChatStub, tool_call


def negotiate_with(stub: ChatStub, **ctx_args):
    ctx = context(strategy=LLMStrategy(stub.chat_model()), **ctx_args)
    return ctx, Negotiator(ctx).run(fraud_need())


def test_the_models_choice_is_honoured_and_its_rationale_carried():
    with ChatStub(lambda req: (200, tool_call({"index": 1, "rationale": "a firmer offer first"}))) as stub:
        turn = Turn("consumer", (0.2, 0.4, 0.6, 0.8, 1.0), 0.5, 6, 8, incoming=1)
        move = LLMStrategy(stub.chat_model()).decide(turn, Briefing("fraud_detection", ("channel",), tuple("abcde")))
    assert move.kind == "counter" and move.index == 4 and move.rationale == "a firmer offer first"
    assert RuleStrategy().candidates(turn, 3) == [3, 4]


def test_a_whole_negotiation_with_the_llm_reaches_agreement_with_the_models_rationales():
    with ChatStub(lambda req: (200, tool_call({"index": 0, "rationale": "fair and inside policy"}))) as stub:
        ctx, report = negotiate_with(stub)
    assert report.outcome.status == "agreed" and stub.requests
    counters = [m for m in report.transcript if m.performative is Performative.COUNTER]
    assert counters and all(m.rationale == "fair and inside policy" for m in counters)
    assert all("llm_fallback" not in m.reason_codes for m in report.transcript)


@pytest.mark.parametrize(
    "reply",
    [
        lambda req: (200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "I pick the best one!"}}]}),
        lambda req: (200, tool_call("{not json")),
        lambda req: (200, tool_call({"index": 99, "rationale": "out of range"})),
        lambda req: (200, tool_call({"index": 0, "rationale": "x", "columns": {"card_number": "none"}})),
        lambda req: (500, "upstream exploded"),
    ],
    ids=["prose", "garbage-json", "out-of-range", "extra-fields", "http-500"],
)
def test_bad_model_output_falls_back_to_the_rules_logged_and_marked(reply, caplog):
    with caplog.at_level(logging.WARNING), ChatStub(reply) as stub:
        ctx, report = negotiate_with(stub)
    rules_ctx = context()
    rules_report = Negotiator(rules_ctx).run(fraud_need())
    assert [a.terms for a in report.agreements] == [a.terms for a in rules_report.agreements]
    counters = [m for m in report.transcript if m.performative is Performative.COUNTER]
    assert counters and all("llm_fallback" in m.reason_codes for m in counters)
    assert "llm_fallback" in caplog.text


# Prompt injection with a model that obeys inside the schema, on the real catalog and Cedar gate:
# tests/hurricane_assets/test_negotiation_injection.py


def test_without_a_model_configured_the_llm_strategy_says_which_variable_is_missing(monkeypatch):
    monkeypatch.delenv("HURRICANE_LLM_MODEL", raising=False)
    with pytest.raises(LLMConfigError, match="HURRICANE_LLM_MODEL"):
        chat_model_from_env()


def test_llm_strategy_from_env_talks_to_the_configured_endpoint(monkeypatch):
    with ChatStub(lambda req: (200, tool_call({"index": 0, "rationale": "ok"}))) as stub:
        monkeypatch.setenv("HURRICANE_LLM_MODEL", "local-stub")
        monkeypatch.setenv("HURRICANE_LLM_BASE_URL", stub.base_url)
        monkeypatch.setenv("HURRICANE_LLM_API_KEY", "unused")
        move = LLMStrategy.from_env().decide(
            Turn("producer", (0.0, -1.0, -2.0), -2.0, 1, 8, incoming=2), Briefing("p", ("f",), ("a", "b", "c"))
        )
    assert move.kind == "counter" and stub.requests[0]["model"] == "local-stub"


class ScriptedChooser:
    """A stand-in chat model for the property test: returns Hypothesis-drawn indices (often invalid)."""

    def __init__(self, picks):
        self.picks = iter(picks)

    def with_structured_output(self, schema, method):
        return self

    def invoke(self, messages):
        from negotiation_graph.strategies.llm import Choice

        return Choice(index=next(self.picks, 0), rationale="drawn")


envelopes = st.fixed_dictionaries({
    "channel": st.sampled_from([M.none, M.tokenize, M.generalize, None]),
    "device_id": st.sampled_from([M.tokenize, M.format_preserving, None]),
    "account_opened_at": st.sampled_from([M.none, M.generalize, None]),
    "retention": st.integers(10, 200),
    "term": st.integers(10, 200),
    "reservation": st.floats(0.0, 0.9),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(envelope=envelopes, picks=st.lists(st.integers(-2, 6), max_size=20))
def test_random_envelopes_and_random_model_choices_never_yield_an_agreement_outside_either(envelope, picks):
    from negotiation_graph.context import NegotiationLimits

    masks = {c: m for c, m in envelope.items() if c in ("channel", "device_id", "account_opened_at") and m}
    table = rules(
        **{
            "payments.transactions": ShareRule(
                purposes=("fraud_detection",), environments=("preprod",),
                min_masking={"txn_id": M.tokenize, **{c: masks[c] for c in ("channel", "device_id") if c in masks}},
                max_retention_days=envelope["retention"], max_term_days=envelope["term"]),
            "customers.profiles": ShareRule(
                purposes=("fraud_detection",), environments=("preprod",),
                min_masking={"customer_id": M.tokenize, **({"account_opened_at": masks["account_opened_at"]} if "account_opened_at" in masks else {})},
                max_retention_days=envelope["retention"], max_term_days=envelope["term"]),
        }
    )
    need = fraud_need()
    ctx = context(gate=TableGate(table), strategy=LLMStrategy(ScriptedChooser(picks)),
                  limits=NegotiationLimits(consumer_reservation=envelope["reservation"]))
    report = Negotiator(ctx).run(need)
    for agreement in report.agreements:
        terms = agreement.terms
        assert TableGate(table).evaluate(terms).allowed  # the producer's envelope
        assert terms.purpose == need.purpose and terms.environment == need.environment  # the consumer's
        assert terms.retention_days <= need.retention_days and terms.term_days <= need.term_days
        assert set(terms.columns) - {"txn_id", "customer_id"} <= {"channel", "device_id", "account_opened_at"}
        listing = next(l for l in listings() if l.dataset == terms.dataset)
        worth = consumer_utility(need, listing, terms, agreement.features)
        assert worth >= envelope["reservation"] * sum(need.wanted[f] for f in agreement.features) - 1e-9
