"""`hurricane demo --stack services` for the Ctrl-C test, through the CLI's real entry point (exit
code, `end_process`), on the real stack with one code server, whose loop is one Dagster run that
waits for the interrupt: `python -m tests.hurricane_assets.local_stack.interrupted_demo_child`.
It prints `stack groups: <pgid> …` (the process group of every server the stack started) once the
stack is up, and `waiting for Ctrl-C` from inside the run (through Dagster's compute-log capture,
whose helper processes are running then)."""

from __future__ import annotations

import sys
import time

import dagster as dg

import hurricane_assets.local_stack.code_servers as code_servers
from hurricane_assets.cli.main import app
from hurricane_assets.dagster_layer.embedded_loop import QUIET, EmbeddedLoop
from hurricane_assets.local_stack.stack import LocalStack

CUSTOMERS = {"customers": "domains.customers.definitions"}


@dg.asset
def waits_for_ctrl_c() -> None:
    print("waiting for Ctrl-C", flush=True)
    while True:
        time.sleep(0.1)


def one_waiting_run(self: EmbeddedLoop) -> list:
    self._run(dg.Definitions(assets=[waits_for_ctrl_c]).resolve_implicit_global_asset_job_def(), run_config=QUIET)
    return self.events


def start_and_say_groups(start):
    def started(self: LocalStack) -> LocalStack:
        start(self)
        postmaster = int((self.postgres.data / "postmaster.pid").read_text().split()[0])  # pg_ctl gave it a session
        groups = [postmaster, self.s3._process.pid, *(s.process.pid for s in self.code_servers.servers.values())]
        print("stack groups: " + " ".join(map(str, groups)), flush=True)
        return self
    return started


if __name__ == "__main__":
    code_servers.workspace_locations = lambda: CUSTOMERS
    LocalStack.start = start_and_say_groups(LocalStack.start)
    EmbeddedLoop.run = one_waiting_run
    sys.argv = ["hurricane", "demo", "--stack", "services", "--rows", "500"]
    app()
