"""The public-key registry: which key id belongs to which identity, and when it was valid.

Verification trusts only this registry, never a key id or public key carried by the signed record
itself. It is a JSON file under `$HURRICANE_HOME/keys` in the embedded default.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from hurricane_assets.identity.errors import UnknownSignerError, WrongKeyError
from hurricane_assets.identity.keys import check_identity, key_id_of
from hurricane_assets.settings import hurricane_paths

REGISTRY_FILE = "registry.json"


class RegisteredKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str
    owner: str
    public_key_b64: str
    valid_from: datetime
    valid_to: datetime | None = None

    def valid_at(self, when: datetime) -> bool:
        return self.valid_from <= when and (self.valid_to is None or when < self.valid_to)

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key_b64))


class KeyRegistry:
    """Registered public keys, read fresh from disk so several processes see each other's keys."""

    def __init__(self, folder: str | Path | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._cache: dict[str, RegisteredKey] = {}
        self._cache_mtime: float | None = None

    @property
    def path(self) -> Path:
        folder = self._folder if self._folder is not None else hurricane_paths().keys
        return folder / REGISTRY_FILE

    def keys(self) -> dict[str, RegisteredKey]:
        path = self.path
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        if mtime != self._cache_mtime:
            raw = json.loads(path.read_text())
            self._cache = {k["key_id"]: RegisteredKey.model_validate(k) for k in raw["keys"]}
            self._cache_mtime = mtime
        return dict(self._cache)

    def get(self, key_id: str) -> RegisteredKey:
        try:
            return self.keys()[key_id]
        except KeyError:
            raise UnknownSignerError(f"key {key_id!r} is not in the key registry {self.path}") from None

    def resolve(self, key_id: str, owner: str, when: datetime) -> RegisteredKey:
        """The registered key, checked to belong to `owner` and to be valid at `when`."""
        key = self.get(key_id)
        if key.owner != owner:
            raise WrongKeyError(f"key {key_id} belongs to {key.owner!r}, not to the claimed signer {owner!r}")
        if not key.valid_at(when):
            raise WrongKeyError(
                f"key {key_id} of {owner!r} was not valid at {when.isoformat()} "
                f"(valid {key.valid_from.isoformat()} to {key.valid_to.isoformat() if key.valid_to else 'now'})"
            )
        return key

    def current(self, owner: str) -> RegisteredKey | None:
        live = [k for k in self.keys().values() if k.owner == owner and k.valid_to is None]
        return max(live, key=lambda k: k.valid_from) if live else None

    def register(self, owner: str, public_raw: bytes, *, valid_from: datetime | None = None) -> RegisteredKey:
        """Add a key (idempotent); any other live key of the same owner ends where this one starts."""
        check_identity(owner)
        key_id = key_id_of(public_raw)
        start = valid_from or datetime.now(timezone.utc)
        with self._locked() as entries:
            if key_id in entries:
                if entries[key_id].owner != owner:
                    raise WrongKeyError(f"key {key_id} is already registered to {entries[key_id].owner!r}")
                return entries[key_id]
            for other_id, other in list(entries.items()):
                if other.owner == owner and other.valid_to is None:
                    entries[other_id] = other.model_copy(update={"valid_to": start})
            entries[key_id] = RegisteredKey(
                key_id=key_id,
                owner=owner,
                public_key_b64=base64.b64encode(public_raw).decode(),
                valid_from=start,
            )
            return entries[key_id]

    class _Locked:
        def __init__(self, registry: KeyRegistry):
            self.registry = registry

        def __enter__(self) -> dict[str, RegisteredKey]:
            path = self.registry.path
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.lock = open(path.parent / ".registry.lock", "w")
            fcntl.flock(self.lock, fcntl.LOCK_EX)
            self.registry._cache_mtime = None
            self.entries = self.registry.keys()
            self.before = dict(self.entries)
            return self.entries

        def __exit__(self, exc_type, exc, tb) -> None:
            try:
                if exc_type is None and self.entries != self.before:
                    path = self.registry.path
                    body = {"keys": [k.model_dump(mode="json") for k in self.entries.values()]}
                    tmp = path.with_suffix(".tmp")
                    tmp.write_text(json.dumps(body, indent=2, sort_keys=True))
                    os.replace(tmp, path)
                    self.registry._cache_mtime = None
            finally:
                self.lock.close()

    def _locked(self) -> KeyRegistry._Locked:
        return KeyRegistry._Locked(self)
