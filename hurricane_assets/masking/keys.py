"""Masking secrets: one per environment, never logged, never written into output or metadata.

A key comes from ``HURRICANE_MASKING_KEY_<ENV>`` (hex or base64) when set, which is how a secrets
manager hands it over; otherwise from ``hurricane_paths().keys/masking-<env>.key`` (mode 0600, the
embedded dev default). Operators derive one sub-key per purpose from it, so an HMAC token and an
AES-SIV ciphertext never share key material.

Keys fail closed: loading never creates one. A new key changes every token, so joins with the
copies and shares an environment already holds would silently match nothing. `init_masking_keys()`
(`hurricane masking init-keys`) creates missing keys explicitly, and refuses to for an environment
that already holds masked tables unless asked to rotate (which means refreshing every copy).
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

import pyarrow.fs as pafs

from hurricane_assets.settings import ENVIRONMENTS, hurricane_paths

KEY_BYTES = 32
MIN_KEY_BYTES = 16
ENV_VAR_PREFIX = "HURRICANE_MASKING_KEY_"


KEY_ID_PROPERTY = "dh.masking_key_id"  # commit metadata of every masked write: which key made it
INIT_HINT = "hurricane masking init-keys (hurricane_assets.masking.keys.init_masking_keys())"


class MaskingKeyError(ValueError):
    """A masking key that is missing, malformed or too short; names where it came from, never its value."""


class MissingMaskingKeyError(MaskingKeyError):
    """No key for an environment; never answered by creating one silently."""


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
        """The key of `env`: from the environment variable, else the key file. A missing key is an
        error naming the environment and where the key is expected (see `init_masking_keys`)."""
        _check_env(env)
        var = ENV_VAR_PREFIX + env.upper()
        if os.environ.get(var):
            return cls(env=env, key=MaskingKey(parse_key_text(os.environ[var], var), source=var))
        path = key_path(env)
        if not path.exists():
            raise _missing_key(env, var, path)
        return cls(env=env, key=_read_key_file(path))


def key_path(env: str) -> Path:
    return hurricane_paths().keys / f"masking-{env}.key"


def _check_env(env: str) -> None:
    if env not in ENVIRONMENTS:
        raise MaskingKeyError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")


def masked_tables(env: str) -> dict[str, str | None]:
    """The masked Delta tables `env` holds (`<domain>/<table>` -> the key id that masked it, if
    recorded). Below prod every table is masked; in prod only shares written with a key count."""
    root = hurricane_paths().env_root(env)
    filesystem, base = pafs.FileSystem.from_uri(root)
    found: dict[str, str | None] = {}
    domains = filesystem.get_file_info(pafs.FileSelector(base, allow_not_found=True))
    for domain in (d for d in domains if d.type == pafs.FileType.Directory):
        for table in filesystem.get_file_info(pafs.FileSelector(domain.path)):
            log = filesystem.get_file_info(f"{table.path}/_delta_log")
            if table.type != pafs.FileType.Directory or log.type != pafs.FileType.Directory:
                continue
            try:
                key_id = table_key_id(f"{root}/{domain.base_name}/{table.base_name}")
            except Exception:  # noqa: BLE001 - a table we cannot read still counts as a copy
                key_id = None
            if env != "prod" or key_id:
                found[f"{domain.base_name}/{table.base_name}"] = key_id
    return found


def table_key_id(uri: str) -> str | None:
    """The id of the key that masked the Delta table at `uri` (its last commit's stamp), None if unstamped."""
    from hurricane_assets.storage import open_table  # deltalake: imported on use, keys stay light

    last = open_table(uri).history(1)
    return (last[0] if last else {}).get(KEY_ID_PROPERTY)


def _missing_key(env: str, var: str, path: Path) -> MissingMaskingKeyError:
    where = f"expected in ${var} or {path}"
    tables = masked_tables(env)
    if not tables:
        return MissingMaskingKeyError(f"no masking key for {env} ({where}); create it with {INIT_HINT}")
    ids = sorted({k for k in tables.values() if k})
    made_with = f" made with key id {', '.join(ids)}" if ids else ""
    return MissingMaskingKeyError(
        f"no masking key for {env} ({where}), but {env} already holds {len(tables)} masked table(s){made_with} "
        f"(e.g. {sorted(tables)[0]}): restore that key; a new one would change every token and break joins "
        f"with them (to rotate deliberately: {INIT_HINT} with rotate, then refresh every copy)")


def init_masking_keys(envs: tuple[str, ...] | list[str] = ENVIRONMENTS, *, rotate: bool = False) -> dict[str, str]:
    """Create the masking key of each environment that has none; returns env -> key id.

    A key given by `HURRICANE_MASKING_KEY_<ENV>` or already on file is kept. An environment that
    already holds masked tables gets no new key (its tokens would change) unless `rotate`."""
    created: dict[str, str] = {}
    for env in envs:
        _check_env(env)
        var = ENV_VAR_PREFIX + env.upper()
        path = key_path(env)
        if os.environ.get(var) or path.exists():
            created[env] = Keyring.load(env).key_id
            continue
        if not rotate and masked_tables(env):
            raise _missing_key(env, var, path)
        created[env] = _create_key_file(path).key_id
    return created


def _create_key_file(path: Path) -> MaskingKey:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)  # the keys folder is owner-only (mkdir's mode is filtered by the umask)
    # Written to a private temp file, then linked into place: a concurrent init sees either no key
    # or the whole key, and two racing processes cannot end up with different keys.
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
    return _read_key_file(path)


def _read_key_file(path: Path) -> MaskingKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise MaskingKeyError(f"masking key file {path} has mode {oct(mode)}; it must be readable by its owner only (0600)")
    return MaskingKey(parse_key_text(path.read_text(), str(path)), source=str(path))
