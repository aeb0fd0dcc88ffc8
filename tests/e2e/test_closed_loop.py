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
from hurricane_assets.policy import CedarPolicyGate
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import read_table

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    home = tmp_path_factory.mktemp("closed-loop")
    mp = pytest.MonkeyPatch()
    mp.setenv("HURRICANE_HOME", str(home))
    mp.delenv("HURRICANE_STORAGE_ROOT", raising=False)
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


def test_retraining_with_the_shares_recovers_at_least_half_of_what_the_drift_cost(story):
    monitor = phase(story, "models", 1).details["assets"]["risk/fraud_model_monitor"]
    before, after_drift = monitor["hurricane/auc_baseline"], monitor["hurricane/auc_current"]
    retrained = phase(story, "models", 2).details["assets"]["risk/fraud_model"]
    assert before - after_drift > 0.05
    assert retrained["hurricane/auc"] - after_drift >= 0.5 * (before - after_drift)
    assert retrained["hurricane/auc"] > retrained["hurricane/auc_without_shares"]


def test_the_useless_share_is_revoked_and_its_files_are_gone(story):
    verdicts = phase(story, "judge").details["verdicts"]
    revoked = [v for v in verdicts if v.get("keep") is False]
    assert len(revoked) >= 1
    store = ContractStore()
    for verdict in revoked:
        contract = store.get(verdict["contract_id"])
        assert contract.status is ContractStatus.revoked
        assert not DeltaTable.is_deltatable(contract.share_uri)
        assert not Path(contract.share_uri).exists()
    kept = [v for v in verdicts if v.get("keep") is True]
    assert {store.get(v["contract_id"]).dataset for v in kept} >= {"transactions"}
    # the model retrained afterwards no longer depends on the revoked share
    final = phase(story, "models", 3).details["assets"]["risk/fraud_model"]
    assert not {v["contract_id"] for v in revoked} & set(final["hurricane/shares"])


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
