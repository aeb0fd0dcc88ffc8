"""Open the negotiation, discover who may hold the data, and call for proposals."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import Send

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative, message_id
from negotiation_graph.outbox import agent, send
from negotiation_graph.state import NegotiationState, ProducerTask

BROADCAST = "agent:*/producer"


def open_negotiation(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    return {"opened_at": runtime.context.clock(), "transcript": [], "answers": []}


def discover(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    need = state["need"]
    listings = [
        listing
        for listing in runtime.context.directory.listings(need)
        if listing.producer != need.consumer  # a domain does not negotiate with itself
    ]
    return {"listings": sorted(listings, key=lambda item: (item.producer, item.dataset))}


def call_for_proposals(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    need = state["need"]
    cfp = send(
        runtime.context,
        Message(
            msg_id=message_id(state["negotiation_id"], "cfp", 0),
            negotiation_id=state["negotiation_id"],
            round=0,
            performative=Performative.CFP,
            sender=agent(need.consumer, "consumer"),
            receiver=BROADCAST,
            sent_at=runtime.context.clock(),
            need=need,
            rationale=need.prompt,
        ),
    )
    return {"cfp": cfp, "transcript": [cfp]}


def to_producers(state: NegotiationState) -> list[Send] | str:
    """Fan the CFP out to one producer subgraph per listing; nobody to ask goes straight to award."""
    if not state["listings"]:
        return "award"
    return [
        Send(
            "producer",
            ProducerTask(
                negotiation_id=state["negotiation_id"], need=state["need"], listing=listing, cfp=state["cfp"]
            ),
        )
        for listing in state["listings"]
    ]
