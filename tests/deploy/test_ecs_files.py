"""The ECS variant (deploy/ecs/) cannot run here either (no AWS account), so it is checked the way the
engines would take it, offline: every task definition, placeholders substituted as envsubst would,
against botocore's own model of `ecs RegisterTaskDefinition`; the ECS workspace against Dagster's
workspace schema, each code server's container context against dagster-aws's; and the tasks against
the Kubernetes deployment they mirror (deploy/k8s): same locations and modules, same variables, same
Secrets Manager entries, each location's runs with its own secrets only. The services (deploy/ecs/services/),
likewise against botocore's model of `ecs CreateService`, and against the task definitions and names
they serve: one per task definition the launcher does not start, each code server and agent published
in Service Connect under the host the workspace or the exchange names, the daemon and the agents one
task at a time."""

from __future__ import annotations

import json
import os
import re
import string
from urllib.parse import urlsplit

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator
from dagster._core.workspace.config_schema import process_workspace_config
from dagster_aws.ecs.container_context import EcsContainerContext

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from hurricane_assets.identity.keys import EnvKeySource
from tests.deploy.test_deploy_files import (
    AGENT_SERVER,
    AGENTS,
    DOCKERFILE,
    domains,
    external_secrets,
    user_deployments,
)

ECS = REPO_ROOT / "deploy/ecs"
TASK_DEFINITIONS = sorted((ECS / "task-definitions").glob("*.json"))
SERVICES = sorted((ECS / "services").glob("*.json"))
WORKSPACE = ECS / "workspace.yaml"
INSTANCE = ECS / "dagster.yaml"
K8S_INSTANCE = REPO_ROOT / "deploy/k8s/dagster.yaml"
SCALE_DOC = REPO_ROOT / "docs/scale.md"
NAMESPACE = "hurricane.local"  # the Cloud Map namespace of ECS Service Connect
# What envsubst is given (docs/scale.md); made-up values of the right shape
PLACEHOLDERS = {
    "AWS_ACCOUNT_ID": "123456789012",
    "AWS_REGION": "eu-west-1",
    "IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/data-hurricane:0.1.0",
    "EFS_FILE_SYSTEM_ID": "fs-0123456789abcdef0",
    "EFS_ACCESS_POINT_TRUST": "fsap-0000000000000000a",
    **{f"EFS_ACCESS_POINT_AGENT_{d.upper()}": f"fsap-000000000000000{i}" for i, d in enumerate(domains())},
    "ECS_CLUSTER": "hurricane",
    "SUBNET_A": "subnet-0123456789abcdef0",
    "SUBNET_B": "subnet-0fedcba9876543210",
    "SECURITY_GROUP": "sg-0123456789abcdef0",
}
SECRET_LOOKING = re.compile(r"KEY|SECRET|PASSWORD|TOKEN", re.IGNORECASE)
CHART_ONLY_SECRET_KEYS = {"postgresql-password"}  # read by the Dagster chart, not a variable of the code


def load(path) -> dict:
    """The file as `aws ecs register-task-definition` / `create-service --cli-input-json` gets it after envsubst."""
    return json.loads(string.Template(path.read_text()).substitute(PLACEHOLDERS))  # KeyError: unknown ${…}


def task_definitions() -> dict[str, dict]:
    return {td["family"]: td for td in map(load, TASK_DEFINITIONS)}


def containers() -> list[tuple[str, dict]]:
    return [(family, c) for family, td in task_definitions().items() for c in td["containerDefinitions"]]


def environment(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("environment", [])}


def secret_refs(container: dict) -> dict[str, tuple[str, str]]:
    """variable -> (Secrets Manager entry, JSON key), from `arn:aws:secretsmanager:<region>:<account>:secret:
    <name>:<json-key>:<stage>:<version>`."""
    refs = {}
    for s in container.get("secrets", []):
        parts = s["valueFrom"].split(":")
        assert parts[:3] == ["arn", "aws", "secretsmanager"] and parts[5] == "secret", s["valueFrom"]
        assert parts[3:5] == [PLACEHOLDERS["AWS_REGION"], PLACEHOLDERS["AWS_ACCOUNT_ID"]], s["valueFrom"]
        refs[s["name"]] = (parts[6], parts[7])
    return refs


def command_option(command: list[str], option: str) -> str:
    return command[command.index(option) + 1]


def code_servers() -> dict[str, tuple[dict, dict]]:
    """location -> (task definition, container) of the task definitions running `dagster code-server start`."""
    found: dict[str, list] = {}
    for td in task_definitions().values():
        for c in td["containerDefinitions"]:
            if c.get("command", [])[:3] == ["dagster", "code-server", "start"]:
                found.setdefault(command_option(c["command"], "--location-name"), []).append((td, c))
    assert all(len(v) == 1 for v in found.values()), {k: len(v) for k, v in found.items()}
    return {k: v[0] for k, v in found.items()}


def run_task_of(server: dict) -> tuple[dict, dict, EcsContainerContext]:
    """The run task definition a code server's container context names, its run container, the context."""
    raw = json.loads(command_option(server["command"], "--container-context"))
    context = EcsContainerContext.create_from_config(raw)  # dagster-aws's own schema: raises on a bad key
    td = task_definitions()[context.task_definition_arn]
    return td, next(c for c in td["containerDefinitions"] if c["name"] == (context.container_name or "run")), context


def k8s_secret_refs(deployment: dict) -> dict[str, tuple[str, str]]:
    secrets = external_secrets()
    return {v: r for s in deployment["envSecrets"] for v, r in secrets[s["name"]].items()
            if v not in CHART_ONLY_SECRET_KEYS}


def instance_variables(path) -> set[str]:
    """The variables an instance file reads with `{env: NAME}`."""
    return set(re.findall(r"\{env:\s*(\w+)\}", path.read_text()))


@pytest.mark.parametrize("path", TASK_DEFINITIONS, ids=lambda p: p.name)
def test_every_task_definition_is_valid_register_task_definition_input(path):
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(load(path), shape)
    assert not report.has_errors(), report.generate_report()
    assert not enum_errors(load(path), shape)


def test_botocores_model_rejects_a_misspelt_field():
    shape = botocore.session.get_session().get_service_model("ecs").operation_model("RegisterTaskDefinition").input_shape
    td = load(TASK_DEFINITIONS[0])
    td["containerDefinitions"][0]["secrets"] = [{"name": "X", "valueForm": "arn:aws:secretsmanager:x"}]
    assert ParamValidator().validate(td, shape).has_errors()


def test_every_placeholder_is_in_the_envsubst_line_of_the_docs():
    files = TASK_DEFINITIONS + SERVICES
    used = {m for p in files for m in re.findall(r"\$\{(\w+)\}", p.read_text())}
    assert not [p.name for p in files if re.search(r"\$(?!\{\w+\})", p.read_text())], "a bare $"
    assert used == PLACEHOLDERS.keys()
    lines = re.findall(r"envsubst '([^']*)'", SCALE_DOC.read_text())
    assert lines and all(set(re.findall(r"\$\{(\w+)\}", line)) == used for line in lines)


@pytest.mark.parametrize("path", TASK_DEFINITIONS, ids=lambda p: p.name)
def test_no_secret_looking_variable_in_a_plain_environment_value(path):
    for container in load(path)["containerDefinitions"]:
        plain = [name for name in environment(container) if SECRET_LOOKING.search(name)]
        assert not plain, f"{container['name']}: {plain} belong in `secrets` (valueFrom a Secrets Manager ARN)"
        secret_refs(container)  # every secret is a Secrets Manager reference of the placeholder account/region


def test_the_ecs_workspace_serves_the_k8s_locations_each_from_its_code_server_task():
    raw = yaml.safe_load(WORKSPACE.read_text())
    assert process_workspace_config(raw).success
    servers = code_servers()
    served = {name: command_option(c["command"], "-m") for name, (_, c) in servers.items()}
    k8s = {name: command_option(d["codeServerArgs"], "-m") for name, d in user_deployments().items()}
    assert served == k8s == workspace_locations()
    entries = {e["grpc_server"]["location_name"]: e["grpc_server"] for e in raw["load_from"]}
    assert entries.keys() == served.keys()
    for name, entry in entries.items():
        _, container = servers[name]
        # Service Connect names it <port mapping name>.<namespace>, on that mapping's port
        ports = {f"{p['name']}.{NAMESPACE}": p["containerPort"] for p in container["portMappings"]}
        assert ports.get(entry["host"]) == entry["port"], (name, entry, ports)
        assert int(command_option(container["command"], "-p")) == entry["port"]
        assert command_option(container["command"], "-h") == "0.0.0.0"


@pytest.mark.parametrize("location", sorted(workspace_locations()))
def test_a_location_and_its_runs_get_what_its_k8s_deployment_gets_and_no_more(location):
    deployment = user_deployments()[location]
    _, server = code_servers()[location]
    run_td, run, context = run_task_of(server)
    assert run_td["family"] != code_servers()[location][0]["family"], "a run would start another code server"
    k8s_env = {e["name"]: e["value"] for e in deployment["env"]} | {"AWS_REGION": PLACEHOLDERS["AWS_REGION"]}
    ecs_env = environment(server)
    extra = {name: ecs_env.pop(name) for name in ("DAGSTER_HOME", "HURRICANE_LOGS_BUCKET")}  # the instance file's
    assert extra["HURRICANE_LOGS_BUCKET"] == yaml.safe_load(
        (REPO_ROOT / "deploy/k8s/values.yaml").read_text())["computeLogManager"]["config"]["s3ComputeLogManager"]["bucket"]
    if "HURRICANE_AGENTS" in k8s_env:  # other hosts (Service Connect names), the same domains
        assert agents_of(ecs_env.pop("HURRICANE_AGENTS")).keys() == agents_of(k8s_env.pop("HURRICANE_AGENTS")).keys()
    assert ecs_env == k8s_env
    assert secret_refs(server) == k8s_secret_refs(deployment)
    # the run gets exactly what its location has (includeConfigInLaunchedRuns on Kubernetes)
    assert (run["environment"], run["secrets"], run["mountPoints"]) == (
        server["environment"], server["secrets"], server["mountPoints"])
    assert run_td["executionRoleArn"] == code_servers()[location][0]["executionRoleArn"]
    resources = yaml.safe_load(INSTANCE.read_text())["run_launcher"]["config"]["run_resources"]
    assert (run_td["cpu"], run_td["memory"]) == (resources["cpu"], resources["memory"])


def test_every_variable_an_ecs_task_sets_is_one_deploy_k8s_sets():
    k8s = {e["name"] for d in user_deployments().values() for e in d["env"]}
    k8s |= {v for s in external_secrets().values() for v in s}
    k8s |= {e["name"] for doc in yaml.safe_load_all(AGENTS.read_text()) if doc["kind"] == "Deployment"
            for c in doc["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])}
    k8s |= instance_variables(K8S_INSTANCE) | {"DAGSTER_HOME"}  # the chart's global.dagsterHome
    ecs = {name for _, c in containers() for name in [*environment(c), *secret_refs(c)]}
    assert ecs - k8s == set()


def dockerfile_destination(source: str) -> str:
    """Where the Dockerfile puts `source` (a path of the build context): COPY into WORKDIR, or a later `cp`."""
    text = DOCKERFILE.read_text()
    copied = re.search(rf"^COPY .*\b{re.escape(source)}\b.* (\S+)$", text, re.M)
    assert copied, f"the Dockerfile does not copy {source}"
    workdir = re.search(r"^WORKDIR (\S+)$", text, re.M).group(1)
    return os.path.normpath(os.path.join(workdir, copied.group(1), os.path.basename(source)))


def test_the_webserver_and_daemon_read_the_ecs_instance_file_and_workspace_from_the_image():
    text = DOCKERFILE.read_text()
    home = re.search(r"\bcp deploy/ecs/dagster\.yaml (\S+)", text)
    assert home, "the Dockerfile does not install deploy/ecs/dagster.yaml into an instance home"
    tds = task_definitions()
    for family in ("hurricane-webserver", "hurricane-daemon"):
        (container,) = tds[family]["containerDefinitions"]
        assert command_option(container["command"], "-w") == dockerfile_destination("deploy/ecs/workspace.yaml")
        env = environment(container) | secret_refs(container)
        assert instance_variables(INSTANCE) <= env.keys(), family
    needs_instance = [tds[family] for family in ("hurricane-webserver", "hurricane-daemon")]
    needs_instance += [run_task_of(server)[0] for _, server in code_servers().values()]
    for td in needs_instance:  # runs resolve the instance file's `env:` themselves
        for c in td["containerDefinitions"]:
            assert environment(c)["DAGSTER_HOME"].rstrip("/") == home.group(1).rstrip("/"), td["family"]
            assert instance_variables(INSTANCE) <= (environment(c) | secret_refs(c)).keys(), td["family"]


def enum_errors(value, shape, where: str = "") -> list[str]:
    """The values outside their enum, which botocore's ParamValidator leaves to the server."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return [e for k, v in value.items() if k in shape.members
                for e in enum_errors(v, shape.members[k], f"{where}.{k}")]
    if shape.type_name == "list" and isinstance(value, list):
        return [e for i, v in enumerate(value) for e in enum_errors(v, shape.member, f"{where}[{i}]")]
    if shape.type_name == "map" and isinstance(value, dict):
        return [e for k, v in value.items() for e in enum_errors(v, shape.value, f"{where}[{k}]")]
    enum = getattr(shape, "enum", None)
    return [f"{where}: {value!r} not in {enum}"] if enum and value not in enum else []


def agents_of(value: str) -> dict[str, str]:
    return dict(item.strip().split("=", 1) for item in value.split(",") if item.strip())


def mount_source(td: dict, container: dict, path: str) -> dict:
    names = [m["sourceVolume"] for m in container.get("mountPoints", []) if m["containerPath"] == path]
    assert names, f"{td['family']}: nothing is mounted at {path}"
    return next(v for v in td["volumes"] if v["name"] == names[0])


@pytest.mark.parametrize("domain", domains())
def test_one_agent_per_domain_with_its_own_key_reached_at_the_exchanges_url(domain):
    found = [(td, c) for td in task_definitions().values() for c in td["containerDefinitions"]
             if AGENT_SERVER in c.get("command", []) and command_option(c["command"], "--domain") == domain]
    assert len(found) == 1, f"{len(found)} agent task definitions serve {domain}"
    td, agent = found[0]
    variable = EnvKeySource().variable(domain)
    assert secret_refs(agent) == {variable: external_secrets()[f"hurricane-{domain}-keys"][variable]}
    assert "taskRoleArn" not in td, "the agent needs no AWS permission (no service account token on Kubernetes)"
    trust = mount_source(td, agent, environment(agent)["HURRICANE_TRUST_DIR"])
    state = mount_source(td, agent, "/var/lib/hurricane")  # its HURRICANE_HOME (the image's): witness copy, replay cache
    assert "efsVolumeConfiguration" in state and state != trust, "its state must outlive the task"
    exchange = environment(code_servers()["exchange"][1])
    url = urlsplit(agents_of(exchange["HURRICANE_AGENTS"])[domain])
    ports = {f"{p['name']}.{NAMESPACE}": p["containerPort"] for p in agent["portMappings"]}
    assert ports.get(url.hostname) == url.port == int(command_option(agent["command"], "--port"))
    assert command_option(agent["command"], "--host") == "0.0.0.0"


@pytest.mark.parametrize("location", sorted(workspace_locations()))
def test_every_location_mounts_the_trust_root_read_only(location):
    td, server = code_servers()[location]
    for definition, container in [(td, server), run_task_of(server)[:2]]:
        path = environment(container)["HURRICANE_TRUST_DIR"]
        volume = mount_source(definition, container, path)
        assert volume["efsVolumeConfiguration"]["authorizationConfig"]["accessPointId"] == PLACEHOLDERS[
            "EFS_ACCESS_POINT_TRUST"]
        assert next(m for m in container["mountPoints"] if m["containerPath"] == path)["readOnly"]


# --- the services (deploy/ecs/services/*.json, `aws ecs create-service --cli-input-json`) ---

SINGLETON = {"desiredCount": 1, "maximumPercent": 100, "minimumHealthyPercent": 0}


def create_service_shape():
    return botocore.session.get_session().get_service_model("ecs").operation_model("CreateService").input_shape


def services() -> dict[str, dict]:
    """serviceName -> the service as `aws ecs create-service --cli-input-json` gets it after envsubst."""
    found = {}
    for path in SERVICES:
        service = load(path)
        assert path.name == f"{service['serviceName']}.json", path.name
        found[service["serviceName"]] = service
    return found


def published(service: dict) -> list[tuple[str, int, str]]:
    """(port name, port, DNS name) of every client alias the service publishes in Service Connect."""
    return [(s["portName"], a["port"], a["dnsName"])
            for s in service["serviceConnectConfiguration"].get("services", []) for a in s["clientAliases"]]


def run_families() -> set[str]:
    """The task definitions the launcher starts: the ones the code servers' container contexts name."""
    return {run_task_of(server)[0]["family"] for _, server in code_servers().values()}


def agent_families() -> set[str]:
    return {td["family"] for td in task_definitions().values()
            for c in td["containerDefinitions"] if AGENT_SERVER in c.get("command", [])}


def workspace_hosts() -> dict[str, int]:
    entries = [e["grpc_server"] for e in yaml.safe_load(WORKSPACE.read_text())["load_from"]]
    return {e["host"]: e["port"] for e in entries}


def agent_hosts() -> dict[str, int]:
    urls = agents_of(environment(code_servers()["exchange"][1])["HURRICANE_AGENTS"]).values()
    return {urlsplit(url).hostname: urlsplit(url).port for url in urls}


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_service_is_valid_create_service_input(path):
    report = ParamValidator().validate(load(path), create_service_shape())
    assert not report.has_errors(), report.generate_report()
    assert not enum_errors(load(path), create_service_shape())


def test_botocores_model_rejects_a_misspelt_service_field_or_value():
    service = load(SERVICES[0])
    service["deploymentConfiguration"]["minimumHealthyPercentage"] = 0
    assert ParamValidator().validate(service, create_service_shape()).has_errors()
    service = load(SERVICES[0])
    service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] = "DISABLE"
    assert enum_errors(service, create_service_shape()) == [
        ".networkConfiguration.awsvpcConfiguration.assignPublicIp: 'DISABLE' not in ['ENABLED', 'DISABLED']"]


def test_one_service_per_task_definition_but_the_runs():
    assert run_families(), "no code server names a run task definition"
    assert services().keys() == task_definitions().keys() - run_families()
    for name, service in services().items():
        assert service["taskDefinition"] == name, name  # the family: its latest revision


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_service_runs_on_fargate_in_the_private_subnets_in_service_connect(path):
    service = load(path)
    td = task_definitions()[service["taskDefinition"]]
    assert service["launchType"] == "FARGATE" and "FARGATE" in td["requiresCompatibilities"]
    assert td["networkMode"] == "awsvpc"
    assert service["cluster"] == PLACEHOLDERS["ECS_CLUSTER"]
    assert service["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": [PLACEHOLDERS["SUBNET_A"], PLACEHOLDERS["SUBNET_B"]],
        "securityGroups": [PLACEHOLDERS["SECURITY_GROUP"]],
        "assignPublicIp": "DISABLED"}}
    connect = service["serviceConnectConfiguration"]
    assert connect["enabled"] is True and connect["namespace"] == NAMESPACE
    assert {"key": "app", "value": "data-hurricane"} in service["tags"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_published_port_is_a_port_mapping_of_the_task_definition(path):
    service = load(path)
    td = task_definitions()[service["taskDefinition"]]
    mappings = {p["name"]: p["containerPort"] for c in td["containerDefinitions"] for p in c.get("portMappings", [])}
    for port_name, port, _ in published(service):
        assert port_name in mappings, (service["serviceName"], port_name, mappings)
        assert mappings[port_name] == port, (service["serviceName"], port_name)


def test_the_code_servers_publish_the_workspace_hosts_and_the_agents_the_exchanges():
    servers = {td["family"] for td, _ in code_servers().values()}
    by_service = {name: {(dns, port) for _, port, dns in published(s)} for name, s in services().items()}
    assert set().union(*(by_service[f] for f in servers)) == set(workspace_hosts().items())
    assert set().union(*(by_service[f] for f in agent_families())) == set(agent_hosts().items())
    assert all(len(by_service[f]) == 1 for f in servers | agent_families())  # each its own host
    for location, (td, _) in code_servers().items():  # and its own location's
        (entry,) = [e["grpc_server"] for e in yaml.safe_load(WORKSPACE.read_text())["load_from"]
                    if e["grpc_server"]["location_name"] == location]
        assert by_service[td["family"]] == {(entry["host"], entry["port"])}, location


def test_the_webserver_and_daemon_are_clients_only():
    for name in ("hurricane-webserver", "hurricane-daemon"):
        assert "services" not in services()[name]["serviceConnectConfiguration"], name
        assert "loadBalancers" not in services()[name], "a load balancer is the account's choice (docs/scale.md)"


def test_the_daemon_and_each_agent_run_one_task_and_never_two():
    # one dagster-daemon (a singleton), one witness per domain: a deployment stops the old task first
    singletons = {"hurricane-daemon"} | agent_families()
    assert len(singletons) == 1 + len(domains())
    for name in singletons:
        service = services()[name]
        assert {"desiredCount": service["desiredCount"], **service["deploymentConfiguration"]} == SINGLETON, name
    for name, service in services().items():  # the others roll: the new task up before the old one stops
        if name not in singletons:
            assert service["deploymentConfiguration"]["minimumHealthyPercent"] >= 100, name
            assert service["deploymentConfiguration"]["maximumPercent"] > 100, name


def test_the_docs_loop_creates_the_published_services_before_their_clients():
    # a Service Connect client resolves only the endpoints that existed when its task started
    order = [load(p)["serviceName"] for p in SERVICES]  # the glob's order
    publishers = [i for i, name in enumerate(order) if published(services()[name])]
    clients_only = [i for i, name in enumerate(order) if not published(services()[name])]
    assert max(publishers) < min(clients_only)
    assert max(order.index(f) for f in agent_families()) < order.index(code_servers()["exchange"][0]["family"])
    assert "aws ecs create-service --cli-input-json" in SCALE_DOC.read_text()
