"""A producer's answer to a CFP in two steps, run inside the producer's task: assess (map the
feasible region through the policy gate), then answer (PROPOSE its anchor offer, or REFUSE with
reason codes)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from negotiation_graph.context import NegotiationContext
from negotiation_graph.feasibility import FeasibleRegion, Infeasible, anchor, explore, listing_id
from negotiation_graph.messages import Message, Performative, PolicySummary, ReasonCode, message_id
from negotiation_graph.outbox import Drafts, agent
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
    drafts = Drafts(ctx)  # delivered by the award, with the CFP, once every answer is checkpointed
    sent, gone = drafts.post_or_stand_in(message, Performative.REFUSE)
    return {
        "answers": [ProducerAnswer(listing=listing, message=sent, region=None if gone else region)],
        "transcript": drafts.messages,
        "outbox": drafts.entries,
    }


def build_producer_graph():
    """The producer's two steps as a graph of their own (for drawing and for callers that stream
    them); the negotiation runs them through `producer` instead."""
    graph = StateGraph(ProducerState, context_schema=NegotiationContext, output_schema=ProducerOutput)
    graph.add_node("assess_cfp", assess_cfp)
    graph.add_node("answer_cfp", answer_cfp)
    graph.add_edge(START, "assess_cfp")
    graph.add_edge("assess_cfp", "answer_cfp")
    graph.add_edge("answer_cfp", END)
    return graph.compile(checkpointer=False)


def producer(task: ProducerTask, runtime: Runtime[NegotiationContext]) -> ProducerOutput:
    """One producer answering the CFP: assess, then answer, inside the parent's task.

    Called directly rather than as a nested graph: the steps keep no checkpoints of their own (the
    parent checkpoints each producer's answer as that task's writes), so a nested Pregel loop per
    producer only added its scheduling, callbacks and threads to every negotiation."""
    state: ProducerState = {**task, **assess_cfp(task, runtime)}  # type: ignore[typeddict-item]
    return answer_cfp(state, runtime)  # type: ignore[return-value]
