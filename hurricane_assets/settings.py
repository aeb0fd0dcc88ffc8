"""Where runtime state lives: one folder (``$HURRICANE_HOME``) in the embedded default.

Every path the platform writes is derived here, so tests can point a whole run at a temp folder by
setting ``HURRICANE_HOME`` and nothing else. Table roots may be ``s3://bucket/prefix`` URIs
(``HURRICANE_STORAGE_ROOT``); everything else is local state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENTS = ("prod", "preprod", "dev")


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
        return _join(self.env_root(env), domain, dataset)

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


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def hurricane_paths() -> HurricanePaths:
    """Paths for the current process, read from the environment on every call (tests change it)."""
    home = Path(os.environ.get("HURRICANE_HOME", ".hurricane")).expanduser().resolve()
    storage_root = os.environ.get("HURRICANE_STORAGE_ROOT", str(home))
    return HurricanePaths(home=home, storage_root=storage_root)
