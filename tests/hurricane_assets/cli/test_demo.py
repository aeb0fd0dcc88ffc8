"""`hurricane demo` on tiny data: every table it reports exists and reads back with deltalake."""

from __future__ import annotations

from deltalake import DeltaTable
from typer.testing import CliRunner

from hurricane_assets.catalog import load_catalog
from hurricane_assets.cli.main import app
from hurricane_assets.settings import hurricane_paths


def test_demo_materializes_every_domain_and_says_where(monkeypatch):
    monkeypatch.setenv("HURRICANE_ROWS", "1000")
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    assert "make ui" in result.output
    paths = hurricane_paths()
    for domain, dataset, _ in load_catalog().datasets():
        assert DeltaTable(paths.table_uri("prod", domain, dataset)).to_pandas().shape[0] > 0
    assert (paths.dagster_home / "dagster.yaml").exists()
