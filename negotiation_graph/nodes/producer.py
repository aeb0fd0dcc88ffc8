"""A producer's answer to a CFP, as its own subgraph: assess (map the feasible region through the
policy gate), then answer (PROPOSE its anchor offer, or REFUSE with reason codes)."""

from __future__ import annotations

from langgraph._internal._constants import CONFIG_KEY_DURABILITY
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from negotiation_graph.context import NegotiationContext
from negotiation_graph.feasibility import FeasibleRegion, Infeasible, anchor, explore, listing_id
from negotiation_graph.messages import Message, Performative, PolicySummary, ReasonCode, message_id
from negotiation_graph.outbox import agent, send
from negotiation_graph.state import ProducerAnswer, ProducerOutput, ProducerState, ProducerTask


def assess_cfp(state: ProducerState, runtime: Runtime[NegotiationContext]) -> dict:
    return {"assessment": explore(runtime.context.gate, state["need"], state["listing"])}


def answer_cfp(state: ProducerState, runtime: Runtime[NegotiationContext]) -> dict:
    ctx, need, listing, cfp = runtime.context, state["need"], state["listing"], state["cfp"]
    assessment = state["assessment"]
    common = dict(
        msg_id=message_id(state["negotiation_id"], listing_id(listing), 0),
        negotiation_id=state["negotiation_id"],
        round=0,
        sender=agent(listing.producer, "producer"),
        receiver=cfp.sender,
        in_reply_to=cfp.msg_id,
        sent_at=ctx.clock(),
        prev_msg_sha256=cfp.sha256(),
    )
    region: FeasibleRegion | None = None
    if isinstance(assessment, FeasibleRegion):
        opening = anchor(need, listing, assessment)
        decision = ctx.gate.evaluate(opening)
        if decision.allowed:
            region = assessment
            message = Message(
                **common,
                performative=Performative.PROPOSE,
                terms=opening,
                terms_sha256=opening.sha256(),
                column_reasons=assessment.refused_columns,
                policy_decision=PolicySummary.of(decision),
                rationale=listing.description,
            )
        else:
            assessment = Infeasible(reason_codes=decision.reasons or (ReasonCode.POLICY_DENIED.value,))
    if region is None:
        message = Message(
            **common,
            performative=Performative.REFUSE,
            reason_codes=assessment.reason_codes,
            column_reasons=assessment.column_reasons,
        )
    sent = send(ctx, message)
    return {"answers": [ProducerAnswer(listing=listing, message=sent, region=region)], "transcript": [sent]}


def build_producer_graph():
    graph = StateGraph(ProducerState, context_schema=NegotiationContext, output_schema=ProducerOutput)
    graph.add_node("assess_cfp", assess_cfp)
    graph.add_node("answer_cfp", answer_cfp)
    graph.add_edge(START, "assess_cfp")
    graph.add_edge("assess_cfp", "answer_cfp")
    graph.add_edge("answer_cfp", END)
    # no checkpoints of its own: the parent checkpoints each producer's answer as that task's writes
    return graph.compile(checkpointer=False)


PRODUCER_GRAPH = build_producer_graph()


def producer(task: ProducerTask) -> ProducerOutput:
    """One producer answering the CFP: its subgraph, run inside the parent's task.

    Durability "exit" because the subgraph keeps no checkpoints: langgraph 1.2.24 would otherwise
    inherit the parent's "sync" and wait for a checkpoint write that a `checkpointer=False` graph
    never starts (AttributeError `_put_checkpoint_fut`). It is set through the config, as the
    `durability=` argument warns when there is no checkpointer."""
    return PRODUCER_GRAPH.invoke(task, {"configurable": {CONFIG_KEY_DURABILITY: "exit"}})
