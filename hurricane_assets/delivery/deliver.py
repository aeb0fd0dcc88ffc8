"""Deliver one contract's share: re-check the contract, read the producer's prod table, keep the
contracted rows and columns, mask them per contract, write the consumer's Delta table in one commit.

The contract is re-checked at the moment data is copied (`contracts.check`: both signatures, the
body the ledger recorded, the ledger's status, expiry), then the CURRENT policy bundle and, when that
policy asks for a human, the recorded approval: a policy change, a revocation or an edited contract
file after agreement stops delivery. The copy goes where settings say, never where the file says.
A delivery writes nothing only when its output is byte-identical to what the ledger's last DELIVERED
entry recorded and the copy on storage is still that write (`recorded.py`): a lost, edited or
unrecorded copy is written again and recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
from deltalake import CommitProperties, write_deltalake

from hurricane_assets.approval.approval import (
    APPROVAL_REQUIRED,
    approval_for_contract,
    renewal_needs_approval,
)
from hurricane_assets.catalog import Catalog
from hurricane_assets.catalog.schema import arrow_schema, schema_diff
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.check import (
    ContractRejected,
    check_contract,
    share_uri_for,
)
from hurricane_assets.contracts.contract import Contract
from hurricane_assets.contracts.history import LedgerHistory, LedgerUnreadable
from hurricane_assets.delivery.recorded import RecordedCopy, copy_differs, open_copy, recorded_copy
from hurricane_assets.delivery.retention import (
    CONTENT_KEY,
    CUTOFF_KEY,
    RetentionCount,
    keep_within,
    retention_cutoff,
    stamped_cutoff,
)
from hurricane_assets.delivery.row_filter import apply_row_filter
from hurricane_assets.delivery.share import Share, share_for_delivery
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.masking.engine import MaskedResult, mask_table
from hurricane_assets.masking.erasure import Applied, load_erasures, remove_erased
from hurricane_assets.masking.history import keep_only_current_version
from hurricane_assets.masking.keys import KEY_ID_PROPERTY, Keyring
from hurricane_assets.masking.plans import ColumnRule, plan_from_contract
from hurricane_assets.masking.report import PrivacyReport
from hurricane_assets.masking.stream import writer_properties
from hurricane_assets.policy.pin import pin_bundle
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.ids import entry_id
from hurricane_assets.storage import read_table, storage_options
from negotiation_graph.ports import (
    LedgerPort,
    LedgerReceipt,
    PolicyDecision,
    PolicyGate,
    SignerPort,
)
from negotiation_graph.terms import ShareTerms


class DeliveryRefused(RuntimeError):
    """The contract may not be delivered now; nothing was written."""

    def __init__(self, contract_id: str, reason: str):
        self.contract_id = contract_id
        self.reason = reason
        super().__init__(f"contract {contract_id}: delivery refused: {reason}")


class UpstreamSchemaChanged(DeliveryRefused):
    pass


@dataclass(frozen=True)
class Delivery:
    contract_id: str
    share_uri: str
    rows: int
    columns: tuple[str, ...]
    content_sha256: str
    changed: bool
    table_version: int
    privacy: PrivacyReport
    ledger: LedgerReceipt | None
    source_version: int
    retention: RetentionCount | None = None  # the cutoff applied and the rows it kept out / removed
    join_keys: dict[str, pa.ChunkedArray] | None = field(default=None, repr=False)  # `Share.join_keys`: memory only


def content_sha256(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue()).hexdigest()


@dataclass(frozen=True)
class Clearance:
    """Why a delivery may go ahead: the policy decision and the approval it rests on, if any."""

    decision: PolicyDecision
    approval_seq: int | None
    history: LedgerHistory = field(repr=False)  # the scan it was checked against, reused by the delivery


def check_deliverable(contract: Contract, *, gate: PolicyGate, signer: SignerPort, ledger: LedgerPort,
                      now: datetime) -> Clearance:
    try:
        history = LedgerHistory.read(ledger)
        record = check_contract(contract, signer=signer, history=history, now=now)
    except ContractRejected as exc:
        raise DeliveryRefused(contract.contract_id, exc.reason) from None
    except LedgerUnreadable as exc:
        raise DeliveryRefused(contract.contract_id, str(exc)) from None
    decision = gate.evaluate(contract.terms)
    if not decision.allowed:
        denied = [f"{c}:{','.join(d.reasons)}" for c, d in decision.columns.items() if not d.allowed]
        raise DeliveryRefused(
            contract.contract_id,
            "the current policy denies it (" + "; ".join([*decision.reasons, *denied]) + f"; bundle {decision.bundle_sha256[:12]})",
        )
    approval = None
    if decision.requires_human:
        approval = approval_for_contract(history, contract, record,
                                         renewal_without_human=not renewal_needs_approval(gate, decision),
                                         registry=getattr(getattr(ledger, "keyring", None), "registry", None))
        if approval is None:
            raise DeliveryRefused(contract.contract_id, f"{APPROVAL_REQUIRED}: the current policy asks for a human "
                                  "and the ledger holds no valid approval for this contract")
    pin_bundle(gate, ledger, history)
    return Clearance(decision, approval, history)


def contracted_rows(terms: ShareTerms, *, catalog: Catalog, now: datetime, retention: RetentionCount | None = None,
                    source: pa.Table | None = None) -> tuple[pa.Table, Applied]:
    """The producer's prod rows `terms` let cross, unmasked (in memory only), and the erasures applied.
    The producer's table must still match its manifest (a change upstream fails closed). With
    `retention`, rows older than its cutoff are left out and counted into it. `source`: the producer's
    table as the caller read it (one pinned version), else its current version is read here."""
    spec = catalog.dataset(terms.producer, terms.dataset)
    if source is None:
        source = read_table(hurricane_paths().table_uri("prod", terms.producer, terms.dataset))
    diff = schema_diff(arrow_schema(spec), source.schema)
    if not diff.ok:
        raise UpstreamSchemaChanged(f"{terms.producer}.{terms.dataset}", f"changed upstream: {diff.describe()}")
    # persons erased in prod leave every share, also where prod keeps rows of theirs
    source, erased = remove_erased(source, spec, load_erasures())
    rows = apply_row_filter(source, terms.row_filter, event_time=spec.event_time, keys=spec.keys, now=now)
    if retention is not None:
        rows = keep_within(rows, spec.event_time, retention)
    return rows, erased


def mask_contracted(terms: ShareTerms, rows: pa.Table, erased: Applied, *, catalog: Catalog) -> MaskedResult:
    """`contracted_rows` masked for the target environment; nothing written."""
    spec = catalog.dataset(terms.producer, terms.dataset)
    plan = plan_from_contract(spec, terms.environment.value, dict(terms.columns), name=f"{terms.producer}.{terms.dataset}")
    # Below prod k is counted in persons (manifest `privacy`); a share within prod needs no gate.
    k = None if terms.environment.value == "prod" else spec.privacy.k
    # Measured privacy (k, l, singling-out, linkability, inference) must meet the manifest's
    # thresholds: a failing measurement raises `PrivacyCheckFailed` and blocks the delivery.
    result = mask_table(rows, plan, Keyring.load(terms.environment.value), k=k,
                        max_suppression=spec.privacy.max_suppression,
                        thresholds=None if k is None else spec.privacy)
    return MaskedResult(table=result.table, report=result.report.model_copy(update={"erasure": erased.to_dict()}))


def masked_share(terms: ShareTerms, *, catalog: Catalog, now: datetime,
                 retention: RetentionCount | None = None, source: pa.Table | None = None) -> MaskedResult:
    """The rows and columns `terms` let cross, masked for the target environment; nothing written.
    With `retention` (a delivery, or a measure of what one delivered), rows older than its cutoff are
    left out and counted into it; without, the filtered rows of any age (a trial)."""
    rows, erased = contracted_rows(terms, catalog=catalog, now=now, retention=retention, source=source)
    return mask_contracted(terms, rows, erased, catalog=catalog)


def unmasked_share(terms: ShareTerms, *, catalog: Catalog, now: datetime,
                   retention: RetentionCount | None = None) -> pa.Table:
    """The same rows and columns as `masked_share`, with only the identifiers (columns that refer to an
    entity) masked as the contract says, so they still join the consumer's masked tables, and every
    other column as in prod. For measuring what masking costs a model, in memory only: never written."""
    spec = catalog.dataset(terms.producer, terms.dataset)
    rows, _ = contracted_rows(terms, catalog=catalog, now=now, retention=retention)
    plan = plan_from_contract(spec, terms.environment.value, dict(terms.columns), name=f"{terms.producer}.{terms.dataset}")
    raw = {c: r if r.drops or spec.columns[c].refers_to else ColumnRule(operator="keep") for c, r in plan.rules.items()}
    return mask_table(rows, plan.model_copy(update={"rules": raw}), Keyring.load(terms.environment.value), k=None).table


def deliver(
    contract: Contract,
    *,
    catalog: Catalog,
    gate: PolicyGate,
    signer: SignerPort,
    ledger: LedgerPort,
    lineage: LineageEmitter | None = None,
    now: datetime | None = None,
) -> Delivery:
    now = now or utc_now()
    terms = contract.terms
    actor = f"agent:{terms.producer}/producer"
    try:
        clearance = check_deliverable(contract, gate=gate, signer=signer, ledger=ledger, now=now)
    except DeliveryRefused as refusal:
        ledger.append(
            entry_type=EntryType.POLICY_DENIED,
            actor=actor,
            payload={"stage": "delivery", "reason": refusal.reason, "contract_version": contract.version,
                     "bundle_sha256": getattr(gate, "bundle_sha256", None)},
            negotiation_id=contract.negotiation_id,
            contract_id=contract.contract_id,
            entry_id=entry_id(contract.contract_id, contract.version, "refused", refusal.reason),
        )
        raise
    source_uri = hurricane_paths().table_uri("prod", terms.producer, terms.dataset)
    share_uri = share_uri_for(terms)
    # the contract's retention: nothing older than the cutoff crosses; rows the copy holds from under
    # the previous delivery's cutoff and that are older now leave it with this overwrite
    retention = RetentionCount(retention_cutoff(terms, now), previous_cutoff=stamped_cutoff(share_uri))
    try:
        masked = share_for_delivery(terms, catalog=catalog, now=now, retention=retention)
    except UpstreamSchemaChanged as exc:
        raise UpstreamSchemaChanged(contract.contract_id, exc.reason) from None
    # the version the share was made from (opened once): a producer commit meanwhile is the next delivery's
    source_version = masked.source_version
    with masked:
        digest = masked.digest
        recorded = recorded_copy(clearance.history, contract.contract_id)
        copy = open_copy(share_uri)
        differs = copy_differs(copy, recorded)
        changed = differs is not None or recorded.content_sha256 != digest
        version, receipt = (None if copy is None else copy.version()), None
        if changed:
            version, receipt = _write_share(contract, share_uri, masked, digest, source_uri, source_version, ledger,
                                            lineage, clearance, retention, recorded, differs)
    _record_erasures(contract, share_uri, masked, version, ledger)
    delivery = Delivery(
        contract_id=contract.contract_id,
        share_uri=share_uri,
        rows=masked.rows,
        columns=masked.columns,
        content_sha256=digest,
        changed=changed,
        table_version=version,
        privacy=masked.report,
        ledger=receipt,
        source_version=source_version,
        retention=retention,
        join_keys=masked.join_keys,
    )
    return delivery


def _record_erasures(contract: Contract, share_uri: str, masked: Share, table_version: int | None,
                     ledger: LedgerPort) -> None:
    """One ERASURE entry per erasure request and contract version, once the share holds no row of the
    person (this delivery wrote without them, or had none to write); the entry id makes it once."""
    erasure = masked.report.erasure or {}
    entries = [
        dict(entry_type=EntryType.ERASURE, actor=f"agent:{contract.producer}/producer",
             payload={"stage": "applied", "request_id": request_id, "share_uri": share_uri,
                      "table_version": table_version, "register_version": erasure.get("register_version"),
                      "rows_removed": erasure.get("rows_removed", 0)},
             negotiation_id=contract.negotiation_id, contract_id=contract.contract_id,
             entry_id=entry_id(contract.contract_id, contract.version, "erasure", request_id))
        for request_id in erasure.get("request_ids", ())
    ]
    if entries and hasattr(ledger, "append_batch"):  # one commit for all, already-recorded ids skipped
        from hurricane_assets.ledger.ledger import LedgerAppend

        ledger.append_batch([LedgerAppend(**e) for e in entries])
        return
    for entry in entries:
        ledger.append(**entry)


def _write_share(
    contract: Contract,
    share_uri: str,
    masked: Share,
    digest: str,
    source_uri: str,
    source_version: int,
    ledger: LedgerPort,
    lineage: LineageEmitter | None,
    clearance: Clearance,
    retention: RetentionCount,
    recorded: RecordedCopy | None,
    copy_before: str | None,
) -> tuple[int, LedgerReceipt]:
    """One overwrite commit of the share, framed by lineage START and COMPLETE (or FAIL), then its
    DELIVERED entry. `copy_before`: why the copy on storage was not the last recorded write, if not.

    Written before it is recorded (the entry names the version written): if the append fails, the
    copy is left without its entry, `read_share` refuses it (its version is not the recorded one) and
    the next delivery writes and records it again."""
    run_id = None
    if lineage is not None:
        run_id, _ = lineage.delivery_started(contract, source_uri=source_uri, source_version=source_version)
    stamp = {CONTENT_KEY: digest, "dh.contract_id": contract.contract_id, "dh.contract_version": contract.version,
             KEY_ID_PROPERTY: masked.report.key_id, CUTOFF_KEY: retention.cutoff.isoformat()}
    try:
        write_deltalake(
            share_uri,
            masked.data(),
            mode="overwrite",
            schema_mode="overwrite",
            storage_options=storage_options(share_uri) or None,
            commit_properties=CommitProperties(custom_metadata=stamp),
            writer_properties=None if masked.table is not None else writer_properties(),
        )
        # no history in a share either: the previous delivery's rows go from storage, not only from view
        version = keep_only_current_version(share_uri, metadata=stamp).version
    except Exception as exc:
        if lineage is not None:
            lineage.delivery_failed(run_id, contract, error=str(exc))
        raise
    payload = {
        "contract_id": contract.contract_id,
        "contract_version": contract.version,
        "share_uri": share_uri,
        "policy_bundle_sha256": clearance.decision.bundle_sha256,
        "policy_decision_id": clearance.decision.decision_id,
        "approval_seq": clearance.approval_seq,
        "table_version": version,
        "rows": masked.rows,
        "columns": list(masked.columns),
        "content_sha256": digest,
        "source_version": source_version,
        "masking_plan_version": masked.report.plan_version,
        "masking_key_id": masked.report.key_id,
        # counts only, no values: the cutoff, rows kept out by it, rows it removed from the copy
        "retention": retention.to_dict(contract.terms.retention_days),
        "previous_delivered_seq": None if recorded is None else recorded.delivered_seq,
        "copy_before": copy_before,  # e.g. a lost or edited copy, replaced by this write
    }
    if lineage is not None:
        event = lineage.delivery_completed(
            run_id, contract, delta_version=version, source_uri=source_uri, source_version=source_version
        )
        payload["lineage_run_id"] = run_id
        payload["lineage_event_sha256"] = event.sha256
    receipt = ledger.append(
        entry_type=EntryType.DELIVERED,
        actor=f"agent:{contract.producer}/producer",
        payload=payload,
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        entry_id=delivered_entry_id(contract, recorded, digest),
    )
    return version, receipt


def delivered_entry_id(contract: Contract, recorded: RecordedCopy | None, digest: str) -> str:
    """One DELIVERED id per write: the write follows the contract's last recorded DELIVERED entry.

    The digest alone named the same id for a second write of the same content (the copy lost and
    written again, or content back to an earlier digest), whose payload differs (table version,
    lineage run): the ledger refuses that, on purpose. The Delta version does not tell writes
    apart either (a re-created copy starts at 0 again). The previous entry's seq does: a recorded
    write moves it on, so the next write gets a new id; a delivery retried before its entry was
    appended (a crash between write and append) keeps it, so one write never gets two entries. Two
    deliveries racing from one state with the same content get one id too: the later append is
    refused (`LedgerConflict`) and the next delivery repairs the copy it finds."""
    previous = None if recorded is None else recorded.delivered_seq
    return entry_id(contract.contract_id, contract.version, "delivered", f"after:{previous}", digest)
