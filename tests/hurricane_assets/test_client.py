"""The notebook client on real components: Delta tables from the generator, trained models, the
Cedar gate, the ledger and the contract store under the test's HURRICANE_HOME."""

from __future__ import annotations

import json

import pytest

from hurricane_assets.client import HurricaneClient, ShareUnavailable, records
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractNotFoundError
from hurricane_assets.models.spec import load_model_spec, load_model_specs
from hurricane_assets.models.store import save_model
from hurricane_assets.models.training import train_model
from hurricane_assets.monitoring.need import NeedError
from hurricane_assets.negotiation_runtime import NegotiationNotFound
from hurricane_assets.sharing.lifecycle import end_share
from hurricane_assets.sharing.platform import SharingPlatform
from negotiation_graph.terms import NeedSpec

FRAUD_NEED = NeedSpec(
    need_id="need-client-fraud", consumer="risk", model="fraud_model", purpose="fraud_detection",
    environment="preprod", join_entities=("transaction", "customer"),
    wanted={"channel": 0.4, "device": 0.3, "account_age": 0.3},
    has_columns=("amount", "merchant_category", "hour_of_day", "rule_score"),
)


@pytest.fixture(scope="module")
def client() -> HurricaneClient:
    return HurricaneClient()


@pytest.fixture
def fraud_trained_on_calm(install_world):
    install_world("calm")
    save_model(train_model(load_model_spec("risk", "fraud_model")))


# -- the catalog --------------------------------------------------------------------------------


def test_catalog_search_lists_columns_with_their_manifest_facts(client):
    found = client.catalog_search(entity="customer", max_classification="confidential")
    assert len(found) > 0
    assert set(found["classification"]) <= {"public", "internal", "confidential"}
    email = found[(found["domain"] == "customers") & (found["column"] == "email")].iloc[0]
    assert email["pii"] == "EMAIL_ADDRESS" and email["classification"] == "confidential"
    assert "national_id" not in set(found["column"])  # restricted: above the ceiling


def test_catalog_search_with_no_match_is_an_empty_frame_with_columns(client):
    found = client.catalog_search(column="no_such_column")
    assert found.empty and "classification" in found.columns


def test_catalog_search_rejects_an_unknown_classification(client):
    with pytest.raises(ValueError, match="secret"):
        client.catalog_search(classification="secret")


# -- the world ----------------------------------------------------------------------------------


def test_no_world_in_an_empty_home(client):
    assert not client.world_exists()


def test_tables_without_trained_models_are_not_a_world(client, install_world):
    install_world("calm")
    assert not client.world_exists()


def test_ensure_world_keeps_an_existing_world(client, install_world, hurricane_home):
    install_world("calm")
    for domain in client.catalog.domains:
        for spec in load_model_specs(domain, catalog=client.catalog).values():
            save_model(train_model(spec))
    assert client.world_exists()
    assert client.ensure_world(rows=500).empty
    assert not any((hurricane_home / "dagster").iterdir())  # no Dagster run was started


def test_build_world_rejects_bad_settings_before_writing_anything(client, hurricane_home):
    with pytest.raises(ValueError, match="rows=0"):
        client.build_world(rows=0)
    assert not (hurricane_home / "envs").exists()
    assert not any((hurricane_home / "dagster").iterdir())


def test_build_world_on_a_fresh_home_creates_the_keys_before_the_first_run(client, tmp_path, monkeypatch):
    # `jupyter execute notebooks/request_data.ipynb` on an empty home (docs/notebooks.md) failed in
    # ensure_world: the masked copies' runs found no masking key (MissingMaskingKeyError, LoopFailed)
    from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop
    from hurricane_assets.identity import KeyRegistry
    from hurricane_assets.masking.keys import Keyring

    home = tmp_path / "fresh"
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    keys_at_first_run = []

    def materialize_domains(self, *, drift_days):
        if not keys_at_first_run:
            keys_at_first_run.append({env: Keyring.load(env).key_id for env in ("prod", "preprod", "dev")})
            keys_at_first_run.append({d: KeyRegistry().current(d) is not None for d in client.catalog.domains})

    monkeypatch.setattr(EmbeddedLoop, "materialize_domains", materialize_domains)
    monkeypatch.setattr(EmbeddedLoop, "models", lambda self, **_: None)
    client.build_world(rows=100)
    masking, signing = keys_at_first_run
    assert set(masking) == {"prod", "preprod", "dev"} and all(signing.values()), signing


# -- the monitor and the need -------------------------------------------------------------------


def test_a_drifted_world_fails_the_monitor_and_raises_a_need(client, fraud_trained_on_calm, install_world):
    install_world("drifted")
    result = client.monitor("risk", "fraud_model")
    assert not result.passed and result.auc_drop > result.thresholds.auc_drop
    drift = records(result.drifted_features)
    assert list(drift.columns) == ["feature", "score", "drifted", "chance"] and drift["drifted"].all()
    assert "merchant_category" in set(drift["feature"])

    need = client.data_need("risk", "fraud_model", result)
    assert need.consumer == "risk" and need.monitor_id == result.monitor_id
    assert "channel" in {item.key for item in need.wanted}
    assert "fraud_model" in need.prompt and f"{need.auc_current:.3f}" in need.prompt
    assert need.to_need_spec().need_id == need.need_id


def test_a_passing_monitor_raises_no_need(client, fraud_trained_on_calm):
    with pytest.raises(NeedError, match="risk.fraud_model .* passed"):
        client.data_need("risk", "fraud_model")


def test_monitoring_an_unknown_model_names_it(client):
    with pytest.raises(KeyError, match="risk has no model 'nope'"):
        client.monitor("risk", "nope")


# -- request, contracts, delivery, ledger -------------------------------------------------------


def test_request_data_negotiates_signs_and_delivers_masked_shares(client, share_prod_tables):
    request = client.request_data(FRAUD_NEED)
    assert request.outcome.negotiation.status == "done" and request.contracts
    assert {d.contract_id for d in request.deliveries} == {c.contract_id for c in request.contracts}
    summary = request.table()
    assert (summary["rows_delivered"] > 0).all() and (summary["environment"] == "preprod").all()

    listed = client.contracts(consumer="risk", status="active")
    assert set(listed["contract_id"]) == {c.contract_id for c in request.contracts}
    assert listed["signed_at"].is_monotonic_decreasing
    assert client.contracts(consumer="marketing").empty

    payments = next(c for c in request.contracts if (c.producer, c.dataset) == ("payments", "transactions"))
    masking = client.contract_columns(payments.contract_id).set_index("column")
    assert masking.loc["txn_id", "masking"] == "none"  # the join key crosses as it is
    assert (masking.loc[masking["classification"] == "confidential", "masking"] != "none").all()
    assert "card_number" not in masking.index

    share = client.read_share(payments.contract_id)
    delivered = next(d for d in request.deliveries if d.contract_id == payments.contract_id)
    assert len(share) == delivered.rows and list(share.columns) == list(delivered.columns)

    transcript = client.transcript(request.negotiation_id)
    assert {"CFP", "ACCEPT"} <= set(transcript["performative"])
    assert transcript["policy_allowed"].dropna().astype(bool).any()

    entries = client.ledger(tail=50)
    assert "DELIVERED" in set(entries["entry_type"])
    delivered_payloads = [json.loads(p) for p in entries.loc[entries["entry_type"] == "DELIVERED", "payload_json"]]
    assert payments.contract_id in {p["contract_id"] for p in delivered_payloads}
    verdict = client.verify_ledger()
    assert verdict.ok and verdict.entries >= len(entries)


def test_a_revoked_contract_cannot_be_read(client, share_prod_tables):
    request = client.request_data(FRAUD_NEED)
    contract = request.contracts[0]
    platform = SharingPlatform.from_environment(client.catalog)
    end_share(contract, ContractStatus.revoked, reason="test", by="agent:risk/consumer",
              store=platform.store, ledger=platform.ledger, lineage=platform.lineage)
    with pytest.raises(ShareUnavailable, match=f"contract {contract.contract_id} is revoked, not active"):
        client.read_share(contract.contract_id)
    assert contract.contract_id in set(client.contracts(status=ContractStatus.revoked)["contract_id"])


def test_an_undelivered_contract_cannot_be_read(client, share_prod_tables):
    request = client.request_data(FRAUD_NEED, deliver=False)
    assert request.deliveries == () and request.table()["rows_delivered"].isna().all()
    with pytest.raises(ShareUnavailable, match="not delivered yet"):
        client.read_share(request.contracts[0].contract_id)


def test_unknown_ids_and_bad_arguments_are_named(client):
    with pytest.raises(ContractNotFoundError, match="no-such-contract"):
        client.contract("no-such-contract")
    with pytest.raises(NegotiationNotFound, match="no-such-negotiation"):
        client.transcript("no-such-negotiation")
    with pytest.raises(ValueError, match="tail must be at least 1, got 0"):
        client.ledger(tail=0)
    with pytest.raises(ValueError, match="bogus"):
        client.contracts(status="bogus")


def test_an_empty_ledger_is_an_empty_frame_and_verifies(client):
    assert client.ledger().empty
    assert client.verify_ledger().ok
