"""The local stack as `hurricane demo --stack services` starts it: PostgreSQL, a moto S3 server and one
gRPC code server per location. A domain's run lands in PostgreSQL and on S3, every location loads
through its own code server with the cross-location graph (payments → exchange share → risk model),
and on exit nothing is left running or on disk."""

from __future__ import annotations

import os
import socket

import dagster as dg
import psycopg
import pytest

from hurricane_assets.dagster_layer.embedded_loop import QUIET
from hurricane_assets.dagster_layer.workspace import load_location, workspace_locations
from hurricane_assets.local_stack.stack import LocalStack
from hurricane_assets.settings import hurricane_paths
from hurricane_assets.sharing.contracting import sign_agreements
from hurricane_assets.storage import read_table
from tests.hurricane_assets.share_terms import agreement_for, fraud_terms

pytestmark = pytest.mark.e2e
SHARE = dg.AssetKey(["risk", "payments__transactions"])
PRODUCER = dg.AssetKey(["payments", "transactions"])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_local_stack_runs_on_postgres_and_s3_serves_every_location_and_leaves_nothing_behind(
        share_parts, hurricane_home, tmp_path):
    with LocalStack(tmp_path / "stack", code_servers=False) as stack:
        # a contract in the registry, which now lives on S3, before the servers load the exchange
        sign_agreements([agreement_for(fraud_terms(), share_parts["gate"])],
                        **{k: share_parts[k] for k in ("gate", "signer", "ledger", "store")})
        assert not (hurricane_home / "contracts").exists()
        stack.start_code_servers()
        ports = [stack.postgres.port, stack.s3.port, *stack.code_servers.ports().values()]
        folder = stack.postgres.folder
        assert os.environ["HURRICANE_STORAGE_ROOT"] == "s3://hurricane/org"

        job = load_location("domains.customers.definitions", reload=True).resolve_job_def("customers_prod")
        config = {"resources": {"synthetic": {"config": {"transactions": 500, "seed": 3}}}, **QUIET}
        result = job.execute_in_process(instance=stack.instance, run_config=config)
        assert result.success
        with psycopg.connect(stack.postgres.url()) as conn:
            assert conn.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,)).fetchall() == [("SUCCESS",)]
        profiles = hurricane_paths().table_uri("prod", "customers", "profiles")
        assert profiles == "s3://hurricane/org/envs/prod/customers/profiles"
        assert read_table(profiles).num_rows > 0

        assert stack.location_errors() == {name: None for name in workspace_locations()}
        with stack.load_workspace() as request:
            for name, entry in request.get_code_location_entries().items():
                assert type(entry.code_location).__name__ == "GrpcServerCodeLocation", name
            graph = request.asset_graph
            share = graph.get(SHARE)
            assert share.is_materializable and graph.get_repository_handle(SHARE).location_name == "exchange"
            assert PRODUCER in share.parent_keys and graph.get_repository_handle(PRODUCER).location_name == "payments"
            models = [k for k in share.child_keys if graph.get_repository_handle(k).location_name == "risk"]
            assert any("model" in k.path[-1] for k in models), "no risk model depends on the exchange's share"

    assert not [port for port in ports if listening(port)]
    assert not folder.exists()
    assert "HURRICANE_STORAGE_ROOT" not in os.environ and "HURRICANE_POSTGRES_HOST" not in os.environ


def test_an_unknown_stack_is_refused_in_one_line_before_anything_starts(hurricane_home):
    from typer.testing import CliRunner

    from hurricane_assets.cli.main import app

    result = CliRunner().invoke(app, ["demo", "--stack", "cloud"], terminal_width=200)
    assert result.exit_code == 2
    assert "'--stack'" in result.output and "'cloud' is not one of 'embedded', 'services'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (hurricane_home / "stack").exists()
