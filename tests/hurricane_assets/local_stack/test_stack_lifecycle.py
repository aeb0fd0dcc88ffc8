"""Starting and stopping the local stack without its services: the code servers are stand-in processes
(so these run in seconds), PostgreSQL and S3 are not started. A start that fails at any step stops
what it started; a stop is prompt, takes every server's process group and its temp files with it."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hurricane_assets.local_stack.code_servers as code_servers
import hurricane_assets.local_stack.stack as stack_module
from hurricane_assets.local_stack.code_servers import LocalCodeServers
from hurricane_assets.local_stack.postgres import LocalPostgres
from hurricane_assets.local_stack.s3 import LocalS3
from hurricane_assets.local_stack.stack import LocalStack

# A code server that, like a gRPC server, puts a socket file in its temp folder, and that ignores
# SIGTERM (as a server busy shutting down would): it writes that file's path to `argv[1]` once ready.
STUBBORN_SERVER = ("import signal, sys, tempfile, time\n"
                   "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                   "fd, path = tempfile.mkstemp()\n"
                   "open(sys.argv[1], 'w').write(path)\n"
                   "time.sleep(600)\n")
LOCATIONS = {name: f"domains.{name}.definitions" for name in ("customers", "payments", "risk", "marketing")}


class StandIns:
    def __init__(self, where: Path):
        self.where = where  # `<location>.where` files, each naming the socket file of its server
        self.pids: list[int] = []


@pytest.fixture
def stand_in_servers(tmp_path, monkeypatch) -> StandIns:
    """`dagster code-server start` replaced by STUBBORN_SERVER."""
    stand_ins = StandIns(tmp_path / "where")
    stand_ins.where.mkdir()
    real_popen = subprocess.Popen

    def popen(command, *args, **kwargs):
        if "code-server" not in command:
            return real_popen(command, *args, **kwargs)
        location = command[command.index("--location-name") + 1]
        where = str(stand_ins.where / f"{location}.where")
        process = real_popen([sys.executable, "-c", STUBBORN_SERVER, where], *args, **kwargs)
        stand_ins.pids.append(process.pid)
        return process

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(stack_module.LocalCodeServers, "__init__", _with_locations(LocalCodeServers.__init__))
    return stand_ins


def _with_locations(init):
    def __init__(self, *args, **kwargs):
        init(self, *args, **{"locations": LOCATIONS, **kwargs})
    return __init__


@pytest.fixture
def no_services(monkeypatch):
    """The stack without PostgreSQL, S3 and a Dagster instance: only its code servers start."""
    monkeypatch.setattr("hurricane_assets.local_stack.postgres.server_bin_dir", lambda: Path("/nonexistent"))
    monkeypatch.setattr(LocalPostgres, "start", lambda self: self)
    monkeypatch.setattr(LocalS3, "start", lambda self: self)
    monkeypatch.setattr(stack_module, "hurricane_instance", lambda: None)


def _wait_until_ready(where: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + 60
    while len(list(where.glob("*.where"))) < count or not all(p.read_text() for p in where.glob("*.where")):
        assert time.monotonic() < deadline, "the stand-in servers did not start"
        time.sleep(0.05)
    return [Path(p.read_text()) for p in where.glob("*.where")]


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_code_server_that_does_not_listen_stops_those_already_started(stand_in_servers, no_services, tmp_path,
                                                                         monkeypatch):
    calls = itertools.count()

    def wait_for_port(port, *, timeout, what, alive=lambda: True):
        if next(calls) == 2:  # the third server: what a start under heavy load hits after 240 s
            raise TimeoutError(f"{what} did not listen on port {port} within {timeout:.0f} s")

    monkeypatch.setattr(code_servers, "wait_for_port", wait_for_port)
    with pytest.raises(TimeoutError, match="did not listen"):
        with LocalStack(tmp_path / "stack"):
            pass
    assert len(stand_in_servers.pids) == len(LOCATIONS)
    assert not [pid for pid in stand_in_servers.pids if _alive(pid)]
    assert "HURRICANE_STORAGE_ROOT" not in os.environ and "HURRICANE_POSTGRES_HOST" not in os.environ


def test_stopping_code_servers_is_prompt_and_removes_their_socket_files(stand_in_servers, monkeypatch):
    monkeypatch.setattr(code_servers, "wait_for_port", lambda *a, **k: None)
    servers = LocalCodeServers(os.environ, locations=LOCATIONS).start()
    sockets = _wait_until_ready(stand_in_servers.where, len(LOCATIONS))
    pids = [s.process.pid for s in servers.servers.values()]
    assert all(path.exists() for path in sockets)

    started = time.monotonic()
    servers.stop()
    # all four ignore SIGTERM: one shared grace, then SIGKILL (one 15 s wait each was a minute here)
    assert time.monotonic() - started < 10
    assert not [pid for pid in pids if _alive(pid)]
    assert not [path for path in sockets if path.exists()]
