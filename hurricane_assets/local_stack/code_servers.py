"""One Dagster gRPC code server per code location, as a deployment runs them (one user-code
deployment per domain plus the exchange), and the workspace file that points at them.

`dagster code-server start -m <module>` serves the location's definitions over gRPC; the webserver,
the daemon and run workers load every location from those servers instead of importing the code.
Each server gets only the environment it is given: a deployment passes each domain its own
storage root and credentials (`HURRICANE_STORAGE_ROOT_<DOMAIN>`, `HURRICANE_AWS_*_<DOMAIN>`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from hurricane_assets.dagster_layer.workspace import REPO_ROOT, workspace_locations
from hurricane_assets.local_stack.interrupts import deferred_interrupts
from hurricane_assets.local_stack.ports import free_port, wait_for_port
from hurricane_assets.local_stack.service import LocalService

# A code server that has not exited this long after SIGTERM is killed. Long enough for a clean
# gRPC shutdown on a loaded machine; 15 s per server made a Ctrl-C wait minutes.
STOP_GRACE = 5.0


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
        self.tmp: Path | None = None

    def start(self, timeout: float = 240) -> LocalCodeServers:
        """Start every server and wait until each listens; if one fails, those started are stopped.
        Open the instance (DAGSTER_HOME) before: servers opening a fresh SQLite instance at the same
        moment race on its migrations."""
        try:
            # each server's temp files (the socket of the gRPC server it spawns) in a folder stop()
            # removes: a server killed after its grace leaves its socket file behind
            self.tmp = Path(tempfile.mkdtemp(prefix="hurricane-code-servers-"))
            for name, module in self.locations.items():
                # a Ctrl-C between the fork and the assignment would leave a server nobody stops
                with deferred_interrupts():
                    self.servers[name] = self._spawn(name, module)
            for server in self.servers.values():
                wait_for_port(server.port, timeout=timeout, what=f"code server {server.location}",
                              alive=lambda s=server: s.process.poll() is None)
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, name: str, module: str) -> CodeServer:
        port = free_port()
        tmp = self.tmp / name
        tmp.mkdir()
        env = {**self.env, **self.env_for.get(name, {}), "TMPDIR": str(tmp)}
        command = [str(Path(sys.executable).parent / "dagster"), "code-server", "start", "-m", module,
                   "-h", "127.0.0.1", "-p", str(port), "--location-name", name, "-d", str(REPO_ROOT),
                   "--log-level", "warning"]
        with open(self.log_dir / f"code-server-{name}.log", "ab") if self.log_dir else open(os.devnull, "wb") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       # its own process group: stop() ends the server and the child it spawns
                                       start_new_session=True)
        return CodeServer(name, module, port, process)

    def process_groups(self) -> dict[str, int]:
        """Each server's process group (its pid): the server and the gRPC server it spawned."""
        return {name: server.process.pid for name, server in self.servers.items()}

    def ports(self) -> dict[str, int]:
        return {name: server.port for name, server in self.servers.items()}

    def write_workspace(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump(grpc_workspace(self.ports()), sort_keys=False))
        return path

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM every server's process group at once, wait at most `grace` seconds for all of them
        together (not per server: sequential waits kept a Ctrl-C'd demo alive for over a minute),
        SIGKILL what is left, then remove their temp files."""
        processes = [server.process for server in self.servers.values()]
        _signal_groups(processes, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while any(map(_group_alive, processes)) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_groups(processes, signal.SIGKILL)  # also the gRPC child of a server that exited alone
        for process in processes:
            process.wait()
        self.servers.clear()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _signal_groups(processes: list[subprocess.Popen], sig: signal.Signals) -> None:
    """Signal each server's process group: the server and the gRPC server it spawned."""
    for process in processes:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # nothing of that group is left
            pass


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap an exited server: a zombie would keep its group alive
    return group_alive(process.pid)


def group_alive(pgid: int) -> bool:
    """A process of the group is alive: not gone, not a zombie (a dead process its new parent, here
    often a PID 1 that reaps slowly, has not reaped yet; it holds no port and no file)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, owned by another user
        pass
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, pgrp
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
