"""The monitor on real tables: quiet on the world the model knows, loud once the drift arrives."""

from __future__ import annotations

from pathlib import Path

import pytest

from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import ModelNotFound, save_model
from hurricane_assets.models.training import train_model
from hurricane_assets.monitoring.monitor import run_monitor


@pytest.fixture
def fraud(install_world):
    spec = load_model_spec("risk", "fraud_model")
    install_world("calm")
    save_model(train_model(spec))
    return spec


def test_no_drift_passes_both_checks(fraud, hurricane_home):
    result = run_monitor(fraud)
    assert result.drift_passed and result.performance_passed and result.passed
    assert result.drifted_features == () and result.drift_share == 0.0
    assert abs(result.auc_drop) <= fraud.thresholds.auc_drop
    assert result.rows > 1000 and result.reference_rows > result.rows
    assert {f.feature for f in result.features} == {"amount", "merchant_category", "hour_of_day", "rule_score"}
    report = Path(result.report_path)
    assert report.is_file() and report.is_relative_to(hurricane_home / "reports" / "monitors" / "risk" / "fraud_model")
    assert run_monitor(fraud).monitor_id == result.monitor_id  # same model, same data: same run identity


def test_the_drift_fails_both_checks_and_names_the_drifted_features(fraud, install_world):
    install_world("drifted")
    result = run_monitor(fraud)
    assert not result.drift_passed and not result.performance_passed and not result.passed
    drifted = [f.feature for f in result.drifted_features]
    assert {"merchant_category", "amount"} <= set(drifted)
    assert "hour_of_day" not in drifted
    # the new p2p channel moves these two most (below prod, amount is a quantile bucket per person-level
    # k-anonymity, so which of the two scores higher depends on the buckets, not on the drift)
    assert set(drifted[:2]) == {"merchant_category", "amount"}
    assert result.drift_share >= fraud.thresholds.drift_share
    assert result.auc_drop > fraud.thresholds.auc_drop
    assert result.auc_current == pytest.approx(result.auc_baseline - result.auc_drop)
    assert set(result.numbers()) >= {"auc_baseline", "auc_current", "auc_drop", "drift_share"}
    assert all(isinstance(v, float) for v in result.numbers().values())


def test_monitoring_without_a_model_is_a_clear_error(install_world):
    install_world("calm")
    with pytest.raises(ModelNotFound, match="no trained model risk.fraud_model"):
        run_monitor(load_model_spec("risk", "fraud_model"))
