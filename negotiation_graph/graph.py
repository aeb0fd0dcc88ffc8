"""The negotiation as a LangGraph state machine (DH-NP v1), top to bottom:

open → discover → cfp ─Send→ producer (subgraph, one per listing) → award
     → [sao_round → policy_gate]* → agreement → [escalate] → commit
"""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from negotiation_graph.context import NegotiationContext
from negotiation_graph.nodes.award import award
from negotiation_graph.nodes.bargaining import bargaining_or_close, policy_gate, sao_round
from negotiation_graph.nodes.closing import commit, escalate, escalation_or_commit, sign_agreements
from negotiation_graph.nodes.opening import call_for_proposals, discover, open_negotiation, to_producers
from negotiation_graph.nodes.producer import build_producer_graph
from negotiation_graph.state import NegotiationState


def build_graph(checkpointer: BaseCheckpointSaver | None = None):
    graph = StateGraph(NegotiationState, context_schema=NegotiationContext)
    graph.add_node("open", open_negotiation)
    graph.add_node("discover", discover)
    graph.add_node("cfp", call_for_proposals)
    graph.add_node("producer", build_producer_graph())
    graph.add_node("award", award)
    graph.add_node("sao_round", sao_round)
    graph.add_node("policy_gate", policy_gate)
    graph.add_node("agreement", sign_agreements)
    graph.add_node("escalate", escalate)
    graph.add_node("commit", commit)

    graph.add_edge(START, "open")
    graph.add_edge("open", "discover")
    graph.add_edge("discover", "cfp")
    graph.add_conditional_edges("cfp", to_producers, ["producer", "award"])
    graph.add_edge("producer", "award")
    graph.add_conditional_edges("award", bargaining_or_close, ["sao_round", "agreement"])
    graph.add_edge("sao_round", "policy_gate")
    graph.add_conditional_edges("policy_gate", bargaining_or_close, ["sao_round", "agreement"])
    graph.add_conditional_edges("agreement", escalation_or_commit, ["escalate", "commit"])
    graph.add_edge("escalate", "commit")
    graph.add_edge("commit", END)
    return graph.compile(checkpointer=checkpointer)
