"""Revocation, expiry and renewal of shares, and the consumer's keep-or-revoke judgement.

Ending a share (revoked or expired) erases the delivered copy, records it in the ledger with what
was erased, and emits an OpenLineage DROP for the copy. Renewal re-checks the current policy and
signs a new contract version that points at the one it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hurricane_assets.contracts.contract import Contract, ContractStatus, LedgerRef, sign_contract
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.delivery.erase import erase_table
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.ports import LedgerPort, PolicyGate, SignerPort


@dataclass(frozen=True)
class Verdict:
    contract_id: str
    producer: str
    dataset: str
    uplift: float
    keep: bool
    reason: str


def judge_shares(contracts: list[Contract], uplift: dict[str, float], *, min_uplift: float) -> list[Verdict]:
    """Keep a share only if the model measured at least `min_uplift` from it. A share the model has
    not been measured with yet is kept until it is."""
    verdicts = []
    for contract in contracts:
        if contract.contract_id not in uplift:
            continue
        gain = uplift[contract.contract_id]
        keep = gain >= min_uplift
        reason = f"uplift {gain:+.4f} {'≥' if keep else '<'} {min_uplift:.4f}"
        verdicts.append(Verdict(contract.contract_id, contract.producer, contract.dataset, gain, keep, reason))
    return verdicts


def end_share(
    contract: Contract,
    status: ContractStatus,
    *,
    reason: str,
    by: str,
    store: ContractStore,
    ledger: LedgerPort,
    lineage: LineageEmitter | None = None,
) -> Contract:
    """Revoke or expire: status change first (so no delivery starts), then the copy is erased."""
    if status not in (ContractStatus.revoked, ContractStatus.expired):
        raise ValueError(f"a share ends as revoked or expired, not {status.value}")
    ended = contract.transition(status)
    store.save(ended)
    erasure = erase_table(contract.share_uri)
    payload = {
        "contract_id": contract.contract_id,
        "contract_version": contract.version,
        "reason": reason,
        "by": by,
        "share_uri": contract.share_uri,
        "copy_existed": erasure.existed,
        "rows_deleted": erasure.rows_deleted,
        "files_vacuumed": erasure.files_vacuumed,
    }
    if lineage is not None:
        payload["lineage_event_sha256"] = lineage.copy_dropped(contract).sha256
    entry_type = EntryType.REVOKED if status is ContractStatus.revoked else EntryType.EXPIRED
    ledger.append(
        entry_type=entry_type,
        actor=f"agent:{contract.consumer}/consumer" if status is ContractStatus.revoked else "system:ledger",
        payload=payload,
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        entry_id=entry_id(contract.contract_id, contract.version, entry_type.value),
    )
    return ended


def _next_version(version: str) -> str:
    major, minor, _ = (int(p) for p in version.split("."))
    return f"{major}.{minor + 1}.0"  # same terms, new term of validity: a minor version


def renew(
    contract: Contract,
    *,
    gate: PolicyGate,
    signer: SignerPort,
    ledger: LedgerPort,
    store: ContractStore,
    now: datetime | None = None,
) -> Contract | None:
    """Sign the same terms for another term, if the current policy still allows them; the old
    contract becomes `renewed`. Returns None (and records the denial) when the policy says no."""
    now = now or datetime.now(timezone.utc)
    decision = gate.evaluate(contract.terms)
    if not decision.allowed:
        ledger.append(
            entry_type=EntryType.POLICY_DENIED,
            actor=f"agent:{contract.producer}/producer",
            payload={"stage": "renewal", "decision_id": decision.decision_id, "reasons": list(decision.reasons)},
            negotiation_id=contract.negotiation_id,
            contract_id=contract.contract_id,
            entry_id=entry_id(contract.contract_id, contract.version, "renewal-denied"),
        )
        return None
    successor = Contract.propose(
        contract.terms,
        negotiation_id=contract.negotiation_id,
        policy_bundle_sha256=decision.bundle_sha256,
        now=now,
        share_uri=contract.share_uri,
        version=_next_version(contract.version),
        previous_contract_id=contract.contract_id,
    )
    successor = sign_contract(sign_contract(successor, "producer", signer), "consumer", signer)
    successor = successor.transition(ContractStatus.active)
    receipt = ledger.append(
        entry_type=EntryType.RENEWED,
        actor=f"agent:{contract.consumer}/consumer",
        payload={
            "contract_id": successor.contract_id,
            "previous_contract_id": contract.contract_id,
            "version": successor.version,
            "agreement_sha256": successor.agreement_sha256,
            "policy_bundle_sha256": successor.policy_bundle_sha256,
            "expires_at": successor.expires_at.isoformat(),
        },
        negotiation_id=contract.negotiation_id,
        contract_id=successor.contract_id,
        entry_id=entry_id(contract.contract_id, contract.version, "renewed"),
    )
    successor = successor.model_copy(update={"ledger": LedgerRef(seq=receipt.seq, entry_hash=receipt.entry_hash)})
    store.save(successor)
    store.save(contract.transition(ContractStatus.renewed))
    return successor


@dataclass(frozen=True)
class SweepResult:
    expired: tuple[str, ...]
    renewed: tuple[tuple[str, str], ...]  # (old id, new id)
    not_renewed: tuple[str, ...]


def sweep(
    *,
    gate: PolicyGate,
    signer: SignerPort,
    ledger: LedgerPort,
    store: ContractStore,
    still_helps,
    renew_within: timedelta = timedelta(days=7),
    now: datetime | None = None,
    lineage: LineageEmitter | None = None,
) -> SweepResult:
    """Expire what is past its end of life; renew what ends soon and `still_helps(contract)`."""
    now = now or datetime.now(timezone.utc)
    expired, renewed, not_renewed = [], [], []
    for contract in store.list(status=ContractStatus.active):
        if contract.expires_at <= now:
            end_share(contract, ContractStatus.expired, reason="end of term", by="system:ledger",
                      store=store, ledger=ledger, lineage=lineage)
            expired.append(contract.contract_id)
        elif contract.expires_at - now <= renew_within:
            successor = renew(contract, gate=gate, signer=signer, ledger=ledger, store=store, now=now) if still_helps(contract) else None
            if successor is not None:
                renewed.append((contract.contract_id, successor.contract_id))
            else:
                not_renewed.append(contract.contract_id)
    return SweepResult(tuple(expired), tuple(renewed), tuple(not_renewed))
