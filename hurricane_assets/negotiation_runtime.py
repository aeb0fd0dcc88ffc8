"""The negotiation graph wired to the real platform: the catalog as directory, the Cedar policy
gate, the Delta ledger, the domains' Ed25519 keys, and durable checkpoints: SQLite under HURRICANE_HOME,
or PostgreSQL when `HURRICANE_POSTGRES_HOST` is set.

This is the only place `hurricane_assets` builds a negotiation; Dagster sensors, the CLI and the
notebook client call `run_negotiation`, `resume_negotiation` and `load_transcript`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Literal

from hurricane_assets.agents.exchange import Exchange, exchange_from_environment
from hurricane_assets.approval.approval import (
    ApprovalError,
    decided_by,
    negotiation_approval_payload,
    record_approval,
    recorded_negotiation_answer,
)
from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.facts import column_facts
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.identity import SignedEnvelope
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.policy.pin import pin_bundle
from hurricane_assets.settings import hurricane_paths, postgres_settings
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.checkpointing import postgres_checkpointer, sqlite_checkpointer
from negotiation_graph.context import NegotiationContext
from negotiation_graph.decision_cache import DecisionCache
from negotiation_graph.messages import Message
from negotiation_graph.ports import LedgerConflict, PolicyGate, ProducerListing, ValueEstimator
from negotiation_graph.runner import (
    AnswerAlreadyGiven,
    NegotiationNotFound,
    NegotiationReport,
    Negotiator,
    NotAwaitingHuman,
    verdict,
)
from negotiation_graph.strategies import RuleStrategy, Strategy
from negotiation_graph.strategies.llm import LLMStrategy
from negotiation_graph.terms import NeedSpec

NegotiationResult = NegotiationReport
STRATEGIES: dict[str, Callable[[], Strategy]] = {"rules": RuleStrategy, "llm": LLMStrategy.from_env}

__all__ = [
    "AnswerAlreadyGiven",
    "CatalogDirectory",
    "NeedMismatch",
    "NegotiationNotFound",
    "NegotiationResult",
    "NotAwaitingHuman",
    "ResumeUnfinished",
    "load_transcript",
    "resume_negotiation",
    "run_negotiation",
]


class NeedMismatch(ValueError):
    """A need naming a domain or a listing the catalog does not hold; refused before anything runs."""


def check_need(catalog: Catalog, need: NeedSpec) -> None:
    """Every domain and listing `need` names is in `catalog`. Unchecked, an unknown consumer got as
    far as the exchange and failed there as a domain whose agent is unavailable."""
    try:
        catalog.product(need.consumer)
    except KeyError as exc:
        raise NeedMismatch(f"consumer: {exc.args[0]}") from None
    for listing in need.listings:
        try:
            catalog.dataset(*listing.split(".", 1))
        except KeyError as exc:
            raise NeedMismatch(f"listings: {exc.args[0]}") from None


class CatalogDirectory:
    """Implements `DirectoryPort`: every dataset of another domain joinable on one of the need's
    entities (its own entity or a column referring to it), described from its manifest."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def listings(self, need: NeedSpec) -> list[ProducerListing]:
        found = []
        for domain, name, dataset in self.catalog.datasets():
            if domain == need.consumer:
                continue
            joinable = {dataset.entity} | {c.refers_to for c in dataset.columns.values() if c.refers_to}
            entities = tuple(e for e in need.join_entities if e in joinable)
            if not entities:
                continue
            found.append(
                ProducerListing(
                    producer=domain,
                    dataset=name,
                    entity=dataset.entity,
                    description=dataset.description,
                    join_entities=entities,
                    columns={column: column_facts(spec) for column, spec in dataset.columns.items()},
                    allowed_purposes=dataset.allowed_purposes,
                    allowed_environments=dataset.allowed_environments,
                    freshness_hours=dataset.freshness.materialize_every_hours,
                )
            )
        return found


def platform_context(
    *,
    strategy: str = "rules",
    estimator: ValueEstimator | None = None,
    catalog: Catalog | None = None,
    clock: Callable[[], datetime] = utc_now,
    gate: PolicyGate | None = None,
    ledger_commits: Literal["step", "negotiation"] = "negotiation",
    exchange: Exchange | None = None,
) -> NegotiationContext:
    """The real ports; `gate` lets a long-lived caller share one loaded Cedar bundle. The ledger
    gets one Delta commit per negotiation (and one before a pause for a human) by default.

    Every domain signature comes from that domain's own agent and the ledger is written with the log's
    key only: `exchange` (`hurricane_assets.agents.exchange.Exchange`), else the one `$HURRICANE_AGENTS`
    selects (in-process agents by default)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown negotiation strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    catalog = catalog if catalog is not None else load_catalog()
    gate = gate if gate is not None else DecisionCache(CedarPolicyGate(catalog))
    exchange = exchange if exchange is not None else exchange_from_environment()
    ledger = exchange.ledger
    pin_bundle(gate, ledger)  # a negotiation under a bundle the ledger has not seen records it first
    return NegotiationContext(
        gate=gate,
        ledger=ledger,
        signer=exchange.signer,
        directory=CatalogDirectory(catalog),
        strategy=STRATEGIES[strategy](),
        estimator=estimator,
        clock=clock,
        ledger_commits=ledger_commits,
        # rules with in-process agents are pure CPU: the producers answer one after another
        parallel_parties=not (exchange.in_process and strategy == "rules"),
    )


@contextmanager
def checkpointer(checkpointer_path: str | Path | None = None):
    """An explicit SQLite path wins; else PostgreSQL when `HURRICANE_POSTGRES_HOST` is set; else
    `$HURRICANE_HOME/checkpoints.sqlite`."""
    postgres = postgres_settings() if checkpointer_path is None else None
    if postgres:
        with postgres_checkpointer(postgres.url) as saver:
            yield saver
        return
    with sqlite_checkpointer(checkpointer_path if checkpointer_path is not None else hurricane_paths().checkpoints) as saver:
        yield saver


@contextmanager
def negotiator(context: NegotiationContext, checkpointer_path: str | Path | None = None) -> Iterator[Negotiator]:
    with checkpointer(checkpointer_path) as saver:
        yield Negotiator(context, saver)


def run_negotiation(
    need: NeedSpec,
    *,
    strategy: str = "rules",
    checkpointer_path: str | Path | None = None,
    estimator: ValueEstimator | None = None,
    clock: Callable[[], datetime] = utc_now,
    exchange: Exchange | None = None,
) -> NegotiationResult:
    """Negotiate `need` with every producer the catalog lists, durably; running the same need again
    resumes an interrupted run or returns the finished one. With an `exchange`, through the domains'
    own agents (`hurricane_assets.agents`). Raises `NeedMismatch` before anything runs when the
    need names a domain or listing the catalog does not hold."""
    catalog = load_catalog()
    check_need(catalog, need)
    context = platform_context(strategy=strategy, estimator=estimator, catalog=catalog, clock=clock,
                               exchange=exchange)
    with negotiator(context, checkpointer_path) as n:
        return n.run(need)


def resume_negotiation(
    negotiation_id: str,
    approval: SignedEnvelope | None = None,
    *,
    now: datetime,
    checkpointer_path: str | Path | None = None,
    exchange: Exchange | None = None,
) -> NegotiationResult:
    """Answer a negotiation paused for a human (`requires_human`) with an approver's signed envelope,
    or, without one, finish a negotiation whose run or resume stopped mid-way.

    The envelope must be signed by an approver registered (in the ledger) for every escalated
    agreement's producer, be fresh and unreplayed, and name this negotiation and exactly the terms
    it escalated; it is recorded as a HUMAN_APPROVAL entry before the graph resumes. Raises
    `ApprovalError` otherwise, leaving the negotiation paused.

    An answer is recorded once. When one is recorded already (a resume failed after recording it),
    the negotiation finishes with that answer: the same answer again is not recorded a second time,
    another one raises `AnswerAlreadyGiven`. A failure after the answer is recorded (a party's agent
    down, a ledger error) raises `ResumeUnfinished`, saying what failed and how to finish."""
    pending = load_result(negotiation_id, checkpointer_path=checkpointer_path)
    context = platform_context(exchange=exchange)
    recorded = recorded_negotiation_answer(LedgerHistory.read(context.ledger), negotiation_id, escalated(pending),
                                           registry=context.ledger.keyring.registry)
    if approval is not None:
        if pending.status == "done":
            raise NotAwaitingHuman(f"negotiation {negotiation_id} is finished ({pending.outcome.status}); "
                                   "it is not waiting for a human decision")
        if recorded is None:
            recorded = record_answer(context, pending, approval, now=now)
        elif approval.payload.get("approve") is not recorded[0]:
            raise AnswerAlreadyGiven(f"negotiation {negotiation_id} was already {verdict(recorded[0])} by "
                                     f"{recorded[1]}; an answer cannot be changed once recorded (finish it with "
                                     f"`hurricane negotiations resume {negotiation_id}`)")
    with negotiator(context, checkpointer_path) as n:
        try:
            if recorded is None:
                return n.finish(negotiation_id)
            return n.resume(negotiation_id, approve=recorded[0], by=recorded[1])
        except AnswerAlreadyGiven:
            raise
        except Exception as exc:
            raise ResumeUnfinished(negotiation_id, recorded, exc) from exc


def escalated(report: NegotiationResult) -> tuple:
    """The agreements the policy sent to a human: listed as pending while it waits, still among the
    agreements (`requires_human`) once a resume stopped mid-way."""
    return report.pending_approval or tuple(a for a in report.agreements if a.requires_human)


def record_answer(context: NegotiationContext, pending: NegotiationResult, approval: SignedEnvelope, *,
                  now: datetime) -> tuple[bool, str]:
    """Check that `approval` answers `pending`'s escalation and record it; (approve, decided_by)."""
    negotiation_id = pending.negotiation_id
    if pending.status != "awaiting_human":
        raise NotAwaitingHuman(f"negotiation {negotiation_id} is not waiting for a human decision")
    payload = approval.payload
    approve = payload.get("approve")
    expected = negotiation_approval_payload(negotiation_id, pending.pending_approval, bool(approve))
    if not isinstance(approve, bool) or payload != expected:
        raise ApprovalError(f"approval {approval.nonce} does not answer negotiation {negotiation_id}'s escalation "
                            "(it must name this negotiation and exactly the escalated terms)")
    try:
        # one id per negotiation: two resumes that each saw no answer yet cannot both record theirs
        approver, _ = record_approval(context.ledger, approval, now=now, answer_id=answer_entry_id(negotiation_id))
    except LedgerConflict:
        recorded = recorded_negotiation_answer(LedgerHistory.read(context.ledger), negotiation_id,
                                               escalated(pending), registry=context.ledger.keyring.registry)
        if recorded is None or recorded[0] is not approve:
            raise AnswerAlreadyGiven(
                f"negotiation {negotiation_id} was answered by another resume at the same time"
                + (f" ({verdict(recorded[0])} by {recorded[1]})" if recorded else "")
                + "; an answer cannot be changed once recorded") from None
        return recorded
    return approve, decided_by(approver.name, approver.key_id)


def answer_entry_id(negotiation_id: str) -> str:
    """The HUMAN_APPROVAL entry id of a negotiation's answer: one per negotiation."""
    return entry_id("negotiation-answer", negotiation_id)


class ResumeUnfinished(RuntimeError):
    """A resume (or a finish) that stopped before the negotiation's outcome was recorded; the answer,
    if one was given, is recorded and is what finishing uses."""

    def __init__(self, negotiation_id: str, answer: tuple[bool, str] | None, cause: BaseException):
        given = f"the answer ({verdict(answer[0])} by {answer[1]}) is recorded, but " if answer else ""
        super().__init__(f"negotiation {negotiation_id}: {given}it could not finish: {what_failed(cause)}. Once that "
                         f"is fixed, run `hurricane negotiations resume {negotiation_id}` to finish it"
                         + (" (the answer is kept, not asked again)" if answer else ""))
        self.negotiation_id = negotiation_id


def what_failed(exc: BaseException) -> str:
    """The failure as the operator may read it: this project's errors name the agent, the ledger or
    the file; a library's message may quote data (a row in a Delta error), so only its type is named."""
    own = type(exc).__module__.split(".")[0] in ("hurricane_assets", "negotiation_graph")
    return f"{exc}" if own and str(exc) else f"{type(exc).__name__} (from {type(exc).__module__})"


def load_transcript(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> list[Message]:
    return list(load_result(negotiation_id, checkpointer_path=checkpointer_path).transcript)


def load_result(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> NegotiationResult:
    path = Path(checkpointer_path) if checkpointer_path is not None else hurricane_paths().checkpoints
    if not (postgres_settings() and checkpointer_path is None) and not path.exists():
        raise NegotiationNotFound(negotiation_id)
    with checkpointer(checkpointer_path) as saver:
        # reading needs no ports: a context is only used when the graph runs
        return Negotiator(None, saver).report(negotiation_id)  # type: ignore[arg-type]
