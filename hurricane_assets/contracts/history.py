"""What the ledger says about contracts, approvers, approvals, policy bundles, share verdicts and
what was written to each consumer's copy (DELIVERED, RETENTION: `delivery/recorded.py`).

A contract file's `status` is not signed (it changes after signing), so an insider could set a
revoked contract back to `active`. The ledger is the authority on status: a contract is created by
a CONTRACT_SIGNED or RENEWED entry (which records the hash of the body both parties signed) and
ended by a REVOKED or EXPIRED entry, or superseded by a later renewal or signature. The ledger's own
integrity (chain, signatures, witnesses) is checked by `hurricane ledger verify`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.ledger.entry import EntryType

TRACKED = (
    EntryType.CONTRACT_SIGNED,
    EntryType.RENEWED,
    EntryType.REVOKED,
    EntryType.EXPIRED,
    EntryType.APPROVER_ADDED,
    EntryType.HUMAN_APPROVAL,
    EntryType.POLICY_CHANGED,
    # what was written to each consumer's copy (`delivery/recorded.py`): few entries, one per write
    EntryType.DELIVERED,
    EntryType.RETENTION,
    EntryType.CONTRACT_TESTED,  # a consumer's keep-or-revoke verdict: what its model already tried
)


def _tracked_rows(ledger: Any) -> pa.Table:
    """The tracked entries in seq order. On the Delta ledger the entry-type filter is pushed down to
    the Parquet files, so the payloads of negotiation messages (most of the ledger) are not read.

    The pushdown skips files and row groups by their statistics (the Delta log's add actions, the
    Parquet footers), which no hash or signature covers: a file whose statistics were edited to say
    MESSAGE hid its REVOKED entry, and the revoked share was delivered again. So the entry types are
    also read without a filter, and the filtered read must return exactly the entries they name."""
    wanted = pa.array([t.value for t in TRACKED])
    delta = getattr(ledger, "_table", None)
    table = delta() if delta is not None else None
    if table is not None:
        dataset = table.to_pyarrow_dataset()
        rows = dataset.to_table(filter=pc.field("entry_type").isin(wanted))
        _check_nothing_skipped(rows, dataset.to_table(columns=["seq", "entry_type"]), wanted)
    else:
        rows = ledger.read()
        if rows.num_rows:
            rows = rows.filter(pc.is_in(rows["entry_type"], value_set=wanted))
    return rows.sort_by("seq") if rows.num_rows else rows


class LedgerUnreadable(RuntimeError):
    """The ledger given cannot be read, so nothing that depends on it can be checked (deny)."""


def _check_nothing_skipped(rows: pa.Table, types: pa.Table, wanted: pa.Array) -> None:
    expected = set(types.filter(pc.is_in(types["entry_type"], value_set=wanted)).column("seq").to_pylist())
    got = set(rows.column("seq").to_pylist())
    if expected != got:
        differing = sorted(expected ^ got)
        raise LedgerUnreadable(
            "the ledger's file statistics do not match its rows: a filtered read "
            f"{'skips' if expected - got else 'adds'} entries {', '.join(map(str, differing[:10]))} "
            "(statistics edited after the commit; run `hurricane ledger verify`)")


@dataclass(frozen=True)
class ContractRecord:
    contract_id: str
    created_by: EntryType  # CONTRACT_SIGNED or RENEWED
    created_seq: int
    agreement_sha256: str
    previous_contract_id: str | None
    status: ContractStatus
    approval_seq: int | None = None


@dataclass
class LedgerHistory:
    """One scan of the ledger's lifecycle, approval and policy entries, in seq order."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def read(cls, ledger: Any) -> LedgerHistory:
        reader = getattr(ledger, "read", None)
        if reader is None:
            raise LedgerUnreadable(f"{ledger!r} cannot be read back, so contract status cannot be checked")
        try:
            table = _tracked_rows(ledger)
        except Exception as exc:  # a check that errors denies
            raise LedgerUnreadable(f"the ledger could not be read: {type(exc).__name__}: {exc}") from None
        rows = table.to_pylist()
        for row in rows:
            row["payload"] = json.loads(row["payload_json"])
        return cls(rows)

    def of_type(self, *types: EntryType) -> list[dict[str, Any]]:
        values = {t.value for t in types}
        return [r for r in self.rows if r["entry_type"] in values]

    def contract(self, contract_id: str) -> ContractRecord | None:
        """The contract as the ledger knows it, or None if the ledger never recorded it."""
        created = None
        status = ContractStatus.active
        for row in self.rows:
            kind, payload = row["entry_type"], row["payload"]
            if kind in (EntryType.CONTRACT_SIGNED.value, EntryType.RENEWED.value):
                if payload.get("contract_id") == contract_id and created is None:
                    created = row
                elif payload.get("supersedes") == contract_id or payload.get("previous_contract_id") == contract_id:
                    if status is ContractStatus.active:
                        status = ContractStatus.renewed
            elif kind in (EntryType.REVOKED.value, EntryType.EXPIRED.value) and row["contract_id"] == contract_id:
                status = ContractStatus.revoked if kind == EntryType.REVOKED.value else ContractStatus.expired
        if created is None:
            return None
        payload = created["payload"]
        return ContractRecord(
            contract_id=contract_id,
            created_by=EntryType(created["entry_type"]),
            created_seq=created["seq"],
            agreement_sha256=payload.get("agreement_sha256", ""),
            previous_contract_id=payload.get("previous_contract_id") or payload.get("supersedes"),
            status=status,
            approval_seq=payload.get("approval_seq"),
        )

    def chain(self, contract_id: str) -> list[str]:
        """The contract and those it renewed or superseded, newest first (they share one copy)."""
        chain: list[str] = []
        while contract_id and contract_id not in chain:
            chain.append(contract_id)
            record = self.contract(contract_id)
            contract_id = record.previous_contract_id if record is not None else None
        return chain

    def signed(self, contract_id: str) -> dict[str, Any] | None:
        """The CONTRACT_SIGNED payload a contract descends from (through its renewals), which names the
        producer, consumer and dataset; None if the ledger never signed it."""
        for cid in self.chain(contract_id):
            created = next((r for r in self.of_type(EntryType.CONTRACT_SIGNED, EntryType.RENEWED)
                            if r["payload"].get("contract_id") == cid), None)
            if created is None:
                return None
            if created["entry_type"] == EntryType.CONTRACT_SIGNED.value:
                return created["payload"]
        return None

    def latest_policy_bundle(self) -> dict[str, Any] | None:
        changes = self.of_type(EntryType.POLICY_CHANGED)
        return changes[-1] if changes else None
