"""The ECS variant (deploy/ecs/) cannot run here either (no AWS account), so it is checked the way the
engines would take it, offline: every task definition, placeholders substituted as envsubst would,
against botocore's own model of `ecs RegisterTaskDefinition`; the ECS workspace against Dagster's
workspace schema, each code server's container context against dagster-aws's; and the tasks against
the Kubernetes deployment they mirror (deploy/k8s): same locations and modules, same variables, same
Secrets Manager entries, each location's runs with its own secrets only. The services (deploy/ecs/services/),
likewise against botocore's model of `ecs CreateService`, and against the task definitions and names
they serve: one per task definition the launcher does not start, each code server published in Service
Connect under the host the workspace names, each agent registered in its own Cloud Map service of the
private DNS namespace `agents.hurricane.internal` under the host the exchange and its runs name (runs are
RunTask tasks, outside Service Connect), the daemon and the agents one task at a time."""

from __future__ import annotations

import json
import os
import re
import shlex
import string
from urllib.parse import urlsplit

import botocore.session
import pytest
import yaml
from botocore.validate import ParamValidator
from dagster._core.workspace.config_schema import process_workspace_config
from dagster_aws.ecs.container_context import EcsContainerContext

from hurricane_assets.agents.exchange import exchange_from_environment
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
# The private DNS namespace (Cloud Map service discovery) of the agents: plain VPC DNS, which every task
# resolves, the run tasks the launcher starts with RunTask included (Service Connect names they cannot)
AGENT_NAMESPACE = "agents.hurricane.internal"
AGENT_PORT = 8700
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
    **{f"AGENT_REGISTRY_{d.upper()}": f"arn:aws:servicediscovery:eu-west-1:123456789012:service/srv-a1b2c3d4e5f6g70{i}"
       for i, d in enumerate(domains())},
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
    if "HURRICANE_AGENTS" in k8s_env:  # the same domains and agent names, on Cloud Map DNS instead of a k8s Service
        ecs_agents, k8s_agents = agents_of(ecs_env.pop("HURRICANE_AGENTS")), agents_of(k8s_env.pop("HURRICANE_AGENTS"))
        assert ecs_agents.keys() == k8s_agents.keys()
        for domain, url in ecs_agents.items():
            ecs_url, k8s_url = urlsplit(url), urlsplit(k8s_agents[domain])
            assert ecs_url.hostname == f"{k8s_url.hostname.split('.')[0]}.{AGENT_NAMESPACE}", url
            assert ecs_url._replace(netloc="") == k8s_url._replace(netloc="") and ecs_url.port == k8s_url.port
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
    # the host: the name its service registers the task under (Cloud Map service = ECS service name,
    # docs/scale.md), in the agents' namespace; the port: the one it listens on
    (service,) = [s for s in services().values() if s["taskDefinition"] == td["family"]]
    assert service["serviceRegistries"] == [{"registryArn": PLACEHOLDERS[f"AGENT_REGISTRY_{domain.upper()}"]}]
    assert url.hostname == f"{service['serviceName']}.{AGENT_NAMESPACE}"
    assert url.port in [p["containerPort"] for p in agent["portMappings"]]
    assert url.port == int(command_option(agent["command"], "--port"))
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
            for s in service.get("serviceConnectConfiguration", {}).get("services", []) for a in s["clientAliases"]]


def agent_url(domain: str) -> str:
    """Where the exchange and its runs reach `domain`'s agent: its Cloud Map service's A record."""
    return f"http://hurricane-agent-{domain}.{AGENT_NAMESPACE}:{AGENT_PORT}/"


def run_families() -> set[str]:
    """The task definitions the launcher starts: the ones the code servers' container contexts name."""
    return {run_task_of(server)[0]["family"] for _, server in code_servers().values()}


def agent_families() -> set[str]:
    return {td["family"] for td in task_definitions().values()
            for c in td["containerDefinitions"] if AGENT_SERVER in c.get("command", [])}


def workspace_hosts() -> dict[str, int]:
    entries = [e["grpc_server"] for e in yaml.safe_load(WORKSPACE.read_text())["load_from"]]
    return {e["host"]: e["port"] for e in entries}


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
def test_every_service_runs_on_fargate_in_the_private_subnets_the_agents_outside_service_connect(path):
    service = load(path)
    td = task_definitions()[service["taskDefinition"]]
    assert service["launchType"] == "FARGATE" and "FARGATE" in td["requiresCompatibilities"]
    assert td["networkMode"] == "awsvpc"
    assert service["cluster"] == PLACEHOLDERS["ECS_CLUSTER"]
    assert service["networkConfiguration"] == {"awsvpcConfiguration": {
        "subnets": [PLACEHOLDERS["SUBNET_A"], PLACEHOLDERS["SUBNET_B"]],
        "securityGroups": [PLACEHOLDERS["SECURITY_GROUP"]],
        "assignPublicIp": "DISABLED"}}
    if service["taskDefinition"] in agent_families():  # reached by Cloud Map DNS, a client of nothing
        assert "serviceConnectConfiguration" not in service
    else:
        connect = service["serviceConnectConfiguration"]
        assert connect["enabled"] is True and connect["namespace"] == NAMESPACE
        assert "serviceRegistries" not in service
    assert {"key": "app", "value": "data-hurricane"} in service["tags"]


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_published_port_is_a_port_mapping_of_the_task_definition(path):
    service = load(path)
    td = task_definitions()[service["taskDefinition"]]
    mappings = {p["name"]: p["containerPort"] for c in td["containerDefinitions"] for p in c.get("portMappings", [])}
    for port_name, port, _ in published(service):
        assert port_name in mappings, (service["serviceName"], port_name, mappings)
        assert mappings[port_name] == port, (service["serviceName"], port_name)


def test_the_code_servers_publish_the_workspace_hosts_and_nothing_else_publishes():
    servers = {td["family"] for td, _ in code_servers().values()}
    by_service = {name: {(dns, port) for _, port, dns in published(s)} for name, s in services().items()}
    assert set().union(*(by_service[f] for f in servers)) == set(workspace_hosts().items())
    assert all(len(by_service[f]) == 1 for f in servers)  # each its own host
    assert not [name for name in by_service.keys() - servers if by_service[name]]
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
    # a Service Connect client resolves only the endpoints that existed when its task started; the
    # agents are outside Service Connect (a run resolves their Cloud Map names when it calls), any order
    order = [load(p)["serviceName"] for p in SERVICES]  # the glob's order
    connected = [name for name in order if "serviceConnectConfiguration" in services()[name]]
    publishers = [i for i, name in enumerate(connected) if published(services()[name])]
    clients_only = [i for i, name in enumerate(connected) if not published(services()[name])]
    assert publishers and clients_only and max(publishers) < min(clients_only)
    assert "aws ecs create-service --cli-input-json" in SCALE_DOC.read_text()


# --- the agents in Cloud Map DNS (the exchange's runs are RunTask tasks, outside Service Connect) ---


@pytest.mark.parametrize("domain", domains())
def test_every_agent_service_registers_in_its_own_cloud_map_service_and_publishes_nothing(domain):
    (service,) = [s for s in services().values() if s["taskDefinition"] == f"hurricane-agent-{domain}"]
    td = task_definitions()[service["taskDefinition"]]
    assert td["family"] in agent_families() and td["networkMode"] == "awsvpc"
    # one registry (ECS takes one), its own: A records of the task's address, so no port (an SRV record
    # would need one) and no container
    assert service["serviceRegistries"] == [{"registryArn": PLACEHOLDERS[f"AGENT_REGISTRY_{domain.upper()}"]}]
    arn = service["serviceRegistries"][0]["registryArn"].split(":")
    assert arn[:3] == ["arn", "aws", "servicediscovery"] and re.fullmatch(r"service/srv-[a-z0-9]+", arn[5]), arn
    assert arn[3:5] == [PLACEHOLDERS["AWS_REGION"], PLACEHOLDERS["AWS_ACCOUNT_ID"]]
    registries = [PLACEHOLDERS[f"AGENT_REGISTRY_{d.upper()}"] for d in domains()]
    assert len(set(registries)) == len(registries), "two agents in one Cloud Map service"
    assert "serviceConnectConfiguration" not in service and not published(service)


def test_the_exchange_and_its_runs_reach_every_agent_by_its_cloud_map_dns_name(monkeypatch, tmp_path):
    """The exchange's negotiation runs are started by the EcsRunLauncher with RunTask (task definition
    hurricane-run-exchange), not by an ECS service, and a task outside a service is outside Service
    Connect: a Service Connect name (`hurricane-agent-<domain>.hurricane.local`) would not resolve there.
    So the exchange's code server and its run task both name each agent by the A record its service
    registers in Cloud Map (`hurricane-agent-<domain>.agents.hurricane.internal:8700`), plain VPC DNS,
    and every other task definition that names agents does too."""
    expected = {domain: agent_url(domain) for domain in domains()}
    _, server = code_servers()["exchange"]
    run_td, run, _ = run_task_of(server)
    assert run_td["family"] == "hurricane-run-exchange"
    for container in (server, run):
        assert agents_of(environment(container)["HURRICANE_AGENTS"]) == expected
    naming = [(family, c) for family, c in containers() if "HURRICANE_AGENTS" in environment(c)]
    assert {family for family, _ in naming} >= {code_servers()["exchange"][0]["family"], run_td["family"]}
    for family, container in naming:
        assert agents_of(environment(container)["HURRICANE_AGENTS"]) == expected, family
    # and the run's own code reads it so: one A2A agent per domain at exactly those URLs
    monkeypatch.setenv("HURRICANE_HOME", str(tmp_path))
    exchange = exchange_from_environment({"HURRICANE_AGENTS": environment(run)["HURRICANE_AGENTS"]})
    assert not exchange.in_process and exchange.router.transport.urls == expected


def servicediscovery_commands() -> list[tuple[str, dict[str, str], tuple[str, list[str]] | None]]:
    """(operation, {option: value}, loop) of every `aws servicediscovery` command of the bash blocks of
    docs/scale.md, loop being (variable, words) of the `for <variable> in <words>; do … done` the command
    is in, if any."""
    text = "\n".join(re.findall(r"^```bash\n(.*?)^```", SCALE_DOC.read_text(), re.M | re.S))
    text = text.replace("\\\n", " ")  # continuation lines joined
    found = []
    for match in re.finditer(r"aws servicediscovery (.*)", text):
        before = text[:match.start()]
        loops = list(re.finditer(r"\bfor (\w+) in ([^;\n]*); do\b", before))
        loop = loops[-1] if loops and not re.search(r"\bdone\b", before[loops[-1].end():]) else None
        command = shlex.split(match.group(1).split(";")[0], comments=True)
        options = dict(zip(command[1::2], command[2::2]))
        assert all(o.startswith("--") for o in options) and len(command) % 2, command
        found.append((command[0], {o[2:]: v for o, v in options.items()},
                      (loop.group(1), loop.group(2).split()) if loop else None))
    return found


def test_the_docs_create_the_agents_namespace_and_one_cloud_map_service_per_agent():
    model = botocore.session.get_session().get_service_model("servicediscovery")
    commands = servicediscovery_commands()
    ops = [op for op, _, _ in commands]
    assert ops.count("create-private-dns-namespace") == 1 and ops.count("create-service") == 1, ops
    for op, options, loop in commands:
        shape = model.operation_model("".join(w.capitalize() for w in op.split("-"))).input_shape
        members = {"".join(w.capitalize() for w in o.split("-")) for o in options} - {"Query", "Output"}
        assert members <= shape.members.keys(), (op, members - shape.members.keys())
        assert set(shape.required_members) <= members, op
        if op == "create-private-dns-namespace":
            assert options["name"] == AGENT_NAMESPACE
        if op == "create-service":  # one per agent, named as its ECS service, A records (no port to register)
            assert loop and sorted(loop[1]) == domains()
            assert {re.sub(rf"\$\{{?{loop[0]}\b\}}?", d, options["name"]) for d in loop[1]} == {
                s["serviceName"] for s in services().values() if s["taskDefinition"] in agent_families()}
            assert "Type=A" in options["dns-config"] and "SRV" not in options["dns-config"]
    assert all(f"AGENT_REGISTRY_{d.upper()}" in SCALE_DOC.read_text() for d in domains())
