"""Open the negotiation: discover who may hold the data, call for proposals and fan the CFP out.

One step does all three, so opening costs one checkpoint; the CFP is drafted here and delivered
to the ledger by the next step (`outbox.py`). The listings travel to the producers inside the `Send`s only: they are checkpointed
once, with the fan-out, instead of in every later checkpoint of the negotiation.
"""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative, message_id
from negotiation_graph.outbox import Drafts, agent
from negotiation_graph.state import NegotiationState, ProducerTask

BROADCAST = "agent:*/producer"


def open_negotiation(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> Command:
    ctx, need, nid = runtime.context, state["need"], state["negotiation_id"]
    opened_at = ctx.clock()
    listings = sorted(
        (listing for listing in ctx.directory.listings(need)
         if listing.producer != need.consumer and need.admits(listing.producer, listing.dataset)),  # not itself
        key=lambda item: (item.producer, item.dataset),
    )
    drafts = Drafts(ctx)
    cfp = drafts.post(
        Message(
            msg_id=message_id(nid, "cfp", 0),
            negotiation_id=nid,
            round=0,
            performative=Performative.CFP,
            sender=agent(need.consumer, "consumer"),
            receiver=BROADCAST,
            sent_at=ctx.clock(),
            need=need,
            rationale=need.prompt,
        ),
    )
    update = {"opened_at": opened_at, "producers_asked": len(listings), "answers": [], **drafts.update([])}
    if not listings:
        return Command(update=update, goto="award")  # nobody to ask: the award closes with no_producers
    tasks = [Send("producer", ProducerTask(negotiation_id=nid, need=need, listing=listing, cfp=cfp)) for listing in listings]
    return Command(update=update, goto=tasks)
