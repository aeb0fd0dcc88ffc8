from __future__ import annotations

import numpy as np
import pytest

from hurricane_assets.models.metrics import auc_gain_lower_bound, score, top_k


def test_auc_precision_at_k_and_base_rate():
    labels = np.array([0] * 190 + [1] * 10)
    scores = np.linspace(0, 1, 200)  # the positives score highest
    result = score(labels, scores)
    assert result.roc_auc == 1.0 and result.k == 2 and result.precision_at_k == 1.0
    assert result.base_rate == 0.05 and result.rows == 200
    assert score(labels, scores[::-1]).precision_at_k == 0.0


def test_k_is_one_percent_capped_at_one_hundred():
    assert (top_k(50), top_k(1_000), top_k(50_000)) == (1, 10, 100)


def test_a_single_class_cannot_be_scored():
    with pytest.raises(ValueError, match="one class only"):
        score(np.zeros(10), np.arange(10))


def _scored(rows: int, positives: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    labels = np.zeros(rows, dtype=int)
    labels[rng.choice(rows, positives, replace=False)] = 1
    return labels, rng


def test_a_real_gain_has_a_lower_bound_close_below_it():
    labels, rng = _scored(1500, 80)
    weak = labels * 0.6 + rng.normal(0, 1, len(labels))
    strong = labels * 2.0 + rng.normal(0, 1, len(labels))
    bound = auc_gain_lower_bound(labels, strong, weak)
    point = roc_auc(labels, strong) - roc_auc(labels, weak)
    assert 0.05 < bound < point


def test_noise_on_a_small_holdout_is_not_a_gain():
    """A useless feature moves a 20-positive holdout's AUC by a few points; its bound stays below zero,
    while the point estimate alone could clear a 0.015 keep threshold."""
    labels, rng = _scored(300, 20)
    base = labels * 1.0 + rng.normal(0, 1, len(labels))
    noisy = base + rng.normal(0, 0.6, len(labels))
    assert auc_gain_lower_bound(labels, noisy, base) < 0.015
    assert auc_gain_lower_bound(labels, noisy, base) == auc_gain_lower_bound(labels, noisy, base)  # seeded


def test_a_bound_needs_both_classes():
    with pytest.raises(ValueError, match="one class"):
        auc_gain_lower_bound(np.zeros(10, dtype=int), np.arange(10.0), np.arange(10.0))


def roc_auc(labels, scores):
    return score(labels, scores).roc_auc
