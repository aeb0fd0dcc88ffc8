"""`hurricane demo` tells the whole story on small data and leaves readable tables behind."""

from __future__ import annotations

from deltalake import DeltaTable
from typer.testing import CliRunner

from hurricane_assets.catalog import load_catalog
from hurricane_assets.cli.main import app
from hurricane_assets.settings import hurricane_paths


def test_demo_runs_the_loop_and_says_where_to_look():
    result = CliRunner().invoke(app, ["demo", "--rows", "8000"], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.output
    for step in ("prod data materialized", "checks failed", "data need", "CFP", "AGREEMENT", "delivery sensor",
                 "uplift", "revoke", "AUC before and after", "hurricane ledger verify", "OK:", "make ui"):
        assert step in out, step
    paths = hurricane_paths()
    for domain, dataset, _ in load_catalog().datasets():
        assert DeltaTable(paths.table_uri("prod", domain, dataset)).to_pandas().shape[0] > 0
    assert (paths.dagster_home / "dagster.yaml").exists()
