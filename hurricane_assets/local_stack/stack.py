"""The local stack: a throwaway PostgreSQL cluster, a moto S3 server and one code server per location,
wired together through the same settings a deployment uses, and torn down on exit.

Inside the block the process's environment is the deployment's: `HURRICANE_POSTGRES_*` (Dagster
instance and LangGraph checkpoints), `HURRICANE_STORAGE_ROOT=s3://hurricane/org` with the AWS
variables (every Delta table and the ledger), and a gRPC workspace file naming the code servers.
The runs of `hurricane demo --stack services` still execute in the demo's own process (as the
embedded loop does); the code servers serve the same definitions to a webserver or daemon pointed
at the workspace file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import dagster as dg

from hurricane_assets.dagster_layer.workspace import hurricane_instance
from hurricane_assets.local_stack.code_servers import LocalCodeServers, group_alive
from hurricane_assets.local_stack.interrupts import deferred_interrupts
from hurricane_assets.local_stack.postgres import LocalPostgres
from hurricane_assets.local_stack.s3 import LocalS3
from hurricane_assets.local_stack.service import LocalService

BUCKET = "hurricane"
PREFIX = "org"


class LocalStack(LocalService):
    def __init__(self, log_dir: Path | None = None, *, code_servers: bool = True, own_home: bool = False):
        """`log_dir` holds the services' logs and the workspace file and is kept; None: a temp folder,
        removed at stop. `own_home`: HURRICANE_HOME and DAGSTER_HOME are `<that folder>/home` inside
        the block, so this host's share of the run's state (keys, ledger witness copies and
        checkpoints, lineage, the instance file) goes with the services, and the user's home, whose
        state belongs to the embedded default, is not touched."""
        self.log_dir = log_dir
        self._owns_log_dir = log_dir is None
        self.own_home = own_home
        self.with_code_servers = code_servers
        self.postgres = LocalPostgres(databases=("hurricane",))
        self.s3 = LocalS3(BUCKET)
        self.code_servers: LocalCodeServers | None = None
        self.instance: dg.DagsterInstance | None = None
        self.workspace: Path | None = None
        self._saved_env: dict[str, str | None] = {}
        self._started: dict[str, int] = {}  # what → process group, kept after stop() for left_behind()
        self._folders: list[Path] = []

    @property
    def home(self) -> Path:
        """This stack's HURRICANE_HOME when it has its own."""
        assert self.log_dir is not None
        return self.log_dir / "home"

    def environ(self) -> dict[str, str]:
        return {**self.postgres.settings().environ(), **self.s3.environ(),
                "HURRICANE_STORAGE_ROOT": self.s3.uri(PREFIX)}

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def start(self) -> LocalStack:
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="hurricane-stack-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._folders.append(self.log_dir)
        self.s3.log = self.log_dir / "moto.log"
        try:
            self.postgres.start()
        finally:
            self._folders.append(self.postgres.folder)
            if self.postgres.pid:
                self._started["PostgreSQL"] = self.postgres.pid  # pg_ctl runs it in a session of its own
        try:
            self.s3.start()
        finally:
            if self.s3.pid:
                self._started["moto S3 server"] = self.s3.pid
        self._set_env(self.environ())
        if self.own_home:
            self._set_env({"HURRICANE_HOME": str(self.home), "DAGSTER_HOME": str(self.home / "dagster")})
        self._saved_env.setdefault("DAGSTER_HOME", os.environ.get("DAGSTER_HOME"))  # hurricane_instance sets it
        self.instance = hurricane_instance()  # dagster.postgres.yaml; created before the servers open it
        if self.with_code_servers:
            self.start_code_servers()
        return self

    def start_code_servers(self) -> LocalCodeServers:
        """One server per location, with this stack's environment. They load their definitions now
        (the exchange's share assets from the contract registry on S3), as a deployment's do."""
        # assigned before start(): a server that fails to start leaves the others to stop()
        self.code_servers = LocalCodeServers(os.environ, log_dir=self.log_dir)
        try:
            self.code_servers.start()
        finally:
            self._folders.append(self.code_servers.tmp)
        self._started.update({f"code server {name}": pgid for name, pgid in self.code_servers.process_groups().items()})
        self.workspace = self.code_servers.write_workspace(self.log_dir / "workspace.grpc.yaml")
        return self.code_servers

    def load_workspace(self):
        """A Dagster request context over the gRPC workspace (what the webserver sees); use as a
        context manager: `with stack.load_workspace() as request: request.asset_graph`."""
        from contextlib import contextmanager

        from dagster._core.workspace.context import WorkspaceProcessContext
        from dagster._core.workspace.load_target import WorkspaceFileTarget

        @contextmanager
        def opened():
            with WorkspaceProcessContext(self.instance, WorkspaceFileTarget(paths=[str(self.workspace)])) as context:
                yield context.create_request_context()

        return opened()

    def location_errors(self) -> dict[str, str | None]:
        """Every location of the workspace → its load error through its code server (None = loaded)."""
        with self.load_workspace() as request:
            return {name: (str(entry.load_error) if entry.load_error else None)
                    for name, entry in request.get_code_location_entries().items()}

    def stop(self) -> None:
        """Stop every part, each even if stopping another failed; the first failure is raised after.
        A Ctrl-C during the stop is honoured once it is over (it would cut a part's stop halfway:
        a server sent SIGTERM and never the SIGKILL after its grace)."""
        with deferred_interrupts():
            failures = [exc for step in (self._stop_code_servers, self._dispose_instance, self.s3.stop,
                                         self.postgres.stop, self._restore_env, self._remove_log_dir)
                        if (exc := _attempt(step))]
        if failures:
            raise failures[0]

    def left_behind(self) -> list[str]:
        """What this stack started that is still there (after stop(): nothing): a server process
        group still alive, a temp folder not removed."""
        left = [f"{what} (process group {pgid})" for what, pgid in self._started.items() if group_alive(pgid)]
        return left + [str(folder) for folder in self._folders if folder is not None and folder.exists()
                       and (self._owns_log_dir or folder != self._folders[0])]

    def _stop_code_servers(self) -> None:
        if self.code_servers is not None:
            self.code_servers.stop()
            self.code_servers = None

    def _dispose_instance(self) -> None:
        if self.instance is not None:
            self.instance.dispose()
            self.instance = None

    def _restore_env(self) -> None:
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def _remove_log_dir(self) -> None:
        if self._owns_log_dir and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self.log_dir = None


def _attempt(step) -> BaseException | None:
    try:
        step()
    except BaseException as exc:  # noqa: BLE001  (a Ctrl-C while stopping must not leave the rest running)
        return exc
    return None
