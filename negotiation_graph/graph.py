"""The negotiation as a LangGraph state machine (DH-NP v1), top to bottom:

open (discover, CFP) ─Send→ producer (assess, answer; one per listing) → award
     → [bargain_round]* → close (sign; commit) ─requires_human→ escalate: interrupt() → commit
     → deliver_last

Each step delivers to the ledger what the step before it drafted (`outbox.py`), so the last step
only delivers.

Each step is one checkpoint (durability="sync"), so the graph has as few steps as resumption
needs: one to open, one for the parallel answers, one to award, one per exchange of offers, one to
close (plus the pause and the commit when a human must decide).
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from negotiation_graph.context import NegotiationContext
from negotiation_graph.nodes.award import award
from negotiation_graph.nodes.bargaining import bargain_round, bargaining_or_close
from negotiation_graph.nodes.closing import close, commit, deliver_last, escalate, escalation_or_end
from negotiation_graph.nodes.opening import open_negotiation
from negotiation_graph.nodes.producer import producer
from negotiation_graph.state import NegotiationState


def build_graph(checkpointer: BaseCheckpointSaver | None = None):
    graph = StateGraph(NegotiationState, context_schema=NegotiationContext)
    graph.add_node("open", open_negotiation, destinations=("producer", "award"))
    graph.add_node("producer", producer)
    graph.add_node("award", award)
    graph.add_node("bargain_round", bargain_round)
    graph.add_node("close", close)
    graph.add_node("escalate", escalate)
    graph.add_node("commit", commit)
    graph.add_node("deliver_last", deliver_last)

    graph.add_edge(START, "open")
    graph.add_edge("producer", "award")
    graph.add_conditional_edges("award", bargaining_or_close, ["bargain_round", "close"])
    graph.add_conditional_edges("bargain_round", bargaining_or_close, ["bargain_round", "close"])
    graph.add_conditional_edges("close", escalation_or_end, ["escalate", "deliver_last"])
    graph.add_edge("escalate", "commit")
    graph.add_edge("commit", "deliver_last")
    graph.add_edge("deliver_last", END)
    return graph.compile(checkpointer=checkpointer)
