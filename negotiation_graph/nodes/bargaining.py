"""Bilateral alternating offers. Each `bargain_round` step plays one exchange of every open
bargain: the party whose turn it is moves, then the other answers. A move is drafted by the
configured strategy (or ends the bargain: deadline, round limit, no progress) and goes out only if
the policy gate allows its terms (an offer, or the offer being accepted).

A step is the unit of resumption, and every step is one checkpoint: drafting and gating in the
same step, two moves per step, keeps the checkpoints per negotiation few. A step first delivers
what the previous step drafted (fixed in the checkpoint it starts from), then drafts its own
moves, which the next step delivers: a crash re-drafts only what nobody has seen (`outbox.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from langgraph.runtime import Runtime

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Message, Performative, PolicySummary, ReasonCode, check_accept, message_id
from negotiation_graph.outbox import Drafts, agent, deliver
from negotiation_graph.rows import describe
from negotiation_graph.state import Bargain, NegotiationState, Role
from negotiation_graph.strategies import Briefing, Turn
from negotiation_graph.terms import NeedSpec, ShareTerms

MOVES_PER_ROUND = 2  # one exchange: the party whose turn it is, then the other

KINDS = {
    "counter": Performative.COUNTER,
    "accept": Performative.ACCEPT,
    "withdraw": Performative.WITHDRAW,
    "reject": Performative.REJECT,
}


@dataclass(frozen=True)
class Draft:
    """A move a party wants to make, before the policy gate lets it out."""

    sender: Role
    kind: Literal["counter", "accept", "withdraw", "reject"]
    index: int | None = None
    reason_codes: tuple[str, ...] = ()
    rationale: str = ""


def summary(terms: ShareTerms) -> str:
    columns = ", ".join(f"{c}:{m.value}" for c, m in terms.columns.items())
    rows = "" if terms.row_filter.is_everything else f"; {describe(terms.row_filter)}"
    return f"{columns}; retention {terms.retention_days}d; term {terms.term_days}d; refresh {terms.freshness_hours}h{rows}"


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
        return Draft(sender=role, kind="withdraw", reason_codes=(end.value,))
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
        sender=role,
        kind=move.kind,
        index=move.index,
        reason_codes=move.reason_codes,
        rationale=move.rationale,
    )


def gate_offer(
    ctx: NegotiationContext, state: NegotiationState, bargain: Bargain, index: int, drafts: Drafts
) -> tuple[int, object] | None:
    """The offer to send for a drafted `index`: itself if allowed, else the nearest safer point of the
    path the gate allows (a denied offer is never sent). Denials are recorded as POLICY_DENIED."""
    for candidate in range(index, -1, -1):
        decision = ctx.gate.evaluate(bargain.path[candidate])
        if decision.allowed:
            return candidate, decision
        drafts.record(
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


def play(ctx: NegotiationContext, state: NegotiationState, bargain: Bargain, move: Draft, drafts: Drafts) -> Bargain:
    """Gate `move`, draft it, and return the bargain after it."""
    need, nid = state["need"], state["negotiation_id"]
    kind, index, reasons, decision = move.kind, move.index, move.reason_codes, None
    if kind == "counter":
        gated = gate_offer(ctx, state, bargain, index, drafts)
        if gated is None:
            kind, reasons = "withdraw", (ReasonCode.POLICY_DENIED.value,)
        else:
            index, decision = gated
    elif kind == "accept":
        decision = ctx.gate.evaluate(bargain.path[bargain.on_table])
        if not decision.allowed:  # the policy changed since the offer was sent
            kind, reasons = "reject", (ReasonCode.POLICY_DENIED.value, *decision.reasons)
    consumer, producer = agent(need.consumer, "consumer"), agent(bargain.listing.producer, "producer")
    me, them = (consumer, producer) if move.sender == "consumer" else (producer, consumer)
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
        last = next(m for m in reversed([*state["transcript"], *drafts.messages]) if m.msg_id == bargain.last_msg_id)
        check_accept(message, last)
    message, gone = drafts.post_or_stand_in(message, Performative.WITHDRAW)
    if gone:  # the mover's agent did not answer: the exchange withdrew for it, the bargain ends
        kind, reasons = "withdraw", message.reason_codes
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
    return bargain.model_copy(update=update)


def bargain_round(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    ctx = runtime.context
    delivered = deliver(ctx, state)
    drafts = Drafts(ctx)
    bargains = []
    for bargain in state["bargains"]:
        for _ in range(MOVES_PER_ROUND):
            if bargain.status != "open":
                break
            bargain = play(ctx, state, bargain, draft(ctx, state, bargain), drafts)
        bargains.append(bargain)
    return {"bargains": bargains, **drafts.update(delivered)}


def bargaining_or_close(state: NegotiationState) -> str:
    return "bargain_round" if any(b.status == "open" for b in state["bargains"]) else "close"
