"""The deployment files cannot run here (no cluster), so they are checked the way the engines would:
every dagster.yaml through Dagster's own instance schema and each configured class's own config
schema, the Helm values against the chart keys they use, and both against the workspace."""

from __future__ import annotations

import copy
import importlib
import json
import re

import jsonschema
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from hurricane_assets.settings import POSTGRES_VARIABLES

INSTANCE_FILES = [REPO_ROOT / "dagster.yaml", REPO_ROOT / "dagster.postgres.yaml",
                  REPO_ROOT / "deploy/k8s/dagster.yaml", REPO_ROOT / "deploy/ecs/dagster.yaml"]
VALUES = REPO_ROOT / "deploy/k8s/values.yaml"
SCHEMA = REPO_ROOT / "deploy/k8s/values.schema.json"


@pytest.fixture(autouse=True)
def deployment_env(monkeypatch):
    """The variables the files read with `env:` (as a deployment's pods would have them)."""
    for name in POSTGRES_VARIABLES.values():
        monkeypatch.setenv(name, "5432" if name.endswith("PORT") else "x")
    monkeypatch.setenv("HURRICANE_LOGS_BUCKET", "logs")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_dagster_yaml_passes_dagsters_own_config_validation(path):
    raw = yaml.safe_load(path.read_text())
    dagster_instance_config(str(path.parent), path.name)  # raises DagsterInvalidConfigError on a bad key
    for section in ("run_launcher", "run_coordinator", "compute_logs"):
        if section in raw:
            cls = getattr(importlib.import_module(raw[section]["module"]), raw[section]["class"])
            result = process_config(cls.config_type(), raw[section].get("config", {}))
            assert result.success, f"{path.name}: {section}: {[e.message for e in result.errors]}"


def test_a_misspelt_launcher_key_fails_the_same_validation(tmp_path):
    broken = yaml.safe_load((REPO_ROOT / "deploy/k8s/dagster.yaml").read_text())
    broken["run_launcher"]["config"]["job_namspace"] = broken["run_launcher"]["config"].pop("job_namespace")
    from dagster_k8s import K8sRunLauncher

    assert not process_config(K8sRunLauncher.config_type(), broken["run_launcher"]["config"]).success


def test_the_helm_values_match_the_chart_keys_and_hold_no_secret():
    values = yaml.safe_load(VALUES.read_text())
    jsonschema.validate(values, json.loads(SCHEMA.read_text()))
    text = VALUES.read_text()
    assert not re.search(r"(?i)(password|secret_access_key|signing_key)\s*:\s*\S", text), "a secret value inline"


def test_the_schema_rejects_a_misspelt_key():
    values = copy.deepcopy(yaml.safe_load(VALUES.read_text()))
    values["runLauncher"]["config"]["k8sRunLauncher"]["jobNamspace"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, json.loads(SCHEMA.read_text()))


def test_one_user_code_deployment_per_workspace_location_with_only_its_own_secret():
    deployments = yaml.safe_load(VALUES.read_text())["dagster-user-deployments"]["deployments"]
    served = {d["name"]: d["codeServerArgs"][d["codeServerArgs"].index("-m") + 1] for d in deployments}
    assert served == workspace_locations()
    for d in deployments:
        secrets = {s["name"] for s in d["envSecrets"]}
        assert secrets == {"hurricane-postgres", f"hurricane-{d['name']}-keys"}, d["name"]
        own_roots = [e["name"] for e in d["env"] if e["name"].startswith("HURRICANE_STORAGE_ROOT_")]
        assert own_roots in ([], [f"HURRICANE_STORAGE_ROOT_{d['name'].upper()}"]), d["name"]
