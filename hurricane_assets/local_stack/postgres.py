"""A throwaway PostgreSQL cluster: `initdb` + `pg_ctl` in a temp folder, on a free port of 127.0.0.1.

It holds the Dagster instance (runs, event log, schedules) and the LangGraph checkpoints when the
local stack runs with `HURRICANE_POSTGRES_URL`, as a managed PostgreSQL would in a deployment.
`initdb` refuses to run as root, so as root the cluster is owned by the `postgres` user (created by
the Debian package) or `nobody`, and every server command runs through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from hurricane_assets.local_stack.interrupts import deferred_interrupts
from hurricane_assets.local_stack.ports import free_port
from hurricane_assets.local_stack.service import LocalService
from hurricane_assets.settings import PostgresSettings

SUPERUSER = "hurricane"
INSTALL_HINT = "install the server with `apt-get install -y postgresql`"


class PostgresUnavailable(RuntimeError):
    pass


def server_bin_dir() -> Path:
    """The folder of `initdb`/`pg_ctl`: on PATH, else Debian's versioned /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if not found:
        raise PostgresUnavailable(f"no PostgreSQL server binaries (initdb) on PATH or in /usr/lib/postgresql: {INSTALL_HINT}")
    return Path(found[-1]).parent


def _server_user() -> str | None:
    """None when we are not root; else a non-root account for the server."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and neither a `postgres` nor a `nobody` user exists to own the cluster")


class LocalPostgres(LocalService):
    """`with LocalPostgres() as pg: pg.settings()` — a cluster that exists only inside the block."""

    def __init__(self, databases: tuple[str, ...] = ("hurricane",)):
        self.databases = databases
        self.port = 0
        self.pid: int | None = None  # the postmaster's, once started
        self.folder: Path | None = None
        self.user = _server_user()
        self.bin = server_bin_dir()
        # a real password over TCP (scram), as a managed database would ask for
        self.password = secrets.token_urlsafe(16)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        # its own session: a terminal's Ctrl-C reaches the stack, which stops the cluster in order
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, start_new_session=True)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-500:]}")
        return result

    @property
    def data(self) -> Path:
        assert self.folder is not None
        return self.folder / "data"

    def start(self) -> LocalPostgres:
        # its own folder under /tmp, not pytest's tmp_path: the server's user must be able to reach it
        self.folder = Path(tempfile.mkdtemp(prefix="hurricane-pg-"))
        password_file = self.folder / "password"
        password_file.write_text(self.password)
        if self.user:
            account = pwd.getpwnam(self.user)
            for path in (self.folder, password_file):
                os.chown(path, account.pw_uid, account.pw_gid)
        self.port = free_port()
        self._run("initdb", "-D", str(self.data), "--auth-local=trust", "--auth-host=scram-sha-256",
                  f"--pwfile={password_file}", "-U", SUPERUSER, "-E", "UTF8", "--no-sync")
        password_file.unlink()
        # fsync off: the cluster is thrown away; a killed client (what the tests crash) loses nothing
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        # not cut by a Ctrl-C: a pg_ctl killed while it waits leaves a postmaster starting up
        with deferred_interrupts():
            self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
            self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        for name in self.databases:
            self.create_database(name)
        return self

    def settings(self, database: str | None = None) -> PostgresSettings:
        name = database or (self.databases[0] if self.databases else "postgres")
        return PostgresSettings("127.0.0.1", self.port, SUPERUSER, self.password, name)

    def url(self, database: str | None = None) -> str:
        return self.settings(database).url

    def create_database(self, name: str) -> PostgresSettings:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.settings(name)

    def stop(self) -> None:
        if self.folder is None:
            return
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
