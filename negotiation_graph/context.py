"""The run context: the ports, the strategy, the clock and the limits of one negotiation.

It is passed to every `invoke` and never checkpointed, so ports may hold connections and the
clock may be a fixed one in tests (same inputs, same bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from negotiation_graph.ports import DirectoryPort, LedgerPort, PolicyGate, SignerPort, ValueEstimator
from negotiation_graph.strategies import RuleStrategy, Strategy


def utc_now() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    """A clock that always says `at`, for reproducible messages."""
    return lambda: at


class NegotiationLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rounds: int = Field(default=8, ge=2, description="messages per bilateral exchange")
    deadline_s: float = Field(default=300.0, gt=0)
    no_progress_rounds: int = Field(default=3, ge=1, description="identical offers from both sides this often end it")
    consumer_reservation: float = Field(
        default=0.5, ge=0, le=1, description="share of the unmasked value of its features the consumer needs"
    )
    producer_max_risk: float | None = Field(default=None, gt=0, description="risk above which a producer never goes")
    min_value: float = Field(default=0.0, description="an estimator value at or below this means the data is useless")
    llm_candidates: int = Field(default=3, ge=1)


@dataclass(frozen=True)
class NegotiationContext:
    gate: PolicyGate
    ledger: LedgerPort
    signer: SignerPort
    directory: DirectoryPort
    strategy: Strategy = field(default_factory=RuleStrategy)
    estimator: ValueEstimator | None = None
    clock: Callable[[], datetime] = utc_now
    limits: NegotiationLimits = field(default_factory=NegotiationLimits)
    # when drafts reach the ledger: at the start of every next step (one commit per step), or
    # all at the end and before a pause for a human (one commit per negotiation; the checkpoints
    # hold the drafts meanwhile, so a crash loses nothing and the ledger still equals the transcript)
    ledger_commits: Literal["step", "negotiation"] = "step"
    # the producers' answers to a CFP in parallel threads: worth it while each waits on the network
    # (agents over A2A, an LLM); with every party in this process they only contend for the GIL
    parallel_parties: bool = True
