"""Masking secrets: one per environment, never logged, never written into output or metadata.

A key comes from ``HURRICANE_MASKING_KEY_<ENV>`` (hex or base64) when set, which is how a secrets
manager hands it over; otherwise it is created once under ``hurricane_paths().keys`` with mode 0600
(the embedded dev default). Operators derive one sub-key per purpose from it, so an HMAC token and an
AES-SIV ciphertext never share key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from hurricane_assets.settings import ENVIRONMENTS, hurricane_paths

KEY_BYTES = 32
MIN_KEY_BYTES = 16
ENV_VAR_PREFIX = "HURRICANE_MASKING_KEY_"


class MaskingKeyError(ValueError):
    """A masking key that is missing, malformed or too short; names where it came from, never its value."""


@dataclass(frozen=True)
class MaskingKey:
    """A secret with a public id. `repr`/`str` show only the id, so logging params cannot leak it."""

    secret: bytes = field(repr=False)
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_KEY_BYTES:
            raise MaskingKeyError(f"masking key from {self.source or '<memory>'} has {len(self.secret)} bytes; "
                                  f"at least {MIN_KEY_BYTES} are required")

    @property
    def key_id(self) -> str:
        """First 16 hex digits of SHA-256(key): identifies the key version in reports, reveals nothing."""
        return hashlib.sha256(self.secret).hexdigest()[:16]

    def derive(self, purpose: str, length: int = 32) -> bytes:
        """A sub-key for one purpose (HKDF-style expand with HMAC-SHA-256)."""
        return _derive(self.secret, purpose, length)

    def __repr__(self) -> str:
        return f"MaskingKey(key_id={self.key_id!r})"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("MaskingKey cannot be pickled; pass the Keyring's environment instead")


@lru_cache(maxsize=256)
def _derive(secret: bytes, purpose: str, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + purpose.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def parse_key_text(text: str, source: str) -> bytes:
    """Decode a key given as hex or base64 text."""
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise MaskingKeyError(f"masking key from {source} is neither hex nor base64") from None


@dataclass(frozen=True)
class Keyring:
    """The masking key of one environment."""

    env: str
    key: MaskingKey

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @classmethod
    def load(cls, env: str) -> Keyring:
        """The key of `env`: from the environment variable, else the key file (created 0600 if absent)."""
        if env not in ENVIRONMENTS:
            raise MaskingKeyError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
        var = ENV_VAR_PREFIX + env.upper()
        if os.environ.get(var):
            return cls(env=env, key=MaskingKey(parse_key_text(os.environ[var], var), source=var))
        return cls(env=env, key=_key_from_file(hurricane_paths().keys / f"masking-{env}.key"))


def _key_from_file(path: Path) -> MaskingKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written to a private temp file, then linked into place: a concurrent first use sees either
        # no key or the whole key, and two racing processes cannot end up with different keys.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise MaskingKeyError(f"masking key file {path} has mode {oct(mode)}; it must be readable by its owner only (0600)")
    return MaskingKey(parse_key_text(path.read_text(), str(path)), source=str(path))
