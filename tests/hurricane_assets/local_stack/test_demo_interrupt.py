"""Ctrl-C during `hurricane demo --stack services`, as a terminal sends it: SIGINT to the demo's whole
process group, here while a Dagster run is in progress (its compute-log helpers running), then again
while the stack stops. The demo says so in one line, shows no traceback (neither its own, nor Dagster's
run-failure log, nor one of a helper process), stops every server it started, and exits 130.

The demo runs in a subprocess (interrupted_demo_child.py) through the CLI's real entry point, on the
real stack with one code server; the interrupts are sent when lines appear in its output, never
after a fixed time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]


def live_processes(groups: set[int]) -> list[str]:
    """Processes, not zombies, whose pid or process group is in `groups`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" ", 1)
            command, fields = rest.rsplit(")", 1)
        except (OSError, ValueError):
            continue
        state, _, pgrp = fields.split()[:3]
        if state != "Z" and (int(pid) in groups or int(pgrp) in groups):
            found.append(f"{pid} {command.lstrip('(')}")
    return found


def wait_for(what: str, read, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while what not in (text := read()):
        assert process.poll() is None, f"the demo exited ({process.returncode}) before {what!r}:\n{text}"
        assert time.monotonic() < deadline, f"no {what!r} within {timeout:.0f} s:\n{text}"
        time.sleep(0.1)
    return text


def test_ctrl_c_during_a_run_stops_the_stack_in_one_line_and_exits_130(tmp_path):
    out, err = tmp_path / "out", tmp_path / "err"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HURRICANE_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    env.pop("HURRICANE_DEBUG", None)
    with open(out, "w") as stdout, open(err, "w") as stderr:
        # a session of its own, as a shell gives a job: the group a terminal's Ctrl-C goes to
        demo = subprocess.Popen([sys.executable, "-m", "tests.hurricane_assets.local_stack.interrupted_demo_child"],
                                cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True)
    both = lambda: out.read_text() + err.read_text()  # noqa: E731
    try:
        text = wait_for("waiting for Ctrl-C", both, demo, timeout=600)
        groups = {int(g) for g in re.search(r"stack groups: ([\d ]+)", text)[1].split()}
        folder = Path(re.search(r"workspace: (\S+)/workspace\.grpc\.yaml", " ".join(text.split()))[1])
        assert live_processes(groups) and folder.exists()

        os.killpg(demo.pid, signal.SIGINT)
        deadline = time.monotonic() + 60
        while "interrupted: stopping" not in err.read_text() and demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            os.killpg(demo.pid, signal.SIGINT)  # again, while it stops: it must stop all the same
        except ProcessLookupError:  # already gone
            pass
        code = demo.wait(timeout=120)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    stdout_text, stderr_text = out.read_text(), err.read_text()
    assert code == 130, (code, stderr_text[-3000:])
    assert "Traceback" not in stdout_text + stderr_text, stderr_text[-3000:]
    assert "DagsterExecutionInterruptedError" not in stdout_text + stderr_text, stderr_text[-3000:]
    assert "the loop failed" not in stdout_text
    lines = stderr_text.strip().splitlines()
    assert lines[0] == "interrupted: stopping the local stack…" and lines[-1] == "stopped", stderr_text
    assert not live_processes(groups)
    assert not folder.exists()
    # Dagster's compute-log helpers (tail, watch_orphans) were in the demo's own group: none is left
    deadline = time.monotonic() + 15
    while live_processes({demo.pid}) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not live_processes({demo.pid})
