"""Human approvers: a role held by a public key that a domain registered in the ledger.

`hurricane approvers add <name> --for <domain>` appends an APPROVER_ADDED entry signed by that
domain's key (actor `agent:<domain>/approvers`), naming the approver and its Ed25519 public key. An
approver may answer escalations only for the domains that registered it. The registry is read back
from the ledger, and each registration's own signature is checked, so a row written into the
ledger table without the domain's key registers nobody; there is no approver file to edit.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hurricane_assets.contracts.history import LedgerHistory
from hurricane_assets.identity import KeyRegistry, key_id_of
from hurricane_assets.ledger.entry import EntryType, header_bytes, identity_of
from hurricane_assets.ledger.ledger import LedgerAppend
from hurricane_assets.sharing.ids import entry_id
from negotiation_graph.ports import LedgerReceipt

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class ApproverError(ValueError):
    """An approver name, key or registration that cannot be used."""


@dataclass(frozen=True)
class Approver:
    name: str
    key_id: str
    public_key_b64: str
    domains: frozenset[str] = field(default_factory=frozenset)
    registered_seq: int = -1  # the seq of the earliest registration

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key_b64))


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ApproverError(f"approver name {name!r} must match {NAME_PATTERN.pattern}")
    return name


def public_raw_from(material: bytes, where: str) -> bytes:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo) or base64 of its 32 raw bytes."""
    text = material.strip()
    try:
        if text.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(text)
            if not isinstance(key, Ed25519PublicKey):
                raise ApproverError(f"{where}: key is {type(key).__name__}, expected Ed25519")
            return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        raw = base64.b64decode(text, validate=True)
        Ed25519PublicKey.from_public_bytes(raw)
        return raw
    except ApproverError:
        raise
    except (ValueError, TypeError) as exc:
        raise ApproverError(f"{where}: not an Ed25519 public key ({type(exc).__name__})") from None


def private_key_from(material: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(material.strip(), password=None)
    except (ValueError, TypeError) as exc:
        raise ApproverError(f"{where}: not a PEM private key ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ApproverError(f"{where}: key is {type(key).__name__}, expected Ed25519")
    return key


def add_approver(ledger, name: str, public_raw: bytes, domain: str) -> LedgerReceipt:
    """Register `name`'s public key as an approver for `domain`, signed by the domain's key."""
    return add_approvers(ledger, name, public_raw, [domain])[0]


def add_approvers(ledger, name: str, public_raw: bytes, domains: Sequence[str]) -> list[LedgerReceipt]:
    """Register `name`'s public key for every domain in one ledger commit, each entry signed by its
    domain's key: one domain that cannot sign registers the approver for none."""
    check_name(name)
    key_id = key_id_of(public_raw)
    return ledger.append_batch([
        LedgerAppend(
            entry_type=EntryType.APPROVER_ADDED,
            actor=f"agent:{domain}/approvers",
            payload={"approver": name, "domain": domain, "key_id": key_id,
                     "public_key_b64": base64.b64encode(public_raw).decode()},
            entry_id=entry_id("approver", domain, name, key_id),
        )
        for domain in domains
    ])


def _ts_us(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(microseconds=1)


def _registration_is_signed(row: dict, registry: KeyRegistry) -> bool:
    """The entry's hash covers its header and payload, and the registering domain's key signed it."""
    try:
        payload_hash = hashlib.sha256(row["payload_json"].encode()).hexdigest()
        header = header_bytes(row["seq"], row["entry_id"], _ts_us(row["ts"]), row["entry_type"], row["actor"],
                              row["negotiation_id"], row["contract_id"], payload_hash, row["prev_hash"], row["key_id"])
        if payload_hash != row["payload_hash"] or hashlib.sha256(header).hexdigest() != row["entry_hash"]:
            return False
        if row["signature"] is None or identity_of(row["actor"]) != row["payload"].get("domain"):
            return False
        key = registry.resolve(row["key_id"], identity_of(row["actor"]), row["ts"])
        key.public_key().verify(base64.b64decode(row["signature"]), bytes.fromhex(row["entry_hash"]))
        return True
    except Exception:  # a registration that cannot be checked registers nobody
        return False


def registered_approvers(history: LedgerHistory, registry: KeyRegistry | None = None,
                         *, before_seq: int | None = None) -> dict[str, Approver]:
    """key id → approver, from the signed APPROVER_ADDED entries (before `before_seq` if given)."""
    registry = registry if registry is not None else KeyRegistry()
    found: dict[str, Approver] = {}
    for row in history.of_type(EntryType.APPROVER_ADDED):
        if before_seq is not None and row["seq"] >= before_seq:
            break
        payload = row["payload"]
        if not _registration_is_signed(row, registry):
            continue
        try:
            if key_id_of(base64.b64decode(payload["public_key_b64"])) != payload["key_id"]:
                continue
        except (ValueError, KeyError):
            continue
        known = found.get(payload["key_id"])
        if known is not None and known.name != payload["approver"]:
            continue  # one key, one approver: a second name for the same key is ignored
        domains = (known.domains if known else frozenset()) | {payload["domain"]}
        found[payload["key_id"]] = Approver(payload["approver"], payload["key_id"], payload["public_key_b64"],
                                            domains, known.registered_seq if known else row["seq"])
    return found


@contextmanager
def new_private_key(path: Path) -> Iterator[Ed25519PrivateKey]:
    """A new approver key (PEM, 0600, folder 0700) that lands at `path` only if the block succeeds:
    it is written next to it first, so a folder that cannot take it fails before the block
    registers anything, and a block that fails (no trust root, a domain that cannot sign) leaves no
    key behind for a later add to pick up. In production an approver's key stays on the approver's
    own device; this is the embedded default for demos and tests."""
    if path.exists():
        raise ApproverError(f"{path}: a key already exists (approver keys are never overwritten)")
    made_folder = not path.parent.exists()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pending = path.with_name(f".{path.name}.{os.getpid()}.pending")
    try:
        os.chmod(path.parent, 0o700)
        key = Ed25519PrivateKey.generate()
        _write_new(pending, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        yield key
        os.link(pending, path)  # never over a key that appeared meanwhile
    finally:
        pending.unlink(missing_ok=True)
        if made_folder and not path.exists():
            with suppress(OSError):
                path.parent.rmdir()


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        material = path.read_bytes()
    except FileNotFoundError:
        raise ApproverError(f"{path}: no such approver key file") from None
    if path.stat().st_mode & 0o077:
        raise ApproverError(f"{path}: approver key is readable by others (mode {path.stat().st_mode & 0o777:o}); chmod 600")
    return private_key_from(material, str(path))
