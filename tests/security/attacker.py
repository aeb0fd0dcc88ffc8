"""What an insider with write access to `$HURRICANE_HOME` does to the ledger: edit and delete files.

No platform API is used to tamper: rows are rebuilt by hand, Delta commit files are deleted, tables
are rewritten in place, keys are read straight from the key files the attacker can reach.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from hurricane_assets.identity import FileKeySource
from hurricane_assets.identity.keys import DomainKey, parse_private_key
from hurricane_assets.ledger.entry import LEDGER_SCHEMA, header_bytes, identity_of
from hurricane_assets.settings import hurricane_paths


def ledger_dir() -> Path:
    return Path(hurricane_paths().ledger)


def commit_files(uri: str | Path | None = None) -> list[Path]:
    log = Path(uri if uri is not None else ledger_dir()) / "_delta_log"
    return sorted(log.glob("*.json"))


def delete_last_commits(count: int) -> None:
    for path in commit_files()[-count:]:
        path.unlink()


def keep_commits_through_seq(last_seq: int) -> None:
    """Delete every commit file after the one that wrote `last_seq` (a cut at a commit boundary)."""
    import json

    for path in commit_files():
        info = next(json.loads(line)["commitInfo"] for line in path.read_text().splitlines() if "commitInfo" in line)
        if "dh.seq" in info and int(info["dh.seq"]) > last_seq:
            path.unlink()


def rows() -> list[dict]:
    return DeltaTable(str(ledger_dir())).to_pyarrow_table().sort_by("seq").to_pylist()


def steal_key(identity: str) -> DomainKey:
    """Read a private key straight from its file, as anyone who can read the key store can."""
    path = FileKeySource().path(identity)
    return parse_private_key(identity, path.read_bytes(), str(path))


def ts_us(row: dict) -> int:
    return int(row["ts"].timestamp() * 1_000_000)


def reseal(row: dict, prev_hash: str, key: DomainKey) -> dict:
    """Recompute a row's payload hash, link, entry hash and signature (each entry signed on its own)."""
    row = dict(row)
    row["payload_hash"] = hashlib.sha256(row["payload_json"].encode()).hexdigest()
    row["prev_hash"] = prev_hash
    row["key_id"] = key.key_id
    header = header_bytes(
        row["seq"], row["entry_id"], ts_us(row), row["entry_type"], row["actor"], row["negotiation_id"],
        row["contract_id"], row["payload_hash"], prev_hash, key.key_id,
    )
    row["entry_hash"] = hashlib.sha256(header).hexdigest()
    row["signature"] = base64.b64encode(key.sign(bytes.fromhex(row["entry_hash"]))).decode()
    return row


def rewrite_chain(table_rows: list[dict], keys: dict[str, DomainKey], from_seq: int) -> list[dict]:
    out = table_rows[:from_seq]
    prev = out[-1]["entry_hash"] if out else "0" * 64
    for row in table_rows[from_seq:]:
        row = reseal(row, prev, keys[identity_of(row["actor"])])
        out.append(row)
        prev = row["entry_hash"]
    return out


def replace_table(table_rows: list[dict]) -> None:
    """Delete the ledger folder and write these rows as a fresh append-only table at the same path."""
    shutil.rmtree(ledger_dir())
    write_deltalake(
        str(ledger_dir()),
        pa.Table.from_pylist(table_rows, schema=LEDGER_SCHEMA),
        configuration={"delta.appendOnly": "true"},
    )


def append_raw(row: dict) -> None:
    """One more commit, written with deltalake directly (no lock, no platform code)."""
    write_deltalake(str(ledger_dir()), pa.Table.from_pylist([row], schema=LEDGER_SCHEMA), mode="append")
