"""What the negotiation needs from the outside world, as interfaces.

`hurricane_assets` implements them (Cedar gate, Delta ledger, Ed25519 signer, catalog directory,
trial-sample estimator); tests may implement them in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from negotiation_graph.terms import NeedSpec, ShareTerms


class ColumnDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: bool
    policy_ids: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


class PolicyDecision(BaseModel):
    """The gate's answer for one offer. `allowed` is True only if every column and the share are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed: bool
    columns: dict[str, ColumnDecision]
    reasons: tuple[str, ...] = ()  # share-level reason codes, e.g. purpose_not_allowed
    requires_human: bool = False
    decision_id: str
    bundle_sha256: str
    engine: str = "cedar"


@runtime_checkable
class PolicyGate(Protocol):
    def evaluate(self, terms: ShareTerms) -> PolicyDecision: ...


class LedgerConflict(ValueError):
    """An append named an entry id the ledger already holds with other content. Never skipped: a
    re-run step that would write other bytes under a known id means the transcript diverged."""


class LedgerReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    entry_hash: str


@runtime_checkable
class LedgerPort(Protocol):
    def append(
        self,
        *,
        entry_type: str,
        actor: str,
        payload: dict[str, Any],
        negotiation_id: str | None = None,
        contract_id: str | None = None,
        entry_id: str | None = None,
    ) -> LedgerReceipt:
        """Append one signed entry. With an `entry_id` already in the ledger holding the same
        content (type, actor, ids, payload), return its receipt instead of appending again (resumed
        steps re-send); with other content, raise `LedgerConflict`."""
        ...

    def append_batch(self, entries: Sequence[Any]) -> list[LedgerReceipt]:
        """Append entries (objects with the `append` keywords as attributes) in order, in one
        atomic write where the ledger can; same idempotence and `LedgerConflict` rule per entry."""
        ...


class SignatureBlock(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    signer: str  # domain
    key_id: str
    signature: str  # base64


class PartyUnavailable(RuntimeError):
    """A party's agent did not answer (stopped, unreachable, timed out): it could not sign. The graph
    records the party as gone instead of failing the whole negotiation."""

    def __init__(self, domain: str, reason: str):
        super().__init__(f"{domain}'s agent is unavailable: {reason}")
        self.domain = domain


@runtime_checkable
class SignerPort(Protocol):
    def sign(self, domain: str, message: bytes) -> SignatureBlock: ...

    def verify(self, message: bytes, signature: SignatureBlock) -> None:
        """Raise `ValueError` (or a subclass) naming what failed."""
        ...


class ColumnFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    classification: str  # public < internal < confidential < restricted
    sensitivity: int  # rank of classification, 0..3
    pii: str | None = None
    refers_to: str | None = None
    tags: tuple[str, ...] = ()
    description: str = ""  # producer-written text: untrusted for an LLM


class ProducerListing(BaseModel):
    """One data product a producer holds that may serve a need."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    producer: str
    dataset: str
    entity: str
    description: str = ""  # untrusted producer text
    join_entities: tuple[str, ...]
    columns: dict[str, ColumnFacts]
    allowed_purposes: tuple[str, ...]
    allowed_environments: tuple[str, ...]
    freshness_hours: int


@runtime_checkable
class DirectoryPort(Protocol):
    def listings(self, need: NeedSpec) -> list[ProducerListing]:
        """Every dataset (of a domain other than the consumer) joinable on one of the need's entities."""
        ...


@runtime_checkable
class ValueEstimator(Protocol):
    def estimate(self, need: NeedSpec, terms: ShareTerms) -> float:
        """The consumer's estimate of what these terms are worth (e.g. AUC uplift on a trial sample)."""
        ...
