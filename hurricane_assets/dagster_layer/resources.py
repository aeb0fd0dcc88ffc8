"""Resources, created once per storage root so every location holds exactly one object per key
(`Definitions.merge` rejects two equal-but-distinct instances)."""

from __future__ import annotations

import functools
import os
from datetime import datetime

import dagster as dg
from dagster_deltalake import LocalConfig, S3Config
from dagster_deltalake.config import ClientConfig
from dagster_deltalake_pandas import DeltaLakePandasIOManager

from hurricane_assets.settings import hurricane_paths
from hurricane_assets.storage import is_s3, storage_options


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


def s3_config(uri: str) -> S3Config:
    """The IO manager's S3 settings for `uri`: the domain's own credentials when it has them, else
    the process's AWS variables (read by deltalake itself, so nothing secret sits in Dagster config)."""
    options = storage_options(uri)
    fields = {"region": options.get("AWS_REGION"), "endpoint": options.get("AWS_ENDPOINT_URL")}
    if "AWS_ACCESS_KEY_ID" in options and options["AWS_ACCESS_KEY_ID"] != os.environ.get("AWS_ACCESS_KEY_ID"):
        fields.update(access_key_id=options["AWS_ACCESS_KEY_ID"], secret_access_key=options["AWS_SECRET_ACCESS_KEY"],
                      token=options.get("AWS_SESSION_TOKEN"))
    return S3Config(**{k: v for k, v in fields.items() if v is not None})


@functools.cache
def _delta_io(root_uri: str, domain: str | None) -> DeltaLakePandasIOManager:
    probe = f"{root_uri}/{domain}/_" if domain else root_uri  # a URI inside the domain's prefix picks its credentials
    plain_http = is_s3(root_uri) and storage_options(probe).get("AWS_ALLOW_HTTP") == "true"
    return DeltaLakePandasIOManager(
        root_uri=root_uri,
        storage_options=s3_config(probe) if is_s3(root_uri) else LocalConfig(),
        client_options=ClientConfig(allow_http=True) if plain_http else None,  # a local S3 API (moto, MinIO)
        mode="overwrite",
    )


def prod_io_manager(domain: str | None = None) -> DeltaLakePandasIOManager:
    """Writes asset `[domain, dataset]` to `envs/prod/<domain>/<dataset>`, under the domain's own
    storage root and with its own credentials when it has them (`HURRICANE_STORAGE_ROOT_<DOMAIN>`)."""
    paths = hurricane_paths()
    return _delta_io(paths.domain_env_root("prod", domain) if domain else paths.env_root("prod"), domain)


def shared_resources(domain: str | None = None) -> dict[str, dg.ConfigurableResource | DeltaLakePandasIOManager]:
    """A domain location's resources reach only that domain's prefix; the exchange's the shared root."""
    return {"delta_io": prod_io_manager(domain), "synthetic": synthetic_from_env()}
