"""Close the negotiation: both parties sign what was accepted (policy re-checked), a human is asked
only when the policy demands it, then the agreements (or the no-deal) go to the ledger.

Without an escalation, signing and committing are one step (one checkpoint); with one, the graph
checkpoints the signed agreements, pauses in `escalate`, and commits after the human's answer."""

from __future__ import annotations

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Agreement, Message, Outcome, Performative, ReasonCode, message_id
from negotiation_graph.outbox import agent, send
from negotiation_graph.state import Escalation, NegotiationState

APPROVER = "human:approver"


def sign_agreements(ctx: NegotiationContext, state: NegotiationState) -> list[Agreement]:
    need = state["need"]
    agreements = []
    for bargain in state["bargains"]:
        if bargain.status != "accepted":
            continue
        terms = bargain.path[bargain.on_table]
        decision = ctx.gate.evaluate(terms)  # policy at agreement time is what counts
        if not decision.allowed:
            continue
        unsigned = Agreement(
            negotiation_id=state["negotiation_id"],
            producer=terms.producer,
            consumer=terms.consumer,
            dataset=terms.dataset,
            terms=terms,
            terms_sha256=terms.sha256(),
            policy_decision_id=decision.decision_id,
            policy_bundle_sha256=decision.bundle_sha256,
            requires_human=decision.requires_human,
            rounds=bargain.round,
            features=bargain.features,
            refused_columns=bargain.refused_columns,
        )
        body = unsigned.body()
        signatures = (ctx.signer.sign(terms.producer, body), ctx.signer.sign(need.consumer, body))
        agreements.append(unsigned.model_copy(update={"signatures": signatures}))
    return agreements


def close(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    agreements = sign_agreements(runtime.context, state)
    if any(a.requires_human for a in agreements):
        return {"agreements": agreements}
    return commit_agreements(runtime.context, state, agreements, escalation=None)


def escalation_or_end(state: NegotiationState) -> str:
    return "escalate" if state.get("outcome") is None else END


def escalate(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    """Pause for a human. This node re-runs from the top on resume, so everything before
    `interrupt()` is idempotent (a deterministic message id)."""
    ctx, nid, consumer = runtime.context, state["negotiation_id"], agent(state["need"].consumer, "consumer")
    pending = [a for a in state["agreements"] if a.requires_human]
    asked = send(
        ctx,
        Message(
            msg_id=message_id(nid, "escalation", 0),
            negotiation_id=nid,
            round=0,
            performative=Performative.ESCALATE,
            sender=consumer,
            receiver=APPROVER,
            sent_at=ctx.clock(),
            rationale="policy requires a human for: " + ", ".join(f"{a.producer}.{a.dataset}" for a in pending),
        ),
    )
    answer = interrupt(
        {
            "negotiation_id": nid,
            "agreements": [
                {"producer": a.producer, "dataset": a.dataset, "terms_sha256": a.terms_sha256,
                 "columns": {c: m.value for c, m in a.terms.columns.items()}}
                for a in pending
            ],
        }
    )
    decision = Escalation.model_validate(answer)
    recorded = send(
        ctx,
        Message(
            msg_id=message_id(nid, "escalation", 1),
            negotiation_id=nid,
            round=0,
            performative=Performative.HUMAN_DECISION,
            sender=consumer,
            receiver=agent(state["need"].consumer, "consumer"),
            in_reply_to=asked.msg_id,
            sent_at=ctx.clock(),
            reason_codes=() if decision.approved else (ReasonCode.HUMAN_DENIED.value,),
            rationale=f"{'approved' if decision.approved else 'denied'} by {decision.by}",
            decided_by=decision.by,
            prev_msg_sha256=asked.sha256(),
        ),
    )
    return {"escalation": decision, "transcript": [asked, recorded]}


def outcome_of(state: NegotiationState, agreements: list[Agreement], escalation: Escalation | None) -> Outcome:
    need = state["need"]
    served = {f for a in agreements for f in a.features}
    unserved = tuple(sorted(set(need.wanted) - served))
    reasons = {r for b in state["bargains"] if b.status == "closed" for r in b.reason_codes}
    if escalation is not None and not escalation.approved:
        reasons.add(ReasonCode.HUMAN_DENIED.value)
    if not agreements:
        answers = [m for m in state["transcript"] if m.performative in (Performative.PROPOSE, Performative.REFUSE)]
        if not state["producers_asked"]:
            reasons.add(ReasonCode.NO_PRODUCERS.value)
        elif not state["bargains"]:
            refusals = {r for m in answers if m.performative is Performative.REFUSE for r in m.reason_codes}
            reasons |= refusals | {ReasonCode.NO_ZOPA.value}
        for message in answers:
            reasons |= {r for codes in message.column_reasons.values() for r in codes}
        return Outcome(status="no_deal", reason_codes=tuple(sorted(reasons)), unserved_features=unserved)
    status = "agreed" if not unserved else "partial"
    return Outcome(status=status, reason_codes=tuple(sorted(reasons)), unserved_features=unserved)


def commit(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    return commit_agreements(runtime.context, state, state["agreements"], escalation=state.get("escalation"))


def commit_agreements(
    ctx: NegotiationContext, state: NegotiationState, agreements: list[Agreement], *, escalation: Escalation | None
) -> dict:
    nid, need = state["negotiation_id"], state["need"]
    if escalation is not None and not escalation.approved:
        agreements = [a for a in agreements if not a.requires_human]
    sent = []
    for agreement in agreements:
        bargain = next(b for b in state["bargains"] if b.listing.producer == agreement.producer and b.listing.dataset == agreement.dataset)
        sent.append(
            send(
                ctx,
                Message(
                    msg_id=message_id(nid, bargain.stream, bargain.seq),
                    negotiation_id=nid,
                    round=bargain.round,
                    performative=Performative.AGREEMENT,
                    sender=agent(need.consumer, "consumer"),
                    receiver=agent(agreement.producer, "producer"),
                    in_reply_to=bargain.last_msg_id,
                    sent_at=ctx.clock(),
                    terms=agreement.terms,
                    terms_sha256=agreement.terms_sha256,
                    agreement_signatures=agreement.signatures,
                    prev_msg_sha256=bargain.last_msg_sha256,
                ),
            )
        )
    outcome = outcome_of(state, agreements, escalation)
    if outcome.status == "no_deal":
        ctx.ledger.append(
            entry_type="NO_DEAL",
            actor=agent(need.consumer, "consumer"),
            payload=outcome.model_dump(mode="json"),
            negotiation_id=nid,
            entry_id=message_id(nid, "outcome", 0),
        )
    return {"agreements": agreements, "outcome": outcome, "transcript": sent}
