"""Approvals: an envelope signed by a registered approver's key, bound to what it approves.

A negotiation approval names the negotiation and the exact terms (their SHA-256) of every agreement
the policy escalated; a renewal approval names the contract it renews and that contract's agreement
hash. The exchange records the envelope in the ledger (HUMAN_APPROVAL) after checking the approver
is registered for the producer, the signature, the validity window and that the nonce is fresh.
Signing, delivering and renewing look the approval up in the ledger again and re-verify its
signature, so a name typed on a command line, or an approval written into a file, approves nothing.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hurricane_assets.approval.approvers import Approver, registered_approvers
from hurricane_assets.contracts.contract import Contract
from hurricane_assets.contracts.history import ContractRecord, LedgerHistory
from hurricane_assets.identity import KeyRegistry, ReplayCache, SignedEnvelope, key_id_of
from hurricane_assets.identity.keys import public_raw_of
from hurricane_assets.ledger.entry import SYSTEM_ACTOR, EntryType
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.ports import LedgerReceipt

APPROVAL_REQUIRED = "human_approval_required"
DEFAULT_TTL = timedelta(hours=1)
MAX_LIFETIME = timedelta(hours=24)  # an approval is an answer to a question asked now, not a standing grant
CLOCK_SKEW = timedelta(seconds=30)


class ApprovalError(ValueError):
    """An approval that does not approve: unknown key, wrong domain, bad signature, stale, replayed."""


def negotiation_approval_payload(negotiation_id: str, agreements: Iterable[Any], approve: bool) -> dict[str, Any]:
    return {
        "kind": "negotiation",
        "negotiation_id": negotiation_id,
        "approve": approve,
        "agreements": sorted(
            ({"producer": a.producer, "dataset": a.dataset, "terms_sha256": a.terms_sha256} for a in agreements),
            key=lambda a: (a["producer"], a["dataset"], a["terms_sha256"]),
        ),
    }


def renewal_approval_payload(contract: Contract, approve: bool) -> dict[str, Any]:
    return {"kind": "renewal", "contract_id": contract.contract_id, "producer": contract.producer,
            "agreement_sha256": contract.agreement_sha256, "approve": approve}


def payload_domains(payload: dict[str, Any]) -> set[str]:
    """The domains whose data the approval is about (an approver must be registered for each)."""
    if payload.get("kind") == "renewal":
        return {payload["producer"]}
    return {a["producer"] for a in payload.get("agreements", [])}


def sign_approval(private_key: Ed25519PrivateKey, approver: str, payload: dict[str, Any], *,
                  now: datetime, ttl: timedelta = DEFAULT_TTL) -> SignedEnvelope:
    unsigned = SignedEnvelope(
        signer=approver, key_id=key_id_of(public_raw_of(private_key.public_key())), nonce=secrets.token_hex(16),
        issued_at=now, expires_at=now + ttl, payload=payload, signature="",
    )
    return unsigned.model_copy(update={"signature": base64.b64encode(private_key.sign(unsigned.signed_bytes())).decode()})


def verify_approval(envelope: SignedEnvelope, approvers: dict[str, Approver], *,
                    domains: Collection[str], now: datetime | None) -> Approver:
    """The approver, if the envelope is signed by a key registered for every one of `domains`;
    with `now`, also inside its validity window. Raises `ApprovalError`."""
    approver = approvers.get(envelope.key_id)
    if approver is None:
        raise ApprovalError(f"approval {envelope.nonce}: key {envelope.key_id} is not a registered approver")
    if approver.name != envelope.signer:
        raise ApprovalError(f"approval {envelope.nonce}: key {envelope.key_id} belongs to approver "
                            f"{approver.name!r}, not {envelope.signer!r}")
    missing = sorted(set(domains) - approver.domains)
    if missing or not domains:
        raise ApprovalError(f"approval {envelope.nonce}: {approver.name!r} is not an approver for "
                            f"{', '.join(missing) or 'any domain named in it'}")
    try:
        approver.public_key().verify(base64.b64decode(envelope.signature), envelope.signed_bytes())
    except (InvalidSignature, ValueError):
        raise ApprovalError(f"approval {envelope.nonce}: signature by {approver.name!r} does not match its contents") from None
    if now is not None:
        if envelope.expires_at - envelope.issued_at > MAX_LIFETIME:
            raise ApprovalError(f"approval {envelope.nonce}: lifetime over {MAX_LIFETIME}")
        if envelope.issued_at > now + CLOCK_SKEW or now >= envelope.expires_at:
            raise ApprovalError(f"approval {envelope.nonce}: outside its validity window "
                                f"({envelope.issued_at.isoformat()} to {envelope.expires_at.isoformat()})")
    return approver


def _registry(ledger) -> KeyRegistry:
    keyring = getattr(ledger, "keyring", None)
    return keyring.registry if keyring is not None else KeyRegistry()


def record_approval(ledger, envelope: SignedEnvelope, *, now: datetime, replay_cache: ReplayCache | None = None,
                    answer_id: str | None = None) -> tuple[Approver, LedgerReceipt]:
    """Check a fresh approval and record it in the ledger as a HUMAN_APPROVAL entry: under the
    envelope's nonce, or under `answer_id` where only one answer may ever be recorded (a second one,
    of other content, is the ledger's `LedgerConflict`)."""
    history = LedgerHistory.read(ledger)
    approvers = registered_approvers(history, _registry(ledger))
    approver = verify_approval(envelope, approvers, domains=payload_domains(envelope.payload), now=now)
    cache = replay_cache if replay_cache is not None else ReplayCache()
    try:
        cache.remember(envelope.nonce, envelope.signer, envelope.expires_at, now)
    except ValueError as exc:
        raise ApprovalError(str(exc)) from None
    receipt = ledger.append(
        entry_type=EntryType.HUMAN_APPROVAL,
        actor=SYSTEM_ACTOR,
        payload={"approver": approver.name, "key_id": approver.key_id, "envelope": envelope.model_dump(mode="json")},
        negotiation_id=envelope.payload.get("negotiation_id"),
        contract_id=envelope.payload.get("contract_id"),
        entry_id=answer_id if answer_id is not None else entry_id("approval", envelope.nonce),
    )
    return approver, receipt


def _valid_approvals(history: LedgerHistory, registry: KeyRegistry):
    """(entry, payload) of every recorded approval (its HUMAN_APPROVAL entry, the envelope's payload)
    whose signature still verifies against an approver registered before it was recorded."""
    for row in history.of_type(EntryType.HUMAN_APPROVAL):
        try:
            envelope = SignedEnvelope.model_validate(row["payload"]["envelope"])
            approvers = registered_approvers(history, registry, before_seq=row["seq"])
            verify_approval(envelope, approvers, domains=payload_domains(envelope.payload), now=None)
        except Exception:  # an approval that does not verify approves nothing
            continue
        yield row, envelope.payload


def decided_by(approver: str, key_id: str) -> str:
    """Who answered, as the negotiation's HUMAN_DECISION names them."""
    return f"{approver} (approver key {key_id})"


def recorded_negotiation_answer(history: LedgerHistory, negotiation_id: str, escalated: Iterable[Any], *,
                                registry: KeyRegistry | None = None) -> tuple[bool, str] | None:
    """(approve, decided_by) of the first valid answer recorded for the negotiation's escalation of
    exactly the `escalated` agreements, if any: the one its graph was (or is about to be) resumed with.
    An answer is given once; a resume that failed after recording it finishes with it. An approval
    naming other terms or producers answers nothing here: its signer was checked against the
    producers it names, which may not be the escalation's."""
    registry = registry if registry is not None else KeyRegistry()
    escalated = tuple(escalated)
    for row, payload in _valid_approvals(history, registry):
        approve = payload.get("approve")
        if isinstance(approve, bool) and payload == negotiation_approval_payload(negotiation_id, escalated, approve):
            return approve, decided_by(row["payload"]["approver"], row["payload"]["key_id"])
    return None


def negotiation_approval(history: LedgerHistory, *, negotiation_id: str, terms_sha256: str, producer: str,
                         before_seq: int | None = None, registry: KeyRegistry | None = None) -> int | None:
    """The seq of the latest valid answer for these terms if it approves, else None."""
    registry = registry if registry is not None else KeyRegistry()
    answer = None
    for row, payload in _valid_approvals(history, registry):
        seq = row["seq"]
        if before_seq is not None and seq >= before_seq:
            break
        if payload.get("kind") != "negotiation" or payload.get("negotiation_id") != negotiation_id:
            continue
        if any(a.get("terms_sha256") == terms_sha256 and a.get("producer") == producer for a in payload.get("agreements", [])):
            answer = seq if payload.get("approve") is True else None
    return answer


def renewal_approval(history: LedgerHistory, contract: Contract | str, *, producer: str | None = None,
                     agreement_sha256: str | None = None, before_seq: int | None = None,
                     registry: KeyRegistry | None = None) -> int | None:
    registry = registry if registry is not None else KeyRegistry()
    if isinstance(contract, Contract):
        contract_id, producer, agreement_sha256 = contract.contract_id, contract.producer, contract.agreement_sha256
    else:
        contract_id = contract
    answer = None
    for row, payload in _valid_approvals(history, registry):
        seq = row["seq"]
        if before_seq is not None and seq >= before_seq:
            break
        if payload.get("kind") != "renewal" or payload.get("contract_id") != contract_id:
            continue
        if payload.get("producer") != producer or (agreement_sha256 and payload.get("agreement_sha256") != agreement_sha256):
            continue
        answer = seq if payload.get("approve") is True else None
    return answer


def approval_for_contract(history: LedgerHistory, contract: Contract, record: ContractRecord, *,
                          renewal_without_human: bool, registry: KeyRegistry | None = None) -> int | None:
    """The approval a human-gated contract rests on: the negotiation's approval for a signed
    contract; for a renewal, an approval of that renewal (or, when the policy lets renewals go
    without a human, the approval the first contract of the chain rests on)."""
    registry = registry if registry is not None else KeyRegistry()
    current = record
    while current.created_by is EntryType.RENEWED:
        previous = current.previous_contract_id
        if previous is None:
            return None
        found = renewal_approval(history, previous, producer=contract.producer, before_seq=current.created_seq,
                                 registry=registry)
        if found is not None:
            return found
        if not renewal_without_human:
            return None
        current = history.contract(previous)
        if current is None:
            return None
    return negotiation_approval(history, negotiation_id=contract.negotiation_id, terms_sha256=contract.terms.sha256(),
                                producer=contract.producer, before_seq=current.created_seq, registry=registry)


def renewal_needs_approval(gate, decision) -> bool:
    """Whether renewing under `decision` needs a new approval; a gate that cannot say means yes."""
    ask = getattr(gate, "renewal_needs_human", None)
    return True if ask is None else bool(ask(decision))
