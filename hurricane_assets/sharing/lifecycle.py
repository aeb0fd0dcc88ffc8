"""Revocation, expiry and renewal of shares, and the consumer's keep-or-revoke judgement.

Ending a share (revoked or expired) records the end in the ledger first, then erases the delivered
copy (an ERASURE entry says what went), emits an OpenLineage DROP for it and writes the contract
file last; a step that fails is finished by the same call again or by the sweep (`end_share`). Renewal re-checks the current policy and
signs a new contract version that points at the one it replaces. Every one of them first checks
the contract (`contracts.check`): a tampered contract is refused before anything is changed, and
the copy erased is the one settings derive, inside the consumer's environment root.

Each tick of the sweep also enforces the retention of every share that stays (`enforce_retention`,
`delivery/retention.py`): its rows older than `retention_days` go, with a RETENTION ledger entry
naming the contract and how many rows went (no values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from deltalake.exceptions import TableNotFoundError

from hurricane_assets.approval.approval import (
    APPROVAL_REQUIRED,
    approval_for_contract,
    renewal_approval,
    renewal_needs_approval,
)
from hurricane_assets.catalog import Catalog, load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.check import ContractRejected, check_contract, inside_consumer_root, share_uri_for
from hurricane_assets.contracts.contract import Contract, ContractStatus, LedgerRef, sign_contract
from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.delivery.erase import ErasureRefused, erasable_uri, erase_share
from hurricane_assets.delivery.retention import delete_older, empty_share, retention_cutoff, stamped_cutoff
from hurricane_assets.identity.signer import Signer
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.masking.plans import plan_from_contract
from hurricane_assets.policy.pin import pin_bundle
from hurricane_assets.sharing.ids import entry_id
from hurricane_assets.storage import open_table
from negotiation_graph.ports import LedgerConflict, LedgerPort, PolicyGate, SignerPort


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


ENDED = (ContractStatus.revoked, ContractStatus.expired)


class EndIncomplete(RuntimeError):
    """A revocation or expiry stopped at one step. Whatever was done stays done; the same call again
    (the same command, or the next lifecycle sweep) finds the end in the ledger and does the rest."""

    def __init__(self, contract_id: str, status: ContractStatus, step: str, done: tuple[str, ...], cause: BaseException):
        self.contract_id, self.status, self.step, self.done, self.cause = contract_id, status, step, done, cause
        if done:
            message = (f"contract {contract_id}: {', '.join(done)}, but {step} failed ({_cause(cause)}); "
                       "run the same command again, or let the lifecycle sweep, to finish it")
        else:
            message = (f"contract {contract_id}: not {status.value}: {step} failed ({_cause(cause)}); nothing was "
                       "changed; run the same command again")
        super().__init__(message)


def _cause(exc: BaseException) -> str:
    # the type and, for an OS error, its reason: other libraries' messages may quote values or secrets
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return type(exc).__name__


def end_share(
    contract: Contract,
    status: ContractStatus,
    *,
    reason: str,
    by: str,
    store: ContractStore,
    ledger: LedgerPort,
    lineage: LineageEmitter | None = None,
    signer: SignerPort | None = None,
    history: LedgerHistory | None = None,
) -> Contract:
    """Revoke or expire `contract`, in an order that a retry can always finish:

    1. the REVOKED / EXPIRED ledger entry: the ledger is the authority on status, so from here no
       delivery and no read of the share is allowed;
    2. the consumer's copy is erased (an ERASURE entry records what went, if there was a copy);
    3. the OpenLineage DROP of the copy (a LINEAGE_EMITTED entry records its hash);
    4. the contract file takes the ended status: it is written last, so a file still saying active
       is what lets the same call, or the sweep (which lists active contracts), find an unfinished end.

    When the ledger already ended the contract (an earlier call stopped after step 1), steps 2-4 are
    done again (erasing an erased copy changes nothing) and the ledger's status is kept, whatever
    `status` asks. Raises `ContractRejected` (tampered, or not active) before anything is changed,
    and `EndIncomplete` naming the step that failed and what was already done."""
    if status not in ENDED:
        raise ValueError(f"a share ends as revoked or expired, not {status.value}")
    signer = signer if signer is not None else Signer()
    history = history if history is not None else LedgerHistory.read(ledger)
    recorded = _check_before_end(contract, status, signer=signer, history=history)
    ended = contract.model_copy(update={"status": recorded or status})
    in_ledger = f"{ended.status.value} in the ledger"
    steps = [] if recorded else [("the ledger entry", lambda: _record_end(ended, reason=reason, by=by, ledger=ledger),
                                  in_ledger)]
    steps.append(("erasing the copy", lambda: _erase_copy(ended, ledger=ledger), "the copy erased"))
    if lineage is not None:
        steps.append(("the lineage DROP", lambda: _drop_lineage(ended, lineage=lineage, ledger=ledger),
                      "the lineage DROP emitted"))
    steps.append(("saving the contract file", lambda: store.save(ended), "the contract file saved"))
    done = [in_ledger] if recorded else []
    for step, run, outcome in steps:
        try:
            run()
        except Exception as exc:
            raise EndIncomplete(contract.contract_id, ended.status, step, tuple(done), exc) from exc
        done.append(outcome)
    return ended


def _check_before_end(contract: Contract, status: ContractStatus, *, signer: SignerPort,
                      history: LedgerHistory) -> ContractStatus | None:
    """Check the contract (raises `ContractRejected`); returns the status the ledger already ended it
    with, or None when the end is still to be recorded. The file's status is not signed and is written
    last, so the ledger's status decides, and the rest of the check (signatures, the body the ledger
    recorded, the signed location) is run against it."""
    record = history.contract(contract.contract_id)
    recorded = record.status if record is not None else contract.status  # unrecorded: the check refuses it
    # ended in the ledger, the file not yet written: an end to finish (a file saying it too is a finished
    # end, and the check below refuses it as before)
    resuming = recorded in ENDED and contract.status is not recorded
    if resuming:
        allowed = ENDED
    elif status is ContractStatus.expired:
        allowed = (ContractStatus.active,)
    else:
        allowed = (ContractStatus.active, ContractStatus.proposed)  # a proposed contract may be withdrawn
    # no expiry test: an ended term is what expiry is for
    check_contract(contract.model_copy(update={"status": recorded}), signer=signer, history=history, now=None,
                   allowed=allowed)
    erasable_uri(contract.terms)  # refused before anything is recorded, not halfway
    return recorded if resuming else None


def _record_end(contract: Contract, *, reason: str, by: str, ledger: LedgerPort) -> None:
    revoked = contract.status is ContractStatus.revoked
    entry_type = EntryType.REVOKED if revoked else EntryType.EXPIRED
    ledger.append(
        entry_type=entry_type,
        actor=f"agent:{contract.consumer}/consumer" if revoked else "system:ledger",
        payload={"contract_id": contract.contract_id, "contract_version": contract.version, "reason": reason,
                 "by": by, "share_uri": share_uri_for(contract.terms)},
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        entry_id=entry_id(contract.contract_id, contract.version, entry_type.value),
    )


def _erase_copy(contract: Contract, *, ledger: LedgerPort) -> None:
    erasure = erase_share(contract.terms)
    if not erasure.existed:
        return  # nothing was there (or an earlier attempt erased it and recorded that)
    counts = (erasure.rows_deleted, erasure.files_vacuumed)
    ledger.append(
        entry_type=EntryType.ERASURE,
        actor="system:ledger",
        payload={"stage": "share_ended", "contract_id": contract.contract_id, "contract_version": contract.version,
                 "ended_as": contract.status.value, "share_uri": erasure.uri, "rows_deleted": counts[0],
                 "files_vacuumed": counts[1]},
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        # the counts are in the id: a retry that finds a copy again (one a racing delivery wrote) records it too
        entry_id=entry_id(contract.contract_id, contract.version, "share-erased", *counts),
    )


def _drop_lineage(contract: Contract, *, lineage: LineageEmitter, ledger: LedgerPort) -> None:
    event = lineage.copy_dropped(contract)
    ledger.append(
        entry_type=EntryType.LINEAGE_EMITTED,
        actor="system:ledger",
        payload={"event": "copy_dropped", "contract_id": contract.contract_id, "contract_version": contract.version,
                 "lineage_event_sha256": event.sha256},
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        entry_id=entry_id(contract.contract_id, contract.version, "copy-dropped", event.sha256),
    )


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
    history: LedgerHistory | None = None,
) -> Contract | None:
    """Sign the same terms for another term, if the current policy still allows them; the old
    contract becomes `renewed`. Returns None (and records the denial) when the policy says no, or
    when it asks for a human and the ledger holds no approval of this renewal (unless the rules
    that ask carry `@renew_without_human`; then the approval the contract rests on suffices).
    Raises `ContractRejected` for a contract that fails its check (e.g. an edited file)."""
    now = now or utc_now()
    history = history if history is not None else LedgerHistory.read(ledger)
    record = check_contract(contract, signer=signer, history=history, now=now)
    decision = gate.evaluate(contract.terms)
    approval = None
    reasons = list(decision.reasons)
    if decision.allowed and decision.requires_human:
        registry = getattr(getattr(ledger, "keyring", None), "registry", None)
        if renewal_needs_approval(gate, decision):
            approval = renewal_approval(history, contract, registry=registry)
        else:
            approval = approval_for_contract(history, contract, record, renewal_without_human=True, registry=registry)
        if approval is None:
            reasons.append(APPROVAL_REQUIRED)
    if not decision.allowed or APPROVAL_REQUIRED in reasons:
        try:
            ledger.append(
                entry_type=EntryType.POLICY_DENIED,
                actor=f"agent:{contract.producer}/producer",
                payload={"stage": "renewal", "decision_id": decision.decision_id, "reasons": reasons,
                         "bundle_sha256": decision.bundle_sha256},
                negotiation_id=contract.negotiation_id,
                contract_id=contract.contract_id,
                entry_id=entry_id(contract.contract_id, contract.version, "renewal-denied", *reasons),
            )
        except LedgerConflict:
            pass  # this version's renewal was already denied for these reasons (an earlier sweep): on record once
        return None
    pin_bundle(gate, ledger, history)
    successor = Contract.propose(
        contract.terms,
        negotiation_id=contract.negotiation_id,
        policy_bundle_sha256=decision.bundle_sha256,
        now=now,
        share_uri=share_uri_for(contract.terms),
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
            "policy_decision_id": decision.decision_id,
            "approval_seq": approval,
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
    refused: tuple[str, ...] = ()  # contracts that failed their check (e.g. edited files): left alone
    retention: tuple[tuple[str, int], ...] = ()  # (contract id, rows past its retention removed from its share)
    finished: tuple[str, ...] = ()  # ends an earlier call recorded in the ledger and this tick completed
    incomplete: tuple[tuple[str, str], ...] = ()  # (contract id, why): ends that stopped at a step; retried next tick
    unreadable: tuple[tuple[str, str], ...] = ()  # (file, why): files in the contracts folder that are no contract


def enforce_retention(contract: Contract, *, catalog: Catalog, ledger: LedgerPort, now: datetime,
                      redeliver) -> int:
    """Remove the rows of `contract`'s share older than its retention at `now`; returns how many went.

    In place when the share carries the dataset's event time unmasked; else `redeliver(contract)`
    rebuilds it under the new cutoff (the delivery counts the rows it removed); a share that can be
    neither (the delivery is refused) is emptied, since its rows' age cannot be shown. A RETENTION
    entry records each removal, once per contract version and cutoff."""
    terms = contract.terms
    uri = share_uri_for(terms)
    if not inside_consumer_root(uri, terms):
        raise ErasureRefused(f"refusing to age {uri}: not inside {terms.consumer}'s {terms.environment.value} root")
    cutoff = retention_cutoff(terms, now)
    previous = stamped_cutoff(uri)
    if not _exists(uri) or (previous is not None and previous >= cutoff):
        return 0  # no copy, or nothing in it can have aged since its cutoff
    spec = catalog.dataset(terms.producer, terms.dataset)
    event_time = spec.event_time
    how, reason, version = "deleted", None, None
    if _holds_exact(terms, spec, event_time):
        done = delete_older(uri, event_time=event_time, cutoff=cutoff)
        removed, version = (done.rows_deleted, done.table_version) if done is not None else (0, None)
    else:
        how = "redelivered"
        try:
            delivery = redeliver(contract)
            removed, version = delivery.retention.removed, delivery.table_version
        except Exception as failed:  # refused (policy, contract, upstream schema) or failed: fail closed
            how = "emptied"
            reason = failed.reason if isinstance(failed, DeliveryRefused) else type(failed).__name__  # no values
            done = empty_share(uri, cutoff=cutoff)
            removed, version = done.rows_deleted, done.table_version
    if removed:
        payload = {"contract_id": contract.contract_id, "contract_version": contract.version, "share_uri": uri,
                   "retention_days": terms.retention_days, "cutoff": cutoff.isoformat(), "rows_removed": removed,
                   "how": how, "table_version": version}
        if reason is not None:
            payload["reason"] = reason
        ledger.append(
            entry_type=EntryType.RETENTION,
            actor="system:ledger",
            payload=payload,
            negotiation_id=contract.negotiation_id,
            contract_id=contract.contract_id,
            entry_id=entry_id(contract.contract_id, contract.version, "retention", cutoff.isoformat()),
        )
    return removed


def _holds_exact(terms, spec, event_time: str) -> bool:
    """Whether the share carries the event time as in prod. Below prod a timestamp is a
    quasi-identifier, generalised or shifted per person (`masking/plans.py`): a shifted time can be
    later than the true one, so only an unmasked copy can be aged in place."""
    if event_time not in terms.shared_columns():
        return False
    plan = plan_from_contract(spec, terms.environment.value, dict(terms.columns), name=f"{terms.producer}.{terms.dataset}")
    rule = plan.rules.get(event_time)
    return rule is not None and rule.operator == "keep"


def _exists(uri: str) -> bool:
    try:
        open_table(uri)
    except TableNotFoundError:
        return False
    return True


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
    catalog: Catalog | None = None,
) -> SweepResult:
    """Expire what is past its end of life; finish every end the ledger holds but the contract file
    does not yet show (a revoke or expiry that stopped partway); remove from every share that stays
    the rows past its retention; renew what ends soon and `still_helps(contract)`."""
    now = now or utc_now()
    catalog = catalog if catalog is not None else load_catalog()
    expired, renewed, not_renewed, refused, aged, finished, incomplete = [], [], [], [], [], [], []
    history = LedgerHistory.read(ledger)  # one scan: each step below touches only its own contract

    def redeliver(contract: Contract):
        return deliver(contract, catalog=catalog, gate=gate, signer=signer, ledger=ledger, lineage=lineage, now=now)

    listing = store.scan(status=ContractStatus.active)  # a file that is no contract is skipped and reported
    for contract in listing.contracts:
        try:
            unfinished = _ended_in_ledger(contract, history)
            if unfinished or contract.expires_at <= now:
                # an end the ledger already holds is finished with the status it recorded
                end_share(contract, ContractStatus.expired, reason="end of term", by="system:ledger",
                          store=store, ledger=ledger, lineage=lineage, signer=signer, history=history)
                (finished if unfinished else expired).append(contract.contract_id)
                continue
            # the share stays (for now): its old rows go first, whatever the renewal decides
            check_contract(contract, signer=signer, history=history, now=now)
            removed = enforce_retention(contract, catalog=catalog, ledger=ledger, now=now, redeliver=redeliver)
            if removed:
                aged.append((contract.contract_id, removed))
            if contract.expires_at - now <= renew_within:
                successor = (renew(contract, gate=gate, signer=signer, ledger=ledger, store=store, now=now, history=history)
                             if still_helps(contract) else None)
                if successor is not None:
                    renewed.append((contract.contract_id, successor.contract_id))
                else:
                    not_renewed.append(contract.contract_id)
        except ContractRejected as exc:
            # one edited contract must not stop the sweep of the others; it is recorded and left alone
            ledger.append(
                entry_type=EntryType.POLICY_DENIED,
                actor="system:ledger",
                payload={"stage": "sweep", "reason": exc.reason},
                contract_id=contract.contract_id,
                entry_id=entry_id(contract.contract_id, "sweep-refused", now.isoformat()),
            )
            refused.append(contract.contract_id)
        except EndIncomplete as exc:
            incomplete.append((contract.contract_id, str(exc)))  # the next tick finishes it
    return SweepResult(tuple(expired), tuple(renewed), tuple(not_renewed), tuple(refused), tuple(aged),
                       tuple(finished), tuple(incomplete), tuple((bad.path, bad.reason) for bad in listing.unreadable))


def _ended_in_ledger(contract: Contract, history: LedgerHistory) -> bool:
    record = history.contract(contract.contract_id)
    return record is not None and record.status in ENDED
