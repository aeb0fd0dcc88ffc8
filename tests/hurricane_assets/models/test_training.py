"""Training on real masked preprod Delta tables: determinism, the time split, and share uplift."""

from __future__ import annotations

import numpy as np
import pytest

from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.store import save_model
from hurricane_assets.models.training import (
    LABEL,
    TrainingError,
    fit,
    fit_sample,
    load_training_data,
    predict,
    train_model,
    train_with_and_without,
)
from hurricane_assets.monitoring.monitor import run_monitor


@pytest.fixture(scope="module")
def fraud():
    return load_model_spec("risk", "fraud_model")


def test_training_is_deterministic_and_split_by_time(install_world, fraud):
    install_world("calm")
    first, second = train_model(fraud), train_model(fraud)
    assert first.metrics == second.metrics
    data = load_training_data(fraud)
    fit_idx, holdout_idx = data.window()
    times = data.rows[fraud.time_column]
    assert times.loc[fit_idx].max() <= times.loc[holdout_idx].min() == first.metrics.holdout_start
    assert len(holdout_idx) == pytest.approx(0.2 * (len(fit_idx) + len(holdout_idx)), abs=1)
    assert (times.max() - first.metrics.window_start).days <= fraud.training.train_days
    held = data.rows.loc[holdout_idx]
    np.testing.assert_array_equal(predict(first.estimator, first.reference.iloc[:50][first.plan.names]),
                                  predict(second.estimator, second.reference.iloc[:50][second.plan.names]))
    metrics = first.metrics
    assert metrics.features == ("amount", "merchant_category", "hour_of_day", "rule_score") and metrics.shares == ()
    assert metrics.holdout.rows == len(held) and metrics.holdout.base_rate == pytest.approx(held[LABEL].mean())
    assert metrics.holdout.roc_auc >= 0.8  # the alerts carry the pre-drift fraud pattern


def test_the_right_shares_recover_at_least_half_of_the_drift_cost(install_world, fraud, deliver_share):
    install_world("calm")
    save_model(train_model(fraud))
    install_world("drifted")
    payments_share, customers_share = deliver_share("payments", "transactions"), deliver_share("customers", "profiles")
    monitored = run_monitor(fraud)
    assert monitored.auc_drop >= 0.08

    report = train_with_and_without(fraud, [payments_share, customers_share])
    recovered = report.with_shares.metrics.holdout.roc_auc - monitored.auc_current
    assert recovered >= monitored.auc_drop / 2
    assert report.uplift >= 0.05  # same holdout: the shares, not the retraining, did it
    assert report.with_shares.metrics.shares == (payments_share.contract_id, customers_share.contract_id)
    assert set(report.with_shares.metrics.features) >= {
        "payments__transactions__channel", "payments__transactions__device_id", "customers__profiles__account_opened_at"}
    for share in (payments_share, customers_share):
        verdict = report.per_share[share.contract_id]
        assert verdict.keep and verdict.confident_uplift >= fraud.thresholds.min_uplift, verdict
        assert verdict.confident_uplift <= max(verdict.uplift, verdict.uplift_alone)  # a lower bound


def test_a_useless_share_stays_below_the_keep_threshold(install_world, fraud, deliver_share):
    install_world("drifted")
    payments_share, support_share = deliver_share("payments", "transactions"), deliver_share("support", "tickets")
    report = train_with_and_without(fraud, [payments_share, support_share])
    useless = report.per_share[support_share.contract_id]
    assert useless.confident_uplift < fraud.thresholds.min_uplift
    assert not useless.keep
    assert useless.features and all(f.startswith("support__tickets__") for f in useless.features)
    assert report.per_share[payments_share.contract_id].keep


def test_the_churn_model_trains_on_aggregated_sessions(install_world):
    install_world("calm")
    churn = load_model_spec("marketing", "churn_model")
    trained = train_model(churn)
    assert trained.metrics.features[0] == "marketing__web_sessions__count"
    assert trained.metrics.holdout.roc_auc > 0.6


def test_missing_tables_and_single_class_windows_are_clear_errors(install_world, fraud):
    from deltalake.exceptions import TableNotFoundError

    with pytest.raises(TableNotFoundError, match="no Delta table at .*preprod/risk/alerts"):
        train_model(fraud)
    install_world("calm")
    tiny = fraud.model_copy(update={"training": fraud.training.model_copy(update={"train_days": 1, "holdout_fraction": 0.005})})
    with pytest.raises(TrainingError, match=r"risk.fraud_model: the holdout part of the last 1 days \(\d+ rows\) holds a single label class"):
        train_model(tiny)


def test_a_fit_learns_from_at_most_the_row_cap_and_scores_the_whole_holdout(install_world, fraud, monkeypatch):
    """The cap that keeps one retrain at 1M rows short: a seeded sample of the training part, the same
    for every fit on the same data (an ablation compares like with like); the holdout stays whole."""
    install_world("calm")
    data = load_training_data(fraud)
    fit_idx, holdout_idx = data.window()
    whole = fit(data)
    assert whole.metrics.train_rows == len(fit_idx)  # under the default cap: every row
    assert set(whole.seconds) == {"features", "fit", "score"}
    monkeypatch.setenv("HURRICANE_MODEL_FIT_ROWS", "1000")
    capped, again = fit(data), fit(data)
    assert capped.metrics.train_rows == 1000 < len(fit_idx)
    assert capped.metrics.holdout == again.metrics.holdout and capped.metrics.holdout.rows == len(holdout_idx)
    assert capped.metrics.holdout != whole.metrics.holdout  # it did learn from fewer rows
    sample = fit_sample(fit_idx, 1000)
    assert sample.is_monotonic_increasing and set(sample) <= set(fit_idx) and sample.equals(fit_sample(fit_idx, 1000))
    assert fit_sample(fit_idx, len(fit_idx)).equals(fit_idx)
    for bad, said in (("lots", "a whole number of rows, not 'lots'"), ("10", "at least 1000 rows, not 10")):
        monkeypatch.setenv("HURRICANE_MODEL_FIT_ROWS", bad)
        with pytest.raises(TrainingError, match=f"HURRICANE_MODEL_FIT_ROWS must be {said}"):
            fit(data)
