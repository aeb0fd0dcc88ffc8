"""Contracts are checked at every use: an insider who edits a stored contract (with or without the
domains' keys) cannot make revoke, renew, the sweep, delivery or a notebook read touch anything
the signed, recorded contract does not name.

Each test is an attack that succeeded before contracts were checked at use (issue 10, "What was
seen: Contracts"); delete `check_contract` from a use and its test goes red.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta

import pyarrow as pa
import pytest
from deltalake import CommitProperties, DeltaTable, write_deltalake
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.client import HurricaneClient, ShareUnavailable
from hurricane_assets.contracts.check import ContractRejected, inside_consumer_root, share_uri_for
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.delivery.deliver import DeliveryRefused, deliver
from hurricane_assets.delivery.erase import ErasureRefused, erase_share
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.lifecycle import end_share, renew, sweep
from hurricane_assets.storage import read_table
from tests.hurricane_assets.share_terms import fraud_terms
from tests.security.contract_fixtures import (  # noqa: F401  (fixtures)
    DELIVERY,
    LIFECYCLE,
    delivered,
    edit_contract_file,
    entry_types,
    prod_template,
    resign,
    share_catalog,
    share_gate,
    share_parts,
    share_prod_tables,
    signed,
    victim_table,
)

runner = CliRunner()


def test_revoke_of_a_contract_whose_share_uri_was_edited_is_refused_and_the_other_table_survives(
        share_parts, share_prod_tables, tmp_path):
    contract = delivered(share_parts)
    victim = victim_table(tmp_path)
    edit_contract_file(share_parts, contract, lambda raw: raw.update(share_uri=victim))
    revoked = runner.invoke(app, ["contracts", "revoke", contract.contract_id])
    assert revoked.exit_code == 2 and "refused" in revoked.stderr and "contract file edited" in revoked.stderr
    assert DeltaTable(victim).to_pyarrow_table().num_rows == 3
    assert DeltaTable.is_deltatable(share_uri_for(contract.terms))  # the real copy is untouched too
    assert "REVOKED" not in entry_types(share_parts)


def test_revoke_of_an_edited_and_re_signed_contract_still_cannot_reach_another_table(
        share_parts, share_prod_tables, tmp_path):
    """With the domains' keys the signatures verify again; the body no longer matches the one the
    ledger recorded, and the signed location is not the consumer's copy: refused either way."""
    contract = delivered(share_parts)
    victim = victim_table(tmp_path)
    forged = resign(share_parts, contract.model_copy(update={"share_uri": victim}))
    with pytest.raises(ContractRejected, match="share_uri does not name the consumer's copy"):
        end_share(forged, ContractStatus.revoked, reason="attack", by="agent:risk/consumer",
                  store=share_parts["store"], ledger=share_parts["ledger"], signer=share_parts["signer"])
    assert DeltaTable(victim).to_pyarrow_table().num_rows == 3
    assert share_parts["store"].get(contract.contract_id).status is ContractStatus.active


def test_erasure_never_leaves_the_consumer_root(share_parts):
    terms = fraud_terms()
    root = hurricane_paths().env_root("preprod")
    assert inside_consumer_root(share_uri_for(terms), terms)
    for outside in (f"{root}/payments/transactions", f"{root}/risk/../payments/x", f"{root}/risk", "/etc",
                    hurricane_paths().table_uri("prod", "risk", "payments__transactions")):
        assert not inside_consumer_root(outside, terms), outside
    with pytest.raises(ValueError, match="not a plain name"):
        erase_share(fraud_terms(dataset="../../prod/payments/transactions"))
    assert issubclass(ErasureRefused, ValueError)


def test_renew_of_a_tampered_contract_raises_and_signs_nothing(share_parts, share_prod_tables, tmp_path):
    """Before, renew() signed a successor for both parties over the edited body: here, pointed at
    another table, which the next delivery would have overwritten."""
    contract = delivered(share_parts)
    victim = victim_table(tmp_path)
    for edit in (lambda raw: raw.update(share_uri=victim),
                 lambda raw: raw["terms"].update(retention_days=30)):  # a change the policy would allow
        tampered = edit_contract_file(share_parts, contract, edit)
        before = entry_types(share_parts)
        with pytest.raises(ContractRejected, match="contract file edited|signature check failed"):
            renew(tampered, **{k: share_parts[k] for k in LIFECYCLE})
        assert entry_types(share_parts) == before  # no RENEWED, no successor
        share_parts["store"].save(contract)  # the honest file back, for the next edit
    assert [c.contract_id for c in share_parts["store"].list()] == [contract.contract_id]
    assert DeltaTable(victim).to_pyarrow_table().num_rows == 3


def test_renew_of_a_re_signed_tampered_contract_raises(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    forged = resign(share_parts, contract.model_copy(update={"terms": fraud_terms(retention_days=30)}))
    with pytest.raises(ContractRejected, match="differs from the one the ledger recorded"):
        renew(forged, **{k: share_parts[k] for k in LIFECYCLE})


def test_a_revoked_contract_set_back_to_active_in_its_file_is_not_delivered(share_parts, share_prod_tables):
    """The status is not signed (it changes after signing): the ledger is its authority."""
    contract = delivered(share_parts)
    end_share(contract, ContractStatus.revoked, reason="did not help", by="agent:risk/consumer",
              store=share_parts["store"], ledger=share_parts["ledger"], signer=share_parts["signer"])
    revived = edit_contract_file(share_parts, contract, lambda raw: raw.update(status="active"))
    assert revived.status is ContractStatus.active
    with pytest.raises(DeliveryRefused, match="the file says active but the ledger says revoked"):
        deliver(revived, **{k: share_parts[k] for k in DELIVERY})
    assert not DeltaTable.is_deltatable(share_uri_for(contract.terms))
    with pytest.raises(ShareUnavailable, match="the ledger says revoked"):
        HurricaneClient(share_parts["catalog"]).read_share(contract.contract_id)


def test_read_share_never_reads_a_path_from_the_contract_file(share_parts, share_prod_tables):
    """Pointing share_uri at the producer's PROD table would hand raw card numbers to a notebook."""
    contract = delivered(share_parts)
    prod = hurricane_paths().table_uri("prod", "payments", "transactions")
    edit_contract_file(share_parts, contract, lambda raw: raw.update(share_uri=prod))
    client = HurricaneClient(share_parts["catalog"])
    with pytest.raises(ShareUnavailable, match="may not be read: share_uri does not name the consumer's copy"):
        client.read_share(contract.contract_id)


def test_read_share_checks_signatures_and_expiry(share_parts, share_prod_tables):
    contract = delivered(share_parts)
    client = HurricaneClient(share_parts["catalog"])
    frame = client.read_share(contract.contract_id, now=contract.signed_at + timedelta(days=1))
    assert list(frame.columns) == ["txn_id", "customer_id", "channel", "device_id"]
    with pytest.raises(ShareUnavailable, match="expired at"):
        client.read_share(contract.contract_id, now=contract.expires_at + timedelta(seconds=1))
    edit_contract_file(share_parts, contract, lambda raw: raw["signatures"].pop())
    with pytest.raises(ShareUnavailable, match="missing the consumer's signature"):
        client.read_share(contract.contract_id)


def with_real_card_numbers(uri: str) -> pa.Table:
    """The copy plus a `card_number` column taken from prod (an insider who can read prod and write
    the consumer's folder)."""
    share = read_table(uri)
    prod = read_table(hurricane_paths().table_uri("prod", "payments", "transactions"), ["card_number"])
    return share.append_column("card_number", prod["card_number"].slice(0, share.num_rows))


def insider_writes(uri: str, table: pa.Table, *, how: str) -> None:
    """A normal Delta write carrying the last commit's `dh.*` metadata (content digest, contract id),
    so the copy's own stamp still says "as delivered". `commit` adds a version; `rebuilt` deletes the
    copy and writes it anew, back at version 0, the version its first delivery recorded."""
    last = DeltaTable(uri).history(1)[0]
    stamp = {k: v for k, v in last.items() if k.startswith("dh.") and isinstance(v, str)}
    if how == "rebuilt":
        shutil.rmtree(uri)
    write_deltalake(uri, table, mode="overwrite", schema_mode="overwrite",
                    commit_properties=CommitProperties(custom_metadata=stamp))


@pytest.mark.parametrize("how, found", [("commit", r"table version 1, the ledger recorded 0"),
                                        ("rebuilt", r"columns txn_id, customer_id, channel, device_id, card_number")])
def test_a_copy_edited_in_the_consumers_folder_is_not_served_and_is_repaired(share_parts, share_prod_tables, how,
                                                                            found):
    """Before: the delivery compared with the stamp inside the copy and said "unchanged", and
    `read_share` served the real card numbers."""
    contract = delivered(share_parts)
    uri = share_uri_for(contract.terms)
    insider_writes(uri, with_real_card_numbers(uri), how=how)
    assert DeltaTable(uri).version() == (1 if how == "commit" else 0)
    client = HurricaneClient(share_parts["catalog"])
    with pytest.raises(ShareUnavailable, match=f"the copy at {uri} is not what the ledger recorded \\({found}"):
        client.read_share(contract.contract_id)

    repaired = deliver(contract, **{k: share_parts[k] for k in DELIVERY})
    assert repaired.changed and "card_number" not in read_table(uri).column_names
    assert json.loads(share_parts["ledger"].tail(1)[0]["payload_json"])["copy_before"].startswith(found.split(",")[0])
    assert list(client.read_share(contract.contract_id).columns) == ["txn_id", "customer_id", "channel", "device_id"]


def test_a_contract_the_ledger_never_recorded_is_not_delivered(share_parts, share_prod_tables):
    """A contract file copied in from elsewhere (validly signed, never signed here)."""
    from datetime import datetime, timezone

    from hurricane_assets.contracts.contract import Contract, sign_contract

    terms = fraud_terms()
    stray = Contract.propose(terms, negotiation_id="neg-stray", policy_bundle_sha256=share_parts["gate"].bundle_sha256,
                             now=datetime.now(timezone.utc))
    stray = sign_contract(sign_contract(stray, "producer", share_parts["signer"]), "consumer", share_parts["signer"])
    stray = stray.transition(ContractStatus.active)
    share_parts["store"].save(stray)
    with pytest.raises(DeliveryRefused, match="the ledger holds no CONTRACT_SIGNED or RENEWED entry"):
        deliver(stray, **{k: share_parts[k] for k in DELIVERY})


def test_the_sweep_leaves_a_tampered_contract_alone_and_handles_the_others(share_parts, share_prod_tables):
    honest = delivered(share_parts)
    other = delivered(share_parts, fraud_terms(dataset="chargebacks", columns={"chargeback_id": "none", "reason": "none"}))
    edit_contract_file(share_parts, other, lambda raw: raw["terms"].update(term_days=365))
    now = honest.expires_at - timedelta(days=3)
    result = sweep(**{k: share_parts[k] for k in LIFECYCLE}, still_helps=lambda c: True, now=now)
    assert result.refused == (other.contract_id,)
    assert [old for old, _ in result.renewed] == [honest.contract_id]
    assert share_parts["store"].get(other.contract_id).status is ContractStatus.active
    denied = share_parts["ledger"].tail(3)
    assert any('"stage":"sweep"' in e["payload_json"] for e in denied)
