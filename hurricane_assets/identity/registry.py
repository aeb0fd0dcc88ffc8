"""The public-key registry: which key id belongs to which identity, and when it was valid.

Built only from the trust root's pinned genesis keys and the rotation certificates that follow them
(each signed by the key it replaces and by the new key): never from a key that was merely seen, and
never from an unsigned file. Verification trusts only this registry, never a key id or public key
carried by the signed record itself.
"""

from __future__ import annotations

import base64
import functools
import os
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from hurricane_assets.identity.errors import UnknownSignerError, WrongKeyError
from hurricane_assets.identity.trust_root import (
    ROOT_FILE,
    ROTATIONS_FILE,
    RotationCertificate,
    TrustRoot,
    TrustRootError,
    append_rotation,
    load_rotations,
    load_trust_root,
    trust_folder,
)

GENESIS = datetime.min.replace(tzinfo=timezone.utc)


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
        return _public_key(self.public_key_b64)


@functools.lru_cache(maxsize=4096)
def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    # every verification resolves a key: parse each registered key once, not once per signature
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))


def apply_rotations(root: TrustRoot, certificates: list[RotationCertificate], where: str) -> dict[str, RegisteredKey]:
    """Genesis keys, then each certificate checked against the identity's key current at that point."""
    # a pinned key has no start: it is valid from the beginning until its first rotation (so clocks
    # injected by tests, or records older than the root, resolve)
    keys = {
        p.key_id: RegisteredKey(key_id=p.key_id, owner=identity, public_key_b64=p.public_key_b64, valid_from=GENESIS)
        for identity, p in root.identities.items()
    }
    current = {identity: p.key_id for identity, p in root.identities.items()}
    for cert in certificates:
        if current.get(cert.identity) != cert.old_key_id:
            raise TrustRootError(
                f"{where}: rotation of {cert.identity!r} from key {cert.old_key_id}, which is not its current key"
            )
        old = keys[cert.old_key_id]
        cert.verify(old.public_key())
        if cert.new_key_id in keys:
            raise TrustRootError(f"{where}: rotation of {cert.identity!r} to key {cert.new_key_id}, which was already used")
        keys[old.key_id] = old.model_copy(update={"valid_to": cert.rotated_at})
        keys[cert.new_key_id] = RegisteredKey(
            key_id=cert.new_key_id, owner=cert.identity, public_key_b64=cert.new_public_key_b64, valid_from=cert.rotated_at
        )
        current[cert.identity] = cert.new_key_id
    return keys


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size


class KeyRegistry:
    """Registered public keys, re-read when the trust files change (other processes rotate keys)."""

    def __init__(self, folder: str | Path | None = None):
        self._folder = Path(folder) if folder is not None else None
        self._cache: dict[str, RegisteredKey] = {}
        self._current: dict[str, RegisteredKey] = {}
        self._root: TrustRoot | None = None
        self._stamp: tuple | None = None

    @property
    def folder(self) -> Path:
        return self._folder if self._folder is not None else trust_folder()

    @property
    def path(self) -> Path:
        return self.folder / ROOT_FILE

    def _load(self) -> dict[str, RegisteredKey]:
        """The keys, re-read when a trust file changed since the last call (one `stat` per file)."""
        folder = self.folder
        stamp = (folder, _stamp(os.path.join(folder, ROOT_FILE)), _stamp(os.path.join(folder, ROTATIONS_FILE)))
        if stamp != self._stamp or self._root is None:
            root = load_trust_root(folder)
            keys = apply_rotations(root, load_rotations(folder), str(folder / ROTATIONS_FILE))
            current: dict[str, RegisteredKey] = {}
            for key in keys.values():
                if key.valid_to is None and (key.owner not in current or key.valid_from > current[key.owner].valid_from):
                    current[key.owner] = key
            self._cache, self._current, self._root, self._stamp = keys, current, root, stamp
        return self._cache

    def trust_root(self) -> TrustRoot:
        self._load()
        assert self._root is not None
        return self._root

    def keys(self) -> dict[str, RegisteredKey]:
        self._load()
        return dict(self._cache)

    def get(self, key_id: str) -> RegisteredKey:
        key = self._load().get(key_id)
        if key is None:
            raise UnknownSignerError(f"key {key_id!r} is not in the key registry {self.path}")
        return key

    def owned(self, key_id: str, owner: str) -> RegisteredKey:
        key = self.get(key_id)
        if key.owner != owner:
            raise WrongKeyError(f"key {key_id} belongs to {key.owner!r}, not to the claimed signer {owner!r}")
        return key

    def resolve(self, key_id: str, owner: str, when: datetime) -> RegisteredKey:
        """The registered key, checked to belong to `owner` and to be valid at `when`."""
        key = self.owned(key_id, owner)
        if not key.valid_at(when):
            raise WrongKeyError(
                f"key {key_id} of {owner!r} was not valid at {when.isoformat()} "
                f"(valid {key.valid_from.isoformat()} to {key.valid_to.isoformat() if key.valid_to else 'now'})"
            )
        return key

    def current(self, owner: str) -> RegisteredKey | None:
        self._load()
        return self._current.get(owner)

    def record_rotation(self, certificate: RotationCertificate) -> RegisteredKey:
        """Add a rotation after checking it against the current keys (refused otherwise)."""
        apply_rotations(self.trust_root(), [*load_rotations(self.folder), certificate], "rotation")
        append_rotation(certificate, self.folder)
        return self.get(certificate.new_key_id)
