"""A real `dagster-webserver` over the repository's workspace, on a free port, for the e2e tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hurricane_assets.dagster_layer.workspace import REPO_ROOT
from hurricane_assets.local_stack.ports import free_port


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@contextmanager
def running_webserver(dagster_home: Path, *, startup_s: float, extra_env: dict | None = None) -> Iterator[int]:
    """`dagster-webserver -w workspace.yaml` on `dagster_home`'s instance until the block ends; yields
    its port once `/server_info` answers (fails the test after `startup_s`)."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home), **(extra_env or {})}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_s
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, "webserver exited early"
                time.sleep(1)
        else:
            pytest.fail(f"webserver did not answer within {startup_s:.0f} s")
        yield port
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
