"""Bilateral alternating offers: `sao_round` drafts each open exchange's next move with the
configured strategy (or ends it: deadline, round limit, no progress); `policy_gate` lets a draft out
only if the gate allows its terms (an offer, or the offer being accepted), then sends it."""

from __future__ import annotations

from langgraph.runtime import Runtime

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative, PolicySummary, ReasonCode, check_accept, message_id
from negotiation_graph.outbox import agent, send
from negotiation_graph.state import Bargain, Draft, NegotiationState
from negotiation_graph.strategies import Briefing, Turn
from negotiation_graph.terms import NeedSpec, ShareTerms

KINDS = {
    "counter": Performative.COUNTER,
    "accept": Performative.ACCEPT,
    "withdraw": Performative.WITHDRAW,
    "reject": Performative.REJECT,
}


def summary(terms: ShareTerms) -> str:
    columns = ", ".join(f"{c}:{m.value}" for c, m in terms.columns.items())
    return f"{columns}; retention {terms.retention_days}d; term {terms.term_days}d; refresh {terms.freshness_hours}h"


def briefing(need: NeedSpec, bargain: Bargain) -> Briefing:
    """The consumer reads the producer's descriptions; the producer reads the need's prompt."""
    if bargain.turn == "consumer":
        listing = bargain.listing
        words = [listing.description] + [
            f"{c}: {listing.columns[c].description}" for c in bargain.path[-1].columns if c in listing.columns
        ]
        counterpart = "\n".join(words)
    else:
        counterpart = need.prompt
    return Briefing(need.purpose, bargain.features, tuple(summary(t) for t in bargain.path), counterpart)


def stalled(bargain: Bargain, k: int) -> bool:
    mine, theirs = bargain.offers["consumer"][-k:], bargain.offers["producer"][-k:]
    return len(mine) == k == len(theirs) and len(set(mine)) == 1 and len(set(theirs)) == 1


def draft(ctx: NegotiationContext, state: NegotiationState, bargain: Bargain) -> Draft:
    role, limits = bargain.turn, ctx.limits
    end = None
    if (ctx.clock() - state["opened_at"]).total_seconds() > limits.deadline_s:
        end = ReasonCode.DEADLINE
    elif bargain.round >= limits.max_rounds:
        end = ReasonCode.MAX_ROUNDS
    elif stalled(bargain, limits.no_progress_rounds):
        end = ReasonCode.NO_PROGRESS
    if end is not None:
        return Draft(stream=bargain.stream, sender=role, kind="withdraw", reason_codes=(end.value,))
    own = bargain.offers[role]
    turn = Turn(
        role=role,
        utilities=bargain.consumer_utilities if role == "consumer" else bargain.producer_utilities,
        reservation=bargain.consumer_reservation if role == "consumer" else bargain.producer_reservation,
        round=bargain.round + 1,
        max_rounds=limits.max_rounds,
        incoming=bargain.on_table,
        previous=own[-1] if own else None,
    )
    move = ctx.strategy.decide(turn, briefing(state["need"], bargain))
    if not 0 <= move.index < len(bargain.path):
        raise ValueError(f"strategy {type(ctx.strategy).__name__} chose offer {move.index} outside the path")
    return Draft(
        stream=bargain.stream,
        sender=role,
        kind=move.kind,
        index=move.index,
        reason_codes=move.reason_codes,
        rationale=move.rationale,
    )


def sao_round(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    return {"drafts": [draft(runtime.context, state, b) for b in state["bargains"] if b.status == "open"]}


def gate_offer(ctx: NegotiationContext, state: NegotiationState, bargain: Bargain, index: int) -> tuple[int, object] | None:
    """The offer to send for a drafted `index`: itself if allowed, else the nearest safer point of the
    path the gate allows (a denied offer is never sent). Denials are recorded as POLICY_DENIED."""
    for candidate in range(index, -1, -1):
        decision = ctx.gate.evaluate(bargain.path[candidate])
        if decision.allowed:
            return candidate, decision
        ctx.ledger.append(
            entry_type="POLICY_DENIED",
            actor=agent(state["need"].consumer, "consumer"),
            payload={
                "stream": bargain.stream,
                "terms_sha256": bargain.path[candidate].sha256(),
                "decision": PolicySummary.of(decision).model_dump(mode="json"),
                "reasons": list(decision.reasons),
            },
            negotiation_id=state["negotiation_id"],
            entry_id=message_id(state["negotiation_id"], f"{bargain.stream}/denied/{bargain.seq}", candidate),
        )
    return None


def policy_gate(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    ctx, need, nid = runtime.context, state["need"], state["negotiation_id"]
    drafts = {d.stream: d for d in state["drafts"]}
    bargains, sent = [], []
    for bargain in state["bargains"]:
        move = drafts.get(bargain.stream)
        if move is None:
            bargains.append(bargain)
            continue
        kind, index, reasons, decision = move.kind, move.index, move.reason_codes, None
        if kind == "counter":
            gated = gate_offer(ctx, state, bargain, index)
            if gated is None:
                kind, reasons = "withdraw", (ReasonCode.POLICY_DENIED.value,)
            else:
                index, decision = gated
        elif kind == "accept":
            decision = ctx.gate.evaluate(bargain.path[bargain.on_table])
            if not decision.allowed:  # the policy changed since the offer was sent
                kind, reasons = "reject", (ReasonCode.POLICY_DENIED.value, *decision.reasons)
        me = agent(need.consumer, "consumer") if move.sender == "consumer" else agent(bargain.listing.producer, "producer")
        them = agent(bargain.listing.producer, "producer") if move.sender == "consumer" else agent(need.consumer, "consumer")
        offered = bargain.path[index] if kind == "counter" else None
        message = Message(
            msg_id=message_id(nid, bargain.stream, bargain.seq),
            negotiation_id=nid,
            round=bargain.round + 1,
            performative=KINDS[kind],
            sender=me,
            receiver=them,
            in_reply_to=bargain.last_msg_id,
            sent_at=ctx.clock(),
            terms=offered,
            terms_sha256=offered.sha256() if offered else (bargain.path[bargain.on_table].sha256() if kind == "accept" else None),
            reason_codes=reasons,
            rationale=move.rationale,
            policy_decision=PolicySummary.of(decision) if decision is not None else None,
            prev_msg_sha256=bargain.last_msg_sha256,
        )
        if kind == "accept":
            check_accept(message, next(m for m in state["transcript"] if m.msg_id == bargain.last_msg_id))
        message = send(ctx, message)
        sent.append(message)
        update = {
            "round": bargain.round + 1,
            "seq": bargain.seq + 1,
            "turn": "producer" if move.sender == "consumer" else "consumer",
            "last_msg_id": message.msg_id,
            "last_msg_sha256": message.sha256(),
        }
        if kind == "counter":
            update["offers"] = bargain.offers | {move.sender: bargain.offers[move.sender] + (index,)}
            update["on_table"] = index
        elif kind == "accept":
            update |= {"status": "accepted", "decision": PolicySummary.of(decision)}
        else:
            update |= {"status": "closed", "reason_codes": reasons}
        bargains.append(bargain.model_copy(update=update))
    return {"bargains": bargains, "drafts": [], "transcript": sent}


def bargaining_or_close(state: NegotiationState) -> str:
    return "sao_round" if any(b.status == "open" for b in state["bargains"]) else "agreement"
