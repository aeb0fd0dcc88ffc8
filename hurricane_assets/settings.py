"""Where runtime state lives: one folder (``$HURRICANE_HOME``) in the embedded default.

Every path the platform writes is derived here, so tests can point a whole run at a temp folder by
setting ``HURRICANE_HOME`` and nothing else. Table roots may be ``s3://bucket/prefix`` URIs
(``HURRICANE_STORAGE_ROOT``, ``HURRICANE_STORAGE_ROOT_<DOMAIN>``); then the contract registry, and each
domain's model store and reports, live there too (every pod of a run reads them); the rest is local state.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ENVIRONMENTS = ("prod", "preprod", "dev")


def is_s3(uri: str) -> bool:
    return uri.startswith(("s3://", "s3a://"))


@dataclass(frozen=True)
class HurricanePaths:
    home: Path
    storage_root: str  # envs live under this URI: a local path or s3://bucket/prefix

    @property
    def envs(self) -> str:
        return _join(self.storage_root, "envs")

    def env_root(self, env: str) -> str:
        if env not in ENVIRONMENTS:
            raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
        return _join(self.envs, env)

    def table_uri(self, env: str, domain: str, dataset: str) -> str:
        """`<root>/envs/<env>/<domain>/<dataset>`, under the domain's own storage root when it has one."""
        return _join(self.domain_env_root(env, domain), domain, dataset)

    def domain_env_root(self, env: str, domain: str) -> str:
        """The env root holding `domain`'s tables: `HURRICANE_STORAGE_ROOT_<DOMAIN>/envs/<env>` or the
        shared one. A domain's Delta IO manager writes `[domain, dataset]` under it."""
        self.env_root(env)  # validates env
        return _join(domain_storage_root(domain) or self.storage_root, "envs", env)

    @property
    def ledger(self) -> str:
        return _join(self.storage_root, "ledger")

    @property
    def lineage(self) -> Path:
        return self.home / "lineage"

    @property
    def contracts(self) -> Path:
        return self.home / "contracts"

    @property
    def contracts_root(self) -> Path | str:
        """Where contract records live: `<storage root>/contracts` on S3, shared by every host that
        reads the registry (exchange, consumers' model locations); else `$HOME/contracts`."""
        if is_s3(self.storage_root):
            return _join(self.storage_root, "contracts")
        return self.contracts

    def models(self, domain: str) -> Path | str:
        """Where `domain`'s model store lives: `<its storage root>/models` when that root is S3 (the
        training pod and the monitor's pod are different hosts), else `$HOME/models` as always."""
        return self._domain_state(domain, "models")

    def domain_reports(self, domain: str) -> Path | str:
        """Where `domain`'s monitor reports go: `<its storage root>/reports` on S3, else `$HOME/reports`."""
        return self._domain_state(domain, "reports")

    def _domain_state(self, domain: str, part: str) -> Path | str:
        # the domain's own root, as for its tables: its credentials reach it (DOMAIN_SEGMENT)
        root = domain_storage_root(domain) or self.storage_root
        return _join(root, part) if is_s3(root) else self.home / part

    @property
    def keys(self) -> Path:
        return self.home / "keys"

    @property
    def checkpoints(self) -> Path:
        return self.home / "checkpoints.sqlite"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def reports(self) -> Path:
        return self.home / "reports"


class SettingError(ValueError):
    """A setting in the environment holds a value it cannot take; names the variable and the value."""


def int_setting(name: str, default: int, *, minimum: int = 0, unit: str = "") -> int:
    """The whole number in environment variable `name` (unset or empty: `default`), at least `minimum`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a whole number{' of ' + unit if unit else ''}, not {raw!r}") from None
    if value < minimum:
        raise SettingError(f"{name} must be at least {minimum}{' ' + unit if unit else ''}, not {value}")
    return value


def _domain_variable(prefix: str, domain: str) -> str:
    return f"{prefix}_{domain.upper()}"


def domain_storage_root(domain: str) -> str | None:
    """`HURRICANE_STORAGE_ROOT_<DOMAIN>` (e.g. ``s3://risk-bucket/hurricane``), or None for the shared root."""
    value = os.environ.get(_domain_variable("HURRICANE_STORAGE_ROOT", domain), "").strip()
    return value.rstrip("/") or None


# a domain's tables and inboxes, its model store and its monitor reports (the layouts `HurricanePaths` writes)
DOMAIN_SEGMENT = re.compile(r"/(?:envs/(?:prod|preprod|dev)|models|reports/(?:monitors|masking))/([A-Za-z0-9_-]+)(?:/|$)")
DOMAIN_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "HURRICANE_AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "HURRICANE_AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN": "HURRICANE_AWS_SESSION_TOKEN",
}


def domain_of_uri(uri: str) -> str | None:
    """The domain whose tables a URI names (`.../envs/<env>/<domain>/...`); a consumer's share inbox
    `envs/<env>/<consumer>/<producer>__<dataset>` belongs to the consumer. A domain's model store
    (`.../models/<domain>/...`) and monitor reports (`.../reports/monitors/<domain>/...`) are its own too."""
    match = DOMAIN_SEGMENT.search(uri)
    return match.group(1) if match else None


def domain_credentials(domain: str) -> dict[str, str]:
    """`HURRICANE_AWS_{ACCESS_KEY_ID,SECRET_ACCESS_KEY,SESSION_TOKEN}_<DOMAIN>`: credentials scoped
    (by the object store's own policy) to that domain's prefix. Empty when the domain has none."""
    found = {option: os.environ[_domain_variable(name, domain)] for option, name in DOMAIN_CREDENTIALS.items()
             if os.environ.get(_domain_variable(name, domain))}
    if found and not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= found.keys():
        raise ValueError(f"{domain}: set both HURRICANE_AWS_ACCESS_KEY_ID_{domain.upper()} and "
                         f"HURRICANE_AWS_SECRET_ACCESS_KEY_{domain.upper()}, or neither")
    return found


def domain_credentials_for(uri: str) -> dict[str, str]:
    domain = domain_of_uri(uri)
    return domain_credentials(domain) if domain else {}


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


POSTGRES_VARIABLES = {
    "host": "HURRICANE_POSTGRES_HOST",
    "port": "HURRICANE_POSTGRES_PORT",
    "user": "HURRICANE_POSTGRES_USER",
    "password": "HURRICANE_POSTGRES_PASSWORD",
    "database": "HURRICANE_POSTGRES_DB",
}


@dataclass(frozen=True)
class PostgresSettings:
    """Where the Dagster instance and the LangGraph checkpoints live when not in SQLite files.

    Separate fields rather than one URL: dagster.postgres.yaml reads the same variables (Dagster's
    `postgres_db` form), and a deployment injects the password alone from its secrets manager."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str

    @property
    def url(self) -> str:
        """libpq URL (psycopg 3, the LangGraph checkpointer); holds the password: never log it."""
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(self.database, safe='')}"

    def environ(self) -> dict[str, str]:
        return {name: str(getattr(self, key)) for key, name in POSTGRES_VARIABLES.items()}


def postgres_settings() -> PostgresSettings | None:
    """None (SQLite under `$HURRICANE_HOME`) unless `HURRICANE_POSTGRES_HOST` is set; then every
    `HURRICANE_POSTGRES_*` variable must be (the password may be empty for trust authentication)."""
    if not os.environ.get(POSTGRES_VARIABLES["host"], "").strip():
        return None
    missing = [name for name in POSTGRES_VARIABLES.values() if os.environ.get(name) is None]
    if missing:
        raise ValueError(f"HURRICANE_POSTGRES_HOST is set but {', '.join(missing)} is not: set every HURRICANE_POSTGRES_* variable")
    values = {key: os.environ[name] for key, name in POSTGRES_VARIABLES.items()}
    try:
        port = int(values["port"])
    except ValueError:
        raise ValueError(f"HURRICANE_POSTGRES_PORT must be a port number, got {values['port']!r}") from None
    return PostgresSettings(values["host"], port, values["user"], values["password"], values["database"])


_resolved_homes: dict[tuple[str, str], Path] = {}


def hurricane_paths() -> HurricanePaths:
    """Paths for the current process, read from the environment on every call (tests change it)."""
    raw = os.environ.get("HURRICANE_HOME", ".hurricane")
    # resolving walks every path component (a ledger append asks several times): once per value
    # and working directory, which is all a relative home depends on
    key = (raw, os.getcwd() if not raw.startswith(("/", "~")) else "")
    home = _resolved_homes.get(key)
    if home is None:
        home = _resolved_homes[key] = Path(raw).expanduser().resolve()
    storage_root = os.environ.get("HURRICANE_STORAGE_ROOT", str(home))
    return HurricanePaths(home=home, storage_root=storage_root)
