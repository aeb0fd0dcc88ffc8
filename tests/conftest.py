"""Shared fixtures: every test gets its own HURRICANE_HOME, so nothing touches ./.hurricane, and the
platform clock is pinned, so no test depends on the hour it runs at."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from hurricane_assets.clock import NOW_VARIABLE
from tests.trust_keys import install_keys

# Mid-afternoon, minutes past the hour: the synthetic world ends at 15:00 and is 27 minutes old.
PINNED_NOW = datetime.fromisoformat("2026-03-14T15:27:00+00:00")


@pytest.fixture(scope="session", autouse=True)
def pinned_clock():
    """Session-wide, so module-scoped stories built before any function fixture see it too; a test
    that needs another instant sets `HURRICANE_NOW` itself (monkeypatch)."""
    saved = os.environ.get(NOW_VARIABLE)
    os.environ[NOW_VARIABLE] = PINNED_NOW.isoformat()
    yield PINNED_NOW
    if saved is None:
        os.environ.pop(NOW_VARIABLE, None)
    else:
        os.environ[NOW_VARIABLE] = saved


@pytest.fixture(autouse=True)
def hurricane_home(tmp_path, monkeypatch):
    home = tmp_path / "hurricane"
    home.mkdir()
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    monkeypatch.delenv("HURRICANE_STORAGE_ROOT", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    (home / "dagster").mkdir()
    install_keys(home)  # as `hurricane keys init` would: keys are never created on use
    # masking keys are never created on use (they fail closed); a test's world starts with them
    from hurricane_assets.masking.keys import init_masking_keys

    init_masking_keys()
    return home
