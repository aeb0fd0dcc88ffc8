"""No history below prod: after two masked copies with a change in between, nothing of the first
version is left on storage and time travel to it fails."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError

from hurricane_assets.masking.copy import copy_masked
from hurricane_assets.settings import hurricane_paths


def stored_files(uri: str) -> dict[str, set[str]]:
    """Data files and log entries on disk (underscore files such as the privacy report aside)."""
    root = Path(uri)
    data = {str(p.relative_to(root)) for p in root.rglob("*.parquet") if "_delta_log" not in p.parts}
    logs = set(os.listdir(root / "_delta_log"))
    return {"data": data, "logs": logs}


def assert_only_current_version(uri: str) -> None:
    table = DeltaTable(uri)
    on_disk = stored_files(uri)
    current = {str(Path(u).relative_to(Path(uri))) for u in table.file_uris()}
    assert on_disk["data"] == current, "a data file of an earlier version is still on storage"
    versions = {int(name[:20]) for name in on_disk["logs"] if name[:20].isdigit()}
    assert versions == {table.version()}, f"log entries of earlier versions remain: {sorted(on_disk['logs'])}"
    if table.version() > 0:  # a table written once is at version 0: nothing earlier to travel to
        with pytest.raises((DeltaError, Exception)):
            DeltaTable(uri, version=0).to_pyarrow_table()


def test_a_second_masked_copy_leaves_nothing_of_the_first(catalog, keyring, prod_world):
    prod_uri = hurricane_paths().table_uri("prod", "customers", "profiles")
    copy_masked(catalog, "customers", "profiles", "preprod", keyring=keyring)
    target = hurricane_paths().table_uri("preprod", "customers", "profiles")
    first = stored_files(target)
    first_rows = DeltaTable(target).to_pyarrow_table()

    # a change in prod: one customer leaves; the next copy must not keep their masked row anywhere
    profiles = prod_world[("customers", "profiles")]
    gone = profiles["customer_id"][0].as_py()
    write_deltalake(prod_uri, profiles.filter(pc.not_equal(profiles["customer_id"], gone)), mode="overwrite")
    report = copy_masked(catalog, "customers", "profiles", "preprod", keyring=keyring)

    assert report.target_version == DeltaTable(target).version()
    assert not first["data"] & stored_files(target)["data"]
    assert_only_current_version(target)
    token = first_rows["customer_id"][0].as_py()  # masking keeps row order: the token of the one who left
    everything = b"".join(p.read_bytes() for p in Path(target).rglob("*") if p.is_file())
    assert token.encode() not in everything
    assert DeltaTable(target).to_pyarrow_table().num_rows == profiles.num_rows - 1


def test_a_first_write_is_left_as_it_is_without_extra_commits(tmp_path):
    """Nothing older exists, so the purge must not add commits (they cost every first delivery)."""
    from hurricane_assets.masking.history import keep_only_current_version

    uri = str(tmp_path / "share")
    write_deltalake(uri, pa.table({"token": ["a", "b"]}))
    purge = keep_only_current_version(uri)

    assert (purge.version, purge.files_removed, purge.log_files_removed) == (0, 0, 0)
    assert DeltaTable(uri).version() == 0
    assert DeltaTable(uri).to_pyarrow_table().num_rows == 2


def test_a_first_write_next_to_files_of_a_killed_write_still_removes_them(tmp_path):
    """A write killed before its commit leaves data files no version references: not "nothing to do"."""
    from hurricane_assets.masking.history import keep_only_current_version

    uri = str(tmp_path / "share")
    write_deltalake(uri, pa.table({"token": ["a", "b"]}))
    stray = Path(uri) / "part-00000-killed-write.parquet"
    pq.write_table(pa.table({"token": ["an earlier, unmasked value"]}), stray)

    purge = keep_only_current_version(uri)

    assert purge.files_removed == 1 and not stray.exists()
    assert_only_current_version(uri)
