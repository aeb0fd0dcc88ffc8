"""The exchange's sensors against a real instance: each new data need starts exactly one real
negotiation run; a signed share is delivered by a real run; a retrain's uplift is judged."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from hurricane_assets.catalog import load_catalog
from hurricane_assets.clock import utc_now
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.dagster_layer.models import MIN_UPLIFT_KEY, NEED_SPEC_KEY, SHARE_UPLIFT_KEY
from hurricane_assets.dagster_layer.tick import run_sensor_tick
from hurricane_assets.exchange.definitions import build_exchange_definitions
from hurricane_assets.ledger import Ledger
from hurricane_assets.masking.columns import mask_column
from hurricane_assets.masking.erasure import request_erasure
from hurricane_assets.masking.keys import Keyring
from hurricane_assets.masking.plans import plan_from_contract
from hurricane_assets.settings import hurricane_paths
from tests.hurricane_assets.sharing.test_negotiate import FRAUD_NEED

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def report_materialization(instance, key: list[str], metadata: dict) -> None:
    """What the consumer's monitor or model run records (their own assets are tested in models/)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))


def requests_on_a_fresh_cursor(defs: dg.Definitions, sensor_name: str, instance) -> list[dg.RunRequest]:
    """What another evaluator with its own cursor (the daemon after the embedded loop) would request."""
    sensor = next(s for s in defs.sensors if s.name == sensor_name)
    outcome = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    return [] if isinstance(outcome, dg.SkipReason) else list(outcome.run_requests or [])


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


def test_signed_shares_are_delivered_by_real_runs_once_and_again_after_an_erasure(instance, share_prod_tables):
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
    # idempotent on content: without this evaluator's cursor, the delivered state is found in the instance
    assert requests_on_a_fresh_cursor(defs, "share_delivery_sensor", instance) == []

    # a new erasure request alone (no producer changed) makes every share due once
    shares = {c.dataset: c for c in ContractStore().list(status=ContractStatus.active)}
    prod = DeltaTable(hurricane_paths().table_uri("prod", "payments", "transactions")).to_pyarrow_table()
    terms = shares["transactions"].terms
    # a customer's transactions in the share (those inside its retention), as its masking tokenizes their ids
    retained = pc.greater_equal(prod["event_ts"], pa.scalar(utc_now() - timedelta(days=terms.retention_days)))
    customer = prod.filter(retained)["customer_id"][0].as_py()
    txns = prod.filter(pc.and_(pc.equal(prod["customer_id"], customer), retained))["txn_id"]
    plan = plan_from_contract(load_catalog().dataset("payments", "transactions"), "preprod", dict(terms.columns),
                              name="payments.transactions")
    tokens = set(mask_column(txns.combine_chunks(), plan.rules["txn_id"], Keyring.load("preprod").key,
                             pa.table({"txn_id": txns})).to_pylist())

    def shared_tokens() -> set:
        return set(DeltaTable(shares["transactions"].share_uri).to_pyarrow_table()["txn_id"].to_pylist())

    assert tokens and tokens <= shared_tokens()
    request_erasure("customer", customer, reason="art. 17", ledger=Ledger(), now=datetime(2026, 3, 1, tzinfo=timezone.utc))
    tick = run_sensor_tick(defs, "share_delivery_sensor", instance, QUIET)
    assert tick.requested == 1 and tick.success
    assert {e.event_specific_data.materialization.asset_key for e in tick.results[0].get_asset_materialization_events()} == delivered
    assert not tokens & shared_tokens()
    assert run_sensor_tick(defs, "share_delivery_sensor", instance, QUIET).requested == 0


def test_retrain_uplift_is_judged_and_useless_share_revoked(instance, share_prod_tables):
    report_materialization(instance, ["risk", "fraud_model_monitor"], {NEED_SPEC_KEY: dg.MetadataValue.json(FRAUD_NEED.model_dump(mode="json"))})
    run_sensor_tick(build_exchange_definitions(), "data_need_sensor", instance, QUIET)
    run_sensor_tick(build_exchange_definitions(), "share_delivery_sensor", instance, QUIET)
    by_dataset = {c.dataset: c for c in ContractStore().list(status=ContractStatus.active)}
    uplift = {by_dataset["transactions"].contract_id: 0.09, by_dataset["profiles"].contract_id: 0.001}
    report_materialization(instance, ["risk", "fraud_model_share_uplift"], {
        SHARE_UPLIFT_KEY: dg.MetadataValue.json(uplift), MIN_UPLIFT_KEY: 0.015, "hurricane/model": "fraud_model"})
    tick = run_sensor_tick(build_exchange_definitions(), "share_judge_sensor", instance, QUIET)
    assert tick.requested == 1 and tick.success
    store = ContractStore()
    assert store.get(by_dataset["transactions"].contract_id).status is ContractStatus.active
    assert store.get(by_dataset["profiles"].contract_id).status is ContractStatus.revoked
    assert not DeltaTable.is_deltatable(by_dataset["profiles"].share_uri)
    assert run_sensor_tick(build_exchange_definitions(), "share_judge_sensor", instance, QUIET).requested == 0
    assert requests_on_a_fresh_cursor(build_exchange_definitions(), "share_judge_sensor", instance) == []



def test_every_hop_of_the_loop_is_evaluated_within_seconds_under_the_daemon():
    """Time to data with the daemon is one evaluation wait per hop (need, delivery, verdict, retrain):
    Dagster's default 30 s per sensor made it 105 s at 100k rows; 5 s and 10 s make it 58 s."""
    from hurricane_assets.dagster_layer.models import build_model_definitions

    exchange = build_exchange_definitions()
    assert {s.name: s.minimum_interval_seconds for s in exchange.sensors} == {
        "data_need_sensor": 5, "share_delivery_sensor": 5, "share_judge_sensor": 5}
    _, [automation, erasure_retrain] = build_model_definitions("risk")
    assert automation.minimum_interval_seconds == 10
    assert erasure_retrain.minimum_interval_seconds == 60  # a retrain for an erasure is not on time to data


def test_a_file_that_is_no_contract_does_not_stop_the_deliveries(instance, share_catalog, share_prod_tables):
    from hurricane_assets.sharing.contracting import sign_agreements
    from hurricane_assets.sharing.platform import SharingPlatform
    from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

    platform = SharingPlatform.from_environment(share_catalog)
    (contract,) = sign_agreements([agreement_for(fraud_terms(), platform.gate)], **platform.signing).contracts
    (ContractStore().folder / "notes.json").write_text("{}")
    (request,) = requests_on_a_fresh_cursor(build_exchange_definitions(), "share_delivery_sensor", instance)
    assert request.asset_selection == [dg.AssetKey(["risk", f"{contract.producer}__{contract.dataset}"])]
