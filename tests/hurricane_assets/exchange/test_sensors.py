"""The exchange's sensors against a real instance: each new data need starts exactly one real
negotiation run; a signed share is delivered by a real run; a retrain's uplift is judged."""

from __future__ import annotations


import dagster as dg
import pytest
from deltalake import DeltaTable

from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.dagster_layer.tick import run_sensor_tick
from hurricane_assets.exchange.definitions import build_exchange_definitions
from hurricane_assets.dagster_layer.models import MIN_UPLIFT_KEY, NEED_SPEC_KEY, SHARE_UPLIFT_KEY

from tests.hurricane_assets.sharing.test_negotiate import FRAUD_NEED

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def report_materialization(instance, key: list[str], metadata: dict) -> None:
    """What the consumer's monitor or model run records (their own assets are tested in models/)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def test_one_negotiation_per_need_however_often_the_sensor_runs(instance):
    report_materialization(instance, ["risk", "fraud_model_monitor"], {"hurricane/auc": 0.9})  # passing: no need
    report_materialization(instance, ["risk", "fraud_model_monitor"], {NEED_SPEC_KEY: dg.MetadataValue.json(FRAUD_NEED.model_dump(mode="json"))})
    defs = build_exchange_definitions()
    tick = run_sensor_tick(defs, "data_need_sensor", instance, QUIET)
    assert tick.requested == 1 and tick.success
    assert instance.get_dynamic_partitions("data_needs") == [FRAUD_NEED.need_id]
    contracts = ContractStore().list(status=ContractStatus.active)
    assert {(c.producer, c.dataset) for c in contracts} >= {("payments", "transactions"), ("customers", "profiles")}
    # evaluated again: nothing new
    assert run_sensor_tick(defs, "data_need_sensor", instance, QUIET).requested == 0
    # the same need reported again (a monitor re-run): still no second negotiation
    report_materialization(instance, ["risk", "fraud_model_monitor"], {NEED_SPEC_KEY: dg.MetadataValue.json(FRAUD_NEED.model_dump(mode="json"))})
    again = run_sensor_tick(defs, "data_need_sensor", instance, QUIET)
    assert again.requested == 0 and not again.results
    assert len(ContractStore().list()) == len(contracts)


def test_signed_shares_are_delivered_by_real_runs_once(instance, share_prod_tables):
    report_materialization(instance, ["risk", "fraud_model_monitor"], {NEED_SPEC_KEY: dg.MetadataValue.json(FRAUD_NEED.model_dump(mode="json"))})
    assert run_sensor_tick(build_exchange_definitions(), "data_need_sensor", instance, QUIET).success
    defs = build_exchange_definitions()  # the registry changed: the location reloads
    tick = run_sensor_tick(defs, "share_delivery_sensor", instance, QUIET)
    assert tick.results and tick.success
    for contract in ContractStore().list(status=ContractStatus.active):
        share = DeltaTable(contract.share_uri).to_pyarrow_table()
        assert share.column_names == list(contract.terms.shared_columns())
    assert len(tick.results) == 1 and tick.requested == 1  # every due share in one run
    delivered = {e.event_specific_data.materialization.asset_key for e in tick.results[0].get_asset_materialization_events()}
    assert delivered == {dg.AssetKey(["risk", f"{c.producer}__{c.dataset}"]) for c in ContractStore().list(status=ContractStatus.active)}
    second = run_sensor_tick(defs, "share_delivery_sensor", instance, QUIET)
    assert second.requested == 0 and not second.results


def test_retrain_uplift_is_judged_and_useless_share_revoked(instance, share_prod_tables):
    report_materialization(instance, ["risk", "fraud_model_monitor"], {NEED_SPEC_KEY: dg.MetadataValue.json(FRAUD_NEED.model_dump(mode="json"))})
    run_sensor_tick(build_exchange_definitions(), "data_need_sensor", instance, QUIET)
    run_sensor_tick(build_exchange_definitions(), "share_delivery_sensor", instance, QUIET)
    by_dataset = {c.dataset: c for c in ContractStore().list(status=ContractStatus.active)}
    uplift = {by_dataset["transactions"].contract_id: 0.09, by_dataset["profiles"].contract_id: 0.001}
    report_materialization(instance, ["risk", "fraud_model"], {
        SHARE_UPLIFT_KEY: dg.MetadataValue.json(uplift), MIN_UPLIFT_KEY: 0.015})
    tick = run_sensor_tick(build_exchange_definitions(), "share_judge_sensor", instance, QUIET)
    assert tick.requested == 1 and tick.success
    store = ContractStore()
    assert store.get(by_dataset["transactions"].contract_id).status is ContractStatus.active
    assert store.get(by_dataset["profiles"].contract_id).status is ContractStatus.revoked
    assert not DeltaTable.is_deltatable(by_dataset["profiles"].share_uri)
    assert run_sensor_tick(build_exchange_definitions(), "share_judge_sensor", instance, QUIET).requested == 0
