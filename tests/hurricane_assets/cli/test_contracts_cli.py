"""`hurricane contracts` on real contracts: list (table and JSON), show, revoke; bad input exits 2."""

from __future__ import annotations

import json

from deltalake import DeltaTable
from typer.testing import CliRunner

from hurricane_assets.cli.main import app
from hurricane_assets.delivery.deliver import deliver
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.sharing.platform import SharingPlatform
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

runner = CliRunner()


def signed_and_delivered(catalog):
    platform = SharingPlatform.from_environment(catalog)
    (contract,) = sign_agreements([agreement_for(fraud_terms(), platform.gate)], **platform.signing).contracts
    deliver(contract, **platform.delivering)
    return contract


def test_list_json_show_and_revoke(share_catalog, share_prod_tables):
    contract = signed_and_delivered(share_catalog)
    listed = runner.invoke(app, ["contracts", "list", "--json"])
    assert listed.exit_code == 0
    (row,) = json.loads(listed.output)
    assert row["id"] == contract.contract_id
    assert {k: row[k] for k in ("status", "producer", "consumer", "dataset", "environment")} == {
        "status": "active", "producer": "payments", "consumer": "risk", "dataset": "transactions", "environment": "preprod"}
    assert "1 contract(s)" in runner.invoke(app, ["contracts", "list"]).output
    shown = runner.invoke(app, ["contracts", "show", contract.contract_id])
    assert shown.exit_code == 0 and "device_id" in shown.output and "tokenize" in shown.output
    revoked = runner.invoke(app, ["contracts", "revoke", contract.contract_id, "--reason", "test"])
    assert revoked.exit_code == 0, revoked.output
    assert not DeltaTable.is_deltatable(contract.share_uri)
    assert json.loads(runner.invoke(app, ["contracts", "list", "--json"]).output)[0]["status"] == "revoked"
    again = runner.invoke(app, ["contracts", "revoke", contract.contract_id])
    assert again.exit_code == 2 and "status is revoked" in again.output


def test_bad_input_exits_2_with_one_line():
    for args in (["contracts", "show", "no-such-contract"], ["contracts", "revoke", "no-such-contract"],
                 ["contracts", "list", "--status", "sleeping"], ["contracts", "show", "../etc/passwd"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1, result.output


def test_list_names_a_file_that_is_no_contract_lists_the_others_and_exits_2(share_catalog, share_prod_tables):
    from hurricane_assets.contracts.store import ContractStore

    contract = signed_and_delivered(share_catalog)
    (ContractStore().folder / "notes.json").write_text("{}")
    for args in (["contracts", "list", "--json"], ["contracts", "list"]):
        listed = runner.invoke(app, args)
        assert listed.exit_code == 2
        assert listed.stderr == ("error: contracts/notes.json: not a valid contract record: negotiation_id: "
                                 "Field required (6 error(s)) (skipped)\n")
        assert contract.contract_id in listed.stdout
    assert [row["id"] for row in json.loads(runner.invoke(app, ["contracts", "list", "--json"]).stdout)] == [
        contract.contract_id]
