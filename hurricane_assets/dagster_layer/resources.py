"""Resources, created once per storage root so every location holds exactly one object per key
(`Definitions.merge` rejects two equal-but-distinct instances)."""

from __future__ import annotations

import functools
import os
from datetime import datetime

import dagster as dg
from dagster_deltalake import LocalConfig, S3Config
from dagster_deltalake_pandas import DeltaLakePandasIOManager

from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import is_s3


class SyntheticSource(dg.ConfigurableResource):
    """Where the reference organisation's prod data comes from: the seeded generator.

    Run config can override any field, e.g. `drift_days` to inject the drift in the demo.
    """

    transactions: int = 20_000
    seed: int = 7
    history_days: int = 120
    drift_days: int | None = None
    as_of: str | None = None  # ISO date/time (UTC); None = today

    def as_of_datetime(self) -> datetime | None:
        return datetime.fromisoformat(self.as_of) if self.as_of else None


def synthetic_from_env() -> SyntheticSource:
    drift = os.environ.get("HURRICANE_DRIFT_DAYS")
    return _synthetic(
        int(os.environ.get("HURRICANE_ROWS", "20000")),
        int(os.environ.get("HURRICANE_SEED", "7")),
        int(drift) if drift else None,
    )


@functools.cache
def _synthetic(transactions: int, seed: int, drift_days: int | None) -> SyntheticSource:
    return SyntheticSource(transactions=transactions, seed=seed, drift_days=drift_days)


@functools.cache
def _delta_io(root_uri: str) -> DeltaLakePandasIOManager:
    return DeltaLakePandasIOManager(
        root_uri=root_uri,
        storage_options=S3Config() if is_s3(root_uri) else LocalConfig(),
        mode="overwrite",
    )


def prod_io_manager() -> DeltaLakePandasIOManager:
    """Writes asset `[domain, dataset]` to `envs/prod/<domain>/<dataset>`."""
    return _delta_io(hurricane_paths().env_root("prod"))


def shared_resources() -> dict[str, dg.ConfigurableResource | DeltaLakePandasIOManager]:
    return {"delta_io": prod_io_manager(), "synthetic": synthetic_from_env()}
