"""The embedded default of separate principals: one in-process agent per domain, each with a key
ring that loads its own key only; the exchange signs as itself or not at all."""

import json

import pytest

from hurricane_assets.agents.agent import AgentRefused
from hurricane_assets.agents.exchange import Exchange
from hurricane_assets.ledger import verify_ledger
from hurricane_assets.negotiation_runtime import run_negotiation
from negotiation_graph.context import fixed_clock
from tests.hurricane_assets.agents.fraud_deal import agree_and_contract_fraud_need
from tests.hurricane_assets.test_negotiation_runtime import T0, fraud_need, ledger_rows


def test_the_fraud_need_is_agreed_and_contracted_through_in_process_agents():
    exchange = Exchange.embedded()
    agree_and_contract_fraud_need(exchange)
    rows = ledger_rows()
    assert {r["actor"] for r in rows} == {"system:ledger"}  # the log signs every entry with its own key
    verdict = verify_ledger()
    assert verdict.ok, verdict.problem


class StopsAt:
    """In-process agents; `domain`'s agent stops (is removed) when it is asked to sign its first
    `performative` message: before answering, or with `answered` right after. Keyed on what is
    signed, not on a count of calls: a producer's datasets are negotiated in parallel branches, so
    the order of its calls across them is the scheduler's."""

    def __init__(self, transport, domain: str, performative: str, *, answered: bool = False):
        self.transport, self.domain, self.performative, self.answered = transport, domain, performative, answered

    def send(self, domain, request):
        body = request.payload.get("body")
        asked = domain == self.domain and isinstance(body, str) and json.loads(body).get("performative") == self.performative
        if asked and not self.answered:
            self.transport.agents.pop(domain, None)
        answer = self.transport.send(domain, request)
        if asked and self.answered:
            self.transport.agents.pop(domain, None)
        return answer


@pytest.mark.parametrize(
    "performative, answered, stand_in",
    [
        ("PROPOSE", False, "REFUSE"),  # payments stops when asked to sign its PROPOSE
        ("ACCEPT", True, "WITHDRAW"),  # stops after its ACCEPT, before signing the agreement
    ],
)
def test_a_producer_whose_agent_stops_is_recorded_and_the_others_agree(performative, answered, stand_in):
    exchange = Exchange.embedded()
    exchange.router.transport = StopsAt(exchange.router.transport, "payments", performative, answered=answered)
    result = run_negotiation(fraud_need(), clock=fixed_clock(T0), exchange=exchange)
    assert result.outcome.status == "partial" and "party_unavailable" in result.outcome.reason_codes
    assert "policy_denied" not in result.outcome.reason_codes
    assert [f"{a.producer}.{a.dataset}" for a in result.agreements] == ["customers.profiles"]
    gone = [m for m in result.transcript if m.sender == "system:ledger"]
    # one stand-in for the stopped step; a dataset of payments' that was still to be answered in a
    # parallel branch (its REFUSE for a dataset with no matching columns) gets one more of the same kind
    assert gone and {(m.performative.value, m.reason_codes) for m in gone} == {(stand_in, ("party_unavailable",))}
    for message in gone:
        exchange.signer.verify(message.canonical(), message.signature)  # signed by the exchange as itself
        assert message.signature.signer == "system"
    verdict = verify_ledger()
    assert verdict.ok, verdict.problem


def test_the_agents_setting_selects_embedded_or_http_agents_and_names_a_bad_value():
    from hurricane_assets.agents.client import A2AHttpTransport, InProcessTransport
    from hurricane_assets.agents.exchange import exchange_from_environment

    assert isinstance(exchange_from_environment({}).router.transport, InProcessTransport)  # the default
    assert isinstance(exchange_from_environment({"HURRICANE_AGENTS": "embedded"}).router.transport, InProcessTransport)
    deployed = exchange_from_environment({"HURRICANE_AGENTS": "payments=http://127.0.0.1:8701/, risk=http://127.0.0.1:8702/",
                                          "HURRICANE_AGENT_TIMEOUT_S": "2.5"})
    assert isinstance(deployed.router.transport, A2AHttpTransport)
    assert deployed.domains == ("payments", "risk") and deployed.router.transport.client.timeout.read == 2.5
    with pytest.raises(ValueError, match=r"^\$HURRICANE_AGENTS: 'payments:8701' is not `embedded` or"):
        exchange_from_environment({"HURRICANE_AGENTS": "payments:8701"})
    with pytest.raises(ValueError, match=r"^\$HURRICANE_AGENT_TIMEOUT_S: 'soon' is not a number"):
        exchange_from_environment({"HURRICANE_AGENTS": "embedded", "HURRICANE_AGENT_TIMEOUT_S": "soon"})


def test_a_consumer_whose_agent_stops_after_its_call_for_proposals_ends_in_a_recorded_no_deal():
    exchange = Exchange.embedded()
    exchange.router.transport = StopsAt(exchange.router.transport, "risk", "CFP", answered=True)
    result = run_negotiation(fraud_need(), clock=fixed_clock(T0), exchange=exchange)
    assert result.outcome.status == "no_deal" and "party_unavailable" in result.outcome.reason_codes
    assert not result.agreements
    gone = [m for m in result.transcript if m.sender == "system:ledger"]
    assert {(m.performative.value, m.receiver) for m in gone} == {
        ("WITHDRAW", "agent:payments/producer"), ("WITHDRAW", "agent:customers/producer")}
    assert [r["entry_type"] for r in ledger_rows()].count("NO_DEAL") == 1
    verdict = verify_ledger()
    assert verdict.ok, verdict.problem


def test_by_default_contract_signing_and_negotiation_reach_domain_keys_only_through_the_agents():
    """The embedded default: what the CLI and the Dagster assets build to sign contracts and negotiate
    holds the log's key only, although every domain's key file sits in the same home."""
    from hurricane_assets.agents.exchange import AgentSigner, ExchangeLedger
    from hurricane_assets.agents.keystore import NotThisPrincipal
    from hurricane_assets.negotiation_runtime import platform_context
    from hurricane_assets.sharing.platform import SharingPlatform

    platform = SharingPlatform.from_environment()
    context = platform_context()
    for signer, ledger in ((platform.signer, platform.ledger), (context.signer, context.ledger)):
        assert isinstance(signer, AgentSigner) and isinstance(ledger, ExchangeLedger)
        for keyring in (signer.router.keyring, ledger.ledger.keyring):
            with pytest.raises(NotThisPrincipal):
                keyring.key("payments")
    with pytest.raises(AgentRefused):  # and the payments agent signs no arbitrary bytes for it
        platform.signer.sign("payments", b'{"entry_type": "CONTRACT_REVOKED"}')
