"""Ed25519 signing keys per identity (a domain, or the ledger's own `system` identity).

Keys come from a `KeySource`: each identity's own folder (`$HURRICANE_HOME/domains/<domain>/keys`,
0700, files 0600, both checked on every load), or environment variables filled by a secrets manager.
Keys are created only by `hurricane keys init` (and rotation), never on first use: a missing key is
an error, not a new identity. Key material never
appears in `repr`, logs or output; only the key id does.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import cached_property
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

    @cached_property
    def public_raw(self) -> bytes:
        return public_raw_of(self._private.public_key())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._private.public_key()

    @cached_property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"DomainKey(identity={self.identity!r}, key_id={self.key_id!r})"

    __str__ = __repr__


@runtime_checkable
class KeySource(Protocol):
    """Where private keys come from. `load` returns None when the identity has no key."""

    def load(self, identity: str) -> DomainKey | None: ...

    def create(self, identity: str) -> DomainKey:
        """Make and persist a new key (only `hurricane keys init` calls this), or raise `KeySourceError`."""
        ...

    def describe(self, identity: str) -> str:
        """Where the identity's key is (a path or a variable name), for error messages."""
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


KEY_FOLDER_MODE = 0o700
KEY_FILE_MODE = 0o600


def key_folder(identity: str) -> Path:
    """Each identity's own key store: `<home>/domains/<domain>/keys`, the exchange's `<home>/exchange/keys`.

    Separate folders so that handing one domain its keys (a volume, a secret mount) hands it no other's.
    """
    home = hurricane_paths().home
    if check_identity(identity) == SYSTEM_IDENTITY:
        return home / "exchange" / "keys"
    return home / "domains" / identity / "keys"


def check_private_mode(path: Path, *, folder: bool) -> None:
    """Refuse a key folder or key file that anyone but its owner can read (enforced on every load)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    wanted = KEY_FOLDER_MODE if folder else KEY_FILE_MODE
    if mode & 0o077:
        what = "key folder" if folder else "key file"
        raise KeySourceError(f"{what} {path} has mode {oct(mode)}; it must be {oct(wanted)} (owner only)")


def make_private_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=KEY_FOLDER_MODE)
    os.chmod(folder, KEY_FOLDER_MODE)  # mkdir's mode is filtered by the umask and ignored for existing folders


def destroy_file(path: Path) -> None:
    """Overwrite a retired private key before unlinking it, so its bytes do not linger in the file."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with open(path, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


class FileKeySource:
    """PEM files (PKCS#8, mode 0600 in a 0700 folder): `key_folder(identity)/<identity>.ed25519`.

    `folder=` puts every identity's file in that one folder instead (tests, tools). Keys are made only
    by `create` (called by `hurricane keys init`) and `stage_rotation`; loading never creates one.
    """

    def __init__(self, folder: str | Path | None = None):
        self._folder = Path(folder) if folder is not None else None

    def folder_of(self, identity: str) -> Path:
        return self._folder if self._folder is not None else key_folder(identity)

    def path(self, identity: str) -> Path:
        return self.folder_of(identity) / f"{check_identity(identity)}.ed25519"

    def describe(self, identity: str) -> str:
        return str(self.path(identity))

    def load(self, identity: str) -> DomainKey | None:
        path = self.path(identity)
        if not path.exists():
            return None
        check_private_mode(path.parent, folder=True)
        check_private_mode(path, folder=False)
        return parse_private_key(identity, path.read_bytes(), str(path))

    def create(self, identity: str) -> DomainKey:
        path = self.path(identity)
        make_private_folder(path.parent)
        with open(path.parent / ".create.lock", "w") as lock:
            # two processes creating the same identity's key must end with one key, not two
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = self.load(identity)
            if existing is not None:
                return existing
            return self._write_new(identity, path)

    def stage_rotation(self, identity: str) -> DomainKey:
        """Write the successor key next to the current one (`.next`); `commit_rotation` swaps them."""
        path = self.path(identity)
        make_private_folder(path.parent)
        return self._write_new(identity, path.with_name(path.name + ".next"))

    def commit_rotation(self, identity: str, new: DomainKey) -> None:
        """Make the staged key current and destroy the retired private key (its public half stays pinned)."""
        path = self.path(identity)
        staged = path.with_name(path.name + ".next")
        with open(path.parent / ".create.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.load(identity)
            if current is not None and current.key_id == new.key_id:
                return
            if current is not None:
                destroy_file(path)
            os.replace(staged, path)

    def rotate(self, identity: str) -> DomainKey:
        """Replace the key at once (no ledger record): only for tools; the ledger uses `stage_rotation`."""
        new = self.stage_rotation(identity)
        self.commit_rotation(identity, new)
        return new

    @staticmethod
    def _write_new(identity: str, path: Path) -> DomainKey:
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, KEY_FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.chmod(tmp, KEY_FILE_MODE)
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

    def describe(self, identity: str) -> str:
        return f"${self.variable(identity)}"

    def stage_rotation(self, identity: str) -> DomainKey:
        return self.rotate(identity)

    def rotate(self, identity: str) -> DomainKey:
        raise KeySourceError(
            f"rotate {identity!r}'s key in the secrets manager that fills ${self.variable(identity)}, then restart"
        )


class DefaultKeySource:
    """The environment when it holds the identity's key (a secrets manager filled it), else the file."""

    def __init__(self, folder: str | Path | None = None):
        self.env = EnvKeySource()
        self.files = FileKeySource(folder)

    def _pick(self, identity: str) -> FileKeySource | EnvKeySource:
        return self.env if os.environ.get(self.env.variable(identity)) else self.files

    def describe(self, identity: str) -> str:
        return self._pick(identity).describe(identity)

    def load(self, identity: str) -> DomainKey | None:
        return self._pick(identity).load(identity)

    def create(self, identity: str) -> DomainKey:
        return self._pick(identity).create(identity)

    def stage_rotation(self, identity: str) -> DomainKey:
        return self._pick(identity).stage_rotation(identity)

    def commit_rotation(self, identity: str, new: DomainKey) -> None:
        self.files.commit_rotation(identity, new)
