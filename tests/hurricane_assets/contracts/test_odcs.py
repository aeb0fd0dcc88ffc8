import json

import jsonschema
import pytest
import yaml
from open_data_contract_standard.model import OpenDataContractStandard

from hurricane_assets.contracts import ContractStore, LedgerRef, OdcsError, export_odcs, import_odcs
from hurricane_assets.contracts.odcs import odcs_json_schema
from hurricane_assets.settings import hurricane_paths


@pytest.fixture
def active(signed):
    return signed.transition("active").model_copy(update={"ledger": LedgerRef(seq=12, entry_hash="cd" * 32)})


def test_export_is_valid_odcs_and_describes_the_consumer_copy(active):
    path = export_odcs(active)
    assert path == hurricane_paths().contracts / f"{active.contract_id}.odcs.yaml"
    raw = yaml.safe_load(path.read_text())
    jsonschema.validate(raw, odcs_json_schema())
    doc = OpenDataContractStandard.from_file(str(path))
    assert doc.apiVersion == "v3.1.0" and doc.kind == "DataContract" and doc.status == "active"
    server = doc.servers[0]
    assert (server.type, server.format, server.environment) == ("local", "delta", "preprod")
    assert server.path == active.share_uri and "/envs/preprod/risk/" in server.path
    props = {p.name: p for p in doc.schema_[0].properties}
    assert "card_number" not in props  # dropped columns are not in the copy
    assert {c.property: c.value for c in props["device_id"].customProperties}["dhMasking"] == "tokenize"
    assert props["device_id"].classification == "confidential" and props["txn_id"].primaryKey
    sla = {s.property: s for s in doc.slaProperties}
    assert {"freshness", "latency", "frequency", "retention", "endOfLife"} <= set(sla)
    assert sla["freshness"].element == "payments__transactions.event_ts"
    top = {c.property: c.value for c in doc.customProperties}
    assert top["dhLedger"] == {"seq": 12, "entryHash": "cd" * 32}
    assert top["dhAgreementSha256"] == active.agreement_sha256 and len(top["dhSignatures"]) == 2
    row_filter = {c.property: c.value for c in doc.schema_[0].customProperties}["dhRowFilter"]
    assert row_filter["all_of"][0]["column"] == "channel"


def test_import_round_trips_to_an_equal_contract(active, signer):
    from hurricane_assets.contracts import verify_contract

    back = import_odcs(export_odcs(active))
    assert back == active
    verify_contract(back, signer)


def test_edited_export_is_detected_on_import(active):
    path = export_odcs(active)
    path.write_text(path.read_text().replace("value: 90\n  unit: d", "value: 900\n  unit: d"))
    with pytest.raises(OdcsError, match="dhAgreementSha256"):
        import_odcs(path)


def test_import_rejects_other_versions_and_missing_files(active, tmp_path):
    path = export_odcs(active)
    path.write_text(path.read_text().replace("apiVersion: v3.1.0", "apiVersion: v3.0.2"))
    with pytest.raises(OdcsError, match="apiVersion: expected v3.1.0"):
        import_odcs(path)
    with pytest.raises(OdcsError, match="not found"):
        import_odcs(tmp_path / "nope.odcs.yaml")


def test_store_saves_lists_and_gets(active, signed):
    store = ContractStore()
    store.save(signed)
    store.save(active.model_copy(update={"contract_id": "second-contract"}))
    assert store.get(signed.contract_id) == signed
    assert [c.contract_id for c in store.list(status=active.status)] == ["second-contract"]
    assert (store.folder / f"{signed.contract_id}.odcs.yaml").exists()
    with pytest.raises(KeyError, match="no contract"):
        store.get("missing")
    with pytest.raises(ValueError, match="valid file name"):
        store.get("../etc/passwd")


def test_a_copy_on_s3_is_an_odcs_s3_server_with_its_location(terms, signer, monkeypatch, pinned_clock, tmp_path):
    """On an object store the copy is not a `local` server with a `path`: ODCS has an `s3` server
    whose `location` is the S3 URL; it validates against the package's schema and imports back."""
    from hurricane_assets.contracts import Contract, sign_contract

    monkeypatch.setenv("HURRICANE_STORAGE_ROOT", "s3://dh-bucket/org")
    contract = Contract.propose(terms, negotiation_id="neg-s3", policy_bundle_sha256="ab" * 32, now=pinned_clock)
    contract = sign_contract(sign_contract(contract, "producer", signer), "consumer", signer).transition("active")
    assert contract.share_uri == "s3://dh-bucket/org/envs/preprod/risk/payments__transactions"
    path = export_odcs(contract, path=tmp_path / "s3.odcs.yaml")  # the file itself local: only the copy is on S3
    raw = yaml.safe_load(path.read_text())
    schema = json.loads(OpenDataContractStandard.json_schema())
    jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker()).validate(raw)
    server = raw["servers"][0]
    assert (server["type"], server["location"], server["format"]) == ("s3", contract.share_uri, "delta")
    assert "path" not in server
    assert import_odcs(path) == contract
    path.write_text(path.read_text().replace("location: s3://dh-bucket/org/", "location: s3://other-bucket/org/"))
    with pytest.raises(OdcsError, match=r"servers\[0\]\.location"):
        import_odcs(path)
