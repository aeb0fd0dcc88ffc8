"""Keep-or-revoke verdicts, recorded in the ledger as CONTRACT_TESTED entries and read back from it,
so renewal asks the same record the audit reads."""

from __future__ import annotations

import json

import pyarrow.compute as pc

from hurricane_assets.contracts.contract import Contract, ContractStatus
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.sharing.ids import entry_id
from hurricane_assets.sharing.lifecycle import Verdict, end_share, judge_shares
from hurricane_assets.sharing.platform import SharingPlatform


def record_verdict(ledger: Ledger, contract: Contract, verdict: Verdict, *, model: str, evidence: str) -> None:
    ledger.append(
        entry_type=EntryType.CONTRACT_TESTED,
        actor=f"agent:{contract.consumer}/consumer",
        # the columns tested: a later data need of this model leaves out exactly these (monitoring/tried.py)
        payload={"contract_id": contract.contract_id, "model": model, "uplift": round(verdict.uplift, 6),
                 "keep": verdict.keep, "reason": verdict.reason, "evidence": evidence,
                 "columns": sorted(contract.terms.shared_columns())},
        negotiation_id=contract.negotiation_id,
        contract_id=contract.contract_id,
        entry_id=entry_id(contract.contract_id, model, evidence, "tested"),
    )


def latest_verdicts(ledger: Ledger) -> dict[str, bool]:
    """contract id → whether its latest test said keep."""
    entries = ledger.read(columns=["entry_type", "contract_id", "payload_json"])
    tested = entries.filter(pc.equal(entries["entry_type"], EntryType.CONTRACT_TESTED.value))
    verdicts: dict[str, bool] = {}
    for row in tested.to_pylist():  # seq order: later verdicts overwrite earlier ones
        verdicts[row["contract_id"]] = bool(json.loads(row["payload_json"])["keep"])
    return verdicts


def judge_and_act(
    platform: SharingPlatform,
    consumer: str,
    uplift: dict[str, float],
    *,
    model: str,
    evidence: str,
    min_uplift: float,
    lineage: LineageEmitter | None = None,
) -> list[Verdict]:
    """Record a verdict for each of the consumer's active shares the model measured, and revoke
    those that did not help."""
    active = [c for c in platform.store.list(status=ContractStatus.active) if c.consumer == consumer]
    verdicts = judge_shares(active, uplift, min_uplift=min_uplift)
    by_id = {c.contract_id: c for c in active}
    for verdict in verdicts:
        contract = by_id[verdict.contract_id]
        record_verdict(platform.ledger, contract, verdict, model=model, evidence=evidence)
        if not verdict.keep:
            end_share(contract, ContractStatus.revoked, reason=f"did not help {model}: {verdict.reason}",
                      by=f"agent:{consumer}/consumer", store=platform.store, ledger=platform.ledger,
                      lineage=lineage or platform.lineage, signer=platform.signer)
    return verdicts
