"""The signed contract between a producer and a consumer domain, and its lifecycle.

Both parties sign the canonical body (RFC 8785 of everything except status, signatures and the
ledger reference, which change after signing). Status moves only along legal transitions:
proposed -> active -> expired | revoked | renewed (and proposed -> revoked for a withdrawn offer).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import uuid6
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hurricane_assets.clock import utc_now
from hurricane_assets.identity import canonical_json
from hurricane_assets.settings import hurricane_paths
from negotiation_graph.ports import SignatureBlock, SignerPort
from negotiation_graph.terms import ShareTerms

SEMVER = r"^\d+\.\d+\.\d+$"


class ContractStatus(str, Enum):
    proposed = "proposed"
    active = "active"
    expired = "expired"
    revoked = "revoked"
    renewed = "renewed"


LEGAL_TRANSITIONS: dict[ContractStatus, frozenset[ContractStatus]] = {
    ContractStatus.proposed: frozenset({ContractStatus.active, ContractStatus.revoked}),
    ContractStatus.active: frozenset({ContractStatus.expired, ContractStatus.revoked, ContractStatus.renewed}),
    ContractStatus.expired: frozenset(),
    ContractStatus.revoked: frozenset(),
    ContractStatus.renewed: frozenset(),
}


class IllegalTransitionError(ValueError):
    pass


class ContractSignatureError(ValueError):
    pass


class LedgerRef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=0)
    entry_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class PartySignature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = Field(pattern=r"^(producer|consumer)$")
    block: SignatureBlock


def default_share_uri(terms: ShareTerms) -> str:
    """Where the consumer's copy lives: its own domain folder in the target environment."""
    return hurricane_paths().table_uri(terms.environment.value, terms.consumer, f"{terms.producer}__{terms.dataset}")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contract_id: str = Field(default_factory=lambda: str(uuid6.uuid7()), pattern=r"^[A-Za-z0-9_-]+$")
    version: str = Field(default="1.0.0", pattern=SEMVER)
    negotiation_id: str
    terms: ShareTerms
    share_uri: str
    policy_bundle_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    signed_at: AwareDatetime
    expires_at: AwareDatetime
    status: ContractStatus = ContractStatus.proposed
    signatures: tuple[PartySignature, ...] = ()
    ledger: LedgerRef | None = None
    previous_contract_id: str | None = None  # set on a renewal

    @classmethod
    def propose(
        cls,
        terms: ShareTerms,
        *,
        negotiation_id: str,
        policy_bundle_sha256: str,
        now: datetime | None = None,
        share_uri: str | None = None,
        **extra: Any,
    ) -> Contract:
        signed_at = now if now is not None else utc_now()
        return cls(
            negotiation_id=negotiation_id,
            terms=terms,
            share_uri=share_uri if share_uri is not None else default_share_uri(terms),
            policy_bundle_sha256=policy_bundle_sha256,
            signed_at=signed_at,
            expires_at=signed_at + timedelta(days=terms.term_days),
            **extra,
        )

    @property
    def producer(self) -> str:
        return self.terms.producer

    @property
    def consumer(self) -> str:
        return self.terms.consumer

    @property
    def dataset(self) -> str:
        return self.terms.dataset

    def body(self) -> bytes:
        """What both parties sign."""
        return canonical_json(self.model_dump(mode="json", exclude={"status", "signatures", "ledger"}))

    @property
    def agreement_sha256(self) -> str:
        return hashlib.sha256(self.body()).hexdigest()

    def party(self, role: str) -> str:
        return {"producer": self.producer, "consumer": self.consumer}[role]

    def transition(self, new_status: ContractStatus | str) -> Contract:
        target = ContractStatus(new_status)
        if target not in LEGAL_TRANSITIONS[self.status]:
            legal = ", ".join(sorted(s.value for s in LEGAL_TRANSITIONS[self.status])) or "none (final)"
            raise IllegalTransitionError(
                f"contract {self.contract_id}: cannot go from {self.status.value} to {target.value} (legal: {legal})"
            )
        if target is ContractStatus.active and len({s.role for s in self.signatures}) < 2:
            raise IllegalTransitionError(f"contract {self.contract_id}: needs both parties' signatures to become active")
        return self.model_copy(update={"status": target})


def sign_contract(contract: Contract, role: str, signer: SignerPort) -> Contract:
    """Add one party's signature (role `producer` or `consumer`) over the contract body."""
    if role not in ("producer", "consumer"):
        raise ContractSignatureError(f"role must be producer or consumer, got {role!r}")
    if any(s.role == role for s in contract.signatures):
        raise ContractSignatureError(f"contract {contract.contract_id} is already signed by the {role}")
    block = signer.sign(contract.party(role), contract.body())
    return contract.model_copy(update={"signatures": (*contract.signatures, PartySignature(role=role, block=block))})


def verify_contract(contract: Contract, signer: SignerPort) -> None:
    """Both parties' signatures are present, by the right domains, over this exact body."""
    roles = {s.role: s for s in contract.signatures}
    for role in ("producer", "consumer"):
        if role not in roles:
            raise ContractSignatureError(f"contract {contract.contract_id}: missing the {role}'s signature")
        signature = roles[role]
        if signature.block.signer != contract.party(role):
            raise ContractSignatureError(
                f"contract {contract.contract_id}: {role} signature is by {signature.block.signer!r}, "
                f"expected {contract.party(role)!r}"
            )
        try:
            signer.verify(contract.body(), signature.block)
        except ValueError as exc:
            raise ContractSignatureError(f"contract {contract.contract_id}: {role} signature invalid: {exc}") from None
