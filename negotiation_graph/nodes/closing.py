"""Close the negotiation: both parties sign what was accepted (policy re-checked), a human is asked
only when the policy demands it, then the agreements (or the no-deal) go to the ledger.

Without an escalation, signing and committing are one step (one checkpoint); with one, the graph
checkpoints the signed agreements, pauses in `escalate`, and after the human's answer re-checks them
against the policy as it is then (the pause may last days) and commits what it still allows."""

from __future__ import annotations

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from negotiation_graph.context import NegotiationContext
from negotiation_graph.messages import Agreement, Message, Outcome, Performative, PolicySummary, ReasonCode, message_id
from negotiation_graph.outbox import EXCHANGE, Drafts, agent, deliver
from negotiation_graph.ports import PartyUnavailable, PolicyDecision
from negotiation_graph.state import Bargain, Escalation, NegotiationState
from negotiation_graph.terms import ShareTerms

APPROVER = "human:approver"


def record_denial(drafts: Drafts, state: NegotiationState, bargain: Bargain, terms: ShareTerms,
                  decision: PolicyDecision, *, stage: str) -> None:
    """Draft the POLICY_DENIED entry of an accepted share the gate no longer allows at `stage`, with
    the gate's share and per-column reason codes: a denied share is said, never silently dropped."""
    nid = state["negotiation_id"]
    drafts.record(
        entry_type="POLICY_DENIED",
        actor=agent(state["need"].consumer, "consumer"),
        payload={
            "stage": stage,
            "stream": bargain.stream,
            "terms_sha256": terms.sha256(),
            "decision": PolicySummary.of(decision).model_dump(mode="json"),
            "reasons": sorted(
                {ReasonCode.POLICY_DENIED.value, *decision.reasons}
                | {f"{c}:{r}" for c, d in decision.columns.items() if not d.allowed for r in d.reasons}
            ),
        },
        negotiation_id=nid,
        entry_id=message_id(nid, f"{bargain.stream}/denied-at-{stage}", bargain.seq),
    )


def bargain_of(state: NegotiationState, agreement: Agreement) -> Bargain:
    return next(b for b in state["bargains"]
                if b.listing.producer == agreement.producer and b.listing.dataset == agreement.dataset)


def still_allowed(ctx: NegotiationContext, state: NegotiationState, agreements: list[Agreement],
                  drafts: Drafts) -> list[Agreement]:
    """The agreements the policy still allows now. Agreements signed before a pause for a human may
    wait days for the answer; a policy changed meanwhile decides, as at signing (POLICY_DENIED,
    `stage: commit`). Unchecked, the consumer's agent refused to sign the AGREEMENT message and the
    step failed with the human's decision taken but never recorded."""
    kept = []
    for agreement in agreements:
        decision = ctx.gate.evaluate(agreement.terms)
        if decision.allowed:
            kept.append(agreement)
        else:
            record_denial(drafts, state, bargain_of(state, agreement), agreement.terms, decision, stage="commit")
    return kept


def sign_agreements(ctx: NegotiationContext, state: NegotiationState, drafts: Drafts) -> list[Agreement]:
    """Sign every accepted bargain the gate still allows; a denied one is recorded (POLICY_DENIED
    with the gate's reason codes) instead of silently dropped."""
    need = state["need"]
    agreements = []
    for bargain in state["bargains"]:
        if bargain.status != "accepted":
            continue
        terms = bargain.path[bargain.on_table]
        decision = ctx.gate.evaluate(terms)  # policy at agreement time is what counts
        if not decision.allowed:
            record_denial(drafts, state, bargain, terms, decision, stage="agreement")
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
        try:
            signatures = (ctx.signer.sign(terms.producer, body), ctx.signer.sign(need.consumer, body))
        except PartyUnavailable as gone:  # a party's agent stopped after accepting: no agreement, said so
            drafts.post(
                Message(
                    msg_id=message_id(state["negotiation_id"], f"{bargain.stream}/unavailable-at-agreement", bargain.seq),
                    negotiation_id=state["negotiation_id"],
                    round=bargain.round,
                    performative=Performative.WITHDRAW,
                    sender=EXCHANGE,
                    receiver=agent(need.consumer, "consumer"),
                    in_reply_to=bargain.last_msg_id,
                    sent_at=ctx.clock(),
                    reason_codes=(ReasonCode.PARTY_UNAVAILABLE.value,),
                    rationale=str(gone)[:2000],
                    prev_msg_sha256=bargain.last_msg_sha256,
                )
            )
            continue
        agreements.append(unsigned.model_copy(update={"signatures": signatures}))
    return agreements


def close(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    ctx, nid = runtime.context, state["negotiation_id"]
    delivered = deliver(ctx, state)  # the last exchange of offers
    drafts = Drafts(ctx)
    agreements = sign_agreements(ctx, state, drafts)
    pending = [a for a in agreements if a.requires_human]
    if pending:
        # drafted here, so the ESCALATE the human sees is fixed in this step's checkpoint: `escalate`
        # re-runs from its top on resume and only delivers it again, byte for byte
        drafts.post(
            Message(
                msg_id=message_id(nid, "escalation", 0),
                negotiation_id=nid,
                round=0,
                performative=Performative.ESCALATE,
                sender=agent(state["need"].consumer, "consumer"),
                receiver=APPROVER,
                sent_at=ctx.clock(),
                rationale="policy requires a human for: " + ", ".join(f"{a.producer}.{a.dataset}" for a in pending),
            )
        )
        return {"agreements": agreements, **drafts.update(delivered)}
    return commit_agreements(ctx, state, agreements, escalation=None, drafts=drafts, delivered=delivered)


def escalation_or_end(state: NegotiationState) -> str:
    return "escalate" if state.get("outcome") is None else "deliver_last"


def escalate(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    """Deliver the ESCALATE, then pause for a human. This node re-runs from the top on resume, so
    nothing before `interrupt()` is drafted anew: it only delivers what `close` checkpointed."""
    ctx, nid, consumer = runtime.context, state["negotiation_id"], agent(state["need"].consumer, "consumer")
    delivered = deliver(ctx, state, final=True)  # a human is about to read it
    asked = next(m for m in reversed(state["transcript"]) if m.performative is Performative.ESCALATE)
    pending = [a for a in state["agreements"] if a.requires_human]
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
    drafts = Drafts(ctx)
    drafts.post(
        Message(
            msg_id=message_id(nid, "escalation", 1),
            negotiation_id=nid,
            round=0,
            performative=Performative.HUMAN_DECISION,
            sender=consumer,
            receiver=agent(state["need"].consumer, "consumer"),
            in_reply_to=asked.msg_id,
            sent_at=decision.at if decision.at is not None else ctx.clock(),
            reason_codes=() if decision.approved else (ReasonCode.HUMAN_DENIED.value,),
            rationale=f"{'approved' if decision.approved else 'denied'} by {decision.by}",
            decided_by=decision.by,
            prev_msg_sha256=asked.sha256(),
        )
    )
    return {"escalation": decision, **drafts.update(delivered)}


def outcome_of(
    state: NegotiationState, agreements: list[Agreement], escalation: Escalation | None, drafted: list[Message] = ()
) -> Outcome:
    need = state["need"]
    served = {f for a in agreements for f in a.features}
    unserved = tuple(sorted(set(need.wanted) - served))
    reasons = {r for b in state["bargains"] if b.status == "closed" for r in b.reason_codes}
    gone = [m for m in [*state["transcript"], *drafted] if m.sender == EXCHANGE]  # parties whose agent stopped
    reasons |= {r for m in gone for r in m.reason_codes}
    accepted_last = {b.last_msg_id for b in state["bargains"] if b.status == "accepted"}
    unsigned = sum(1 for m in gone if m.in_reply_to in accepted_last)  # accepted, then a party's agent stopped
    if escalation is not None and not escalation.approved:
        reasons.add(ReasonCode.HUMAN_DENIED.value)
    if len(agreements) + unsigned < sum(1 for b in state["bargains"] if b.status == "accepted") and (
        escalation is None or escalation.approved
    ):
        reasons.add(ReasonCode.POLICY_DENIED.value)  # accepted, then denied at agreement time
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
    """After the human's answer: drop what the human denied, re-check the rest against the policy
    as it is now, commit what remains."""
    ctx, escalation = runtime.context, state["escalation"]
    delivered = deliver(ctx, state)  # the HUMAN_DECISION
    drafts = Drafts(ctx)
    answered = [a for a in state["agreements"] if escalation.approved or not a.requires_human]
    agreements = still_allowed(ctx, state, answered, drafts)
    return commit_agreements(ctx, state, agreements, escalation=escalation, drafts=drafts, delivered=delivered)


def commit_agreements(
    ctx: NegotiationContext,
    state: NegotiationState,
    agreements: list[Agreement],
    *,
    escalation: Escalation | None,
    drafts: Drafts,
    delivered: list[str],
) -> dict:
    nid, need = state["negotiation_id"], state["need"]
    for agreement in agreements:
        bargain = bargain_of(state, agreement)
        drafts.post(
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
            )
        )
    outcome = outcome_of(state, agreements, escalation, drafts.messages)
    if outcome.status == "no_deal":
        drafts.record(
            entry_type="NO_DEAL",
            actor=agent(need.consumer, "consumer"),
            payload=outcome.model_dump(mode="json"),
            negotiation_id=nid,
            entry_id=message_id(nid, "outcome", 0),
        )
    return {"agreements": agreements, "outcome": outcome, **drafts.update(delivered)}


def deliver_last(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    """The last step: deliver what closing drafted (agreements or the no-deal)."""
    return {"outbox": {"sent": deliver(runtime.context, state, final=True), "new": []}}
