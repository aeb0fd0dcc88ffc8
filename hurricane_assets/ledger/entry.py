"""What one ledger entry is: its types, its columns, and the canonical header that is hashed.

The entry hash is SHA-256 over the RFC 8785 form of the header (every column except the payload
text, the hash itself and the signature). Because every header field is validated against a
pattern that needs no JSON escaping, the JCS bytes can be produced with one format string, which
is what makes verifying 100k entries fast; a test pins it to `rfc8785.dumps`.
"""

from __future__ import annotations

import re
from enum import Enum

import pyarrow as pa

from hurricane_assets.identity import SYSTEM_IDENTITY

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = "system:ledger"

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
ACTOR_PATTERN = r"^(agent:[a-z][a-z0-9_]*/[a-z][a-z0-9_]*|system:ledger)$"
HASH_PATTERN = r"^[0-9a-f]{64}$"
KEY_ID_PATTERN = r"^[0-9a-f]{16}$"


class EntryType(str, Enum):
    NEGOTIATION_STARTED = "NEGOTIATION_STARTED"
    NEGOTIATION_OPENED = "NEGOTIATION_OPENED"
    TRIGGER = "TRIGGER"
    MESSAGE = "MESSAGE"
    OFFER = "OFFER"
    COUNTER = "COUNTER"
    ACCEPTED = "ACCEPTED"
    POLICY_DECISION = "POLICY_DECISION"
    POLICY_DENIED = "POLICY_DENIED"
    POLICY_CHANGED = "POLICY_CHANGED"  # a policy bundle hash decided for the first time (pin)
    APPROVER_ADDED = "APPROVER_ADDED"  # a human approver's public key, registered by a domain
    HUMAN_APPROVAL = "HUMAN_APPROVAL"  # an approver's signed envelope answering an escalation
    ESCALATED = "ESCALATED"
    RESUMED = "RESUMED"
    AGREEMENT = "AGREEMENT"
    NO_DEAL = "NO_DEAL"
    CONTRACT_SIGNED = "CONTRACT_SIGNED"
    CONTRACT_PUBLISHED = "CONTRACT_PUBLISHED"
    MATERIALIZED = "MATERIALIZED"
    CONTRACT_TESTED = "CONTRACT_TESTED"
    DELIVERED = "DELIVERED"
    LINEAGE_EMITTED = "LINEAGE_EMITTED"
    RENEWED = "RENEWED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    KEY_ROTATED = "KEY_ROTATED"
    ERASURE = "ERASURE"
    RETENTION = "RETENTION"  # rows past a contract's retention removed from its share at a lifecycle tick
    CHECKPOINT = "CHECKPOINT"

    @classmethod
    def parse(cls, value: EntryType | str) -> EntryType:
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown ledger entry type {value!r}; known: {', '.join(t.value for t in cls)}") from None


# A commit holding one of these is followed by a checkpoint cosigned by every witness: they change a
# contract's state (or, for KEY_ROTATED, which key speaks for a party), so a cut must not hide them.
COSIGNED_TYPES = frozenset(
    {
        EntryType.CONTRACT_SIGNED.value,
        EntryType.DELIVERED.value,
        EntryType.REVOKED.value,
        EntryType.EXPIRED.value,
        EntryType.RENEWED.value,
        EntryType.KEY_ROTATED.value,
    }
)


LEDGER_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("entry_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("entry_type", pa.string(), nullable=False),
        pa.field("actor", pa.string(), nullable=False),
        pa.field("negotiation_id", pa.string()),
        pa.field("contract_id", pa.string()),
        pa.field("payload_json", pa.string(), nullable=False),
        pa.field("payload_hash", pa.string(), nullable=False),
        pa.field("prev_hash", pa.string(), nullable=False),
        pa.field("entry_hash", pa.string(), nullable=False),
        pa.field("key_id", pa.string(), nullable=False),
        pa.field("signature", pa.string()),  # null: covered by the same key's signature later in the commit
    ]
)


def check_format(field: str, value: str | None, pattern: str, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if not isinstance(value, str) or not re.match(pattern, value):
        raise ValueError(f"ledger field {field}={value!r} must match {pattern}")


def identity_of(actor: str) -> str:
    """Whose key signs for an actor: `agent:<domain>/<role>` -> domain, `system:ledger` -> system."""
    check_format("actor", actor, ACTOR_PATTERN)
    return SYSTEM_IDENTITY if actor == SYSTEM_ACTOR else actor[len("agent:") :].split("/", 1)[0]


def _optional(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def header_bytes(
    seq: int,
    entry_id: str,
    ts_us: int,
    entry_type: str,
    actor: str,
    negotiation_id: str | None,
    contract_id: str | None,
    payload_hash: str,
    prev_hash: str,
    key_id: str,
) -> bytes:
    """JCS bytes of the entry header (keys in code-unit order, no escaping needed by construction)."""
    return (
        f'{{"actor":"{actor}","contract_id":{_optional(contract_id)},"entry_id":"{entry_id}",'
        f'"entry_type":"{entry_type}","key_id":"{key_id}","negotiation_id":{_optional(negotiation_id)},'
        f'"payload_hash":"{payload_hash}","prev_hash":"{prev_hash}","seq":{seq},"ts":{ts_us}}}'
    ).encode()
