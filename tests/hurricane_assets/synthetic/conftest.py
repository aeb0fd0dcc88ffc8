"""One drifted synthetic world shared by the synthetic tests (generation is cached per config)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hurricane_assets.synthetic import SyntheticConfig, generate

AS_OF = datetime(2025, 6, 1, tzinfo=timezone.utc)
DRIFTED = SyntheticConfig(transactions=40_000, seed=7, as_of=AS_OF, history_days=120, drift_days=30)
SMALL = SyntheticConfig(transactions=3_000, seed=11, as_of=AS_OF, drift_days=20)


@pytest.fixture(scope="session")
def world():
    return generate(DRIFTED)


@pytest.fixture(scope="session")
def small_world():
    return generate(SMALL)
