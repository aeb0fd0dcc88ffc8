"""`sorted_unique` stands in for `np.unique` on the gate's and counters' 64-bit arrays: same result."""

from __future__ import annotations

import numpy as np
import pytest

from hurricane_assets.masking.distinct import sorted_unique


@pytest.mark.parametrize("values", [
    np.zeros(0, np.uint64),
    np.array([7], np.int64),
    np.array([3, 3, 3], np.int64),
    np.random.default_rng(0).integers(0, 50, 1000),  # many repeats
    np.random.default_rng(1).integers(0, 2**63, 5000).astype(np.uint64),  # hashes, a few repeated below
], ids=["empty", "one", "all-equal", "repeats", "hashes"])
def test_sorted_unique_equals_numpy_unique(values):
    values = np.concatenate([values, values[: len(values) // 3]])
    got = sorted_unique(values)
    assert got.dtype == values.dtype
    assert np.array_equal(got, np.unique(values))
