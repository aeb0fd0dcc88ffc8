"""Sending messages exactly once: a step drafts, the next step delivers.

A step's messages are signed and put in the state's `outbox`; they reach the ledger only at the
start of the next step, after the checkpoint holding them is on disk. So whatever a crashed step
would have sent is drafted again from scratch (another LLM choice, a later clock, a changed policy:
none of it was sent), and whatever was sent is re-sent byte for byte from the checkpoint (the
ledger is idempotent on entry id with equal content and raises `LedgerConflict` otherwise). The
transcript and the ledger therefore hold the same bytes under the same ids, whatever the crash.
One `append_batch` per step also means one ledger commit per step, not one per message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative, ReasonCode
from negotiation_graph.ports import PartyUnavailable

# The exchange itself (the log operator, the ledger's `system:ledger` actor). It speaks only to
# record that a party's agent did not answer, signed with its own key (identity `system`), never
# in a party's name.
EXCHANGE = "system:ledger"
EXCHANGE_SIGNER = "system"

LEDGER_ENTRY_TYPES = {
    Performative.CFP: "NEGOTIATION_STARTED",
    Performative.PROPOSE: "OFFER",
    Performative.COUNTER: "COUNTER",
    Performative.ACCEPT: "ACCEPTED",
    Performative.AGREEMENT: "AGREEMENT",
    Performative.ESCALATE: "ESCALATED",
    Performative.HUMAN_DECISION: "RESUMED",
}


class Outgoing(BaseModel):
    """One ledger entry drafted by a step, delivered by the next (the `LedgerPort.append` keywords)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entry_type: str
    actor: str
    payload: dict[str, Any]
    negotiation_id: str | None = None
    contract_id: str | None = None
    entry_id: str


def outbox_after(current: list[Outgoing] | None, update: dict | list | None) -> list[Outgoing]:
    """The outbox reducer. A step writes {"sent": ids it delivered, "new": entries it drafted}; a
    producer subgraph hands up a plain list (drafts only), and parallel producers' lists add up."""
    current = list(current or ())
    if update is None:
        return current
    if isinstance(update, list):
        return current + update
    sent = set(update.get("sent", ()))
    return [e for e in current if e.entry_id not in sent] + list(update.get("new", ()))


def agent(domain: str, role: str) -> str:
    return f"agent:{domain}/{role}"


def domain_of(actor: str) -> str:
    if actor == EXCHANGE:
        return EXCHANGE_SIGNER
    return actor.removeprefix("agent:").split("/", 1)[0]


def stand_in(message: Message, performative: Performative, gone: PartyUnavailable) -> Message:
    """What the exchange records, under the same id, when `message`'s sender could not sign it."""
    fields = message.model_dump(exclude={"signature", "terms", "terms_sha256", "policy_decision", "column_reasons",
                                         "agreement_signatures"})
    return Message.model_validate(fields | {"sender": EXCHANGE, "performative": performative,
                                            "reason_codes": (ReasonCode.PARTY_UNAVAILABLE.value,),
                                            "rationale": str(gone)[:2000]})


def entry_of(message: Message) -> Outgoing:
    return Outgoing(
        entry_type=LEDGER_ENTRY_TYPES.get(message.performative, "MESSAGE"),
        actor=message.sender,
        payload=message.ledger_payload(),
        negotiation_id=message.negotiation_id,
        entry_id=message.msg_id,
    )


def deliver(ctx: NegotiationContext, state, *, final: bool = False) -> list[str]:
    """Append the outbox the step started from (fixed in its checkpoint) as one batch; returns the
    ids delivered, for the step's outbox update. With `ledger_commits="negotiation"` only the
    `final` deliveries (the last step, the pause for a human) write; the others keep the drafts."""
    if ctx.ledger_commits == "negotiation" and not final:
        return []
    pending = list(state.get("outbox") or ())
    if pending:
        ctx.ledger.append_batch(pending)
    return [e.entry_id for e in pending]


@dataclass
class Drafts:
    """What one step says: signed messages (for the transcript) and every entry (for the outbox)."""

    ctx: NegotiationContext
    messages: list[Message] = field(default_factory=list)
    entries: list[Outgoing] = field(default_factory=list)

    def post(self, message: Message) -> Message:
        """Sign `message` as its sender and draft it; returns the signed message."""
        signature = self.ctx.signer.sign(domain_of(message.sender), message.canonical())
        signed = message.model_copy(update={"signature": signature})
        self.messages.append(signed)
        self.entries.append(entry_of(signed))
        return signed

    def post_or_stand_in(self, message: Message, performative: Performative) -> tuple[Message, bool]:
        """Post `message`; if its sender's agent is unavailable, post the exchange's `performative`
        (a REFUSE or WITHDRAW with `party_unavailable`) in its place. Returns (posted, stood_in)."""
        try:
            return self.post(message), False
        except PartyUnavailable as gone:
            return self.post(stand_in(message, performative, gone)), True

    def record(self, **entry: Any) -> None:
        """Draft a ledger entry that is not a message (a policy denial, a no-deal)."""
        self.entries.append(Outgoing(**entry))

    def update(self, sent: list[str]) -> dict:
        return {"transcript": self.messages, "outbox": {"sent": sent, "new": self.entries}}
