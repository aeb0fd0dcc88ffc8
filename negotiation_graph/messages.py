"""DH-NP v1 messages: the typed envelope every party sends, and the agreement both sign.

A message has canonical bytes (RFC 8785 JSON without its signature), so the sender can sign it,
the next message can chain to it (`prev_msg_sha256`) and the ledger can store its hash. Message
ids are uuid5 of the negotiation id, the conversation stream and a sequence number: a re-run node
produces the same ids, so the ledger (idempotent on entry id) never holds a message twice.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from negotiation_graph.canonical import canonical_json
from negotiation_graph.ports import PolicyDecision, SignatureBlock
from negotiation_graph.terms import NeedSpec, ShareTerms

PROTOCOL_VERSION = "DH-NP/1"
MESSAGE_NAMESPACE = uuid.UUID("5b0c2f4e-8d1a-4c61-9a57-6f1d3e2b7c90")


class Performative(str, Enum):
    CFP = "CFP"
    PROPOSE = "PROPOSE"
    REFUSE = "REFUSE"
    AWARD = "AWARD"
    COUNTER = "COUNTER"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    WITHDRAW = "WITHDRAW"
    AGREEMENT = "AGREEMENT"
    ESCALATE = "ESCALATE"
    HUMAN_DECISION = "HUMAN_DECISION"
    INFORM_DONE = "INFORM_DONE"


OFFERS = (Performative.PROPOSE, Performative.COUNTER, Performative.AGREEMENT)
REFUSALS = (Performative.REFUSE, Performative.REJECT, Performative.WITHDRAW)


class ReasonCode(str, Enum):
    """Why a party refused, rejected or withdrew; policy reason codes from the gate pass through as-is."""

    NO_MATCHING_COLUMNS = "no_matching_columns"
    NO_JOIN_KEY = "no_join_key"
    POLICY_DENIED = "policy_denied"
    NO_ZOPA = "no_zopa"
    NO_VALUE = "no_value"
    NOT_AWARDED = "not_awarded"
    MAX_ROUNDS = "max_rounds"
    DEADLINE = "deadline"
    NO_PROGRESS = "no_progress"
    NO_PRODUCERS = "no_producers"
    HUMAN_DENIED = "human_denied"
    LLM_FALLBACK = "llm_fallback"
    PARTY_UNAVAILABLE = "party_unavailable"  # the party's agent did not answer; the exchange said so for it


class ProtocolError(ValueError):
    """A message that breaks DH-NP (e.g. an ACCEPT quoting another offer than the last one)."""


class PolicySummary(BaseModel):
    """What the ledger and the counterpart learn of a policy decision: its identity, not its rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: str
    bundle_sha256: str
    decision_id: str
    allowed: bool
    requires_human: bool = False

    @classmethod
    def of(cls, decision: PolicyDecision) -> PolicySummary:
        return cls(
            engine=decision.engine,
            bundle_sha256=decision.bundle_sha256,
            decision_id=decision.decision_id,
            allowed=decision.allowed,
            requires_human=decision.requires_human,
        )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def message_id(negotiation_id: str, stream: str, seq: int) -> str:
    """Deterministic id of the `seq`-th message of one conversation `stream` in a negotiation."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{negotiation_id}/{stream}/{seq}"))


class Message(BaseModel):
    """One DH-NP envelope. `rationale` is untrusted prose: displayed, never interpreted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: str = PROTOCOL_VERSION
    msg_id: str
    negotiation_id: str
    round: int = Field(ge=0)
    performative: Performative
    sender: str
    receiver: str
    in_reply_to: str | None = None
    sent_at: datetime
    need: NeedSpec | None = None
    terms: ShareTerms | None = None
    terms_sha256: str | None = None
    reason_codes: tuple[str, ...] = ()
    column_reasons: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    rationale: str = Field(default="", max_length=2000)
    policy_decision: PolicySummary | None = None
    agreement_signatures: tuple[SignatureBlock, ...] = ()
    decided_by: str | None = Field(default=None, description="who answered an escalation")
    prev_msg_sha256: str | None = None
    signature: SignatureBlock | None = None

    @model_validator(mode="after")
    def _performative_shape(self) -> Message:
        p = self.performative
        if p in OFFERS:
            if self.terms is None:
                raise ValueError(f"{p.value} {self.msg_id} must carry terms")
            if self.terms_sha256 != self.terms.sha256():
                raise ValueError(f"{p.value} {self.msg_id}: terms_sha256 does not match its terms")
        if p is Performative.CFP and self.need is None:
            raise ValueError(f"CFP {self.msg_id} must carry the need")
        if p is Performative.ACCEPT and (self.terms is not None or not self.terms_sha256):
            # quoting only the hash makes "accept with edits" impossible to express
            raise ValueError(f"ACCEPT {self.msg_id} must quote terms_sha256 and carry no terms")
        if p is Performative.HUMAN_DECISION and not self.decided_by:
            raise ValueError(f"HUMAN_DECISION {self.msg_id} must name who decided")
        if p in REFUSALS and not self.reason_codes:
            raise ValueError(f"{p.value} {self.msg_id} must give reason_codes")
        return self

    def canonical(self) -> bytes:
        """The signed bytes: everything but the signature."""
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def sha256(self) -> str:
        # a frozen message's hash never changes; it is asked for by the ledger, the chain and replies
        return self._sha256

    @cached_property
    def _sha256(self) -> str:
        return sha256_hex(canonical_json(self.model_dump(mode="json")))

    def model_copy(self, *, update=None, deep: bool = False) -> Message:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("_sha256", None)  # the copy (e.g. now signed) has other bytes
        return copied

    def ledger_payload(self) -> dict[str, Any]:
        """What the ledger stores: the envelope with the untrusted rationale reduced to its hash."""
        body = self.model_dump(mode="json", exclude={"rationale"})
        body["rationale_sha256"] = sha256_hex(self.rationale.encode())
        body["msg_sha256"] = self.sha256()
        return body


def check_accept(accept: Message, last_offer: Message) -> None:
    """Raise `ProtocolError` unless `accept` quotes exactly `last_offer`'s terms."""
    if accept.performative is not Performative.ACCEPT:
        raise ProtocolError(f"{accept.msg_id}: expected ACCEPT, got {accept.performative.value}")
    if last_offer.terms is None or accept.terms_sha256 != last_offer.terms.sha256():
        raise ProtocolError(
            f"ACCEPT {accept.msg_id} quotes terms_sha256={accept.terms_sha256}, but the last offer "
            f"{last_offer.msg_id} has {last_offer.terms_sha256}"
        )


class Agreement(BaseModel):
    """Terms both parties signed, with the policy decision that allowed them at agreement time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    negotiation_id: str
    producer: str
    consumer: str
    dataset: str
    terms: ShareTerms
    terms_sha256: str
    policy_decision_id: str
    policy_bundle_sha256: str
    requires_human: bool = False
    rounds: int
    features: tuple[str, ...]
    refused_columns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    signatures: tuple[SignatureBlock, ...] = ()

    def body(self) -> bytes:
        """The bytes both parties sign: everything but the signatures."""
        return canonical_json(self.model_dump(mode="json", exclude={"signatures"}))

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    def sha256(self) -> str:
        return sha256_hex(self.canonical())


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str = Field(pattern="^(agreed|partial|no_deal)$")
    reason_codes: tuple[str, ...] = ()
    unserved_features: tuple[str, ...] = ()
