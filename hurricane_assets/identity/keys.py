"""Ed25519 signing keys per identity (a domain, or the ledger's own `system` identity).

Keys come from a `KeySource`: files under `$HURRICANE_HOME/keys` by default (created on first use,
0600), or environment variables filled by a secrets manager in production. Key material never
appears in `repr`, logs or output; only the key id does.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hurricane_assets.identity.errors import KeySourceError
from hurricane_assets.settings import hurricane_paths

SYSTEM_IDENTITY = "system"  # signs ledger entries and checkpoints written by the platform itself
IDENTITY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def check_identity(identity: str) -> str:
    if not isinstance(identity, str) or not IDENTITY_PATTERN.match(identity):
        raise ValueError(f"identity {identity!r} must match {IDENTITY_PATTERN.pattern}")
    return identity


def key_id_of(public_raw: bytes) -> str:
    """First 16 hex digits of SHA-256 over the raw 32-byte public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def public_raw_of(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True, repr=False)
class DomainKey:
    """One identity's private key. Only `key_id` is ever shown."""

    identity: str
    _private: Ed25519PrivateKey = field(compare=False)

    @property
    def public_raw(self) -> bytes:
        return public_raw_of(self._private.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"DomainKey(identity={self.identity!r}, key_id={self.key_id!r})"

    __str__ = __repr__


@runtime_checkable
class KeySource(Protocol):
    """Where private keys come from. `load` returns None when the identity has no key yet."""

    def load(self, identity: str) -> DomainKey | None: ...

    def create(self, identity: str) -> DomainKey:
        """Make and persist a new key, or raise `KeySourceError` if this source cannot."""
        ...

    def rotate(self, identity: str) -> DomainKey:
        """Replace the identity's key with a new one (the old one stops signing)."""
        ...


def parse_private_key(identity: str, material: bytes, where: str) -> DomainKey:
    text = material.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            private = serialization.load_pem_private_key(text, password=None)
        else:
            private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except (ValueError, TypeError) as exc:
        # the message names the place only: key material must not reach logs
        raise KeySourceError(f"{where}: not an Ed25519 private key ({type(exc).__name__})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeySourceError(f"{where}: key is {type(private).__name__}, expected Ed25519")
    return DomainKey(identity, private)


class FileKeySource:
    """PEM files `<folder>/<identity>.ed25519` (PKCS#8, private, mode 0600), the dev default."""

    def __init__(self, folder: str | Path | None = None):
        self._folder = Path(folder) if folder is not None else None

    @property
    def folder(self) -> Path:
        return self._folder if self._folder is not None else hurricane_paths().keys

    def path(self, identity: str) -> Path:
        return self.folder / f"{check_identity(identity)}.ed25519"

    def load(self, identity: str) -> DomainKey | None:
        path = self.path(identity)
        if not path.exists():
            return None
        return parse_private_key(identity, path.read_bytes(), str(path))

    def create(self, identity: str) -> DomainKey:
        path = self.path(identity)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path.parent / ".create.lock", "w") as lock:
            # two processes creating the same identity's key must end with one key, not two
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = self.load(identity)
            if existing is not None:
                return existing
            return self._write_new(identity, path)

    def rotate(self, identity: str) -> DomainKey:
        """Keep the old key as `<identity>.<key_id>.retired` (for the record) and write a new one."""
        path = self.path(identity)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(path.parent / ".create.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            old = self.load(identity)
            if old is not None:
                os.replace(path, path.with_name(f"{identity}.{old.key_id}.retired"))
            return self._write_new(identity, path)

    @staticmethod
    def _write_new(identity: str, path: Path) -> DomainKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.replace(tmp, path)
        return DomainKey(identity, private)


class EnvKeySource:
    """Keys from `HURRICANE_SIGNING_KEY_<IDENTITY>` (PEM, or base64 of the 32-byte seed).

    A secrets manager (Vault, AWS Secrets Manager, Kubernetes secrets) fills these variables; this
    source never creates keys, since production keys are provisioned, not generated on demand.
    """

    PREFIX = "HURRICANE_SIGNING_KEY_"

    def variable(self, identity: str) -> str:
        return self.PREFIX + check_identity(identity).upper()

    def load(self, identity: str) -> DomainKey | None:
        name = self.variable(identity)
        material = os.environ.get(name)
        if material is None:
            return None
        return parse_private_key(identity, material.encode(), f"${name}")

    def create(self, identity: str) -> DomainKey:
        raise KeySourceError(
            f"no signing key for {identity!r}: set ${self.variable(identity)} (EnvKeySource does not generate keys)"
        )

    def rotate(self, identity: str) -> DomainKey:
        raise KeySourceError(
            f"rotate {identity!r}'s key in the secrets manager that fills ${self.variable(identity)}, then restart"
        )
