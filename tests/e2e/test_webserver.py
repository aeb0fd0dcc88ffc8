"""`make ui` for real: dagster-webserver serves the workspace; every code location loads over GraphQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from tests.e2e.webserver import graphql, running_webserver

pytestmark = pytest.mark.e2e

QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on RepositoryLocation { repositories {
        assetNodes { assetKey { path } hasAssetChecks freshnessPolicy: internalFreshnessPolicy { __typename } }
    } } ... on PythonError { message } }
} } } }
"""


@pytest.fixture
def webserver(hurricane_home: Path):
    (hurricane_home / "dagster" / "dagster.yaml").write_text((REPO_ROOT / "dagster.yaml").read_text())
    with running_webserver(hurricane_home / "dagster", startup_s=180, extra_env={"HURRICANE_ROWS": "1000"}) as port:
        yield port


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
