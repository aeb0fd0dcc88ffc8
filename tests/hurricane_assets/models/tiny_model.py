"""A trained model of eight rows for the store's tests: the store keeps bytes, not quality, so these
tests need no synthetic world and no fit on real tables."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from hurricane_assets.models.features import Feature, FeatureKind, FeaturePlan
from hurricane_assets.models.metrics import Scores
from hurricane_assets.models.spec import load_model_spec
from hurricane_assets.models.training import LABEL, ModelMetrics, TrainedModel

WINDOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def tiny_model(domain: str = "risk", model: str = "fraud_model", *, weight: float = 1.0) -> TrainedModel:
    """`weight` changes the fit, so two versions hold different estimators."""
    from sklearn.linear_model import LogisticRegression

    spec = load_model_spec(domain, model)
    reference = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 12.0, 13.0]})
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    estimator = LogisticRegression(C=weight).fit(reference, labels)
    plan = FeaturePlan(own=(Feature(name="amount", column="amount", kind=FeatureKind.numeric),))
    metrics = ModelMetrics(holdout=Scores(roc_auc=1.0, precision_at_k=1.0, k=1, base_rate=0.5, rows=8), train_rows=8,
                           features=("amount",), shares=(), window_start=WINDOW, window_end=WINDOW, holdout_start=WINDOW)
    return TrainedModel(spec=spec, estimator=estimator, plan=plan, metrics=metrics,
                        reference=reference.assign(**{LABEL: labels}))


class Payload:
    """What an attacker put in a model.joblib: unpickling it creates `marker` (any code could run)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def malicious_pickle(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker))


class Trap:
    """A class whose rebuilding runs code: what an attacker names in a model file's schema (a loader that
    trusts the types the file lists builds it, and `marker` appears)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __setstate__(self, state: dict) -> None:
        Path(state["marker"]).touch()


def malicious_model_file(marker: Path) -> bytes:
    """A well-formed skops file holding a `Trap`: rebuilding it creates `marker`."""
    import skops.io as sio

    return sio.dumps({"estimator": Trap(marker)})
