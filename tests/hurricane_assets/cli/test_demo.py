"""`hurricane demo` tells the whole story on small data, at any hour, and leaves readable tables behind.

The clock matrix: the story runs under pinned clocks across the day (just after midnight on a month
boundary, noon, evening, just before midnight on a month's last day). Its first step is the smoke
materialization of every domain with all dataset checks, so each clock proves both: prod data generated
"now" is fresh, and drift → need → agreement → delivery → retrain → one share kept, one revoked holds.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from deltalake import DeltaTable
from typer.testing import CliRunner

from hurricane_assets.catalog import load_catalog
from hurricane_assets.cli.main import app
from hurricane_assets.contracts.contract import ContractStatus
from hurricane_assets.contracts.store import ContractStore
from hurricane_assets.ledger import Ledger
from hurricane_assets.ledger.entry import EntryType
from hurricane_assets.settings import hurricane_paths

pytestmark = pytest.mark.e2e

CLOCKS = ("2026-04-01T00:05:00+00:00", "2026-06-15T12:00:00+00:00", "2026-06-15T20:11:00+00:00",
          "2026-03-31T23:55:00+00:00")


@pytest.mark.parametrize("now", CLOCKS)
def test_demo_runs_the_loop_at_any_hour_and_says_where_to_look(now, monkeypatch):
    monkeypatch.setenv("HURRICANE_NOW", now)
    # a home with a short path, as a user's usually is: the output is checked to show it in full at 80
    # columns (pytest's own temp paths alone come close to that); the demo provisions its keys itself
    home = Path(tempfile.mkdtemp(prefix="hd-", dir="/tmp")) / "hurricane"
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    try:
        _demo_story()
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


def _demo_story() -> None:
    result = CliRunner().invoke(app, ["demo", "--rows", "20000"], terminal_width=200)  # the demo as `make demo` runs it
    assert result.exit_code == 0, result.output
    out = result.output
    for step in ("prod data materialized", "checks failed", "data need", "CFP", "AGREEMENT", "delivery sensor",
                 "uplift", "keep", "revoke", "AUC before and after", "hurricane ledger verify", "OK:", "lineage OK",
                 "make ui"):
        assert step in out, step
    # readable at 80 columns (the width rich uses when the output is not a terminal): nothing
    # wider, the model's name whole in the AUC table, no absolute path of the home repeated
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    auc = out[out.index("AUC before and after"):]
    assert any(line.strip("│ ").startswith("risk/fraud_model") for line in auc.splitlines()), auc
    paths = hurricane_paths()
    assert out.count(str(paths.home)) == 2, "paths are shown relative to HURRICANE_HOME"
    catalog = load_catalog()
    calm, drifted = re.findall(r"(\d+)/(\d+) dataset checks passed", out)[:2]
    assert calm[0] == calm[1] and drifted[0] == drifted[1], "prod data must be fresh and valid at this hour"
    assert int(calm[1]) >= 5 * len(list(catalog.datasets()))  # every dataset's checks ran

    tested = [json.loads(e["payload_json"]) for e in Ledger().read(columns=["entry_type", "payload_json"]).to_pylist()
              if e["entry_type"] == EntryType.CONTRACT_TESTED.value]
    kept = {t["contract_id"] for t in tested if t["keep"]}
    revoked = {t["contract_id"] for t in tested if not t["keep"]}
    assert kept and revoked
    store = ContractStore()
    assert {store.get(c).status for c in revoked} == {ContractStatus.revoked}
    assert ContractStatus.active in {store.get(c).status for c in kept}

    for domain, dataset, _ in catalog.datasets():
        assert DeltaTable(paths.table_uri("prod", domain, dataset)).to_pandas().shape[0] > 0
    assert (paths.dagster_home / "dagster.yaml").exists()
