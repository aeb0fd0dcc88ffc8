"""Shared fixtures: every test gets its own HURRICANE_HOME, so nothing touches ./.hurricane."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def hurricane_home(tmp_path, monkeypatch):
    home = tmp_path / "hurricane"
    home.mkdir()
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    monkeypatch.delenv("HURRICANE_STORAGE_ROOT", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    (home / "dagster").mkdir()
    return home
