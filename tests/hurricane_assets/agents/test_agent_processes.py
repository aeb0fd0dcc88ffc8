"""Deployed: the five domain agents as separate A2A HTTP services; the exchange (this test process)
holds no domain key and negotiates the fraud model's need through them."""

import signal

import httpx
import pytest

from hurricane_assets.agents.exchange import Exchange
from hurricane_assets.identity import Signer
from hurricane_assets.identity.trust_root import TrustRootError
from hurricane_assets.ledger import verify_ledger
from hurricane_assets.negotiation_runtime import run_negotiation
from negotiation_graph.context import fixed_clock
from negotiation_graph.messages import Performative
from negotiation_graph.ports import PartyUnavailable
from tests.hurricane_assets.agents.agent_processes import agent_processes
from tests.hurricane_assets.agents.fraud_deal import agree_and_contract_fraud_need
from tests.hurricane_assets.test_negotiation_runtime import T0, assert_ledger_holds, fraud_need
from tests.trust_keys import REFERENCE_DOMAINS, install_keys

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The five agents, started once for this module (starting a process costs seconds), in a home
    the tests of the module share: {domain: (url, process)}."""
    home = tmp_path_factory.mktemp("deployed") / "hurricane"
    install_keys(home)
    with agent_processes(REFERENCE_DOMAINS, home) as agents:
        yield home, agents


@pytest.fixture
def agents(deployed, monkeypatch):
    home, agents = deployed
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    return agents


def test_fraud_negotiation_through_five_agent_processes_ends_in_contracts_each_signed_by_its_own_agent(agents):
    card = httpx.get(agents["payments"][0] + ".well-known/agent-card.json").json()
    assert card["name"] == "data-hurricane-payments"
    with pytest.raises(TrustRootError, match="no signing key for 'payments'"):
        Signer().sign("payments", b"anything")  # the exchange's process has no domain key to use
    exchange = Exchange.over_http({d: url for d, (url, _) in agents.items()}, timeout_s=10)
    result, _ = agree_and_contract_fraud_need(exchange)
    assert_ledger_holds(result.transcript)
    verdict = verify_ledger()  # chain, keys by position and a checkpoint cosigned by the five agents
    assert verdict.ok, verdict.problem


def test_a_hung_agent_is_unavailable_after_the_timeout_not_a_hang(agents):
    """SIGSTOP: the process is alive and its port accepts connections, but nothing answers."""
    url, process = agents["support"]
    exchange = Exchange.over_http({"support": url}, timeout_s=1)
    process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(PartyUnavailable, match="support's agent is unavailable: no answer from .* within 1(\\.0)?s"):
            exchange.signer.sign("support", b"{}")
    finally:
        process.send_signal(signal.SIGCONT)


class KillAfter:
    """Forwards to the HTTP transport; right after `domain`'s agent answered its `calls`-th request,
    kills that agent's process (SIGKILL), as a crash would."""

    def __init__(self, transport, domain: str, calls: int, process):
        self.transport, self.domain, self.calls, self.process = transport, domain, calls, process

    def send(self, domain, request):
        answer = self.transport.send(domain, request)
        if domain == self.domain:
            self.calls -= 1
            if self.calls == 0:
                self.process.send_signal(signal.SIGKILL)
                self.process.wait(timeout=10)
        return answer


def test_an_agent_killed_mid_negotiation_is_recorded_as_unavailable_and_the_rest_is_agreed(agents):
    exchange = Exchange.over_http({d: url for d, (url, _) in agents.items()}, timeout_s=5)
    # payments answers the CFP (a REFUSE and a PROPOSE), then its process dies before bargaining
    exchange.router.transport = KillAfter(exchange.router.transport, "payments", 2, agents["payments"][1])
    result = run_negotiation(fraud_need(need_id="fraud-model-drift-2"), clock=fixed_clock(T0), exchange=exchange)
    assert result.status == "done"
    assert result.outcome.status == "partial" and "party_unavailable" in result.outcome.reason_codes
    assert set(result.outcome.unserved_features) == {"channel", "device"}
    assert [f"{a.producer}.{a.dataset}" for a in result.agreements] == ["customers.profiles"]
    stand_in = [m for m in result.transcript if m.sender == "system:ledger"]
    assert [(m.performative, m.receiver, m.reason_codes) for m in stand_in] == [
        (Performative.WITHDRAW, "agent:risk/consumer", ("party_unavailable",))]
    assert stand_in[0].signature.signer == "system" and "payments's agent is unavailable" in stand_in[0].rationale
    assert_ledger_holds(result.transcript)
    verdict = verify_ledger()
    assert verdict.ok, verdict.problem
