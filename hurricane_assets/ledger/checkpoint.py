"""Signed Merkle checkpoints (C2SP signed-note text), kept outside the ledger table.

A hash chain alone cannot show that its tail was cut off; a checkpoint saying "the first N entries
have root R", cosigned by witnesses that keep their own copy, can. The log (the exchange's system
identity) signs each checkpoint; every domain then cosigns it as a witness (`witness.py`).

A ledger is named by its log id, the first 16 hex digits of its first entry's hash, so its
checkpoints are found wherever the table lives and however its path is spelled (trailing slash,
a moved home): `$HURRICANE_HOME/ledger_checkpoints/<log id>/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from pydantic import AwareDatetime, BaseModel, ConfigDict

from hurricane_assets.clock import utc_now
from hurricane_assets.identity import SYSTEM_IDENTITY, KeyRegistry, KeyRing
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.settings import hurricane_paths

ORIGIN_PREFIX = "data-hurricane.ledger"
KEY_NAME = "datahurricane-system"
CHECKPOINT_EVERY = 100
ED25519_ALG = b"\x01"


def log_id_of(first_entry_hash: str) -> str:
    return first_entry_hash[:16]


def origin_of(log_id: str) -> str:
    return f"{ORIGIN_PREFIX}/{log_id}"


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tree_size: int
    root_b64: str
    note: str  # the signed note: origin, size, root, blank line, the log's signature line
    created_at: AwareDatetime
    origin: str = ORIGIN_PREFIX
    frontier: dict = {}  # kept for checkpoints written before witnesses; never trusted
    cosignatures: dict[str, str] = {}  # witness identity -> its C2SP cosignature line

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{self.root_b64}\n"

    def full_note(self) -> str:
        """The note with the log's signature and every witness's cosignature line (C2SP form)."""
        lines = "".join(f"{line}\n" for _, line in sorted(self.cosignatures.items()))
        return self.note + lines


def _note_key_hash(public_raw: bytes) -> bytes:
    return hashlib.sha256(KEY_NAME.encode() + b"\n" + ED25519_ALG + public_raw).digest()[:4]


def sign_checkpoint(origin: str, size: int, root: bytes, keyring: KeyRing, *, now: datetime | None = None) -> Checkpoint:
    key = keyring.key(SYSTEM_IDENTITY)
    root_b64 = base64.b64encode(root).decode()
    body = f"{origin}\n{size}\n{root_b64}\n"
    signature = base64.b64encode(_note_key_hash(key.public_raw) + key.sign(body.encode())).decode()
    return Checkpoint(
        tree_size=size,
        root_b64=root_b64,
        origin=origin,
        note=f"{body}\n\u2014 {KEY_NAME} {signature}\n",
        created_at=now if now is not None else utc_now(),
    )


def parse_note(note: str) -> tuple[str, int, str, str]:
    """(origin, size, root_b64, signature block) of a signed note; `EnvelopeError` if malformed."""
    body, sep, signatures = note.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) != 3 or not lines[1].isdigit():
        raise EnvelopeError("checkpoint note is malformed (expected origin, size, root, blank line, signatures)")
    return lines[0], int(lines[1]), lines[2], signatures


def verify_note(checkpoint: Checkpoint, registry: KeyRegistry) -> None:
    """Check the note's text matches its fields and carries a valid log (system) signature."""
    origin, size, root_b64, signature_block = parse_note(checkpoint.note)
    if (origin, size, root_b64) != (checkpoint.origin, checkpoint.tree_size, checkpoint.root_b64):
        raise EnvelopeError(f"checkpoint {checkpoint.tree_size}: note text does not match its size and root")
    verify_log_signature(checkpoint.body, signature_block, registry, f"checkpoint {checkpoint.tree_size}")


def verify_log_signature(body: str, signature_block: str, registry: KeyRegistry, what: str) -> None:
    try:
        _, name, encoded = signature_block.strip().split("\n")[0].split(" ")
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise EnvelopeError(f"{what}: malformed signature line") from None
    for key in registry.keys().values():
        if key.owner != SYSTEM_IDENTITY or name != KEY_NAME:
            continue
        if _note_key_hash(base64.b64decode(key.public_key_b64)) != raw[:4]:
            continue
        try:
            key.public_key().verify(raw[4:], body.encode())
            return
        except InvalidSignature:
            break
    raise EnvelopeError(f"{what}: signature does not verify with a registered system key")


class CheckpointStore:
    """The log's own checkpoints of one ledger: `<home>/ledger_checkpoints/<log id>/` by default."""

    def __init__(self, folder: str | Path | None = None, *, log_id: str | None = None, ledger_uri: str | None = None):
        # ledger_uri is accepted for callers of the old signature; the log id, not the path, names a ledger
        self._folder = Path(folder) if folder is not None else None
        self.log_id = log_id

    def bind(self, log_id: str) -> CheckpointStore:
        """This store for the ledger `log_id` (a store given an explicit folder keeps it)."""
        return CheckpointStore(self._folder, log_id=log_id)

    @property
    def folder(self) -> Path:
        if self._folder is not None:
            return self._folder
        if self.log_id is None:
            raise ValueError("checkpoint store is not bound to a ledger yet (the ledger is empty)")
        return hurricane_paths().home / "ledger_checkpoints" / self.log_id

    def save(self, checkpoint: Checkpoint) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{checkpoint.tree_size:012d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(checkpoint.model_dump_json(indent=1))
        os.replace(tmp, path)
        return path

    def _files(self) -> list[Path]:
        if self._folder is None and self.log_id is None:
            return []
        return sorted(self.folder.glob("*.json")) if self.folder.exists() else []

    def all(self) -> list[Checkpoint]:
        return [Checkpoint.model_validate(json.loads(p.read_text())) for p in self._files()]

    def latest(self) -> Checkpoint | None:
        files = self._files()
        return Checkpoint.model_validate(json.loads(files[-1].read_text())) if files else None
