"""A revocation or expiry that fails at one step (ledger append, erasure, lineage) leaves a state the
same call, or the lifecycle sweep, finishes: the ledger, the contract file and the consumer's copy end
consistent. Each failure is injected once; the retry then meets working parts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from deltalake import DeltaTable
from openlineage.client.transport.transport import Transport
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.lineage.emitter import LineageEmitter
from hurricane_assets.sharing import lifecycle
from hurricane_assets.sharing.lifecycle import EndIncomplete, end_share, sweep
from tests.hurricane_assets.share_terms import fraud_terms
from tests.hurricane_assets.sharing.test_lifecycle import LIFECYCLE, delivered

runner = CliRunner()


class FlakyTransport(Transport):
    """Refuses the first `failures` events as an unreachable endpoint does, then keeps them."""

    def __init__(self, failures: int = 1):
        self.failures, self.events = failures, []

    def emit(self, event):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("connection refused")
        self.events.append(event)


class FlakyLedger:
    """The ledger, with appends of one entry type failing once (a commit that did not happen)."""

    def __init__(self, ledger, entry_type: str):
        self._ledger, self._entry_type, self.failed = ledger, entry_type, False

    def append(self, **entry):
        if entry["entry_type"].value == self._entry_type and not self.failed:
            self.failed = True
            raise OSError(5, "Input/output error")
        return self._ledger.append(**entry)

    def __getattr__(self, name):
        return getattr(self._ledger, name)


def revoke(parts, contract, **overrides):
    kwargs = {"store": parts["store"], "ledger": parts["ledger"], "signer": parts["signer"]} | overrides
    return end_share(contract, ContractStatus.revoked, reason="did not help", by="agent:risk/consumer", **kwargs)


def state(parts, contract) -> tuple[str, str, bool]:
    """(the ledger's status, the file's status, whether the consumer still holds a copy)"""
    ledger_status = LedgerHistory.read(parts["ledger"]).contract(contract.contract_id).status
    return ledger_status.value, parts["store"].get(contract.contract_id).status.value, \
        DeltaTable.is_deltatable(share_uri_for(contract.terms))


def entries(parts, entry_type: str, contract) -> list[dict]:
    return [json.loads(e["payload_json"]) for e in parts["ledger"].read().to_pylist()
            if e["entry_type"] == entry_type and e["contract_id"] == contract.contract_id]


def test_lineage_down_still_revokes_and_erases_and_the_same_call_again_emits_the_drop(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    transport = FlakyTransport()
    lineage = LineageEmitter(transport, catalog=share_parts["catalog"])
    with pytest.raises(EndIncomplete, match=r"revoked in the ledger, the copy erased, but the lineage DROP failed "
                                            r"\(ConnectionError\); run the same command again"):
        revoke(share_parts, contract, lineage=lineage)
    # the share is ended where it matters; the file, written last, still marks the end unfinished
    assert state(share_parts, contract) == ("revoked", "active", False)
    with pytest.raises(DeliveryRefused, match="the ledger says revoked"):
        deliver(share_parts["store"].get(contract.contract_id),
                **{k: share_parts[k] for k in ("catalog", "gate", "signer", "ledger")})
    ended = revoke(share_parts, share_parts["store"].get(contract.contract_id), lineage=lineage)
    assert ended.status is ContractStatus.revoked
    assert state(share_parts, contract) == ("revoked", "revoked", False)
    assert len(transport.events) == 1 and len(entries(share_parts, "LINEAGE_EMITTED", contract)) == 1
    assert len(entries(share_parts, "REVOKED", contract)) == 1  # recorded once, by the first call
    assert [e["rows_deleted"] > 0 for e in entries(share_parts, "ERASURE", contract)] == [True]
    assert verify_ledger().ok


def test_an_erasure_that_fails_leaves_the_share_revoked_in_the_ledger_and_a_retry_erases_it(
        share_parts, share_prod_tables, monkeypatch):
    contract = delivered(share_parts)
    real_erase = lifecycle.erase_share

    def failing_once(terms):
        monkeypatch.setattr(lifecycle, "erase_share", real_erase)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lifecycle, "erase_share", failing_once)
    with pytest.raises(EndIncomplete, match=r"revoked in the ledger, but erasing the copy failed \(OSError: No space"):
        revoke(share_parts, contract)
    assert state(share_parts, contract) == ("revoked", "active", True)
    revoke(share_parts, share_parts["store"].get(contract.contract_id))
    assert state(share_parts, contract) == ("revoked", "revoked", False)
    assert len(entries(share_parts, "REVOKED", contract)) == 1


def test_a_ledger_append_that_fails_changes_nothing_and_a_retry_revokes(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    flaky = FlakyLedger(share_parts["ledger"], "REVOKED")
    with pytest.raises(EndIncomplete, match=r"not revoked: the ledger entry failed \(OSError: Input/output error\); "
                                            r"nothing was changed"):
        revoke(share_parts, contract, ledger=flaky)
    assert state(share_parts, contract) == ("active", "active", True)
    revoke(share_parts, share_parts["store"].get(contract.contract_id), ledger=flaky)
    assert state(share_parts, contract) == ("revoked", "revoked", False)


def test_the_sweep_finishes_a_revocation_that_stopped_partway(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    lineage = LineageEmitter(FlakyTransport(), catalog=share_parts["catalog"])
    with pytest.raises(EndIncomplete):
        revoke(share_parts, contract, lineage=lineage)
    now = contract.signed_at + timedelta(days=1)  # long before its term ends
    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=now, lineage=lineage,
                   catalog=share_parts["catalog"])
    assert result.finished == (contract.contract_id,) and result.refused == () and result.expired == ()
    assert state(share_parts, contract) == ("revoked", "revoked", False)
    assert len(entries(share_parts, "LINEAGE_EMITTED", contract)) == 1


def test_an_expiry_that_fails_is_reported_the_others_are_swept_and_the_next_tick_finishes_it(
        share_parts, share_prod_tables, monkeypatch):
    first = delivered(share_parts)
    second = delivered(share_parts, fraud_terms(dataset="chargebacks", columns={"chargeback_id": "none", "reason": "none"}))
    real_erase = lifecycle.erase_share

    def failing_for_first(terms):
        if terms == first.terms:
            raise OSError(13, "Permission denied")
        return real_erase(terms)

    monkeypatch.setattr(lifecycle, "erase_share", failing_for_first)
    after_both = max(first.expires_at, second.expires_at) + timedelta(days=1)
    tick = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=after_both,
                 catalog=share_parts["catalog"])
    assert tick.expired == (second.contract_id,)
    ((failed, why),) = tick.incomplete
    assert failed == first.contract_id and "erasing the copy failed (PermissionError: Permission denied)" in why
    assert state(share_parts, first) == ("expired", "active", True)
    assert state(share_parts, second) == ("expired", "expired", False)
    monkeypatch.setattr(lifecycle, "erase_share", real_erase)
    tick = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=after_both,
                 catalog=share_parts["catalog"])
    assert tick.finished == (first.contract_id,) and tick.incomplete == ()
    assert state(share_parts, first) == ("expired", "expired", False)
    assert len(entries(share_parts, "EXPIRED", first)) == 1


def test_cli_revoke_with_lineage_down_says_what_failed_and_running_it_again_finishes(
        share_parts, share_prod_tables, monkeypatch):
    contract = delivered(share_parts)
    monkeypatch.setenv("HURRICANE_LINEAGE_URL", "http://127.0.0.1:9/")  # nothing listens on the discard port
    first = runner.invoke(app, ["contracts", "revoke", contract.contract_id])
    assert first.exit_code == 2
    assert "revoked in the ledger, the copy erased, but the lineage DROP failed (ConnectionError" in first.stderr
    assert "not what it expects" not in first.stderr
    monkeypatch.delenv("HURRICANE_LINEAGE_URL")
    again = runner.invoke(app, ["contracts", "revoke", contract.contract_id])
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith(f"revoked {contract.contract_id}")
    assert state(share_parts, contract) == ("revoked", "revoked", False)
