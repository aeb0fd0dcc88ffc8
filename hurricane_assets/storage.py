"""Delta table access for every environment: a local folder by default, S3 when the URI says so.

One place decides the storage options for a URI, so the same code reads and writes a local
`envs/` tree in the embedded default and `s3://bucket/prefix/envs` when scaled out.
"""

from __future__ import annotations

import os

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://") or uri.startswith("s3a://")


def storage_options(uri: str) -> dict[str, str]:
    """Object-store options for deltalake, from the standard AWS variables (never logged)."""
    if not is_s3(uri):
        return {}
    options: dict[str, str] = {}
    for env_name, option in (
        ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
        ("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
        ("AWS_SESSION_TOKEN", "AWS_SESSION_TOKEN"),
        ("AWS_REGION", "AWS_REGION"),
        ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL"),
    ):
        if os.environ.get(env_name):
            options[option] = os.environ[env_name]
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    # One writer per table (the owning domain) makes unsafe rename acceptable without a lock service.
    options.setdefault("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
    return options


def open_table(uri: str, version: int | None = None) -> DeltaTable:
    return DeltaTable(uri, version=version, storage_options=storage_options(uri) or None)


def table_exists(uri: str) -> bool:
    try:
        open_table(uri)
    except TableNotFoundError:
        return False
    return True


def read_table(uri: str, columns: list[str] | None = None) -> pa.Table:
    """The current version of a Delta table as Arrow; raises `TableNotFoundError` naming the URI."""
    try:
        table = open_table(uri)
    except TableNotFoundError:
        raise TableNotFoundError(f"no Delta table at {uri}") from None
    return pa.table(table.to_pyarrow_dataset().to_table(columns=columns))
