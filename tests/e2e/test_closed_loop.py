"""The product, end to end: a drifting model gets the data it needs, retrains, and keeps the share
only if it helped — real Dagster runs on a persistent instance, the real sensors, no human step."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable

from hurricane_assets.catalog import load_catalog
from hurricane_assets.catalog.schema import arrow_type, schema_diff
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopSettings
from hurricane_assets.dagster_layer.workspace import hurricane_instance
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table
from tests.trust_keys import install_keys

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    home = tmp_path_factory.mktemp("closed-loop")
    mp = pytest.MonkeyPatch()
    mp.setenv("HURRICANE_HOME", str(home))
    mp.delenv("HURRICANE_STORAGE_ROOT", raising=False)
    install_keys(home)  # `hurricane keys init`
    loop = EmbeddedLoop(hurricane_instance(), LoopSettings(rows=20_000, seed=7, drift_days=30))
    loop.run()
    yield loop
    mp.undo()


@pytest.fixture(autouse=True)
def hurricane_home(story, monkeypatch):
    """Every test reads the story's home (overrides the per-test temp home)."""
    monkeypatch.setenv("HURRICANE_HOME", str(story.instance.root_directory).removesuffix("/dagster"))
    return hurricane_paths().home


def phase(story, name: str, nth: int = 0):
    return [e for e in story.events if e.phase == name][nth]


def test_the_monitor_check_failed_after_the_drift_and_not_before(story):
    before = phase(story, "models", 0).details["checks"]
    after_drift = phase(story, "models", 1).details["checks"]
    assert all(passed for key, _, passed, _ in before if key == "risk/fraud_model_monitor")
    assert ("risk/fraud_model_monitor", "performance_within_bounds", False) in [(k, c, p) for k, c, p, _ in after_drift]


def test_one_negotiation_per_need_even_when_the_sensor_runs_again(story):
    negotiation = phase(story, "negotiation")
    assert len(negotiation.details["runs"]) == 1
    assert story.negotiate().results == []  # the sensor evaluated again: nothing new
    assert story.instance.get_dynamic_partitions("data_needs") and len(story.instance.get_dynamic_partitions("data_needs")) == 1


def test_contracts_hold_only_what_policy_allows(story):
    gate = CedarPolicyGate()
    contracts = ContractStore().list()
    assert {(c.producer, c.dataset) for c in contracts} >= {("payments", "transactions"), ("customers", "profiles")}
    for contract in contracts:
        decision = gate.evaluate(contract.terms)
        assert decision.allowed, (contract.producer, contract.dataset, decision)
        shared = contract.terms.shared_columns()
        assert not {"card_number", "national_id", "full_name", "iban"} & set(shared)


def test_delivered_tables_have_exactly_the_contracted_schema_and_no_raw_pii(story):
    catalog = load_catalog()
    for contract in ContractStore().list(status=ContractStatus.active):
        share = DeltaTable(contract.share_uri).to_pyarrow_table()
        spec = catalog.dataset(contract.producer, contract.dataset)
        contracted = [c for c in spec.columns if c in contract.terms.shared_columns()]
        assert share.column_names == contracted  # exactly the contracted columns, in manifest order
        expected = pa.schema([pa.field(c, arrow_type(spec.columns[c].type)) for c in contracted])
        assert schema_diff(expected, share.schema).ok, schema_diff(expected, share.schema).describe()
        prod = read_table(hurricane_paths().table_uri("prod", contract.producer, contract.dataset))
        for column in share.column_names:
            if spec.columns[column].pii is not None:
                raw = set(pc.unique(prod[column]).to_pylist()) - {None}
                assert not raw & set(pc.unique(share[column]).to_pylist()), f"raw {column} in {contract.share_uri}"


# What the shares must add on top of retraining on the model's own drifted data, on the same holdout.
# Measured at 20k rows: ~0.09 (0.82 own data only → 0.91 with shares); 0.03 is above the ±0.015 holdout
# noise the risk spec's min_uplift allows for, and far below what the right shares bring.
SHARE_GAIN_MARGIN = 0.03


def test_retraining_with_the_shares_recovers_at_least_half_of_what_the_drift_cost(story):
    monitor = phase(story, "models", 1).details["assets"]["risk/fraud_model_monitor"]
    before, after_drift = monitor["hurricane/auc_baseline"], monitor["hurricane/auc_current"]
    retrained = phase(story, "models", 2).details["assets"]["risk/fraud_model"]
    assert before - after_drift > 0.05
    assert retrained["hurricane/auc"] - after_drift >= 0.5 * (before - after_drift)
    assert retrained["hurricane/shares"], "the model retrained without any share"
    # the gain from the shares themselves, not from retraining on fresh own data: measured by the
    # ablation in its own run after the model served, on the same fit
    ablation = phase(story, "uplift").details["assets"]["risk/fraud_model_share_uplift"]
    assert ablation["hurricane/auc"] == retrained["hurricane/auc"]
    assert ablation["hurricane/shares"] == retrained["hurricane/shares"]
    assert ablation["hurricane/auc"] - ablation["hurricane/auc_without_shares"] >= SHARE_GAIN_MARGIN


def _fraud_verdicts(story) -> dict[str, dict]:
    """contract id → the fraud model's CONTRACT_TESTED verdict, as the ledger recorded it."""
    return {v["contract_id"]: v for v in phase(story, "judge").details["verdicts"]
            if v.get("model") == "fraud_model" and "keep" in v}


def test_exactly_the_shares_below_min_uplift_are_revoked_and_their_files_are_gone(story):
    min_uplift = load_model_spec("risk", "fraud_model").thresholds.min_uplift
    verdicts = _fraud_verdicts(story)
    assert len(verdicts) >= 2
    store = ContractStore()
    below = {cid for cid, v in verdicts.items() if v["uplift"] < min_uplift}
    revoked = {cid for cid in verdicts if store.get(cid).status is ContractStatus.revoked}
    assert below and revoked == below  # which share: by contract id, from its measured uplift
    for cid, verdict in verdicts.items():
        assert verdict["keep"] is (cid not in below)
        if cid in below:
            contract = store.get(cid)
            assert not DeltaTable.is_deltatable(contract.share_uri)
            assert not Path(contract.share_uri).exists()
        else:
            assert verdict["uplift"] >= min_uplift
            assert store.get(cid).status is ContractStatus.active
    kept_datasets = {store.get(cid).dataset for cid in set(verdicts) - below}
    assert "transactions" in kept_datasets
    # the model retrained afterwards no longer depends on the revoked share
    final = phase(story, "models", 3).details["assets"]["risk/fraud_model"]
    assert not revoked & set(final["hurricane/shares"])


def test_redelivery_rewrites_nothing_when_nothing_changed(story):
    versions = {c.contract_id: DeltaTable(c.share_uri).version() for c in ContractStore().list(status=ContractStatus.active)}
    ledger_size = len(Ledger())
    tick = story.deliver()
    assert tick.results == [] and tick.requested == 0  # same producer versions: nothing is due
    exchange = story.exchange()
    job = exchange.resolve_job_def("deliver_shares")
    result = job.execute_in_process(instance=story.instance, raise_on_error=True)
    assert all(not m.event_specific_data.materialization.metadata["hurricane/changed"].value
               for m in result.get_asset_materialization_events())
    assert {c.contract_id: DeltaTable(c.share_uri).version() for c in ContractStore().list(status=ContractStatus.active)} == versions
    assert len(Ledger()) == ledger_size


def test_the_ledger_verifies(story):
    result = verify_ledger()
    assert result.ok, result.problem
    types = {e["entry_type"] for e in Ledger().read(columns=["entry_type"]).to_pylist()}
    assert {"CONTRACT_SIGNED", "DELIVERED", "CONTRACT_TESTED", "REVOKED", "AGREEMENT"} <= types


def test_below_prod_only_current_versions_shares_join_and_report_masking_utility(story):
    from hurricane_assets.dagster_layer.models import MASKING_UTILITY_KEY
    from tests.hurricane_assets.masking.test_history import assert_only_current_version

    tables = [p.parent for env in ("preprod", "dev") for p in Path(hurricane_paths().env_root(env)).glob("*/*/_delta_log")]
    assert len(tables) > 10
    for table in tables:
        assert_only_current_version(str(table))
    delivered = {k: m for run in phase(story, "delivery").details["runs"] for k, m in run.items()}
    assert delivered and all(m["hurricane/join_match_rate"] > 0 for m in delivered.values())
    retrained = phase(story, "uplift").details["assets"]["risk/fraud_model_share_uplift"]
    utility = retrained[MASKING_UTILITY_KEY]
    assert set(utility) == set(retrained["hurricane/shares"])
    for figure in utility.values():
        assert figure["ratio"] == pytest.approx(figure["auc_masked"] / figure["auc_unmasked"])
    print({c: round(u["ratio"], 4) for c, u in utility.items()})


def test_a_daemon_starting_after_the_loop_requests_nothing(story):
    """`make ui` after `make demo`: the daemon evaluates every sensor on its own (empty) cursors; with
    nothing changed it must not deliver, retrain or judge again."""
    import dagster as dg

    from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations
    from tests.hurricane_assets.exchange.test_sensors import requests_on_a_fresh_cursor

    exchange = story.exchange()
    for sensor in ("data_need_sensor", "share_delivery_sensor", "share_judge_sensor"):
        assert requests_on_a_fresh_cursor(exchange, sensor, story.instance) == [], sensor
    erasure_sensors = []
    for name, module in workspace_locations().items():
        defs = load_location(module, reload=True)
        # the domains' automation sensors, evaluated for the first time against this instance
        result = dg.evaluate_automation_conditions(defs=defs, instance=story.instance)
        assert result.total_requested == 0, (name, [r.key for r in result.results if r.true_subset.size])
        for sensor in (s for s in defs.sensors or [] if s.name.endswith("_models_erasure_retrain")):
            context = dg.build_sensor_context(instance=story.instance, repository_def=defs.get_repository_def())
            assert not sensor.evaluate_tick(context).run_requests, sensor.name
            erasure_sensors.append(sensor.name)
    assert sorted(erasure_sensors) == ["marketing_models_erasure_retrain", "risk_models_erasure_retrain"]
