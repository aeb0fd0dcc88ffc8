"""The typed state of a negotiation (checkpointed) and of one producer's answer to a CFP."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Annotated, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from negotiation_graph.feasibility import FeasibleRegion, Infeasible
from negotiation_graph.messages import Agreement, Message, Outcome, PolicySummary
from negotiation_graph.outbox import Outgoing, outbox_after
from negotiation_graph.ports import ProducerListing
from negotiation_graph.terms import NeedSpec, ShareTerms

Role = Literal["consumer", "producer"]


class ProducerAnswer(BaseModel):
    """A producer's reply to the CFP with its private region (kept by the mediator, never sent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listing: ProducerListing
    message: Message
    region: FeasibleRegion | None = None


class Bargain(BaseModel):
    """One bilateral alternating-offers exchange over a concession path (index 0 = producer's anchor)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listing: ProducerListing
    features: tuple[str, ...]
    path: tuple[ShareTerms, ...]
    consumer_utilities: tuple[float, ...]
    producer_utilities: tuple[float, ...]
    consumer_reservation: float
    producer_reservation: float
    refused_columns: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    round: int = 0
    seq: int = 0
    turn: Role = "consumer"
    offers: dict[str, tuple[int, ...]] = Field(default_factory=lambda: {"consumer": (), "producer": ()})
    on_table: int | None = None  # the PROPOSE covered every wanted column, so the consumer opens the bargain
    last_msg_id: str | None = None
    last_msg_sha256: str | None = None
    status: Literal["open", "accepted", "closed"] = "open"
    reason_codes: tuple[str, ...] = ()
    decision: PolicySummary | None = None

    @property
    def stream(self) -> str:
        return f"{self.listing.producer}.{self.listing.dataset}"


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    approved: bool
    by: str
    at: datetime | None = None  # when the human answered (the resume's clock), for HUMAN_DECISION


def answers_until_award(answers: list[ProducerAnswer], update: list[ProducerAnswer] | None) -> list[ProducerAnswer]:
    """Producers append their answers; the award, having read them, clears the channel (writes
    None) so that no later checkpoint carries every listing and region again."""
    return [] if update is None else answers + update


class NegotiationState(TypedDict, total=False):
    """Everything here is in every checkpoint (SqliteSaver stores all channels each step), so it
    holds only what a later step reads: no listings, no drafts, answers only until the award."""

    negotiation_id: str
    need: NeedSpec
    opened_at: datetime
    producers_asked: int
    answers: Annotated[list[ProducerAnswer], answers_until_award]
    transcript: Annotated[list[Message], operator.add]  # every message drafted, in order
    outbox: Annotated[list[Outgoing], outbox_after]  # drafted by the last step, delivered by the next
    bargains: list[Bargain]
    agreements: list[Agreement]
    escalation: Escalation | None
    outcome: Outcome


class ProducerTask(TypedDict):
    """What the CFP fan-out sends to one producer subgraph."""

    negotiation_id: str
    need: NeedSpec
    listing: ProducerListing
    cfp: Message


class ProducerState(ProducerTask, total=False):
    assessment: FeasibleRegion | Infeasible
    answers: Annotated[list[ProducerAnswer], operator.add]
    transcript: Annotated[list[Message], operator.add]
    outbox: Annotated[list[Outgoing], outbox_after]


class ProducerOutput(TypedDict):
    """Only reducer keys leave a producer subgraph, so parallel producers never collide."""

    answers: Annotated[list[ProducerAnswer], operator.add]
    transcript: Annotated[list[Message], operator.add]
    outbox: Annotated[list[Outgoing], outbox_after]
