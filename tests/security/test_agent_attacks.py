"""Attacks on the boundary between the exchange and the domain agents (issue 10, item 1).

The attacker here is the exchange's operator (it runs the router and can send any request it
likes), or someone on the wire between exchange and agent (replays, forges). What they must not
get is a domain's signature the domain's own agent did not decide to give.
"""

import base64
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from deltalake import DeltaTable

from hurricane_assets.agents.agent import AgentRefused, DomainAgent
from hurricane_assets.agents.client import InProcessTransport
from hurricane_assets.agents.exchange import AgentRouter, AgentSigner, Exchange
from hurricane_assets.agents.keystore import NotThisPrincipal, own_keyring
from hurricane_assets.clock import utc_now
from hurricane_assets.identity import SignedEnvelope, sign_envelope
from hurricane_assets.identity.keys import DomainKey, key_id_of, public_raw_of
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.messages import Message, Performative
from negotiation_graph.terms import Environment, MaskingMethod, NeedSpec, ShareTerms

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def cfp(sender: str = "agent:risk/consumer") -> Message:
    need = NeedSpec(need_id="n-1", consumer="risk", model="fraud_model", purpose="fraud_detection",
                    environment=Environment.preprod, join_entities=("transaction",), wanted={"channel": 1.0})
    return Message(msg_id="m-1", negotiation_id="neg-1", round=0, performative=Performative.CFP, sender=sender,
                   receiver="agent:*/producer", sent_at=T0, need=need)


def counter(purpose: str) -> Message:
    terms = ShareTerms(producer="payments", consumer="risk", dataset="transactions", columns={"channel": MaskingMethod.none},
                       purpose=purpose, environment=Environment.preprod, freshness_hours=24, retention_days=30, term_days=30)
    return Message(msg_id="m-2", negotiation_id="neg-1", round=1, performative=Performative.COUNTER,
                   sender="agent:payments/producer", receiver="agent:risk/consumer", sent_at=T0,
                   terms=terms, terms_sha256=terms.sha256())


class Recording:
    """The wire: passes requests to the in-process agents and keeps a copy of each request and answer."""

    def __init__(self, agents):
        self.inner = InProcessTransport(agents)
        self.seen: list[tuple[SignedEnvelope, SignedEnvelope]] = []

    def send(self, domain, request):
        answer = self.inner.send(domain, request)
        self.seen.append((request, answer))
        return answer


def refusal(answer: SignedEnvelope) -> str:
    assert answer.payload["status"] == "refused" and "signature" not in answer.payload
    return answer.payload["reason"]


def forged(signer: str, payload: dict, key: DomainKey) -> SignedEnvelope:
    now = utc_now()
    unsigned = SignedEnvelope(signer=signer, key_id=key.key_id, nonce=secrets.token_hex(16), issued_at=now,
                              expires_at=now + timedelta(minutes=5), payload=payload, signature="")
    return unsigned.model_copy(update={"signature": base64.b64encode(key.sign(unsigned.signed_bytes())).decode()})


def attacker_key(identity: str) -> DomainKey:
    private = Ed25519PrivateKey.generate()
    key = DomainKey(identity, private)
    assert key.key_id == key_id_of(public_raw_of(private.public_key()))
    return key


def test_a_replayed_request_is_refused_and_signs_nothing():
    wire = Recording({"risk": DomainAgent("risk")})
    signer = AgentSigner(AgentRouter(wire))
    signer.sign("risk", cfp().canonical())  # a genuine request, signed once
    request, _ = wire.seen[0]
    answer = wire.inner.agents["risk"].handle(request)  # the same envelope again
    assert "ReplayedNonceError" in refusal(answer)


def test_a_replayed_answer_is_refused_by_the_exchange():
    wire = Recording({"risk": DomainAgent("risk")})
    router = AgentRouter(wire)
    AgentSigner(router).sign("risk", cfp().canonical())
    _, old_answer = wire.seen[0]
    router.transport = type("Replay", (), {"send": lambda self, domain, request: old_answer})()
    with pytest.raises(AgentRefused, match="ReplayedNonceError"):
        AgentSigner(router).sign("risk", cfp().canonical())


def test_an_envelope_from_an_unregistered_key_is_refused_by_the_agent_and_by_the_exchange():
    agent = DomainAgent("payments")
    request = forged("system", {"to": "payments", "op": "sign", "body": counter("fraud_detection").canonical().decode()},
                     attacker_key("system"))
    assert "UnknownSignerError" in refusal(agent.handle(request))
    # an answer claiming to be payments', signed by a key the trust root does not pin
    router = AgentRouter(InProcessTransport({}))
    fake = attacker_key("payments")
    router.transport = type("MitM", (), {"send": lambda self, domain, req: forged(
        "payments", {"in_reply_to": req.nonce, "status": "signed", "signature": {}}, fake)})()
    with pytest.raises(AgentRefused, match="UnknownSignerError"):
        AgentSigner(router).sign("payments", counter("fraud_detection").canonical())


def test_a_request_signed_by_another_domain_is_refused():
    """customers' agent (holding its own valid key) asks payments' agent for a signature."""
    request = sign_envelope("customers", {"to": "payments", "op": "sign", "body": counter("fraud_detection").canonical().decode()},
                            keyring=own_keyring("customers"))
    assert "from the exchange" in refusal(DomainAgent("payments").handle(request))


def test_the_exchange_cannot_sign_for_a_domain():
    exchange = Exchange(InProcessTransport({d: DomainAgent(d) for d in ("payments", "risk")}), ("payments", "risk"))
    assert (hurricane_paths().home / "domains" / "payments" / "keys" / "payments.ed25519").exists()
    # its key ring loads the log's key only, although payments' key file is on the same disk
    with pytest.raises(NotThisPrincipal):
        exchange.router.keyring.key("payments")
    # a raw signature over arbitrary bytes (an entry hash, a cosignature message) is never given
    for raw in (b"\x00" * 32, b"cosignature/v1\ntime 1\n", b'{"a": 1}'):
        with pytest.raises(AgentRefused, match="not JSON|not canonical"):
            exchange.signer.sign("payments", raw)
    # payments does not sign a message in risk's name, nor terms its policy denies
    with pytest.raises(AgentRefused, match="does not sign a message CFP of risk"):
        exchange.signer.sign("payments", cfp().canonical())
    with pytest.raises(AgentRefused, match="policy does not allow"):
        exchange.signer.sign("payments", counter("credit_scoring").canonical())
    # the ledger it writes signs with the log's key: an entry in payments' name is the log's, saying so
    exchange.ledger.append(entry_type="OFFER", actor="agent:payments/producer", payload={"x": 1}, negotiation_id="neg-1")
    rows = DeltaTable(hurricane_paths().ledger).to_pyarrow_table().to_pylist()
    assert [(r["actor"], r["key_id"]) for r in rows if r["entry_type"] == "OFFER"] == [
        ("system:ledger", exchange.router.keyring.key("system").key_id)]
