"""Delta table access for every environment: a local folder by default, S3 when the URI says so.

One place decides the storage options for a URI, so the same code reads and writes a local
`envs/` tree in the embedded default and `s3://bucket/prefix/envs` when scaled out.

Concurrent writers on S3 (the ledger has several: the exchange and every domain's delivery runs,
on different hosts): every Delta commit is a put-if-absent of `_delta_log/<version>.json` with S3
conditional writes (`If-None-Match: *`, `aws_conditional_put=etag`), which AWS S3, MinIO, R2 and moto
honour. Two writers racing for one version: one wins, the other gets `CommitFailedError` and (the
ledger) re-chains on the new tip. No lock service; `AWS_S3_ALLOW_UNSAFE_RENAME` is never set, because
its copy-then-check commit lets two writers both "win" a version and lose one's entries.
"""

from __future__ import annotations

import os

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from hurricane_assets.settings import domain_credentials_for, domain_of_uri, is_s3

AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL")


def storage_options(uri: str) -> dict[str, str]:
    """Object-store options for deltalake, from the standard AWS variables (never logged); a domain's
    own `HURRICANE_AWS_*_<DOMAIN>` credentials for URIs under that domain's storage root."""
    if not is_s3(uri):
        return {}
    options = {name: os.environ[name] for name in AWS_VARIABLES if os.environ.get(name)}
    if "AWS_REGION" not in options and os.environ.get("AWS_DEFAULT_REGION"):
        options["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    domain = domain_credentials_for(uri)
    if domain and "AWS_SESSION_TOKEN" in options and "AWS_SESSION_TOKEN" not in domain:
        # the process's session token belongs to the process's keys: sent with a domain's keys (in
        # these options, or by the object store's own fallback to the environment) the pair is one no
        # principal holds, so the configuration is refused, naming the variables, not their values
        raise ValueError(f"{uri}: the domain's HURRICANE_AWS_*_{domain_of_uri(uri).upper()} keys would go out with the "
                         "process's AWS_SESSION_TOKEN; give the domain its own session token "
                         f"(HURRICANE_AWS_SESSION_TOKEN_{domain_of_uri(uri).upper()}) or unset AWS_SESSION_TOKEN")
    options.update(domain)
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    options["aws_conditional_put"] = "etag"  # put-if-absent commits: safe with concurrent writers
    return options


def open_table(uri: str, version: int | None = None) -> DeltaTable:
    return DeltaTable(uri, version=version, storage_options=storage_options(uri) or None)


def table_exists(uri: str) -> bool:
    try:
        open_table(uri)
    except TableNotFoundError:
        return False
    return True


def read_table(uri: str, columns: list[str] | None = None, *, version: int | None = None) -> pa.Table:
    """The current version (or `version`) of a Delta table as Arrow; raises `TableNotFoundError` naming the URI."""
    try:
        table = open_table(uri, version)
    except TableNotFoundError:
        raise TableNotFoundError(f"no Delta table at {uri}") from None
    return pa.table(table.to_pyarrow_dataset().to_table(columns=columns))
