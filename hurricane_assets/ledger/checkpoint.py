"""Signed Merkle checkpoints (C2SP signed-note text), kept outside the ledger table.

A hash chain alone cannot show that its tail was cut off; a checkpoint saying "the first N entries
have root R" can. Checkpoints are signed by the system identity and stored as files under
`$HURRICANE_HOME/ledger_checkpoints` (in production, also sent to the parties of each contract).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from pydantic import AwareDatetime, BaseModel, ConfigDict

from hurricane_assets.identity import SYSTEM_IDENTITY, KeyRing, KeyRegistry
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.ledger.merkle import MerkleFrontier
from hurricane_assets.settings import hurricane_paths

ORIGIN = "data-hurricane.ledger"
KEY_NAME = "datahurricane-system"
CHECKPOINT_EVERY = 100
ED25519_ALG = b"\x01"


class Checkpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tree_size: int
    root_b64: str
    note: str  # the signed note: origin, size, root, blank line, signature line
    created_at: AwareDatetime
    frontier: dict  # writer's cache to extend the tree; the verifier recomputes and never trusts it


def _note_key_hash(public_raw: bytes) -> bytes:
    return hashlib.sha256(KEY_NAME.encode() + b"\n" + ED25519_ALG + public_raw).digest()[:4]


def sign_checkpoint(frontier: MerkleFrontier, keyring: KeyRing) -> Checkpoint:
    key = keyring.key(SYSTEM_IDENTITY)
    root_b64 = base64.b64encode(frontier.root()).decode()
    body = f"{ORIGIN}\n{frontier.size}\n{root_b64}\n"
    signature = base64.b64encode(_note_key_hash(key.public_raw) + key.sign(body.encode())).decode()
    return Checkpoint(
        tree_size=frontier.size,
        root_b64=root_b64,
        note=f"{body}\n\u2014 {KEY_NAME} {signature}\n",
        created_at=datetime.now(timezone.utc),
        frontier=frontier.to_json(),
    )


def verify_note(checkpoint: Checkpoint, registry: KeyRegistry) -> None:
    """Check the note's text matches its fields and carries a valid system signature."""
    body, _, signature_block = checkpoint.note.partition("\n\n")
    expected = f"{ORIGIN}\n{checkpoint.tree_size}\n{checkpoint.root_b64}"
    if body != expected:
        raise EnvelopeError(f"checkpoint {checkpoint.tree_size}: note text does not match its size and root")
    try:
        _, name, encoded = signature_block.strip().split(" ")
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise EnvelopeError(f"checkpoint {checkpoint.tree_size}: malformed signature line") from None
    for key in registry.keys().values():
        if key.owner != SYSTEM_IDENTITY or name != KEY_NAME:
            continue
        public = key.public_key()
        if _note_key_hash(base64.b64decode(key.public_key_b64)) != raw[:4]:
            continue
        try:
            public.verify(raw[4:], (body + "\n").encode())
            return
        except InvalidSignature:
            break
    raise EnvelopeError(f"checkpoint {checkpoint.tree_size}: signature does not verify with a registered system key")


class CheckpointStore:
    """Checkpoints of one ledger: `<home>/ledger_checkpoints/<sha256(ledger uri)[:16]>/` by default."""

    def __init__(self, folder: str | Path | None = None, *, ledger_uri: str | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._ledger_uri = ledger_uri

    @property
    def folder(self) -> Path:
        if self._folder is not None:
            return self._folder
        paths = hurricane_paths()
        uri = self._ledger_uri if self._ledger_uri is not None else paths.ledger
        return paths.home / "ledger_checkpoints" / hashlib.sha256(uri.encode()).hexdigest()[:16]

    def save(self, checkpoint: Checkpoint) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{checkpoint.tree_size:012d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(checkpoint.model_dump_json(indent=1))
        os.replace(tmp, path)
        return path

    def all(self) -> list[Checkpoint]:
        if not self.folder.exists():
            return []
        return [Checkpoint.model_validate(json.loads(p.read_text())) for p in sorted(self.folder.glob("*.json"))]

    def latest(self) -> Checkpoint | None:
        files = sorted(self.folder.glob("*.json")) if self.folder.exists() else []
        return Checkpoint.model_validate(json.loads(files[-1].read_text())) if files else None
