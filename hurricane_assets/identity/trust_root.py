"""The trust root: the public keys pinned at `hurricane keys init`, and the rotations that followed.

No key is ever trusted because it was seen. Verifiers start from the genesis keys pinned here (each
with a proof of possession: the key's signature over the document), and follow only rotation
certificates, each signed by the key it replaces and by the new key (proof of possession). The same
certificates are the payload of the ledger's `KEY_ROTATED` entries, where the ledger verifier judges
every signature by the key valid at that entry's position.

Files: `$HURRICANE_HOME/trust/root.json` and `rotations.jsonl` (or `$HURRICANE_TRUST_DIR`). In a
deployment the root is distributed to every party out of band; a copy kept by each domain (or an
external anchor, docs/trust.md) is what makes replacing it detectable.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from hurricane_assets.clock import utc_now
from hurricane_assets.identity.canonical import canonical_json
from hurricane_assets.identity.errors import KeySourceError
from hurricane_assets.identity.keys import SYSTEM_IDENTITY, DomainKey, check_identity, key_id_of
from hurricane_assets.settings import hurricane_paths

ROOT_FILE = "root.json"
ROTATIONS_FILE = "rotations.jsonl"
ROTATION_TYPE = "dh-key-rotation/v1"
ROOT_TYPE = "dh-trust-root/v1"


class TrustRootError(KeySourceError):
    """The trust root is missing, malformed, or does not verify; or a key contradicts it."""


_folders: dict[tuple[str | None, str | None], Path] = {}


def trust_folder() -> Path:
    # called for every key lookup (each ledger entry): resolve each environment's folder once
    env = (os.environ.get("HURRICANE_TRUST_DIR"), os.environ.get("HURRICANE_HOME"))
    folder = _folders.get(env)
    if folder is None:
        folder = _folders[env] = Path(env[0]) if env[0] else hurricane_paths().home / "trust"
    return folder


class PinnedKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key_id: str
    public_key_b64: str
    role: str  # "domain" (signs its side, witnesses the ledger) or "log" (the exchange's system identity)

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key_b64))


class TrustRoot(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)  # other roles (approvers, policy hash) may be pinned too

    type: str = ROOT_TYPE
    created_at: AwareDatetime
    identities: dict[str, PinnedKey]
    proofs: dict[str, str] = {}  # identity -> base64 signature over body(): proof of possession

    def body(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"proofs"}))

    @property
    def witnesses(self) -> list[str]:
        """Every domain witnesses the ledger."""
        return sorted(i for i, k in self.identities.items() if k.role == "domain")

    def verify(self, where: str) -> None:
        body = self.body()
        for identity, pinned in self.identities.items():
            if key_id_of(base64.b64decode(pinned.public_key_b64)) != pinned.key_id:
                raise TrustRootError(f"{where}: key id of {identity!r} does not match its public key")
            try:
                pinned.public_key().verify(base64.b64decode(self.proofs.get(identity, "")), body)
            except (InvalidSignature, ValueError):
                raise TrustRootError(f"{where}: proof of possession of {identity!r}'s key does not verify") from None


class RotationCertificate(BaseModel):
    """`identity` moves from `old_key_id` to the new key: signed by the old key and by the new one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = ROTATION_TYPE
    identity: str
    old_key_id: str
    new_key_id: str
    new_public_key_b64: str
    rotated_at: AwareDatetime
    old_signature: str = ""
    new_signature: str = ""

    def body(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"old_signature", "new_signature"}))

    @classmethod
    def issue(cls, old: DomainKey, new: DomainKey, *, now: datetime) -> RotationCertificate:
        unsigned = cls(
            identity=old.identity,
            old_key_id=old.key_id,
            new_key_id=new.key_id,
            new_public_key_b64=base64.b64encode(new.public_raw).decode(),
            rotated_at=now,
        )
        body = unsigned.body()
        return unsigned.model_copy(
            update={
                "old_signature": base64.b64encode(old.sign(body)).decode(),
                "new_signature": base64.b64encode(new.sign(body)).decode(),
            }
        )

    def verify(self, old_public: Ed25519PublicKey) -> None:
        """Raise `TrustRootError` unless both signatures hold (old key: authority; new key: possession)."""
        body = self.body()
        if key_id_of(base64.b64decode(self.new_public_key_b64)) != self.new_key_id:
            raise TrustRootError(f"rotation of {self.identity!r}: new key id does not match the new public key")
        new_public = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.new_public_key_b64))
        for name, public, signature in (("old", old_public, self.old_signature), ("new", new_public, self.new_signature)):
            try:
                public.verify(base64.b64decode(signature), body)
            except (InvalidSignature, ValueError):
                raise TrustRootError(
                    f"rotation of {self.identity!r} to key {self.new_key_id}: the {name} key's signature does not verify"
                ) from None


def load_trust_root(folder: Path | None = None) -> TrustRoot:
    path = (folder if folder is not None else trust_folder()) / ROOT_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise TrustRootError(f"no trust root at {path}: run `hurricane keys init` first") from None
    except json.JSONDecodeError as exc:
        raise TrustRootError(f"{path}: not valid JSON (line {exc.lineno})") from None
    try:
        root = TrustRoot.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise TrustRootError(f"{path}: field {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    root.verify(str(path))
    return root


def load_rotations(folder: Path | None = None) -> list[RotationCertificate]:
    path = (folder if folder is not None else trust_folder()) / ROTATIONS_FILE
    if not path.exists():
        return []
    certificates = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            certificates.append(RotationCertificate.model_validate_json(line))
        except ValidationError:
            raise TrustRootError(f"{path}:{number}: not a rotation certificate") from None
    return certificates


def append_rotation(certificate: RotationCertificate, folder: Path | None = None) -> None:
    folder = folder if folder is not None else trust_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".rotations.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(folder / ROTATIONS_FILE, "a") as out:
            out.write(certificate.model_dump_json() + "\n")
            out.flush()
            os.fsync(out.fileno())


def init_trust_root(
    identities: list[str], source, *, folder: Path | None = None, now: datetime | None = None
) -> tuple[TrustRoot, list[str]]:
    """Create each identity's key where missing and pin them all; returns (root, identities created).

    With a root already present, nothing is created: every pinned identity's key must load and be the
    pinned (or rotated-to) key, else `TrustRootError` names it. Identities not yet pinned are refused
    too: adding a party is a deliberate change of the root, not a side effect.
    """
    folder = folder if folder is not None else trust_folder()
    for identity in identities:
        check_identity(identity)
    wanted = sorted(set(identities) | {SYSTEM_IDENTITY})
    if (folder / ROOT_FILE).exists():
        from hurricane_assets.identity.registry import KeyRegistry

        root = load_trust_root(folder)
        registry = KeyRegistry(folder)
        missing = [i for i in wanted if i not in root.identities]
        if missing:
            raise TrustRootError(f"{folder / ROOT_FILE} does not pin {', '.join(missing)}; the trust root is not extended implicitly")
        for identity in wanted:
            key = source.load(identity)
            if key is None:
                raise TrustRootError(f"{identity!r}: no private key at {source.describe(identity)}; it is pinned in the trust root and will not be replaced silently")
            current = registry.current(identity)
            if current is None or current.key_id != key.key_id:
                raise TrustRootError(f"{identity!r}: key {key.key_id} at {source.describe(identity)} is not the pinned key")
        return root, []
    created = []
    keys = {}
    for identity in wanted:
        key = source.load(identity)
        if key is None:
            key = source.create(identity)
            created.append(identity)
        keys[identity] = key
    unsigned = TrustRoot(
        created_at=(now if now is not None else utc_now()),
        identities={
            identity: PinnedKey(
                key_id=key.key_id,
                public_key_b64=base64.b64encode(key.public_raw).decode(),
                role="log" if identity == SYSTEM_IDENTITY else "domain",
            )
            for identity, key in keys.items()
        },
    )
    body = unsigned.body()
    root = unsigned.model_copy(update={"proofs": {i: base64.b64encode(k.sign(body)).decode() for i, k in keys.items()}})
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (ROOT_FILE + ".tmp")
    tmp.write_text(json.dumps(root.model_dump(mode="json"), indent=1, sort_keys=True))
    os.replace(tmp, folder / ROOT_FILE)
    return root, created
