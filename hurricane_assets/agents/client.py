"""How the exchange reaches the agents: in process (the embedded default), or A2A over HTTP.

Both carry only the envelope's JSON, so what an agent sees is the same either way. Every failure to
get an answer (no such agent, connection refused, a timeout, a non-A2A reply) is `PartyUnavailable`,
bounded by `timeout_s`: a stopped agent ends that party's part of the negotiation, it never hangs it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

import httpx

from hurricane_assets.agents.agent import DomainAgent
from hurricane_assets.identity.envelope import SignedEnvelope
from negotiation_graph.ports import PartyUnavailable

ENVELOPE_MEDIA_TYPE = "application/vnd.data-hurricane.envelope+json"
DEFAULT_TIMEOUT_S = 10.0


class InProcessTransport:
    def __init__(self, agents: Mapping[str, DomainAgent]):
        self.agents = dict(agents)

    def send(self, domain: str, request: SignedEnvelope) -> SignedEnvelope:
        agent = self.agents.get(domain)
        if agent is None:
            raise PartyUnavailable(domain, "no agent runs for it")
        answer = agent.handle(SignedEnvelope.model_validate_json(request.model_dump_json()))
        return SignedEnvelope.model_validate_json(answer.model_dump_json())


def a2a_request(envelope: SignedEnvelope) -> dict:
    """A2A 1.0 JSON-RPC `SendMessage` carrying the envelope as one text part."""
    return {
        "jsonrpc": "2.0",
        "id": str(uuid.uuid4()),
        "method": "SendMessage",
        "params": {
            "message": {
                "messageId": str(uuid.uuid4()),
                "role": "ROLE_USER",
                "parts": [{"text": envelope.model_dump_json(), "mediaType": ENVELOPE_MEDIA_TYPE}],
            },
            "configuration": {"returnImmediately": False},
        },
    }


def envelope_of_a2a_response(body: dict) -> SignedEnvelope:
    if "error" in body:
        raise ValueError(f"A2A error {body['error'].get('code')}: {body['error'].get('message')}")
    result = body["result"]
    message = result.get("message") or result
    texts = [p["text"] for p in message.get("parts", ()) if "text" in p]
    if len(texts) != 1:
        raise ValueError("the A2A answer does not carry exactly one envelope")
    return SignedEnvelope.model_validate_json(texts[0])


class A2AHttpTransport:
    """Each domain's agent at its own URL (its A2A JSON-RPC endpoint), one HTTP connection pool."""

    def __init__(self, urls: Mapping[str, str], *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.urls = dict(urls)
        self.client = httpx.Client(timeout=httpx.Timeout(timeout_s), headers={"A2A-Version": "1.0"})

    def send(self, domain: str, request: SignedEnvelope) -> SignedEnvelope:
        url = self.urls.get(domain)
        if url is None:
            raise PartyUnavailable(domain, "no agent URL is configured for it")
        try:
            response = self.client.post(url, json=a2a_request(request))
            response.raise_for_status()
            return envelope_of_a2a_response(response.json())
        except httpx.TimeoutException:
            raise PartyUnavailable(domain, f"no answer from {url} within {self.client.timeout.read}s") from None
        except httpx.HTTPError as exc:
            raise PartyUnavailable(domain, f"{url}: {type(exc).__name__}") from None
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise PartyUnavailable(domain, f"{url} did not answer in A2A: {str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        self.client.close()
