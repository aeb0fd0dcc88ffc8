"""The exchange's side of the boundary: it routes signed envelopes to the domain agents and holds
no domain key.

Its key ring can load only the exchange's own `system` key (`OwnKeySource`), so nothing built here
can produce a domain's signature: `AgentSigner` asks the domain's agent, `AgentWitness` asks it to
cosign, and the ledger it writes signs every entry with the log's own key, naming the domain the
entry speaks for (`on_behalf_of`); the domain's own signature travels inside the entry (the
message's `signature`, the agreement's and the contract's signature blocks).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from hurricane_assets.agents.agent import AgentRefused
from hurricane_assets.agents.keystore import own_keyring
from hurricane_assets.identity.envelope import SignedEnvelope, sign_envelope, verify_envelope
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.identity.keyring import KeyRing
from hurricane_assets.identity.keys import SYSTEM_IDENTITY
from hurricane_assets.identity.replay import ReplayCache
from hurricane_assets.identity.signer import Signer
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import LedgerReceipt, PartyUnavailable, SignatureBlock

SYSTEM_ACTOR = "system:ledger"


class AgentTransport(Protocol):
    def send(self, domain: str, request: SignedEnvelope) -> SignedEnvelope:
        """Deliver `request` to `domain`'s agent and return its answer; raise `PartyUnavailable`."""
        ...


class AgentRouter:
    """Signs each request as the exchange, and verifies each answer: signed by the domain it was sent
    to (key pinned and valid now), fresh, not replayed, answering this very request."""

    def __init__(self, transport: AgentTransport, *, keyring: KeyRing | None = None, replay_cache: ReplayCache | None = None):
        self.transport = transport
        self.keyring = keyring if keyring is not None else own_keyring(SYSTEM_IDENTITY)
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache(
            hurricane_paths().home / "exchange" / "replay_cache.sqlite")

    def call(self, domain: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = sign_envelope(SYSTEM_IDENTITY, {"to": domain, **payload}, keyring=self.keyring)
        response = self.transport.send(domain, request)
        try:
            answer = verify_envelope(response, replay_cache=self.replay_cache, keyring=self.keyring)
        except EnvelopeError as exc:
            raise AgentRefused(f"answer from {domain}'s agent does not verify: {type(exc).__name__}: {exc}") from None
        if response.signer != domain:
            raise AgentRefused(f"answer to a request for {domain} is signed by {response.signer!r}")
        if answer.get("in_reply_to") != request.nonce:
            raise AgentRefused(f"answer from {domain}'s agent does not answer request {request.nonce}")
        if answer.get("status") == "refused":
            raise AgentRefused(f"{domain}'s agent refused: {answer.get('reason')}")
        return answer


class AgentSigner:
    """Implements `SignerPort` through the agents: `sign(domain, …)` is the domain agent's signature or
    an error. The exchange signs only as itself (`system`)."""

    def __init__(self, router: AgentRouter):
        self.router = router
        self._own = Signer(router.keyring)  # loads the system key only; verifies against the registry

    def sign(self, domain: str, message: bytes) -> SignatureBlock:
        if domain == SYSTEM_IDENTITY:
            return self._own.sign(SYSTEM_IDENTITY, message)
        answer = self.router.call(domain, {"op": "sign", "body": message.decode()})
        try:
            block = SignatureBlock.model_validate(answer.get("signature"))
        except ValueError:
            raise AgentRefused(f"{domain}'s agent answered without a signature block") from None
        if block.signer != domain:
            raise AgentRefused(f"{domain}'s agent returned a signature by {block.signer!r}")
        self._own.verify(message, block)
        return block

    def verify(self, message: bytes, signature: SignatureBlock, *, at: datetime | None = None) -> None:
        self._own.verify(message, signature, at=at)


class AgentWitness:
    """A domain's witness reached through its agent (same interface as `ledger.witness.Witness`)."""

    def __init__(self, identity: str, router: AgentRouter):
        self.identity = identity
        self.router = router

    def add_checkpoint(self, note: str, old_size: int, proof: list[bytes]) -> str:
        from hurricane_assets.ledger.witness import WitnessConflict, WitnessRefusal

        payload = {"op": "cosign", "note": note, "old_size": old_size,
                   "proof": [base64.b64encode(p).decode() for p in proof]}
        try:
            answer = self.router.call(self.identity, payload)
        except (AgentRefused, PartyUnavailable) as exc:
            raise WitnessRefusal(self.identity, str(exc)) from None
        if answer.get("status") == "conflict":
            raise WitnessConflict(self.identity, int(answer["size"]))
        line = answer.get("line")
        if answer.get("status") != "cosigned" or not isinstance(line, str):
            raise WitnessRefusal(self.identity, "answered without a cosignature")
        return line

    def __repr__(self) -> str:
        return f"AgentWitness({self.identity!r})"


def as_log_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry a domain's actor speaks, written by the log: signed with the log's key, naming the domain."""
    actor = entry["actor"]
    if actor == SYSTEM_ACTOR:
        return entry
    return {**entry, "actor": SYSTEM_ACTOR, "payload": {**entry["payload"], "on_behalf_of": actor}}


ENTRY_FIELDS = ("entry_type", "actor", "payload", "negotiation_id", "contract_id", "entry_id")


class ExchangeLedger:
    """`LedgerPort` of an exchange without domain keys: wraps a `Ledger` whose key ring holds the log's
    key only and whose witnesses are the domain agents."""

    def __init__(self, router: AgentRouter, domains: Iterable[str], uri: str | None = None):
        from hurricane_assets.ledger import Ledger

        self.ledger = Ledger(uri, keyring=router.keyring, witnesses=[AgentWitness(d, router) for d in domains])

    def append(self, **entry: Any) -> LedgerReceipt:
        return self.ledger.append(**as_log_entry(entry))

    def append_batch(self, entries: Sequence[Any]) -> list[LedgerReceipt]:
        rewritten = [as_log_entry({k: getattr(e, k, None) for k in ENTRY_FIELDS}) for e in entries]
        return self.ledger.append_batch(rewritten)

    def __len__(self) -> int:
        return len(self.ledger)

    def __getattr__(self, name: str) -> Any:  # reading (history, uri, keyring) is the ledger's
        return getattr(self.ledger, name)


class Exchange:
    """What the negotiation and contract signing need from the exchange when the domains are separate
    principals: a signer and a ledger that reach the agents through one router."""

    def __init__(self, transport: AgentTransport, domains: Iterable[str] | None = None, *, ledger_uri: str | None = None):
        self.router = AgentRouter(transport)
        domains = list(domains) if domains is not None else self.router.keyring.registry.trust_root().witnesses
        self.domains = tuple(domains)
        self.signer = AgentSigner(self.router)
        self.ledger = ExchangeLedger(self.router, self.domains, ledger_uri)

    @property
    def in_process(self) -> bool:
        """Whether every agent runs in this process (calls cost CPU, never a wait on the network)."""
        from hurricane_assets.agents.client import InProcessTransport

        return isinstance(self.router.transport, InProcessTransport)

    @classmethod
    def embedded(cls, domains: Iterable[str] | None = None) -> Exchange:
        """The embedded default: one in-process agent per domain, each with its own key ring."""
        from hurricane_assets.agents.agent import DomainAgent
        from hurricane_assets.agents.client import InProcessTransport

        registry = own_keyring(SYSTEM_IDENTITY).registry
        domains = list(domains) if domains is not None else registry.trust_root().witnesses
        return cls(InProcessTransport({d: DomainAgent(d) for d in domains}), domains)

    @classmethod
    def over_http(cls, urls: dict[str, str], *, timeout_s: float | None = None) -> Exchange:
        """Deployed: each domain's agent is an A2A service at `urls[domain]`."""
        from hurricane_assets.agents.client import DEFAULT_TIMEOUT_S, A2AHttpTransport

        return cls(A2AHttpTransport(urls, timeout_s=timeout_s or DEFAULT_TIMEOUT_S), list(urls))


AGENTS_VARIABLE = "HURRICANE_AGENTS"


def exchange_from_environment(environ: dict[str, str] | None = None) -> Exchange:
    """`HURRICANE_AGENTS`: unset or `embedded` → one in-process agent per domain, each with its own
    key store (the default: nothing in the exchange can sign for a domain);
    `payments=http://host:port/,risk=…` → A2A agents at those URLs (`HURRICANE_AGENT_TIMEOUT_S`,
    default 10)."""
    import os

    environ = environ if environ is not None else dict(os.environ)
    value = environ.get(AGENTS_VARIABLE, "").strip() or "embedded"
    timeout = environ.get("HURRICANE_AGENT_TIMEOUT_S", "")
    try:
        timeout_s = float(timeout) if timeout else None
    except ValueError:
        raise ValueError(f"$HURRICANE_AGENT_TIMEOUT_S: {timeout!r} is not a number of seconds") from None
    if value == "embedded":
        return Exchange.embedded()
    urls: dict[str, str] = {}
    for item in value.split(","):
        domain, sep, url = item.strip().partition("=")
        if not sep or not domain or not url.startswith(("http://", "https://")):
            raise ValueError(f"${AGENTS_VARIABLE}: {item.strip()!r} is not `embedded` or `<domain>=http(s)://host:port/`")
        urls[domain] = url
    return Exchange.over_http(urls, timeout_s=timeout_s)
