"""Witnesses of the ledger (the semantics of C2SP tlog-witness and tlog-cosignature).

Every domain is a witness with its own storage, `$HURRICANE_HOME/domains/<domain>/witness/`. The log
(the exchange) sends it a new checkpoint signed with the log key, the size of the previous
checkpoint it believes the witness holds, and an RFC 6962 consistency proof between the two. The
witness checks the log's signature and the proof against the checkpoint it cosigned last, keeps the
new checkpoint as its latest (one per log), and returns its cosignature: an Ed25519 signature over
`cosignature/v1\\ntime <unix seconds>\\n` + the checkpoint body, by its own key.

A witness never cosigns a smaller tree, nor a different root at a size it already cosigned, nor a
tree the proof does not extend from its copy: a cut, a rewrite or a fork shown to it is refused,
and a verifier holding its copy sees any such change to the ledger afterwards.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from pydantic import BaseModel, ConfigDict

from hurricane_assets.identity import KeyRegistry, KeyRing
from hurricane_assets.identity.errors import EnvelopeError
from hurricane_assets.identity.keys import check_identity
from hurricane_assets.ledger.checkpoint import ORIGIN_PREFIX, parse_note, verify_log_signature
from hurricane_assets.ledger.merkle import EMPTY_ROOT, verify_consistency
from hurricane_assets.settings import hurricane_paths

COSIGNATURE_ALG = b"\x04"  # C2SP signed-note signature type of cosignature/v1


class WitnessRefusal(Exception):
    """The witness will not cosign: the checkpoint is not a consistent extension of what it holds."""

    def __init__(self, witness: str, reason: str):
        super().__init__(f"witness {witness} refuses: {reason}")
        self.witness = witness
        self.reason = reason


class WitnessConflict(WitnessRefusal):
    """The log's idea of the witness's latest size is wrong (HTTP 409 in tlog-witness): retry from `size`."""

    def __init__(self, witness: str, size: int):
        super().__init__(witness, f"it holds a checkpoint of size {size}, not the size the log assumed")
        self.size = size


def witness_key_name(identity: str) -> str:
    return f"datahurricane-witness-{identity}"


def _key_hash(name: str, public_raw: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_ALG + public_raw).digest()[:4]


def cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def verify_cosignature(body: str, line: str, identity: str, registry: KeyRegistry) -> int:
    """Check `identity`'s cosignature line over a checkpoint body; returns its timestamp.

    Any key the identity has held verifies (a cosignature made before a rotation stays valid).
    """
    name = witness_key_name(identity)
    try:
        dash, line_name, encoded = line.strip().split(" ")
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise EnvelopeError(f"cosignature of witness {identity}: malformed line") from None
    if dash != "\u2014" or line_name != name or len(raw) != 4 + 8 + 64:
        raise EnvelopeError(f"cosignature of witness {identity}: malformed line")
    timestamp = int.from_bytes(raw[4:12], "big")
    for key in registry.keys().values():
        if key.owner != identity or _key_hash(name, base64.b64decode(key.public_key_b64)) != raw[:4]:
            continue
        try:
            key.public_key().verify(raw[12:], cosigned_message(body, timestamp))
            return timestamp
        except InvalidSignature:
            break
    raise EnvelopeError(f"cosignature of witness {identity} does not verify with its registered key")


class WitnessCopy(BaseModel):
    """What a witness keeps per log: the latest checkpoint it cosigned, and its cosignature."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str
    tree_size: int
    root_b64: str
    note: str  # the log-signed note the witness verified
    cosignature: str

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{self.root_b64}\n"


class Witness:
    """One domain's witness, in process (the embedded default) with its own key and folder."""

    def __init__(
        self,
        identity: str,
        *,
        keyring: KeyRing | None = None,
        registry: KeyRegistry | None = None,
        folder: str | Path | None = None,
        clock=None,
    ):
        self.identity = check_identity(identity)
        self._keyring = keyring
        self._registry = registry
        self._folder = Path(folder) if folder is not None else None
        self._clock = clock if clock is not None else time.time  # unix seconds; injectable for tests

    @property
    def keyring(self) -> KeyRing:
        if self._keyring is None:
            self._keyring = KeyRing()
        return self._keyring

    @property
    def registry(self) -> KeyRegistry:
        return self._registry if self._registry is not None else self.keyring.registry

    @property
    def folder(self) -> Path:
        return self._folder if self._folder is not None else hurricane_paths().home / "domains" / self.identity / "witness"

    def _path(self, origin: str) -> Path:
        return self.folder / (hashlib.sha256(origin.encode()).hexdigest()[:16] + ".json")

    def latest(self, origin: str) -> WitnessCopy | None:
        path = self._path(origin)
        if not path.exists():
            return None
        try:
            copy = WitnessCopy.model_validate(json.loads(path.read_text()))
        except (ValueError, json.JSONDecodeError):
            raise EnvelopeError(f"witness {self.identity}: {path} is not a witness copy") from None
        if copy.origin != origin:
            raise EnvelopeError(f"witness {self.identity}: {path} holds log {copy.origin}, not {origin}")
        return copy

    def origins(self) -> list[str]:
        """Logs this witness holds a checkpoint of."""
        if not self.folder.exists():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(json.loads(path.read_text())["origin"])
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def add_checkpoint(self, note: str, old_size: int, proof: list[bytes]) -> str:
        """tlog-witness add-checkpoint: verify, store, cosign. Returns the cosignature line.

        Raises `WitnessConflict` when `old_size` is not the size it holds, `WitnessRefusal` when the
        note does not verify or the proof does not extend its copy.
        """
        try:
            origin, size, root_b64, signatures = parse_note(note)
            body = f"{origin}\n{size}\n{root_b64}\n"
            if not origin.startswith(ORIGIN_PREFIX + "/"):
                raise EnvelopeError(f"unknown log origin {origin!r}")
            verify_log_signature(body, signatures, self.registry, f"checkpoint {size}")
            root = base64.b64decode(root_b64, validate=True)
        except (EnvelopeError, ValueError) as exc:
            raise WitnessRefusal(self.identity, str(exc)) from None
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".witness.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one cosigning at a time per witness: its latest only moves forward
            copy = self.latest(origin)
            held = copy.tree_size if copy is not None else 0
            if old_size != held:
                raise WitnessConflict(self.identity, held)
            if size < held:
                raise WitnessRefusal(self.identity, f"checkpoint of {size} entries is smaller than the {held} it cosigned (rollback)")
            held_root = base64.b64decode(copy.root_b64) if copy is not None else EMPTY_ROOT
            if not verify_consistency(held, size, held_root, root, proof):
                raise WitnessRefusal(
                    self.identity,
                    f"checkpoint of {size} entries is not consistent with the {held} it cosigned (fork or rewrite)",
                )
            timestamp = int(self._clock())
            key = self.keyring.key(self.identity)
            name = witness_key_name(self.identity)
            signature = key.sign(cosigned_message(body, timestamp))
            line = f"\u2014 {name} " + base64.b64encode(_key_hash(name, key.public_raw) + timestamp.to_bytes(8, "big") + signature).decode()
            updated = WitnessCopy(origin=origin, tree_size=size, root_b64=root_b64, note=note, cosignature=line)
            path = self._path(origin)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(updated.model_dump_json(indent=1))
            os.replace(tmp, path)
        return line

    def __repr__(self) -> str:
        return f"Witness({self.identity!r})"
