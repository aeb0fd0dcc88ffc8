"""`hurricane demo --stack services` as a user runs it, on a short loop (one domain's prod data, a
ledger entry with a cosigned checkpoint) and one code server, so it takes a minute, not the loop's
quarter of an hour: the user's $HURRICANE_HOME is as it was afterwards, and the output says that the
tables were on S3, gone with the stack."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hurricane_assets.cli.demo as demo_module
from hurricane_assets.cli.main import app
from hurricane_assets.dagster_layer.workspace import hurricane_instance, load_location

pytestmark = pytest.mark.e2e
CUSTOMERS = {"customers": "domains.customers.definitions"}


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def short_loop(rows: int, seed: int, drift_days: int) -> list:
    """The loop's first step on one domain, then what leaves a witness copy in the home: a ledger
    entry and a checkpoint every domain cosigns."""
    from hurricane_assets.cli.timeline import show_event
    from hurricane_assets.dagster_layer.embedded_loop import EmbeddedLoop, LoopSettings
    from hurricane_assets.ledger import Ledger
    from hurricane_assets.masking.keys import init_masking_keys

    loop = EmbeddedLoop(hurricane_instance(), LoopSettings(rows=rows, seed=seed, drift_days=drift_days),
                        on_event=show_event)
    loop.locations = lambda: {name: load_location(module, reload=True) for name, module in CUSTOMERS.items()}
    init_masking_keys()
    loop.materialize_domains(drift_days=None)
    ledger = Ledger()
    ledger.append(entry_type="AGREEMENT", actor="system:ledger", payload={"demo": "services"})
    assert ledger.checkpoint() is not None
    return loop.events


def test_the_services_demo_leaves_the_home_as_it_was_and_says_its_tables_were_on_s3(hurricane_home, monkeypatch):
    # the embedded demo's state a user has: its SQLite instance file, a table, a lineage file
    hurricane_instance().dispose()
    for path in ("envs/prod/customers/profiles/part-0.parquet", "lineage/events.jsonl"):
        (hurricane_home / path).parent.mkdir(parents=True, exist_ok=True)
        (hurricane_home / path).write_text("embedded state")
    before = snapshot(hurricane_home)
    environ = {name: os.environ.get(name) for name in ("HURRICANE_HOME", "DAGSTER_HOME", "HURRICANE_STORAGE_ROOT")}
    monkeypatch.setattr(demo_module, "_run_loop", short_loop)
    monkeypatch.setattr("hurricane_assets.local_stack.code_servers.workspace_locations", lambda: CUSTOMERS)

    result = CliRunner().invoke(app, ["demo", "--stack", "services", "--rows", "500"], terminal_width=200)

    out = result.output
    assert result.exit_code == 0, out
    assert "code servers: 1/1 locations load over gRPC" in out
    # the prod table's URIs are on S3, and its header does not claim they are under the home
    assert "s3://hurricane/org/envs/prod/customers/profiles" in out
    assert "under HURRICANE_HOME" not in out
    where = " ".join(out[out.index("Where to look"):].split())  # rich wraps at 80 columns
    assert "S3 s3://hurricane/org: Delta tables envs/, ledger ledger/, contracts (ODCS) contracts/" in where
    assert str(hurricane_home) not in where
    stack_home = Path(re.search(r"are in (\S+), removed with the stack", " ".join(out.split()))[1])

    assert snapshot(hurricane_home) == before
    assert not stack_home.parent.exists()
    assert {name: os.environ.get(name) for name in environ} == environ
    verify = CliRunner().invoke(app, ["ledger", "verify"])
    assert verify.exit_code == 0, verify.output


def test_the_services_demo_refuses_no_fresh_in_one_line_before_anything_starts(hurricane_home):
    before = snapshot(hurricane_home)
    result = CliRunner().invoke(app, ["demo", "--stack", "services", "--no-fresh"], terminal_width=200)
    assert result.exit_code == 2
    assert "'--no-fresh'" in result.output and "does not touch $HURRICANE_HOME" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(hurricane_home) == before
