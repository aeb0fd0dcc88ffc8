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
from hurricane_assets.approval.approval import ApprovalError, negotiation_approval_payload, record_approval
from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.facts import column_facts
from hurricane_assets.clock import utc_now
from hurricane_assets.identity import SignedEnvelope
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.policy.pin import pin_bundle
from hurricane_assets.settings import hurricane_paths, postgres_settings
from negotiation_graph.checkpointing import postgres_checkpointer, sqlite_checkpointer
from negotiation_graph.context import NegotiationContext
from negotiation_graph.decision_cache import DecisionCache
from negotiation_graph.messages import Message
from negotiation_graph.ports import PolicyGate, ProducerListing, ValueEstimator
from negotiation_graph.runner import NegotiationNotFound, NegotiationReport, Negotiator, NotAwaitingHuman
from negotiation_graph.strategies import RuleStrategy, Strategy
from negotiation_graph.strategies.llm import LLMStrategy
from negotiation_graph.terms import NeedSpec

NegotiationResult = NegotiationReport
STRATEGIES: dict[str, Callable[[], Strategy]] = {"rules": RuleStrategy, "llm": LLMStrategy.from_env}

__all__ = [
    "CatalogDirectory",
    "NeedMismatch",
    "NegotiationNotFound",
    "NegotiationResult",
    "NotAwaitingHuman",
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
    negotiation_id: str, approval: SignedEnvelope, *, now: datetime, checkpointer_path: str | Path | None = None
) -> NegotiationResult:
    """Answer a negotiation paused for a human (`requires_human`) with an approver's signed envelope.

    The envelope must be signed by an approver registered (in the ledger) for every escalated
    agreement's producer, be fresh and unreplayed, and name this negotiation and exactly the terms
    it escalated; it is recorded as a HUMAN_APPROVAL entry before the graph resumes. Raises
    `ApprovalError` otherwise, leaving the negotiation paused."""
    pending = load_result(negotiation_id, checkpointer_path=checkpointer_path)
    if pending.status != "awaiting_human":
        raise NotAwaitingHuman(f"negotiation {negotiation_id} is not waiting for a human decision")
    payload = approval.payload
    approve = payload.get("approve")
    expected = negotiation_approval_payload(negotiation_id, pending.pending_approval, bool(approve))
    if not isinstance(approve, bool) or payload != expected:
        raise ApprovalError(f"approval {approval.nonce} does not answer negotiation {negotiation_id}'s escalation "
                            "(it must name this negotiation and exactly the escalated terms)")
    context = platform_context()
    approver, _ = record_approval(context.ledger, approval, now=now)
    with negotiator(context, checkpointer_path) as n:
        return n.resume(negotiation_id, approve=approve, by=f"{approver.name} (approver key {approver.key_id})")


def load_transcript(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> list[Message]:
    return list(load_result(negotiation_id, checkpointer_path=checkpointer_path).transcript)


def load_result(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> NegotiationResult:
    path = Path(checkpointer_path) if checkpointer_path is not None else hurricane_paths().checkpoints
    if not (postgres_settings() and checkpointer_path is None) and not path.exists():
        raise NegotiationNotFound(negotiation_id)
    with checkpointer(checkpointer_path) as saver:
        # reading needs no ports: a context is only used when the graph runs
        return Negotiator(None, saver).report(negotiation_id)  # type: ignore[arg-type]
