"""One Dagster gRPC code server per code location, as a deployment runs them (one user-code
deployment per domain plus the exchange), and the workspace file that points at them.

`dagster code-server start -m <module>` serves the location's definitions over gRPC; the webserver,
the daemon and run workers load every location from those servers instead of importing the code.
Each server gets only the environment it is given: a deployment passes each domain its own
storage root and credentials (`HURRICANE_STORAGE_ROOT_<DOMAIN>`, `HURRICANE_AWS_*_<DOMAIN>`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from hurricane_assets.local_stack.ports import free_port, wait_for_port
from hurricane_assets.local_stack.service import LocalService


@dataclass
class CodeServer:
    location: str
    module: str
    port: int
    process: subprocess.Popen


def grpc_workspace(servers: Mapping[str, int], host: str = "127.0.0.1") -> dict:
    """A workspace whose locations are gRPC servers (location name → port)."""
    return {"load_from": [{"grpc_server": {"host": host, "port": port, "location_name": name}}
                          for name, port in servers.items()]}


class LocalCodeServers(LocalService):
    """`with LocalCodeServers(env, log_dir) as servers: servers.write_workspace(path)`."""

    def __init__(self, env: Mapping[str, str] | None = None, *, log_dir: Path | None = None,
                 locations: Mapping[str, str] | None = None, env_for: Mapping[str, Mapping[str, str]] | None = None):
        self.env = dict(env if env is not None else os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), self.env.get("PYTHONPATH")]))
        self.log_dir = log_dir
        self.locations = dict(locations if locations is not None else workspace_locations())
        self.env_for = {k: dict(v) for k, v in (env_for or {}).items()}  # per-location extra variables
        self.servers: dict[str, CodeServer] = {}

    def start(self, timeout: float = 240) -> LocalCodeServers:
        """Start every server and wait until each listens. Open the instance (DAGSTER_HOME) before:
        servers opening a fresh SQLite instance at the same moment race on its migrations."""
        dagster = str(Path(sys.executable).parent / "dagster")
        for name, module in self.locations.items():
            port = free_port()
            log = open(self.log_dir / f"code-server-{name}.log", "ab") if self.log_dir else subprocess.DEVNULL
            process = subprocess.Popen(
                [dagster, "code-server", "start", "-m", module, "-h", "127.0.0.1", "-p", str(port),
                 "--location-name", name, "-d", str(REPO_ROOT), "--log-level", "warning"],
                cwd=REPO_ROOT, env={**self.env, **self.env_for.get(name, {})}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the server and the child it spawns
            )
            self.servers[name] = CodeServer(name, module, port, process)
        for server in self.servers.values():
            wait_for_port(server.port, timeout=timeout, what=f"code server {server.location}",
                          alive=lambda s=server: s.process.poll() is None)
        return self

    def ports(self) -> dict[str, int]:
        return {name: server.port for name, server in self.servers.items()}

    def write_workspace(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(grpc_workspace(self.ports()), sort_keys=False))
        return path

    def stop(self) -> None:
        for server in self.servers.values():
            if server.process.poll() is None:
                os.killpg(server.process.pid, signal.SIGTERM)
        for server in self.servers.values():
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait()
        self.servers.clear()
