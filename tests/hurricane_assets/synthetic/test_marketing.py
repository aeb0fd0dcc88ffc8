from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split


def churn_auc(world, with_support: bool) -> float:
    labels = world[("marketing", "churn_labels")].set_index("customer_id")["churned"]
    sessions = world[("marketing", "web_sessions")].groupby("customer_id")
    features = pd.DataFrame(index=labels.index)
    features["log_sessions"] = np.log1p(sessions.size().reindex(labels.index, fill_value=0))
    features["mean_pages"] = sessions["pages_viewed"].mean().astype(float).reindex(labels.index).fillna(0)
    if with_support:
        tickets = world[("support", "tickets")].groupby("customer_id")
        features["tickets"] = tickets.size().reindex(labels.index, fill_value=0)
        features["low_satisfaction"] = (3 - tickets["satisfaction"].mean()).clip(lower=0).reindex(labels.index).fillna(0)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])


def test_churn_model_gains_from_support_data(world):
    sessions_only, with_support = churn_auc(world, False), churn_auc(world, True)
    assert sessions_only > 0.6  # web activity alone carries some signal
    assert with_support - sessions_only >= 0.05


def test_churn_rate_is_plausible(world):
    assert 0.1 < world[("marketing", "churn_labels")]["churned"].mean() < 0.3


def test_campaign_notes_are_mostly_null_and_sometimes_personal(world):
    sessions = world[("marketing", "web_sessions")]
    notes = sessions["campaign_notes"]
    assert 0.9 < notes.isna().mean() < 0.98
    assert notes.dropna().str.contains("@").any()
    assert sessions.loc[notes.notna(), "campaign"].notna().all()
