"""How a scored set of rows is judged: the same numbers at training time and in the monitor."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict

TOP_SHARE = 0.01  # precision is measured on the top 1 % of scores ...
TOP_CAP = 100  # ... and at most on the top 100 rows


class Scores(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    roc_auc: float
    precision_at_k: float
    k: int
    base_rate: float
    rows: int


def top_k(rows: int) -> int:
    return max(1, min(TOP_CAP, math.ceil(rows * TOP_SHARE)))


def score(labels: np.ndarray, scores: np.ndarray) -> Scores:
    """ROC AUC and precision at k; raises when the labels hold a single class (AUC is undefined)."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=float)
    if len(np.unique(labels)) < 2:
        raise ValueError(f"cannot score {len(labels)} rows: the labels hold one class only")
    k = top_k(len(labels))
    # stable sort on the negated score: ties keep row order, so the number is reproducible
    top = np.argsort(-scores, kind="stable")[:k]
    return Scores(
        roc_auc=float(roc_auc_score(labels, scores)),
        precision_at_k=float(labels[top].mean()),
        k=k,
        base_rate=float(labels.mean()),
        rows=len(labels),
    )


UPLIFT_CONFIDENCE = 0.95
UPLIFT_RESAMPLES = 300


def auc_gain_lower_bound(labels: np.ndarray, with_scores: np.ndarray, without_scores: np.ndarray, *,
                         confidence: float = UPLIFT_CONFIDENCE, resamples: int = UPLIFT_RESAMPLES,
                         seed: int = 0) -> float:
    """One-sided lower confidence bound of ROC AUC(with) − AUC(without) on the same rows (paired
    percentile bootstrap, seeded: the same inputs give the same bound).

    A holdout of a few dozen positives moves the AUC by ±0.02 when a useless feature is added, so a
    point estimate near the keep threshold says nothing; the bound says how much the share adds at
    least, at this confidence. Resamples holding one class only are skipped (AUC is undefined there).
    """
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels, dtype=int)
    with_scores, without_scores = np.asarray(with_scores, dtype=float), np.asarray(without_scores, dtype=float)
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(resamples):
        rows = rng.integers(0, len(labels), len(labels))
        sample = labels[rows]
        if sample.min() == sample.max():
            continue
        gains.append(roc_auc_score(sample, with_scores[rows]) - roc_auc_score(sample, without_scores[rows]))
    if not gains:
        raise ValueError(f"cannot bound an AUC gain on {len(labels)} rows: every resample holds one class")
    return float(np.quantile(gains, 1 - confidence))
