"""Collect the producers' answers and award: pick the listings that together serve the most of the
need (several, when they serve different features), lay out each one's concession path and open a
bilateral exchange; every other proposer gets a REJECT with its reason."""

from __future__ import annotations

from langgraph.runtime import Runtime

from negotiation_graph.concession import columns_for, concession_path
from negotiation_graph.context import NegotiationContext
from negotiation_graph.feasibility import FeasibleRegion
from negotiation_graph.messages import Message, Performative, ReasonCode, message_id
from negotiation_graph.outbox import Drafts, agent, deliver
from negotiation_graph.ports import ProducerListing
from negotiation_graph.scoring import MASK_VALUE, consumer_utility, consumer_value, producer_utility
from negotiation_graph.state import Bargain, NegotiationState, ProducerAnswer


def coverage(need, answer: ProducerAnswer, features: set[str]) -> dict[str, float]:
    """What each still-unserved feature is worth from this listing at its best allowed masking."""
    region = answer.region
    chosen = columns_for(answer.listing, region, tuple(sorted(features)))
    return {f: need.wanted[f] * MASK_VALUE[region.columns[c][-1]] for f, c in chosen.items()}


def choose_awards(need, proposals: list[ProducerAnswer]) -> list[tuple[ProducerAnswer, tuple[str, ...]]]:
    """Greedy cover: repeatedly award the listing adding the most value on features nobody serves yet."""
    unserved = set(need.wanted)
    remaining = list(proposals)
    awards = []
    while remaining and unserved:
        gains = [(sum(coverage(need, a, unserved).values()), a) for a in remaining]
        gain, best = max(gains, key=lambda ga: (ga[0], -len(ga[1].listing.columns), ga[1].message.msg_id))
        if gain <= 0:
            break
        features = tuple(sorted(coverage(need, best, unserved)))
        awards.append((best, features))
        unserved -= set(features)
        remaining.remove(best)
    return awards


def open_bargain(
    ctx: NegotiationContext, need, listing: ProducerListing, region: FeasibleRegion, features: tuple[str, ...]
) -> Bargain | tuple[str, ...]:
    """The bargain over this listing, or the reason codes for not opening one."""
    scale = 1.0
    path = concession_path(need, listing, region, features)
    if ctx.estimator is not None:
        estimate = ctx.estimator.estimate(need, path[-1])
        if estimate <= ctx.limits.min_value:
            return (ReasonCode.NO_VALUE.value,)
        scale = estimate / consumer_value(need, listing, path[-1], features)
    path = tuple(terms for terms in path if ctx.gate.evaluate(terms).allowed)
    if not path:
        return (ReasonCode.POLICY_DENIED.value,)
    consumer = tuple(consumer_utility(need, listing, t, features, scale) for t in path)
    producer = tuple(producer_utility(listing, t) for t in path)
    consumer_floor = ctx.limits.consumer_reservation * scale * sum(need.wanted[f] for f in features)
    max_risk = ctx.limits.producer_max_risk
    producer_floor = min(producer) if max_risk is None else -max_risk
    if not any(c >= consumer_floor and p >= producer_floor for c, p in zip(consumer, producer, strict=True)):
        return (ReasonCode.NO_ZOPA.value,)
    return Bargain(
        listing=listing,
        features=features,
        path=path,
        consumer_utilities=consumer,
        producer_utilities=producer,
        consumer_reservation=consumer_floor,
        producer_reservation=producer_floor,
        refused_columns=region.refused_columns,
        seq=2,
    )


def award(state: NegotiationState, runtime: Runtime[NegotiationContext]) -> dict:
    ctx, need, nid = runtime.context, state["need"], state["negotiation_id"]
    delivered = deliver(ctx, state)  # the CFP and every producer's answer
    drafts = Drafts(ctx)
    answers = sorted(state["answers"], key=lambda a: (a.listing.producer, a.listing.dataset))
    proposals = [a for a in answers if a.region is not None]
    awarded = dict((id(a), features) for a, features in choose_awards(need, proposals))
    bargains = []
    for answer in proposals:
        features = awarded.get(id(answer))
        outcome = (ReasonCode.NOT_AWARDED.value,)
        if features is not None:
            outcome = open_bargain(ctx, need, answer.listing, answer.region, features)
        proposal = answer.message
        common = dict(
            msg_id=message_id(nid, answer.region.listing_id, 1),
            negotiation_id=nid,
            round=0,
            sender=agent(need.consumer, "consumer"),
            receiver=proposal.sender,
            in_reply_to=proposal.msg_id,
            sent_at=ctx.clock(),
            prev_msg_sha256=proposal.sha256(),
        )
        if isinstance(outcome, Bargain):
            award_ = Message(**common, performative=Performative.AWARD, rationale=", ".join(features))
            message, gone = drafts.post_or_stand_in(award_, Performative.WITHDRAW)
            if not gone:  # the consumer's agent stopped: no bargain is opened in its name
                bargains.append(outcome.model_copy(update={"last_msg_id": message.msg_id, "last_msg_sha256": message.sha256()}))
        else:
            drafts.post_or_stand_in(Message(**common, performative=Performative.REJECT, reason_codes=outcome),
                                    Performative.WITHDRAW)
    # answers read: clear them from later checkpoints
    return {"bargains": bargains, "answers": None, **drafts.update(delivered)}
