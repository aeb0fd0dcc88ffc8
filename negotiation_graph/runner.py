"""Running, resuming and reading negotiations: the API callers use instead of raw graph calls.

The thread id is the negotiation id (derived from the need and the gate's policy bundle hash), so
running the same need again under the same policy resumes or returns the stored negotiation
instead of starting a second one; under a changed policy it is a new negotiation.
"""

from __future__ import annotations

import uuid
from typing import Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command
from pydantic import BaseModel, ConfigDict

from negotiation_graph.context import NegotiationContext
from negotiation_graph.graph import build_graph
from negotiation_graph.messages import MESSAGE_NAMESPACE, Agreement, Message, Outcome, canonical_json, sha256_hex
from negotiation_graph.terms import NeedSpec

INTERRUPT = "__interrupt__"  # the key of an invoke's output when the graph paused (no public constant)


class NegotiationNotFound(KeyError):
    """No checkpointed negotiation has this id."""


class NotAwaitingHuman(ValueError):
    """A resume was asked for a negotiation that is not paused for a human."""


class NegotiationReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    negotiation_id: str
    status: Literal["done", "awaiting_human"]
    outcome: Outcome | None = None
    agreements: tuple[Agreement, ...] = ()
    pending_approval: tuple[Agreement, ...] = ()  # signed, waiting for the human the policy asked for
    transcript: tuple[Message, ...] = ()


def negotiation_id_for(need: NeedSpec, policy_sha256: str | None = None) -> str:
    """The need and the policy bundle it is negotiated under: after a policy change the same need
    is a new negotiation (the stored one was agreed under other rules), not the old result."""
    digest = sha256_hex(canonical_json(need.model_dump(mode="json")))
    under = f"/{policy_sha256}" if policy_sha256 else ""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"negotiation/{need.need_id}/{digest}{under}"))


def thread(negotiation_id: str) -> dict:
    return {"configurable": {"thread_id": negotiation_id}}


class Negotiator:
    """Runs DH-NP negotiations with one context; durable when given a checkpointer."""

    def __init__(self, context: NegotiationContext, checkpointer: BaseCheckpointSaver | None = None):
        self.context = context
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer)

    def run(self, need: NeedSpec) -> NegotiationReport:
        nid = negotiation_id_for(need, getattr(self.context.gate, "bundle_sha256", None))
        if self.checkpointer is None or self.checkpointer.get_tuple(thread(nid)) is None:
            # a new negotiation: its final values are the invoke's output, no need to read them back
            values = self._invoke({"negotiation_id": nid, "need": need}, nid)
            return report(nid, values, awaiting=INTERRUPT in values)
        snapshot = self.graph.get_state(thread(nid))
        # a run that died mid-way: continue from its last checkpoint. `tasks`, not `next`: a task
        # whose writes were saved just before the kill is no longer "next", yet its step never ended
        if snapshot.tasks and not snapshot.interrupts:
            self._invoke(None, nid)
        return self.report(nid)

    def resume(self, negotiation_id: str, *, approve: bool, by: str) -> NegotiationReport:
        snapshot = self.graph.get_state(thread(negotiation_id))
        if not snapshot.values:
            raise NegotiationNotFound(negotiation_id)
        if not snapshot.interrupts:
            raise NotAwaitingHuman(f"negotiation {negotiation_id} is not waiting for a human decision")
        at = self.context.clock()  # the decision's time, fixed in the checkpoint with the answer
        self._invoke(Command(resume={"approved": approve, "by": by, "at": at}), negotiation_id)
        return self.report(negotiation_id)

    def report(self, negotiation_id: str) -> NegotiationReport:
        if self.checkpointer is None:
            raise ValueError("reading a stored negotiation needs a checkpointer")
        snapshot = self.graph.get_state(thread(negotiation_id))
        if not snapshot.values:
            raise NegotiationNotFound(negotiation_id)
        return report(negotiation_id, snapshot.values, awaiting=bool(snapshot.interrupts))

    def _invoke(self, payload, negotiation_id: str) -> dict:
        config = thread(negotiation_id)
        if not self.context.parallel_parties:
            config["max_concurrency"] = 1  # one task at a time: no GIL contention, no thread per producer
        if self.checkpointer is None:
            return self.graph.invoke(payload, config, context=self.context)
        # "sync": a checkpoint is on disk before the next step starts, so a crash loses no step
        return self.graph.invoke(payload, config, context=self.context, durability="sync")


def report(negotiation_id: str, values: dict, *, awaiting: bool) -> NegotiationReport:
    agreements = tuple(values.get("agreements") or ())
    return NegotiationReport(
        negotiation_id=negotiation_id,
        status="awaiting_human" if awaiting else "done",
        outcome=values.get("outcome"),
        agreements=() if awaiting else agreements,
        # only what the policy sent to a human: listing every agreement asked an approver of each
        # producer, and the approver of the escalated one was refused ("not an approver for payments")
        pending_approval=tuple(a for a in agreements if a.requires_human) if awaiting else (),
        transcript=tuple(values.get("transcript") or ()),
    )
