"""The negotiation graph wired to the real platform: the catalog as directory, the Cedar policy
gate, the Delta ledger, the domains' Ed25519 keys, and SQLite checkpoints under HURRICANE_HOME.

This is the only place `hurricane_assets` builds a negotiation; Dagster sensors, the CLI and the
notebook client call `run_negotiation`, `resume_negotiation` and `load_transcript`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.catalog.facts import column_facts
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger import Ledger
from hurricane_assets.policy.gate import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.checkpointing import sqlite_checkpointer
from negotiation_graph.context import NegotiationContext, utc_now
from negotiation_graph.messages import Message
from negotiation_graph.ports import ProducerListing, ValueEstimator
from negotiation_graph.runner import NegotiationNotFound, NegotiationReport, Negotiator, NotAwaitingHuman
from negotiation_graph.strategies import RuleStrategy, Strategy
from negotiation_graph.strategies.llm import LLMStrategy
from negotiation_graph.terms import NeedSpec

NegotiationResult = NegotiationReport
STRATEGIES: dict[str, Callable[[], Strategy]] = {"rules": RuleStrategy, "llm": LLMStrategy.from_env}

__all__ = [
    "CatalogDirectory",
    "NegotiationNotFound",
    "NegotiationResult",
    "NotAwaitingHuman",
    "load_transcript",
    "resume_negotiation",
    "run_negotiation",
]


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
) -> NegotiationContext:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown negotiation strategy {strategy!r}; expected one of {', '.join(STRATEGIES)}")
    catalog = catalog if catalog is not None else load_catalog()
    return NegotiationContext(
        gate=CedarPolicyGate(catalog),
        ledger=Ledger(),
        signer=Signer(),
        directory=CatalogDirectory(catalog),
        strategy=STRATEGIES[strategy](),
        estimator=estimator,
        clock=clock,
    )


@contextmanager
def negotiator(context: NegotiationContext, checkpointer_path: str | Path | None = None) -> Iterator[Negotiator]:
    path = checkpointer_path if checkpointer_path is not None else hurricane_paths().checkpoints
    with sqlite_checkpointer(path) as saver:
        yield Negotiator(context, saver)


def run_negotiation(
    need: NeedSpec,
    *,
    strategy: str = "rules",
    checkpointer_path: str | Path | None = None,
    estimator: ValueEstimator | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> NegotiationResult:
    """Negotiate `need` with every producer the catalog lists, durably; running the same need again
    resumes an interrupted run or returns the finished one."""
    with negotiator(platform_context(strategy=strategy, estimator=estimator, clock=clock), checkpointer_path) as n:
        return n.run(need)


def resume_negotiation(
    negotiation_id: str, approve: bool, by: str, *, checkpointer_path: str | Path | None = None
) -> NegotiationResult:
    """Answer a negotiation paused for a human (`requires_human`); the ledger records `by`."""
    if not by.strip():
        raise ValueError("resume needs the name of who decides (--by)")
    with negotiator(platform_context(), checkpointer_path) as n:
        return n.resume(negotiation_id, approve=approve, by=by)


def load_transcript(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> list[Message]:
    return list(load_result(negotiation_id, checkpointer_path=checkpointer_path).transcript)


def load_result(negotiation_id: str, *, checkpointer_path: str | Path | None = None) -> NegotiationResult:
    path = Path(checkpointer_path) if checkpointer_path is not None else hurricane_paths().checkpoints
    if not path.exists():
        raise NegotiationNotFound(negotiation_id)
    with sqlite_checkpointer(path) as saver:
        # reading needs no ports: a context is only used when the graph runs
        return Negotiator(None, saver).report(negotiation_id)  # type: ignore[arg-type]
