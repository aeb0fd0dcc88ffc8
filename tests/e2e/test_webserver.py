"""`make ui` for real: dagster-webserver serves the workspace; every code location loads over GraphQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations

pytestmark = pytest.mark.e2e

QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on RepositoryLocation { repositories {
        assetNodes { assetKey { path } hasAssetChecks freshnessPolicy: internalFreshnessPolicy { __typename } }
    } } ... on PythonError { message } }
} } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def webserver(hurricane_home: Path):
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(hurricane_home / "dagster"), "HURRICANE_ROWS": "1000"}
    (hurricane_home / "dagster" / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "webserver exited early"
                time.sleep(1)
        else:
            pytest.fail("webserver did not answer within 180 s")
        yield port
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_every_code_location_loads_in_the_webserver(webserver):
    deadline = time.time() + 180
    while True:
        entries = graphql(webserver, QUERY)["data"]["workspaceOrError"]["locationEntries"]
        states = {e["name"]: e["locationOrLoadError"] for e in entries}
        if all(s is not None for s in states.values()) or time.time() > deadline:
            break
        time.sleep(2)
    assert set(states) == set(workspace_locations())
    for name, state in states.items():
        assert state["__typename"] == "RepositoryLocation", f"{name}: {state}"
    customers = states["customers"]["repositories"][0]["assetNodes"]
    profiles = next(n for n in customers if n["assetKey"]["path"] == ["customers", "profiles"])
    assert profiles["hasAssetChecks"]
