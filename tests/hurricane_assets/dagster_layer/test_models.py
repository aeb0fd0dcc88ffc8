"""The model and monitor assets in a real Dagster instance: checks pass, then fail after the drift."""

from __future__ import annotations

import shutil

import dagster as dg
from deltalake import DeltaTable

from hurricane_assets.dagster_layer.models import (
    DATA_NEED_KEY,
    NEED_SPEC_KEY,
    NO_DATA_NEED_KEY,
    NO_DRIFT_CHECK,
    PERFORMANCE_CHECK,
    SHARE_UPLIFT_KEY,
    STALE_MODEL_KEY,
    build_model_definitions,
)
from negotiation_graph.terms import NeedSpec

MODEL, MONITOR = dg.AssetKey(["risk", "fraud_model"]), dg.AssetKey(["risk", "fraud_model_monitor"])
UPLIFT = dg.AssetKey(["risk", "fraud_model_share_uplift"])


def checks_of(result) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def metadata_of(result, key: dg.AssetKey) -> dict:
    return next(e for e in result.get_asset_materialization_events() if e.asset_key == key).materialization.metadata


def test_model_and_monitor_materialize_and_the_checks_fail_after_the_drift(install_world):
    assets, sensors = build_model_definitions("risk")
    install_world("calm")
    with dg.instance_for_test() as instance:
        calm = dg.materialize(assets, instance=instance)
        assert calm.success
        model = metadata_of(calm, MODEL)
        assert isinstance(model["hurricane/auc"].value, float) and model["hurricane/auc"].value > 0.8
        assert model["hurricane/features"].data == ["amount", "merchant_category", "hour_of_day", "rule_score"]
        assert model["hurricane/shares"].data == []
        checks = checks_of(calm)
        assert checks[NO_DRIFT_CHECK].passed and checks[PERFORMANCE_CHECK].passed
        monitor = metadata_of(calm, MONITOR)
        assert DATA_NEED_KEY not in monitor and NEED_SPEC_KEY not in monitor
        assert monitor["hurricane/report"].value.endswith(".html")

        install_world("drifted")
        drifted = dg.materialize(assets, instance=instance, selection=[MONITOR])
        assert drifted.success  # non-blocking checks: the run succeeds, the checks do not
        assert [e.asset_key for e in drifted.get_asset_materialization_events()] == [MONITOR]
        checks = checks_of(drifted)
        assert not checks[NO_DRIFT_CHECK].passed and not checks[PERFORMANCE_CHECK].passed
        assert checks[NO_DRIFT_CHECK].severity is dg.AssetCheckSeverity.ERROR
        assert {"merchant_category", "amount"} <= set(checks[NO_DRIFT_CHECK].metadata["hurricane/drifted_features"].data)
        monitor = metadata_of(drifted, MONITOR)
        assert monitor["hurricane/auc_drop"].value > 0.05
        need = NeedSpec.model_validate(monitor[NEED_SPEC_KEY].data)
        assert need.consumer == "risk" and need.model == "fraud_model" and {"channel", "device"} <= set(need.wanted)
        assert monitor[DATA_NEED_KEY].data["need_id"] == need.need_id
        assert checks[PERFORMANCE_CHECK].metadata[DATA_NEED_KEY].data["need_id"] == need.need_id
        # what the exchange's sensor reads: the latest materialization of the monitor
        record = instance.fetch_materializations(MONITOR, limit=1).records[0]
        assert record.asset_materialization.metadata[NEED_SPEC_KEY].data["need_id"] == need.need_id


def test_with_shares_the_model_fits_once_and_its_uplift_asset_reports_each_share(install_world, deliver_share, monkeypatch):
    install_world("drifted")
    payments_share, support_share = deliver_share("payments", "transactions"), deliver_share("support", "tickets")
    assets, _ = build_model_definitions("risk", lambda domain, purpose: [payments_share, support_share])
    model_asset = next(a for a in assets if MODEL in a.keys)
    assert dg.AssetKey(["risk", "payments__transactions"]) in model_asset.asset_deps[MODEL]
    assert dg.AssetKey(["risk", "alerts_preprod"]) in model_asset.asset_deps[MODEL]
    uplift_asset = next(a for a in assets if UPLIFT in a.keys)
    assert uplift_asset.asset_deps[UPLIFT] == {MODEL}  # downstream of the model, in its own run
    from hurricane_assets.models import training

    fits = []
    real_fit = training.fit
    monkeypatch.setattr(training, "fit", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    with dg.instance_for_test() as instance:
        served = dg.materialize(assets, instance=instance, selection=[MODEL])
        assert len(fits) == 1  # the critical path: one fit on own data plus every share, then it serves
        model = metadata_of(served, MODEL)
        assert model["hurricane/shares"].data == [payments_share.contract_id, support_share.contract_id]
        assert SHARE_UPLIFT_KEY not in model
        measured = dg.materialize(assets, instance=instance, selection=[UPLIFT])
        metadata = metadata_of(measured, UPLIFT)
    uplift = metadata[SHARE_UPLIFT_KEY].data
    assert uplift[payments_share.contract_id] >= 0.015 > uplift[support_share.contract_id]
    assert metadata["hurricane/min_uplift"].value == 0.015
    assert metadata["hurricane/model"].value == "fraud_model"
    assert metadata["hurricane/shares"].data == [payments_share.contract_id, support_share.contract_id]
    assert metadata["hurricane/uplift"].value > 0.05
    assert metadata["hurricane/auc"].value == model["hurricane/auc"].value  # the same fit as the served model


def test_a_degraded_model_with_nothing_left_to_ask_for_fails_its_checks_and_raises_no_need(install_world,
                                                                                            deliver_share):
    """Trained with every share there is, then the drift arrives: the monitor's checks fail, and the
    monitor says why it asks for nothing (the step crashed instead: no data need could be built)."""
    install_world("calm")
    shares = [deliver_share(*producer) for producer in
              (("payments", "transactions"), ("customers", "profiles"), ("support", "tickets"))]
    assets, _ = build_model_definitions("risk", lambda domain, purpose: shares)
    with dg.instance_for_test() as instance:
        assert dg.materialize(assets, instance=instance, selection=[MODEL, MONITOR]).success
        install_world("drifted")
        result = dg.materialize(assets, instance=instance, selection=[MONITOR])
    assert result.success
    checks = checks_of(result)
    assert not checks[PERFORMANCE_CHECK].passed
    monitor = metadata_of(result, MONITOR)
    assert DATA_NEED_KEY not in monitor and NEED_SPEC_KEY not in monitor  # nothing for the exchange to negotiate
    assert "no other domain offers feature columns" in monitor[NO_DATA_NEED_KEY].value
    assert checks[PERFORMANCE_CHECK].metadata[NO_DATA_NEED_KEY].value == monitor[NO_DATA_NEED_KEY].value


def test_a_delivered_share_retrains_the_model_and_the_sensor_runs(install_world, deliver_share):
    install_world("calm")
    payments_share = deliver_share("payments", "transactions")
    assets, sensors = build_model_definitions("risk", lambda domain, purpose: [payments_share])
    share = dg.AssetKey(["risk", "payments__transactions"])
    own = [dg.AssetKey(["risk", "alerts_preprod"]), dg.AssetKey(["risk", "fraud_labels_preprod"])]
    defs = dg.Definitions(assets=[*assets, dg.AssetSpec(share), *(dg.AssetSpec(k) for k in own)], sensors=sensors)
    sensor, _erasure_retrain = sensors
    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        for key in (*own, MODEL, MONITOR):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        instance.report_runless_asset_event(delivery(share, "content-1"))
        settled = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for key in own:  # the domain's own data refreshes: the monitor reruns, the model does not
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        refreshed = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
        instance.report_runless_asset_event(delivery(share, "content-1"))  # delivered again, nothing changed
        unchanged = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=refreshed.cursor)
        instance.report_runless_asset_event(delivery(share, "content-2"))  # a delivery with new content
        delivered = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=unchanged.cursor)

    assert requested(settled) == set()
    assert requested(refreshed) == {MONITOR}
    assert MODEL not in requested(unchanged)  # it retrained, measured and judged again for nothing
    assert MODEL in requested(delivered)  # the monitor follows once the new model is materialized


def delivery(key: dg.AssetKey, content: str) -> dg.AssetMaterialization:
    """What the exchange's share asset records: its data version is the delivered content's hash."""
    return dg.AssetMaterialization(key, tags={"dagster/data_version": content})


def requested(result) -> set[dg.AssetKey]:
    return {r.key for r in result.results if r.true_subset.size}


def test_a_share_that_ended_retrains_the_model_and_its_monitor_waits_without_crashing(install_world, deliver_share):
    """Revoked or expired, a share leaves the location's snapshot and its copy is erased: nothing is
    delivered, so the model retrained on nothing, and its monitor crashed reading the erased copy."""
    install_world("calm")
    payments_share = deliver_share("payments", "transactions")
    with_share, _ = build_model_definitions("risk", lambda domain, purpose: [payments_share])
    without, sensors = build_model_definitions("risk", lambda domain, purpose: [])
    own = [dg.AssetKey(["risk", "alerts_preprod"]), dg.AssetKey(["risk", "fraud_labels_preprod"])]
    share = dg.AssetKey(["risk", "payments__transactions"])
    with dg.instance_for_test() as instance:
        assert dg.materialize(with_share, instance=instance, selection=[MODEL]).success
        for key in (*own, MODEL, MONITOR):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        instance.report_runless_asset_event(delivery(share, "content-1"))
        before = dg.Definitions(assets=[*with_share, dg.AssetSpec(share), *(dg.AssetSpec(k) for k in own)],
                                sensors=sensors)
        settled = dg.evaluate_automation_conditions(defs=before, instance=instance)
        DeltaTable(payments_share.uri).delete()  # the revocation erases the consumer's copy
        shutil.rmtree(payments_share.uri)
        after = dg.Definitions(assets=[*without, *(dg.AssetSpec(k) for k in own)], sensors=sensors)
        reloaded = dg.evaluate_automation_conditions(defs=after, instance=instance, cursor=settled.cursor)
        monitored = dg.materialize(without, instance=instance, selection=[MONITOR])
    assert MODEL not in requested(settled)
    assert MODEL in requested(reloaded)  # the location reloaded without the share: retrain without it
    assert monitored.success
    checks = checks_of(monitored)
    assert not checks[PERFORMANCE_CHECK].passed and checks[PERFORMANCE_CHECK].severity is dg.AssetCheckSeverity.WARN
    reason = metadata_of(monitored, MONITOR)[STALE_MODEL_KEY].value
    assert payments_share.contract_id in reason and "no longer active" in reason
    assert DATA_NEED_KEY not in metadata_of(monitored, MONITOR)  # nothing to negotiate: it retrains


def test_a_deploy_that_changes_the_store_format_retrains_every_model_once(install_world, monkeypatch):
    """Versions stored before manifest.json are refused at load: after such a deploy the daemon retrained
    nothing (no share changed), and the monitor failed on the old version until a share was delivered."""
    from hurricane_assets.dagster_layer import models

    install_world("calm")
    own = [dg.AssetKey(["risk", "alerts_preprod"]), dg.AssetKey(["risk", "fraud_labels_preprod"])]

    def definitions():
        assets, sensors = build_model_definitions("risk", lambda domain, purpose: [])
        return dg.Definitions(assets=[*assets, *(dg.AssetSpec(k) for k in own)], sensors=sensors)

    with dg.instance_for_test() as instance:
        for key in (*own, MODEL, MONITOR):
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        monkeypatch.setattr(models, "STORE_FORMAT", "store-1")
        deployed = dg.evaluate_automation_conditions(defs=definitions(), instance=instance)
        monkeypatch.undo()
        upgraded = dg.evaluate_automation_conditions(defs=definitions(), instance=instance, cursor=deployed.cursor)
        again = dg.evaluate_automation_conditions(defs=definitions(), instance=instance, cursor=upgraded.cursor)
    assert MODEL not in requested(deployed)
    assert MODEL in requested(upgraded)
    assert MODEL not in requested(again)


def test_a_retrain_without_an_ended_share_drops_its_features_from_older_versions(install_world, deliver_share):
    """The training-window rows derived from a revoked share stayed in every older version's reference
    frame (8 support ticket features in the demo's v0002 after support was revoked)."""
    from hurricane_assets.models.store import load_model

    install_world("calm")
    payments_share = deliver_share("payments", "transactions")
    with_share, _ = build_model_definitions("risk", lambda domain, purpose: [payments_share])
    without, _ = build_model_definitions("risk", lambda domain, purpose: [])
    with dg.instance_for_test() as instance:
        assert dg.materialize(with_share, instance=instance, selection=[MODEL]).success
        first = load_model("risk", "fraud_model")
        shared = [c for c in first.reference().columns if c.startswith("payments__transactions__")]
        assert shared
        retrained = dg.materialize(without, instance=instance, selection=[MODEL])
    assert metadata_of(retrained, MODEL)["hurricane/forgotten_share_features"].data == {first.version: shared}
    older = load_model("risk", "fraud_model", first.version).reference()
    assert not [c for c in older.columns if c.startswith("payments__transactions__")]
    assert "amount" in older.columns  # the model's own features stay


def test_a_domain_without_models_gets_nothing():
    assert build_model_definitions("payments") == ([], [])


def test_a_model_reads_only_the_shares_agreed_for_its_purpose(share_parts, share_prod_tables):
    """A share the domain requested for customer analytics trained the fraud model (and was then
    judged, and revoked, by it): every active share of the domain went to every model."""
    from hurricane_assets.dagster_layer.models import active_shares
    from negotiation_graph.terms import MaskingMethod, RowFilter
    from tests.hurricane_assets.share_terms import fraud_terms
    from tests.security.contract_fixtures import signed

    fraud = signed(share_parts, fraud_terms())
    analytics = signed(share_parts, fraud_terms(
        producer="support", dataset="tickets", purpose="customer_analytics", row_filter=RowFilter(since_days=90),
        columns={"customer_id": MaskingMethod.tokenize, "category": MaskingMethod.none}))
    assert [s.contract_id for s in active_shares("risk", "fraud_detection")] == [fraud.contract_id]
    assert [s.contract_id for s in active_shares("risk", "customer_analytics")] == [analytics.contract_id]
    assets, _ = build_model_definitions("risk", active_shares)
    model = next(a for a in assets if MODEL in a.keys)
    assert model.metadata_by_key[MODEL]["hurricane/shares"].data == [fraud.contract_id]


def test_the_monitor_of_a_model_trained_in_prod_applies_the_erasure_register(install_world):
    """No masked copy reaches the store of a model trained in prod: its monitor removes the erased
    person's reference rows before reading them and marks the version that learnt from them."""
    from datetime import datetime, timezone

    from hurricane_assets.dagster_layer.models import build_model_asset, build_monitor_asset, own_data_keys
    from hurricane_assets.ledger import Ledger
    from hurricane_assets.masking.erasure import request_erasure
    from hurricane_assets.masking.keys import Keyring
    from hurricane_assets.models.spec import load_model_spec
    from hurricane_assets.models.store import load_model, pending_retrain
    from hurricane_assets.models.subjects import digests, subject_column
    from hurricane_assets.models.training import load_training_data

    install_world("calm")
    declared = load_model_spec("marketing", "churn_model")
    spec = declared.model_copy(update={"training": declared.training.model_copy(update={"environment": "prod"})})
    model, monitor = build_model_asset(spec, []), build_monitor_asset(spec)
    assets = [model, monitor, *(dg.AssetSpec(k) for k in own_data_keys(spec))]
    with dg.instance_for_test() as instance:
        assert dg.materialize(assets, instance=instance, selection=[model.key]).success
        data = load_training_data(spec)
        fit, holdout = data.window()
        subject = str(data.rows.loc[fit[0], "customer_id"])  # a raw prod id: the model trained in prod
        digest = digests([subject], Keyring.load("prod"), "customer")[0]
        assert digest in set(load_model("marketing", "churn_model").reference()[subject_column("customer_id")])
        request_erasure("customer", subject, reason="GDPR art. 17", ledger=Ledger(),
                        now=datetime(2026, 3, 1, tzinfo=timezone.utc))
        assert pending_retrain("marketing", "churn_model") is None
        assert dg.materialize(assets, instance=instance, selection=[monitor.key]).success
    assert digest not in set(load_model("marketing", "churn_model").reference()[subject_column("customer_id")])
    assert pending_retrain("marketing", "churn_model") == {
        "version": "v0001", "reason": "1 erased person(s) in its training window", "key": "v0001"}
