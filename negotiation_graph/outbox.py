"""Sending a message: sign it with the sender's domain key and append it to the ledger.

The ledger entry id is the message id, which is deterministic, so a node that re-runs after a
crash or an interrupt sends "again" without the ledger holding the message twice.
"""

from __future__ import annotations

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative

LEDGER_ENTRY_TYPES = {
    Performative.CFP: "NEGOTIATION_STARTED",
    Performative.PROPOSE: "OFFER",
    Performative.COUNTER: "COUNTER",
    Performative.ACCEPT: "ACCEPTED",
    Performative.AGREEMENT: "AGREEMENT",
    Performative.ESCALATE: "ESCALATED",
    Performative.HUMAN_DECISION: "RESUMED",
}


def agent(domain: str, role: str) -> str:
    return f"agent:{domain}/{role}"


def domain_of(actor: str) -> str:
    return actor.removeprefix("agent:").split("/", 1)[0]


def send(ctx: NegotiationContext, message: Message) -> Message:
    """Sign `message` as its sender and record it; returns the signed message."""
    signature = ctx.signer.sign(domain_of(message.sender), message.canonical())
    signed = message.model_copy(update={"signature": signature})
    ctx.ledger.append(
        entry_type=LEDGER_ENTRY_TYPES.get(message.performative, "MESSAGE"),
        actor=message.sender,
        payload=signed.ledger_payload(),
        negotiation_id=message.negotiation_id,
        entry_id=message.msg_id,
    )
    return signed
