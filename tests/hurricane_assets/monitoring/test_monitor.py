"""The monitor on real tables: quiet on the world the model knows, loud once the drift arrives."""

from __future__ import annotations

import contextlib
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from hurricane_assets.delivery.erase import erase_table
from hurricane_assets.models import sources
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import ModelNotFound, load_model, save_model
from hurricane_assets.models.training import ModelMetrics, fitted_rows, load_training_data, train_model
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


def test_labels_of_one_snapshot_the_monitor_scores_only_the_holdout(install_world):
    """Churn labels are all taken at one instant, so the split falls inside it. Told apart by time
    alone, every fitted row counted as unseen: the monitor scored 2,000 rows, 1,600 of them learnt
    (AUC 0.92 against a holdout of 0.61), and a decline would have hidden behind them."""
    spec = load_model_spec("marketing", "churn_model")
    install_world("calm")
    data = load_training_data(spec)
    assert data.rows[spec.time_column].nunique() == 1
    trained = train_model(spec)
    save_model(trained)
    result = run_monitor(spec)
    # no newer data: the unseen rows are the holdout, scored by the same model
    assert result.rows == trained.metrics.holdout.rows == len(data.window()[1])
    assert result.auc_current == pytest.approx(trained.metrics.holdout.roc_auc)


def test_fitted_rows_of_the_day_the_holdout_starts_stay_out_of_the_monitor(fraud):
    """Below prod the alerts' times are coarsened to the day, so the split falls inside a day."""
    data = load_training_data(fraud)
    fit_idx, holdout_idx = data.window()
    times = data.rows[fraud.time_column]
    assert (times.loc[fit_idx] == times.loc[holdout_idx[0]]).any()
    assert fitted_rows(data.rows, fraud, train_model(fraud).metrics).to_numpy().nonzero()[0].tolist() == list(fit_idx)
    recent = times >= times.max() - timedelta(days=fraud.monitor.window_days)
    assert run_monitor(fraud).rows == int((recent & ~data.rows.index.isin(fit_idx)).sum())


def test_a_model_stored_before_the_split_order_existed_is_told_apart_by_time(fraud):
    metrics = train_model(fraud).metrics
    old = ModelMetrics.model_validate_json(metrics.model_dump_json(exclude={"holdout_start_order"}))
    assert old.holdout_start_order is None
    rows = load_training_data(fraud).rows
    times = rows[fraud.time_column]
    expected = (times >= metrics.window_start) & (times < metrics.holdout_start)
    assert fitted_rows(rows, fraud, old).equals(expected)


def _as_stored_before_names(plan_file: Path, home: Path) -> None:
    """Rewrite a stored plan as a version before this change wrote it: each table by absolute path."""
    plan = json.loads(plan_file.read_text())
    for part in plan["sources"]:
        source = part["source"]
        where = [source.pop(k) for k in ("environment", "holder", "table")]
        source["uri"] = str(home.joinpath("envs", *where))
    plan_file.write_text(json.dumps(plan))


@pytest.fixture
def copied_home(install_world, deliver_share, hurricane_home, tmp_path, monkeypatch):
    """The fraud model trained with the payments share, then its home copied (`cp -a`) and used there."""
    spec = load_model_spec("risk", "fraud_model")
    install_world("calm")
    stored = save_model(train_model(spec, [deliver_share("payments", "transactions")]))
    copy = tmp_path / "copy"
    shutil.copytree(hurricane_home, copy, symlinks=True)
    monkeypatch.setenv("HURRICANE_HOME", str(copy))
    return spec, hurricane_home, copy, copy / stored.path.relative_to(hurricane_home) / "plan.json"


@pytest.mark.parametrize("stored", ["by name", "by absolute path, before this change"])
def test_a_copied_home_monitors_from_its_own_share_tables(copied_home, stored, tmp_path):
    spec, original, copy, plan_file = copied_home
    if stored != "by name":
        _as_stored_before_names(plan_file, original)
    original.rename(tmp_path / "gone")  # nothing of the original home is left to read
    (part,) = load_model(spec.domain, spec.name).plan.sources
    assert part.source.uri == str(copy / "envs" / "preprod" / "risk" / "payments__transactions")
    result = run_monitor(spec)
    assert result.passed and result.rows > 1000


def test_a_share_erased_in_a_copied_home_is_not_read_from_the_original(copied_home, monkeypatch):
    spec, original, copy, _ = copied_home
    erase_table(str(copy / "envs" / "preprod" / "risk" / "payments__transactions"))  # what revoking it does
    reads = []
    real_read = sources.read_table
    monkeypatch.setattr(sources, "read_table", lambda uri, **kw: reads.append(uri) or real_read(uri, **kw))
    # What a monitor does about a share its model lost is decided elsewhere (it may refuse or score
    # without it); here only where it reads from matters: the copy's own (erased) table, never the original's.
    with contextlib.suppress(Exception):
        run_monitor(spec)
    assert reads == [str(copy / "envs" / "preprod" / "risk" / "payments__transactions")]
