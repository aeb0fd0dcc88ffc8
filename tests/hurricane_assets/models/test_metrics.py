from __future__ import annotations

import numpy as np
import pytest

from hurricane_assets.models.metrics import score, top_k


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
