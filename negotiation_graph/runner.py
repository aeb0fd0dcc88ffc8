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
from negotiation_graph.state import Escalation
from negotiation_graph.terms import NeedSpec

INTERRUPT = "__interrupt__"  # the key of an invoke's output when the graph paused (no public constant)
RESUME = "__resume__"  # the channel of a pending write holding a resume's answer (no public constant)


class NegotiationNotFound(KeyError):
    """No checkpointed negotiation has this id."""


class NotAwaitingHuman(ValueError):
    """A resume was asked for a negotiation that is not paused for a human."""


# unfinished: a run or a resume stopped mid-way (a party's agent down, a ledger error, a killed
# process); `Negotiator.finish` continues it from its last checkpoint
Status = Literal["done", "awaiting_human", "unfinished"]


class AnswerAlreadyGiven(ValueError):
    """Another answer to an escalation that was already answered: an answer cannot be swapped once
    given (the ledger and the transcript already carry it)."""


class NegotiationReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    negotiation_id: str
    status: Status
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
            return report(nid, values, "awaiting_human" if INTERRUPT in values else "done")
        return self.finish(nid)

    def finish(self, negotiation_id: str) -> NegotiationReport:
        """Continue a negotiation that stopped mid-way from its last checkpoint (a finished one is
        returned as it is; one paused for a human that has not answered yet stays paused).

        `tasks`, not `next`: a task whose writes were saved just before a kill is no longer "next",
        yet its step never ended. A resume that failed after the human answered leaves the paused
        task with the answer as a pending write: continuing replays that answer."""
        snapshot = self._snapshot(negotiation_id)
        if snapshot.tasks and (not snapshot.interrupts or self.answer_given(negotiation_id) is not None):
            self._invoke(None, negotiation_id)
        return self.report(negotiation_id)

    def resume(self, negotiation_id: str, *, approve: bool, by: str) -> NegotiationReport:
        """Answer the escalation and finish. The same answer again (after a resume that failed once
        the answer was given) finishes with the answer already given, not a second one; another
        answer raises `AnswerAlreadyGiven` (LangGraph would silently replay the first)."""
        snapshot = self._snapshot(negotiation_id)
        given = self.answer_given(negotiation_id)
        if given is not None:
            if given.approved != approve:
                raise AnswerAlreadyGiven(
                    f"negotiation {negotiation_id} was already {verdict(given.approved)} by {given.by}; "
                    f"an answer cannot be changed once given")
            return self.finish(negotiation_id)
        if not snapshot.interrupts:
            raise NotAwaitingHuman(f"negotiation {negotiation_id} is not waiting for a human decision")
        at = self.context.clock()  # the decision's time, fixed in the checkpoint with the answer
        self._invoke(Command(resume={"approved": approve, "by": by, "at": at}), negotiation_id)
        return self.report(negotiation_id)

    def answer_given(self, negotiation_id: str) -> Escalation | None:
        """The human's answer to the escalation, if one was given: checkpointed by `escalate`, or
        still a pending write of the paused task when the resume failed before `escalate` ended."""
        snapshot = self._snapshot(negotiation_id)
        if snapshot.values.get("escalation") is not None:
            return snapshot.values["escalation"]
        stored = self.checkpointer.get_tuple(thread(negotiation_id)) if self.checkpointer is not None else None
        pending = [value for _, channel, value in (stored.pending_writes or ()) if channel == RESUME] if stored else []
        return Escalation.model_validate(pending[0]) if pending else None

    def report(self, negotiation_id: str) -> NegotiationReport:
        if self.checkpointer is None:
            raise ValueError("reading a stored negotiation needs a checkpointer")
        snapshot = self._snapshot(negotiation_id)
        if snapshot.interrupts and self.answer_given(negotiation_id) is None:
            return report(negotiation_id, snapshot.values, "awaiting_human")
        # a task left means a step never ended, even the last one after the outcome was drafted
        return report(negotiation_id, snapshot.values, "unfinished" if snapshot.tasks else "done")

    def _snapshot(self, negotiation_id: str):
        snapshot = self.graph.get_state(thread(negotiation_id))
        if not snapshot.values:
            raise NegotiationNotFound(negotiation_id)
        return snapshot

    def _invoke(self, payload, negotiation_id: str) -> dict:
        config = thread(negotiation_id)
        if not self.context.parallel_parties:
            config["max_concurrency"] = 1  # one task at a time: no GIL contention, no thread per producer
        if self.checkpointer is None:
            return self.graph.invoke(payload, config, context=self.context)
        # "sync": a checkpoint is on disk before the next step starts, so a crash loses no step
        return self.graph.invoke(payload, config, context=self.context, durability="sync")


def verdict(approved: bool) -> str:
    return "approved" if approved else "denied"


def report(negotiation_id: str, values: dict, status: Status) -> NegotiationReport:
    agreements = tuple(values.get("agreements") or ())
    awaiting = status == "awaiting_human"
    return NegotiationReport(
        negotiation_id=negotiation_id,
        status=status,
        outcome=values.get("outcome"),
        agreements=() if awaiting else agreements,
        # only what the policy sent to a human: listing every agreement asked an approver of each
        # producer, and the approver of the escalated one was refused ("not an approver for payments")
        pending_approval=tuple(a for a in agreements if a.requires_human) if awaiting else (),
        transcript=tuple(values.get("transcript") or ()),
    )
