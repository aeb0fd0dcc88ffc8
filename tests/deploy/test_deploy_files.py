"""The deployment files cannot run here (no cluster), so they are checked the way the engines would:
every dagster.yaml through Dagster's own instance schema and each configured class's own config
schema, the Helm values against the chart keys they use, and both against the workspace; each pod's
environment through the settings functions the code reads it with; each instance file's modules
against what the image installs."""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import tomllib
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hurricane_assets.agents.agent import DomainAgent
from hurricane_assets.agents.exchange import exchange_from_environment
from hurricane_assets.catalog.catalog import load_catalog
from hurricane_assets.contracts.check import share_uri_for
from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from hurricane_assets.identity.keys import SYSTEM_IDENTITY, DefaultKeySource, EnvKeySource, parse_private_key
from hurricane_assets.identity.trust_root import init_trust_root
from hurricane_assets.masking.keys import ENV_VAR_PREFIX, Keyring
from hurricane_assets.settings import ENVIRONMENTS, POSTGRES_VARIABLES, domain_credentials_for, hurricane_paths
from hurricane_assets.storage import storage_options
from negotiation_graph.terms import Environment, ShareTerms

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
        roots = [e["name"] for e in d["env"] if e["name"].startswith("HURRICANE_STORAGE_ROOT_")]
        wanted = domains() if d["name"] == "exchange" else [d["name"]]  # the exchange delivers between them all
        assert sorted(roots) == sorted(f"HURRICANE_STORAGE_ROOT_{name.upper()}" for name in wanted), d["name"]


# --- What the pods read, evaluated with the code's own settings functions -------------------------
# A pod's environment is its `env`, plus every variable of the Secrets it names (values made up here,
# one per Secrets Manager reference, so two pods given the same reference get the same value), plus the
# image's ENV. Paths that are mounts in the cluster are replaced by temp folders holding what the mount
# holds (the trust root), after checking the mount is there.

DOCKERFILE = REPO_ROOT / "deploy/Dockerfile"
PYPROJECT = REPO_ROOT / "pyproject.toml"
EXTERNAL_SECRETS = REPO_ROOT / "deploy/k8s/external-secrets.yaml"
AGENTS = REPO_ROOT / "deploy/k8s/agents.yaml"
TRUST_ROOT_CONFIGMAP = "hurricane-trust-root"  # made by the key ceremony from `hurricane keys init`'s trust/
AGENT_SERVER = "hurricane_assets.agents.server"


def domains() -> list[str]:
    return sorted(set(workspace_locations()) - {"exchange"})


def user_deployments() -> dict[str, dict]:
    return {d["name"]: d for d in yaml.safe_load(VALUES.read_text())["dagster-user-deployments"]["deployments"]}


def external_secrets() -> dict[str, dict[str, tuple[str, str]]]:
    """Secret name -> {variable: (Secrets Manager entry, property)}."""
    return {doc["spec"]["target"]["name"]: {d["secretKey"]: (d["remoteRef"]["key"], d["remoteRef"]["property"])
                                            for d in doc["spec"]["data"]}
            for doc in yaml.safe_load_all(EXTERNAL_SECRETS.read_text())}


def secret_value(variable: str, ref: tuple[str, str]) -> str:
    seed = hashlib.sha256("/".join(ref).encode()).digest()
    if variable.startswith(EnvKeySource.PREFIX):
        return base64.b64encode(seed).decode()  # an Ed25519 seed, pinned by the `trust` fixture
    return seed.hex()  # a masking key, or a stand-in credential


def image_env() -> dict[str, str]:
    """The `ENV` of the Dockerfile (`NAME=value` pairs)."""
    text = " ".join(line[4:] for line in DOCKERFILE.read_text().splitlines() if line.startswith("ENV "))
    return dict(pair.split("=", 1) for pair in text.split())


def deployment_environ(deployment: dict) -> dict[str, str]:
    secrets = external_secrets()
    environ = image_env() | {e["name"]: e["value"] for e in deployment.get("env", [])}
    for ref in deployment.get("envSecrets", []):
        environ |= {v: secret_value(v, r) for v, r in secrets[ref["name"]].items()}
    return environ


def container_environ(container: dict) -> dict[str, str]:
    secrets = external_secrets()
    environ = dict(image_env())
    for ref in container.get("envFrom", []):
        environ |= {v: secret_value(v, r) for v, r in secrets[ref["secretRef"]["name"]].items()}
    for e in container.get("env", []):
        if "value" in e:
            environ[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["secretKeyRef"]
            environ[e["name"]] = secret_value(ref["key"], secrets[ref["name"]][ref["key"]])
    return environ


def mounted_at(volumes: list[dict], mounts: list[dict], path: str) -> dict:
    """The volume mounted at `path` (its source: `configMap`, `persistentVolumeClaim`, …)."""
    names = [m["name"] for m in mounts if m["mountPath"].rstrip("/") == path.rstrip("/")]
    assert names, f"nothing is mounted at {path}"
    return next(v for v in volumes if v["name"] == names[0])


def enter_pod(monkeypatch, environ: dict[str, str], home, trust_dir) -> None:
    """Only this pod's HURRICANE_* and AWS_* variables; its home and trust root where the test put them."""
    for name in [n for n in os.environ if n.startswith(("HURRICANE_", "AWS_"))]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HURRICANE_HOME", str(home))
    monkeypatch.setenv("HURRICANE_TRUST_DIR", str(trust_dir))


@pytest.fixture
def trust(tmp_path):
    """The trust root the key ceremony would write: pinning the keys the Secrets hand out."""

    class SecretKeys:
        def load(self, identity):
            variable = EnvKeySource().variable(identity)
            refs = [r for s in external_secrets().values() for v, r in s.items() if v == variable]
            assert len(refs) == 1, f"{variable} is in {len(refs)} Secrets Manager entries, not one"
            return parse_private_key(identity, secret_value(variable, refs[0]).encode(), variable)

    folder = tmp_path / "trust"
    init_trust_root(domains(), SecretKeys(), folder=folder)
    return folder


def load_masking_key(environ: dict[str, str], env: str) -> Keyring:
    # without its variable, Keyring.load would list the environment's tables on S3 to word its error
    assert ENV_VAR_PREFIX + env.upper() in environ, f"no masking key for {env}"
    return Keyring.load(env)


def agent_manifests() -> tuple[dict[str, dict], dict[str, dict]]:
    """Deployments and Services of agents.yaml, by name."""
    docs = list(yaml.safe_load_all(AGENTS.read_text()))
    by_kind = {kind: {d["metadata"]["name"]: d for d in docs if d["kind"] == kind} for kind in ("Deployment", "Service")}
    return by_kind["Deployment"], by_kind["Service"]


def agent_of(domain: str) -> tuple[dict, dict]:
    """(pod spec, container) of the Deployment serving `domain`'s agent."""
    found = []
    for deployment in agent_manifests()[0].values():
        pod = deployment["spec"]["template"]["spec"]
        for container in pod["containers"]:
            command = [*container.get("command", []), *container.get("args", [])]
            if AGENT_SERVER in command and command[command.index("--domain") + 1] == domain:
                found.append((deployment, pod, container))
    assert len(found) == 1, f"{len(found)} agent deployments serve {domain}, not one"
    return found[0]


@pytest.mark.parametrize("domain", domains())
def test_the_exchange_resolves_each_domains_tables_and_inbox_where_the_domain_pod_writes_them(domain, monkeypatch, tmp_path):
    catalog = load_catalog()
    deployments = user_deployments()
    others = [(p, ds) for p, ds, _ in catalog.datasets() if p != domain]

    def resolve(location: str) -> dict[tuple, str]:
        enter_pod(monkeypatch, deployment_environ(deployments[location]), tmp_path / location, tmp_path / "trust")
        uris = {("prod", domain, ds): hurricane_paths().table_uri("prod", domain, ds)
                for p, ds, _ in catalog.datasets() if p == domain}
        for env in ENVIRONMENTS:  # the share inbox: deliveries land where the consumer's runs read them
            for producer, ds in others:
                terms = ShareTerms.model_construct(producer=producer, consumer=domain, dataset=ds,
                                                   environment=Environment(env))
                uris[(env, producer, ds)] = share_uri_for(terms)
        return uris

    own = resolve(domain)
    root = deployment_environ(deployments[domain])[f"HURRICANE_STORAGE_ROOT_{domain.upper()}"]
    assert all(uri.startswith(f"{root}/envs/") for uri in own.values())
    assert resolve("exchange") == own
    # the exchange reaches them with its own credentials (read prod, write inboxes), never a domain's
    assert all(domain_credentials_for(uri) == {} for uri in own.values())
    assert storage_options(own[("prod", *others[0])])["AWS_ACCESS_KEY_ID"] == os.environ["AWS_ACCESS_KEY_ID"]


def test_the_exchange_holds_no_domains_key_or_credentials():
    environ = deployment_environ(user_deployments()["exchange"])
    domain_only = [v for v in environ if v.startswith(("HURRICANE_AWS_", "HURRICANE_SIGNING_KEY_"))]
    assert domain_only == [EnvKeySource().variable(SYSTEM_IDENTITY)]


def test_the_exchange_pod_has_every_masking_key_its_trust_root_and_an_agent_per_domain(monkeypatch, tmp_path, trust):
    exchange = user_deployments()["exchange"]
    environ = deployment_environ(exchange)
    assert "HURRICANE_TRUST_DIR" in environ, "the trust root would be looked for under $HURRICANE_HOME/trust"
    mount = mounted_at(exchange.get("volumes", []), exchange.get("volumeMounts", []), environ["HURRICANE_TRUST_DIR"])
    assert mount["configMap"]["name"] == TRUST_ROOT_CONFIGMAP
    enter_pod(monkeypatch, environ, tmp_path / "home", trust)
    for env in ENVIRONMENTS:  # deliveries mask for the contract's environment, prod included
        load_masking_key(environ, env)
    platform_exchange = exchange_from_environment()
    assert not platform_exchange.in_process and sorted(platform_exchange.domains) == domains()
    platform_exchange.router.keyring.key(SYSTEM_IDENTITY)  # its own key, the one the trust root pins
    _, services = agent_manifests()
    for domain, url in platform_exchange.router.transport.urls.items():
        deployment, pod, container = agent_of(domain)
        parsed = urlsplit(url)
        service = services[parsed.hostname.split(".")[0]]
        assert parsed.hostname.split(".")[1:2] in ([], [service["metadata"]["namespace"]]), url
        assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        port = next(p for p in service["spec"]["ports"] if p["port"] == parsed.port)
        command = [*container.get("command", []), *container.get("args", [])]
        assert port["targetPort"] in [p["containerPort"] for p in container["ports"]]
        assert int(command[command.index("--port") + 1]) == port["targetPort"]
        assert command[command.index("--host") + 1] == "0.0.0.0", "the agent must listen beyond its loopback"


@pytest.mark.parametrize("env", [e for e in ENVIRONMENTS if e != "prod"])
def test_the_exchange_masks_shares_with_the_key_each_domain_masks_its_copies_with(env, monkeypatch, tmp_path, trust):
    """A share's tokens join the consumer's own masked copies only under one key per environment."""
    ids = {}
    for name, deployment in user_deployments().items():
        environ = deployment_environ(deployment)
        enter_pod(monkeypatch, environ, tmp_path / name, trust)
        ids[name] = load_masking_key(environ, env).key_id
    assert len(set(ids.values())) == 1, ids


@pytest.mark.parametrize("domain", domains())
def test_one_agent_per_domain_holding_its_own_key_only(domain, monkeypatch, tmp_path, trust):
    deployment, pod, container = agent_of(domain)
    assert "envFrom" not in container, "a whole Secret would hand the agent its S3 credentials too"
    environ = container_environ(container)
    keys = [v for v in environ if v.startswith(EnvKeySource.PREFIX)]
    assert keys == [EnvKeySource().variable(domain)]
    mounts, volumes = container.get("volumeMounts", []), pod.get("volumes", [])
    assert mounted_at(volumes, mounts, environ["HURRICANE_TRUST_DIR"])["configMap"]["name"] == TRUST_ROOT_CONFIGMAP
    # its witness copy and replay cache live under its home: they must outlive the pod
    assert "persistentVolumeClaim" in mounted_at(volumes, mounts, environ["HURRICANE_HOME"])
    assert deployment["spec"].get("replicas", 1) == 1, "two agents would keep two witness copies"
    enter_pod(monkeypatch, environ, tmp_path / "home", trust)
    DomainAgent(domain)  # loads its key, pinned by the trust root, at start
    for other in set(domains()) - {domain}:
        assert DefaultKeySource().load(other) is None


def image_requirements() -> set[str]:
    """The distributions the Dockerfile's `pip install .[extras]` asks for: dependencies plus those extras."""
    match = re.search(r"pip install \"?\.(?:\[([\w,-]+)\])?\"?\s", DOCKERFILE.read_text())
    assert match, "the Dockerfile does not pip install the project"
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = match.group(1).split(",") if match.group(1) else []
    requirements = project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def instance_modules(raw: dict) -> set[str]:
    found = {"dagster_postgres"} if "postgres" in raw.get("storage", {}) else set()  # `storage: postgres:` is its

    def walk(node):
        if isinstance(node, dict):
            found.update([node["module"]] if isinstance(node.get("module"), str) else [])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(raw)
    return found


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_module_an_instance_file_names_is_installed_in_the_image(path):
    installed = image_requirements()
    distributions = importlib.metadata.packages_distributions()
    for module in instance_modules(yaml.safe_load(path.read_text())):
        provided = {canonicalize_name(d) for d in distributions[module.split(".")[0]]}
        assert provided & installed, f"{path.name}: module {module} ({', '.join(provided)}) is not installed by the image"
