"""A data need, negotiated to signed contracts: the step between a failed monitor and delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hurricane_assets.contracts.contract import Contract
from hurricane_assets.negotiation_runtime import NegotiationResult, run_negotiation
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.platform import SharingPlatform
from negotiation_graph.ports import ValueEstimator
from negotiation_graph.terms import NeedSpec


@dataclass(frozen=True)
class NeedOutcome:
    need_id: str
    negotiation: NegotiationResult
    contracts: tuple[Contract, ...]
    refused_at_signature: tuple[str, ...]

    def summary(self) -> dict:
        outcome = self.negotiation.outcome
        return {
            "need_id": self.need_id,
            "negotiation_id": self.negotiation.negotiation_id,
            "status": self.negotiation.status,
            "outcome": outcome.model_dump(mode="json") if outcome is not None else None,
            "messages": len(self.negotiation.transcript),
            "contracts": [
                {"contract_id": c.contract_id, "producer": c.producer, "dataset": c.dataset,
                 "environment": c.terms.environment.value,
                 "columns": {col: m.value for col, m in c.terms.columns.items()},
                 "expires_at": c.expires_at.isoformat()}
                for c in self.contracts
            ],
            "refused_at_signature": list(self.refused_at_signature),
        }


def negotiate_need(
    need: NeedSpec,
    platform: SharingPlatform,
    *,
    strategy: str = "rules",
    estimator: ValueEstimator | None = None,
    now: datetime | None = None,
) -> NeedOutcome:
    """Negotiate (durably; a second call for the same need returns the stored result), then sign
    what was agreed. A negotiation paused for a human signs nothing until it is resumed."""
    result = run_negotiation(need, strategy=strategy, estimator=estimator)
    contracts: tuple[Contract, ...] = ()
    refused: tuple[str, ...] = ()
    if result.status == "done" and result.agreements:
        known = {c.contract_id for c in platform.store.list()}
        signed = sign_agreements(result.agreements, **platform.signing, now=now)
        contracts = signed.contracts
        refused = tuple(f"{a.producer}.{a.dataset}: {', '.join(r)}" for a, r in signed.refused)
        # lineage for the negotiation once, when its contracts are first signed
        new = [c for c in contracts if c.contract_id not in known]
        if new:  # the need's run, and each producer's part as its child run
            platform.lineage.need_negotiation_started(result.negotiation_id, need.consumer)
        for producer in sorted({c.producer for c in new}):
            platform.lineage.negotiation_started(result.negotiation_id, need.consumer, producer)
            platform.lineage.negotiation_completed(result.negotiation_id, need.consumer, producer)
        if new:
            platform.lineage.need_negotiation_completed(result.negotiation_id, need.consumer)
            # a signed checkpoint at each agreement, so a later truncation of the ledger shows
            platform.ledger.checkpoint()
    return NeedOutcome(need.need_id, result, contracts, refused)
