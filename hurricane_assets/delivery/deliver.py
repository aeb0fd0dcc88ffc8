"""Deliver one contract's share: re-check the contract, read the producer's prod table, keep the
contracted rows and columns, mask them per contract, write the consumer's Delta table in one commit.

The contract is re-checked at the moment data is copied — status, expiry, both signatures, and the
CURRENT policy bundle — because a policy change or a revocation after agreement must stop delivery.
A delivery whose output would be byte-identical to what is already there writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa
from deltalake import CommitProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.catalog import Catalog
from hurricane_assets.catalog.schema import arrow_schema, schema_diff
from hurricane_assets.contracts.contract import Contract, ContractStatus, verify_contract
from hurricane_assets.delivery.row_filter import apply_row_filter
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.masking.engine import MaskedResult, mask_table
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import plan_from_contract
from hurricane_assets.masking.report import PrivacyReport
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.ids import entry_id
from hurricane_assets.storage import open_table, read_table, storage_options
from negotiation_graph.ports import LedgerPort, LedgerReceipt, PolicyGate, SignerPort
from negotiation_graph.terms import ShareTerms

CONTENT_KEY = "dh.content_sha256"


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


def content_sha256(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _delivered_content(uri: str) -> tuple[str | None, int | None]:
    try:
        table = open_table(uri)
    except TableNotFoundError:
        return None, None
    last = table.history(1)[0]
    return last.get(CONTENT_KEY), table.version()


def check_deliverable(contract: Contract, *, gate: PolicyGate, signer: SignerPort, now: datetime) -> None:
    if contract.status is not ContractStatus.active:
        raise DeliveryRefused(contract.contract_id, f"status is {contract.status.value}, not active")
    if contract.expires_at <= now:
        raise DeliveryRefused(contract.contract_id, f"expired at {contract.expires_at.isoformat()}")
    try:
        verify_contract(contract, signer)
    except ValueError as exc:
        raise DeliveryRefused(contract.contract_id, f"signature check failed: {exc}") from None
    decision = gate.evaluate(contract.terms)
    if not decision.allowed:
        denied = [f"{c}:{','.join(d.reasons)}" for c, d in decision.columns.items() if not d.allowed]
        raise DeliveryRefused(
            contract.contract_id,
            "the current policy denies it (" + "; ".join([*decision.reasons, *denied]) + f"; bundle {decision.bundle_sha256[:12]})",
        )


def masked_share(terms: ShareTerms, *, catalog: Catalog, now: datetime) -> MaskedResult:
    """The rows and columns `terms` let cross, masked for the target environment; nothing written.
    The producer's table must still match its manifest (a change upstream fails closed)."""
    spec = catalog.dataset(terms.producer, terms.dataset)
    source = read_table(hurricane_paths().table_uri("prod", terms.producer, terms.dataset))
    diff = schema_diff(arrow_schema(spec), source.schema)
    if not diff.ok:
        raise UpstreamSchemaChanged(f"{terms.producer}.{terms.dataset}", f"changed upstream: {diff.describe()}")
    rows = apply_row_filter(source, terms.row_filter, event_time=spec.event_time, keys=spec.keys, now=now)
    plan = plan_from_contract(spec, terms.environment.value, dict(terms.columns), name=f"{terms.producer}.{terms.dataset}")
    return mask_table(rows, plan, Keyring.load(terms.environment.value))


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
    now = now or datetime.now(timezone.utc)
    terms = contract.terms
    actor = f"agent:{terms.producer}/producer"
    try:
        check_deliverable(contract, gate=gate, signer=signer, now=now)
    except DeliveryRefused as refusal:
        ledger.append(
            entry_type=EntryType.POLICY_DENIED,
            actor=actor,
            payload={"stage": "delivery", "reason": refusal.reason, "contract_version": contract.version},
            negotiation_id=contract.negotiation_id,
            contract_id=contract.contract_id,
            entry_id=entry_id(contract.contract_id, contract.version, "refused", refusal.reason),
        )
        raise
    source_uri = hurricane_paths().table_uri("prod", terms.producer, terms.dataset)
    source_version = open_table(source_uri).version()
    try:
        masked = masked_share(terms, catalog=catalog, now=now)
    except UpstreamSchemaChanged as exc:
        raise UpstreamSchemaChanged(contract.contract_id, exc.reason) from None
    digest = content_sha256(masked.table)
    previous, version = _delivered_content(contract.share_uri)
    changed = previous != digest
    receipt = None
    if changed:
        version, receipt = _write_share(contract, masked, digest, source_uri, source_version, ledger, lineage)
    delivery = Delivery(
        contract_id=contract.contract_id,
        share_uri=contract.share_uri,
        rows=masked.table.num_rows,
        columns=tuple(masked.table.column_names),
        content_sha256=digest,
        changed=changed,
        table_version=version,
        privacy=masked.report,
        ledger=receipt,
        source_version=source_version,
    )
    return delivery


def _write_share(
    contract: Contract,
    masked: MaskedResult,
    digest: str,
    source_uri: str,
    source_version: int,
    ledger: LedgerPort,
    lineage: LineageEmitter | None,
) -> tuple[int, LedgerReceipt]:
    """One overwrite commit of the share, framed by lineage START and COMPLETE (or FAIL)."""
    run_id = None
    if lineage is not None:
        run_id, _ = lineage.delivery_started(contract, source_uri=source_uri, source_version=source_version)
    try:
        write_deltalake(
            contract.share_uri,
            masked.table,
            mode="overwrite",
            schema_mode="overwrite",
            storage_options=storage_options(contract.share_uri) or None,
            commit_properties=CommitProperties(
                custom_metadata={CONTENT_KEY: digest, "dh.contract_id": contract.contract_id,
                                 "dh.contract_version": contract.version},
            ),
        )
    except Exception as exc:
        if lineage is not None:
            lineage.delivery_failed(run_id, contract, error=str(exc))
        raise
    version = open_table(contract.share_uri).version()
    payload = {
        "contract_id": contract.contract_id,
        "contract_version": contract.version,
        "share_uri": contract.share_uri,
        "table_version": version,
        "rows": masked.table.num_rows,
        "columns": masked.table.column_names,
        "content_sha256": digest,
        "source_version": source_version,
        "masking_plan_version": masked.report.plan_version,
        "masking_key_id": masked.report.key_id,
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
        entry_id=entry_id(contract.contract_id, contract.version, "delivered", digest),
    )
    return version, receipt
