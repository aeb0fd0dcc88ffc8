"""A domain's agent: its own key, its own policy, its own witness, behind one `handle` call.

What reaches it is a `SignedEnvelope` from the exchange (the `system` identity); what leaves it is
a `SignedEnvelope` signed by the domain. It signs only:

- a negotiation message whose sender is this domain, an agreement or a contract body this domain
  is a party to (the bytes must be the canonical JSON of one of them, so it knows what it signs);
- and only terms its policy allows (evaluated by the agent itself, not taken from the exchange).

It cosigns the ledger's checkpoints as this domain's witness. Anything else, and any envelope that
does not verify (unregistered key, replayed nonce, expired, not from the exchange, meant for
another domain), gets a signed refusal naming why.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hurricane_assets.agents.keystore import own_keyring
from hurricane_assets.identity.canonical import canonical_json
from hurricane_assets.identity.envelope import SignedEnvelope, sign_envelope, verify_envelope
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.identity.keyring import KeyRing
from hurricane_assets.identity.keys import SYSTEM_IDENTITY, check_identity
from hurricane_assets.identity.replay import ReplayCache
from hurricane_assets.identity.signer import Signer
from hurricane_assets.identity.trust_root import TrustRootError
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.messages import Agreement, Message
from negotiation_graph.outbox import domain_of
from negotiation_graph.ports import PolicyGate
from negotiation_graph.terms import ShareTerms

OP_SIGN = "sign"
OP_COSIGN = "cosign"


class AgentRefused(ValueError):
    """The agent answered, and refused (its reason is in the message)."""


def what_is_signed(body: str) -> tuple[str, set[str], ShareTerms | None]:
    """(kind, parties who may sign it, the terms it commits to) of canonical JSON bytes, or raise."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        raise AgentRefused("the body to sign is not JSON") from None
    if not isinstance(data, dict) or canonical_json(data).decode() != body:
        raise AgentRefused("the body to sign is not canonical JSON (RFC 8785) of an object")
    try:
        if "performative" in data:
            message = Message.model_validate(data)
            return f"message {message.performative.value}", {domain_of(message.sender)}, message.terms
        if "features" in data and "rounds" in data:
            agreement = Agreement.model_validate(data)
            return "agreement", {agreement.producer, agreement.consumer}, agreement.terms
        if "contract_id" in data and "terms" in data:
            terms = ShareTerms.model_validate(data["terms"])
            return "contract", {terms.producer, terms.consumer}, terms
    except ValueError as exc:
        raise AgentRefused(f"the body to sign is malformed: {str(exc).splitlines()[0]}") from None
    raise AgentRefused("the body to sign is neither a negotiation message, an agreement nor a contract")


class DomainAgent:
    """One domain as a principal. Holds a key ring that can load this domain's key and no other."""

    def __init__(
        self,
        domain: str,
        *,
        gate: PolicyGate | None = None,
        keyring: KeyRing | None = None,
        replay_cache: ReplayCache | None = None,
        witness=None,
        exchange: str = SYSTEM_IDENTITY,
    ):
        self.domain = check_identity(domain)
        self.keyring = keyring if keyring is not None else own_keyring(domain)
        self._gate = gate
        self.replay_cache = replay_cache if replay_cache is not None else ReplayCache(
            hurricane_paths().home / "domains" / domain / "replay_cache.sqlite")
        self._witness = witness
        self.exchange = exchange
        self._signer = Signer(self.keyring)
        self.keyring.key(domain)  # fail at start, not at the first request, when the key is missing

    @property
    def gate(self) -> PolicyGate:
        if self._gate is None:  # loaded on first use: a witness-only call needs no Cedar
            from hurricane_assets.policy.gate import CedarPolicyGate
            from negotiation_graph.decision_cache import DecisionCache

            self._gate = DecisionCache(CedarPolicyGate())
        return self._gate

    @property
    def witness(self):
        if self._witness is None:
            from hurricane_assets.ledger.witness import Witness

            self._witness = Witness(self.domain, keyring=self.keyring)
        return self._witness

    def handle(self, request: SignedEnvelope) -> SignedEnvelope:
        """Answer one request envelope with an envelope signed by this domain (never raises on bad input)."""
        try:
            payload = verify_envelope(request, replay_cache=self.replay_cache, keyring=self.keyring)
            if request.signer != self.exchange:
                raise AgentRefused(f"requests are taken from the exchange ({self.exchange!r}) only, not {request.signer!r}")
            if payload.get("to") != self.domain:
                raise AgentRefused(f"request meant for {payload.get('to')!r}, this is {self.domain!r}'s agent")
            op = payload.get("op")
            if op == OP_SIGN:
                answer = self._sign(payload.get("body"))
            elif op == OP_COSIGN:
                answer = self._cosign(payload)
            else:
                raise AgentRefused(f"unknown operation {op!r}")
        except (AgentRefused, EnvelopeError, TrustRootError) as exc:
            answer = {"status": "refused", "reason": f"{type(exc).__name__}: {exc}"}
        return sign_envelope(self.domain, {"in_reply_to": request.nonce, **answer}, keyring=self.keyring)

    def _sign(self, body: Any) -> dict:
        if not isinstance(body, str):
            raise AgentRefused("a sign request carries the body as a string")
        kind, parties, terms = what_is_signed(body)
        if self.domain not in parties:
            raise AgentRefused(f"{self.domain!r} does not sign a {kind} of {', '.join(sorted(parties))}")
        if terms is not None:
            decision = self.gate.evaluate(terms)
            if not decision.allowed:
                reasons = ", ".join(decision.reasons) or "a column is denied"
                raise AgentRefused(f"{self.domain!r}'s policy does not allow these terms ({reasons})")
        block = self._signer.sign(self.domain, body.encode())
        return {"status": "signed", "signature": block.model_dump(mode="json")}

    def _cosign(self, payload: dict) -> dict:
        from hurricane_assets.ledger.witness import WitnessConflict, WitnessRefusal

        try:
            proof = [base64.b64decode(p, validate=True) for p in payload.get("proof", ())]
            line = self.witness.add_checkpoint(str(payload.get("note")), int(payload.get("old_size")), proof)
        except WitnessConflict as conflict:
            return {"status": "conflict", "size": conflict.size}
        except (WitnessRefusal, ValueError, TypeError) as exc:
            raise AgentRefused(f"witness {self.domain}: {exc}") from None
        return {"status": "cosigned", "line": line}

    def __repr__(self) -> str:
        return f"DomainAgent({self.domain!r})"
