"""Dagster instance storage and LangGraph checkpoints on a real PostgreSQL cluster the tests start.

Each test reads what was stored straight from the database (psycopg), not through the code under
test, so a setting that silently fell back to SQLite goes red."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from hurricane_assets.dagster_layer.embedded_loop import QUIET, materializations
from hurricane_assets.dagster_layer.workspace import hurricane_instance
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.verify import verify_ledger
from hurricane_assets.settings import POSTGRES_VARIABLES, hurricane_paths, postgres_settings

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.e2e


def rows(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_domain_job_runs_on_the_postgres_instance_and_its_events_are_in_the_database(postgres_url, hurricane_home):
    instance = hurricane_instance()
    assert "HURRICANE_POSTGRES_HOST" in (hurricane_home / "dagster" / "dagster.yaml").read_text()
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"

    # a small job of its own: the full domain job on this instance is in test_stack.py
    @dg.asset(key=["customers", "profiles_probe"])
    def probe() -> int:
        return 1

    job = dg.Definitions(assets=[probe]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, run_config=QUIET)
    assert result.success
    assert "customers/profiles_probe" in materializations(result)

    stored = rows(postgres_url, "SELECT status FROM runs WHERE run_id = %s", result.run_id)
    assert stored == [("SUCCESS",)]
    materialized = rows(postgres_url, "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'", result.run_id)
    assert materialized[0][0] >= 1
    assert not list((hurricane_home / "dagster").glob("**/*.db"))  # no SQLite storage on the side
    instance.dispose()


def test_without_the_setting_the_instance_stays_on_sqlite(hurricane_home, monkeypatch):
    monkeypatch.delenv("HURRICANE_POSTGRES_HOST", raising=False)
    instance = hurricane_instance()
    assert type(instance.run_storage).__name__ == "SqliteRunStorage"
    instance.dispose()


def test_switching_the_setting_rewrites_our_template_but_keeps_a_user_edited_dagster_yaml(hurricane_home, postgres_url, monkeypatch):
    config = hurricane_home / "dagster" / "dagster.yaml"
    host = os.environ.pop("HURRICANE_POSTGRES_HOST")
    hurricane_instance().dispose()
    assert "postgres" not in config.read_text()
    monkeypatch.setenv("HURRICANE_POSTGRES_HOST", host)
    hurricane_instance().dispose()
    assert "postgres_db" in config.read_text()
    config.write_text("telemetry:\n  enabled: false\n")  # the operator's own file
    hurricane_instance().dispose()
    assert config.read_text() == "telemetry:\n  enabled: false\n"


def test_half_set_postgres_settings_fail_naming_the_missing_variable_and_never_the_password(monkeypatch):
    for name in POSTGRES_VARIABLES.values():
        monkeypatch.delenv(name, raising=False)
    assert postgres_settings() is None
    monkeypatch.setenv("HURRICANE_POSTGRES_HOST", "db.internal")
    monkeypatch.setenv("HURRICANE_POSTGRES_PASSWORD", "s3cret")
    with pytest.raises(ValueError, match="HURRICANE_POSTGRES_PORT, HURRICANE_POSTGRES_USER, HURRICANE_POSTGRES_DB") as error:
        postgres_settings()
    monkeypatch.setenv("HURRICANE_POSTGRES_PORT", "fivefourthreetwo")
    monkeypatch.setenv("HURRICANE_POSTGRES_USER", "hurricane")
    monkeypatch.setenv("HURRICANE_POSTGRES_DB", "state")
    with pytest.raises(ValueError, match="HURRICANE_POSTGRES_PORT must be a port number"):
        postgres_settings()
    monkeypatch.setenv("HURRICANE_POSTGRES_PORT", "5432")
    settings = postgres_settings()
    assert settings.url == "postgresql://hurricane:s3cret@db.internal:5432/state"
    assert "s3cret" not in str(error.value) and "s3cret" not in repr(settings)


def crash_child(home: Path, url: str, *args: str) -> subprocess.Popen:
    env = os.environ | {"PYTHONPATH": str(ROOT), "HURRICANE_HOME": str(home)}  # HURRICANE_POSTGRES_* from the fixture
    return subprocess.Popen([sys.executable, "-m", "tests.hurricane_assets.local_stack.negotiation_crash_child", *args], cwd=ROOT, env=env)


def test_a_killed_negotiation_resumes_from_its_postgres_checkpoint(postgres_url, hurricane_home):
    victim = crash_child(hurricane_home, postgres_url, "--hang-after", "12")
    deadline = time.monotonic() + 180
    while not (hurricane_home / "hanging").exists():
        assert victim.poll() is None, f"child exited with {victim.returncode} before the crash point"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)

    threads = rows(postgres_url, "SELECT DISTINCT thread_id FROM checkpoints")
    assert threads, "the negotiation wrote no checkpoint to PostgreSQL before the crash"
    before = rows(postgres_url, "SELECT count(*) FROM checkpoints")[0][0]
    written_before_crash = len(Ledger())
    assert 0 < written_before_crash <= 12

    assert crash_child(hurricane_home, postgres_url).wait(timeout=180) == 0
    assert json.loads((hurricane_home / "result.json").read_text())["status"] == "agreed"
    assert rows(postgres_url, "SELECT count(*) FROM checkpoints")[0][0] > before  # resumed there, not restarted elsewhere
    assert not hurricane_paths().checkpoints.exists()
    result = verify_ledger()
    assert result.ok, result.problem
    ids = Counter(e["entry_id"] for e in Ledger().read(columns=["entry_id"]).to_pylist())
    assert not [i for i, n in ids.items() if n > 1]
    assert len(ids) > written_before_crash
