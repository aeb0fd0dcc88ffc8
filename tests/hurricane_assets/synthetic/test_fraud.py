"""The drift signal: distributions the switch changes, and what it does to a fraud model.

The feature engineering lives here on purpose (the platform's model code is built elsewhere): it is
the simplest honest use of each share, so the AUCs below measure the data, not clever modelling.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

from hurricane_assets.synthetic import generate
from hurricane_assets.synthetic.fraud import MERCHANT_CATEGORIES, P2P_CATEGORY
from tests.hurricane_assets.synthetic.conftest import DRIFTED

PRE_DRIFT_HOLDOUT = 0.2  # last 20 % of pre-drift time
POST_DRIFT_TRAIN = 0.5  # first half of post-drift time trains, second half is the holdout


def screened_payments(world) -> pd.DataFrame:
    """Alerts joined to their labels and to what payments and customers know, in event order."""
    payments = world[("payments", "transactions")][["txn_id", "channel", "device_id", "event_ts"]]
    opened = world[("customers", "profiles")][["customer_id", "account_opened_at"]]
    frame = (
        world[("risk", "alerts")]
        .merge(world[("risk", "fraud_labels")][["txn_id", "is_fraud"]], on="txn_id")
        .merge(payments, on="txn_id")
        .merge(opened, on="customer_id")
        .sort_values("event_ts", kind="stable")
        .reset_index(drop=True)
    )
    frame["new_device"] = (~frame.duplicated(["customer_id", "device_id"])).astype(int)
    frame["account_age_days"] = (frame["event_ts"] - frame["account_opened_at"]).dt.total_seconds() / 86_400
    return frame


def alerts_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Only what risk.alerts carries: the model risk owns before any share."""
    features = pd.DataFrame(
        {"log_amount": np.log(frame["amount"]), "hour_of_day": frame["hour_of_day"].astype(float),
         "rule_score": frame["rule_score"]}
    )
    for category in (*MERCHANT_CATEGORIES, P2P_CATEGORY):
        features[f"merchant_{category}"] = (frame["merchant_category"] == category).astype(int)
    return features


def with_payment_and_account_share(frame: pd.DataFrame) -> pd.DataFrame:
    features = alerts_features(frame)
    for channel in ("card_present", "online", "wallet", "instant_p2p"):
        features[f"channel_{channel}"] = (frame["channel"] == channel).astype(int)
    features["new_device"] = frame["new_device"]
    features["account_age_days"] = frame["account_age_days"]
    return features


def with_customer_aggregates(frame: pd.DataFrame, aggregates: pd.DataFrame) -> pd.DataFrame:
    features = alerts_features(frame)
    joined = frame[["customer_id"]].merge(aggregates, left_on="customer_id", right_index=True, how="left")
    for column in aggregates.columns:
        features[column] = joined[column].to_numpy()
    return features


def ticket_aggregates(world) -> pd.DataFrame:
    tickets = world[("support", "tickets")].groupby("customer_id")
    return pd.DataFrame({"ticket_count": tickets.size(), "mean_satisfaction": tickets["satisfaction"].mean()})


def session_aggregates(world) -> pd.DataFrame:
    sessions = world[("marketing", "web_sessions")].groupby("customer_id")
    return pd.DataFrame({"sessions": sessions.size(), "mean_pages": sessions["pages_viewed"].mean().astype(float),
                         "mean_duration_s": sessions["duration_s"].mean()})


def auc(features_of, train: pd.DataFrame, test: pd.DataFrame) -> float:
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    model.fit(features_of(train), train["is_fraud"])
    return roc_auc_score(test["is_fraud"], model.predict_proba(features_of(test))[:, 1])


@dataclass(frozen=True)
class Periods:
    pre_train: pd.DataFrame
    pre_holdout: pd.DataFrame
    post_train: pd.DataFrame
    post_holdout: pd.DataFrame


@pytest.fixture(scope="module")
def frame(world) -> pd.DataFrame:
    return screened_payments(world)


@pytest.fixture(scope="module")
def periods(frame) -> Periods:
    post = frame["event_ts"] >= pd.Timestamp(DRIFTED.drift_start)
    pre, after = frame[~post], frame[post]
    cut, cut_post = int(len(pre) * (1 - PRE_DRIFT_HOLDOUT)), int(len(after) * POST_DRIFT_TRAIN)
    return Periods(pre.iloc[:cut], pre.iloc[cut:], after.iloc[:cut_post], after.iloc[cut_post:])


@pytest.fixture(scope="module")
def drifted_model_aucs(periods) -> tuple[float, float]:
    """The pre-drift alerts-only model: AUC on its own holdout, and on post-drift data."""
    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
    model.fit(alerts_features(periods.pre_train), periods.pre_train["is_fraud"])

    def score(part: pd.DataFrame) -> float:
        return roc_auc_score(part["is_fraud"], model.predict_proba(alerts_features(part))[:, 1])

    return score(periods.pre_holdout), score(periods.post_holdout)


def test_no_drift_means_no_p2p_and_no_takeover():
    calm = generate(replace(DRIFTED, transactions=5_000, drift_days=None))
    txns = calm[("payments", "transactions")]
    assert set(txns["channel"]) == {"card_present", "online", "wallet"}
    assert P2P_CATEGORY not in set(txns["merchant_category"])
    assert 0.012 <= calm[("risk", "fraud_labels")]["is_fraud"].mean() <= 0.03


def test_drift_switch_changes_channel_mix_and_fraud_rate(frame):
    post = frame["event_ts"] >= pd.Timestamp(DRIFTED.drift_start)
    p2p = frame["channel"] == "instant_p2p"
    assert p2p[~post].sum() == 0
    assert 0.24 <= p2p[post].mean() <= 0.31
    assert (frame.loc[p2p, "merchant_category"] == P2P_CATEGORY).all()
    assert 0.015 <= frame.loc[~post, "is_fraud"].mean() <= 0.025
    assert 0.04 <= frame.loc[post, "is_fraud"].mean() <= 0.065


def test_drift_shifts_the_alert_features_risk_monitors(frame):
    post = frame["event_ts"] >= pd.Timestamp(DRIFTED.drift_start)
    p2p = frame["channel"] == "instant_p2p"
    # p2p amounts sit in a band card payments rarely use: the amount distribution moves.
    pre_median, p2p_median = frame.loc[~post, "amount"].median(), frame.loc[p2p, "amount"].median()
    assert p2p_median > 2 * pre_median
    assert frame.loc[post, "merchant_category"].value_counts(normalize=True).iloc[0] > 0.24


def test_new_fraud_depends_on_channel_device_novelty_and_account_age(frame):
    post = frame[frame["event_ts"] >= pd.Timestamp(DRIFTED.drift_start)]
    risky = (post["channel"] == "instant_p2p") & (post["new_device"] == 1) & (post["account_age_days"] < 90)
    assert post.loc[risky, "is_fraud"].mean() > 0.8
    p2p_known = (post["channel"] == "instant_p2p") & (post["new_device"] == 0)
    assert post.loc[p2p_known, "is_fraud"].mean() < 0.03
    # ... and not on amount: among p2p payments fraud and legitimate amounts look alike.
    p2p = post[post["channel"] == "instant_p2p"]
    fraud_median, legit_median = p2p.loc[p2p["is_fraud"], "amount"].median(), p2p.loc[~p2p["is_fraud"], "amount"].median()
    assert abs(np.log(fraud_median / legit_median)) < 0.15


def test_pre_drift_alerts_model_is_good(drifted_model_aucs):
    pre_auc, _ = drifted_model_aucs
    assert pre_auc >= 0.83


def test_drift_costs_the_alerts_model_at_least_eight_points(drifted_model_aucs):
    pre_auc, post_auc = drifted_model_aucs
    assert pre_auc - post_auc >= 0.08


def test_the_right_share_recovers_at_least_half_of_the_drop(periods, drifted_model_aucs):
    pre_auc, post_auc = drifted_model_aucs
    recovered = auc(with_payment_and_account_share, periods.post_train, periods.post_holdout)
    assert recovered - post_auc >= (pre_auc - post_auc) / 2
    assert recovered >= pre_auc - 0.03  # target: back to about the pre-drift level


@pytest.mark.parametrize("aggregates", [ticket_aggregates, session_aggregates], ids=["support", "marketing"])
def test_a_useless_share_gives_no_uplift(world, periods, aggregates):
    table = aggregates(world)
    baseline = auc(alerts_features, periods.post_train, periods.post_holdout)
    with_share = auc(lambda part: with_customer_aggregates(part, table), periods.post_train, periods.post_holdout)
    assert with_share - baseline <= 0.01
