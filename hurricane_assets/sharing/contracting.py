"""From a negotiation's agreements to signed, recorded, exported contracts.

The policy is checked again at signature (the negotiation checked it at agreement); each contract is
signed by both parties, becomes active, is recorded in the ledger and exported to ODCS. Signing the
same negotiation twice returns the contracts already signed.

An agreement the policy sends to a human (`requires_human`, on the agreement or in the policy's
answer now) is signed only if the ledger holds a valid approval of exactly these terms by an
approver registered for the producer: signing a paused negotiation's `pending_approval` produces
no active contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hurricane_assets.approval.approval import APPROVAL_REQUIRED, negotiation_approval
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.contract import Contract, ContractStatus, LedgerRef, sign_contract
from hurricane_assets.contracts.history import LedgerHistory, LedgerUnreadable
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.policy.pin import pin_bundle
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.messages import Agreement
from negotiation_graph.ports import LedgerPort, PolicyGate, SignerPort

# One active share per (consumer, producer, dataset) (one share asset): a share for another purpose
# would replace the copy a model of the first purpose reads (a customer-analytics request replaced the
# fraud model's), and one in another environment would leave the old copy with no active contract
# (a prod request left the preprod copy renewed away: never aged, expired or revocable)
OTHER_PURPOSE_HELD = "copy_held_for_another_purpose"
OTHER_ENVIRONMENT_HELD = "copy_held_in_another_environment"


@dataclass(frozen=True)
class SigningOutcome:
    contracts: tuple[Contract, ...]
    refused: tuple[tuple[Agreement, tuple[str, ...]], ...]  # agreements the policy no longer allows


def consumer_actor(contract_or_terms) -> str:
    return f"agent:{contract_or_terms.consumer}/consumer"


def active_share(store: ContractStore, consumer: str, producer: str, dataset: str) -> Contract | None:
    for contract in store.list(status=ContractStatus.active):
        if (contract.consumer, contract.producer, contract.dataset) == (consumer, producer, dataset):
            return contract
    return None


def find_contract(store: ContractStore, agreement: Agreement) -> Contract | None:
    """The first contract signed for this agreement (same negotiation, same terms), if any."""
    for contract in store.list():
        if contract.negotiation_id == agreement.negotiation_id and contract.terms.sha256() == agreement.terms_sha256:
            return contract
    return None


def sign_agreements(
    agreements: tuple[Agreement, ...] | list[Agreement],
    *,
    gate: PolicyGate,
    signer: SignerPort,
    ledger: LedgerPort,
    store: ContractStore,
    now: datetime | None = None,
) -> SigningOutcome:
    now = now or utc_now()
    signed: list[Contract] = []
    refused: list[tuple[Agreement, tuple[str, ...]]] = []
    history: LedgerHistory | None = None
    for agreement in agreements:
        existing = find_contract(store, agreement)
        if existing is not None:
            signed.append(existing)
            continue
        decision = gate.evaluate(agreement.terms)
        approval = None
        if decision.allowed and (agreement.requires_human or decision.requires_human):
            try:
                history = LedgerHistory.read(ledger)
                approval = negotiation_approval(
                    history, negotiation_id=agreement.negotiation_id, terms_sha256=agreement.terms.sha256(),
                    producer=agreement.producer, registry=getattr(getattr(ledger, "keyring", None), "registry", None))
            except LedgerUnreadable:
                approval = None  # cannot look the approval up: as good as none
        needs_approval = (agreement.requires_human or decision.requires_human) and approval is None
        if not decision.allowed or needs_approval:
            reasons = decision.reasons + tuple(
                f"{col}:{r}" for col, d in decision.columns.items() if not d.allowed for r in d.reasons
            ) + ((APPROVAL_REQUIRED,) if decision.allowed and needs_approval else ())
            _record_refusal(ledger, agreement, f"agent:{agreement.producer}/producer", reasons, "denied-at-signature",
                            decision_id=decision.decision_id, bundle_sha256=decision.bundle_sha256)
            refused.append((agreement, reasons))
            continue
        # One active share per (consumer, producer, dataset): they write the same table.
        superseded = active_share(store, agreement.consumer, agreement.producer, agreement.dataset)
        conflict = _held_elsewhere(agreement, superseded) if superseded is not None else None
        if conflict is not None:
            # the consumer's agent does not sign it; recorded with the contract it protects
            _record_refusal(ledger, agreement, consumer_actor(agreement), (conflict,), "share-held-elsewhere",
                            held_contract_id=superseded.contract_id, held_purpose=superseded.terms.purpose,
                            held_environment=superseded.terms.environment.value)
            refused.append((agreement, (conflict,)))
            continue
        pin_bundle(gate, ledger)
        contract = Contract.propose(
            agreement.terms,
            negotiation_id=agreement.negotiation_id,
            policy_bundle_sha256=decision.bundle_sha256,
            now=now,
            **({"previous_contract_id": superseded.contract_id,
                "version": f"{int(superseded.version.split('.')[0]) + 1}.0.0"} if superseded else {}),
        )
        contract = sign_contract(sign_contract(contract, "producer", signer), "consumer", signer)
        contract = contract.transition(ContractStatus.active)
        receipt = ledger.append(
            entry_type=EntryType.CONTRACT_SIGNED,
            actor=consumer_actor(contract),
            payload={
                "contract_id": contract.contract_id,
                "version": contract.version,
                "producer": contract.producer,
                "consumer": contract.consumer,
                "dataset": contract.dataset,
                "agreement_sha256": contract.agreement_sha256,
                "terms_sha256": agreement.terms_sha256,
                "policy_bundle_sha256": contract.policy_bundle_sha256,
                "policy_decision_id": decision.decision_id,
                "approval_seq": approval,
                "expires_at": contract.expires_at.isoformat(),
                "supersedes": superseded.contract_id if superseded else None,
            },
            negotiation_id=contract.negotiation_id,
            contract_id=contract.contract_id,
            entry_id=entry_id(contract.negotiation_id, agreement.terms_sha256, "signed"),
        )
        contract = contract.model_copy(update={"ledger": LedgerRef(seq=receipt.seq, entry_hash=receipt.entry_hash)})
        store.save(contract)
        if superseded is not None:
            store.save(superseded.transition(ContractStatus.renewed))
        signed.append(contract)
    return SigningOutcome(tuple(signed), tuple(refused))


def _held_elsewhere(agreement: Agreement, held: Contract) -> str | None:
    """Why `agreement` may not replace the active share `held`, or None when it may (a new version of it)."""
    if held.terms.purpose != agreement.terms.purpose:
        return (f"{OTHER_PURPOSE_HELD}: {agreement.consumer} holds {agreement.producer}.{agreement.dataset} for "
                f"{held.terms.purpose} under {held.contract_id}; a share for {agreement.terms.purpose} would "
                "replace that copy (revoke it first)")
    if held.terms.environment != agreement.terms.environment:
        return (f"{OTHER_ENVIRONMENT_HELD}: {agreement.consumer} holds {agreement.producer}.{agreement.dataset} in "
                f"{held.terms.environment.value} under {held.contract_id}; a share in "
                f"{agreement.terms.environment.value} would leave that copy without an active contract "
                "(revoke it first)")
    return None


def _record_refusal(ledger: LedgerPort, agreement: Agreement, actor: str, reasons: tuple[str, ...], kind: str,
                    **details) -> None:
    """The POLICY_DENIED entry of an agreement not signed (`kind` makes its id, one per agreement)."""
    ledger.append(
        entry_type=EntryType.POLICY_DENIED,
        actor=actor,
        payload={"stage": "signature", "terms_sha256": agreement.terms_sha256, **details, "reasons": list(reasons)},
        negotiation_id=agreement.negotiation_id,
        entry_id=entry_id(agreement.negotiation_id, agreement.terms_sha256, kind),
    )
