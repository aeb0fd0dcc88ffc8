"""Canonical bytes (RFC 8785, JCS): the one form that is hashed and signed."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from negotiation_graph.canonical import canonical_json as jcs_bytes


def canonical_json(value: Any) -> bytes:
    """JCS bytes of a JSON-compatible value; raises `TypeError` naming the offending value.

    The negotiation's encoder: the C encoder where it writes the JCS bytes, `rfc8785` otherwise
    (envelopes, contracts and ledger payloads went through pure-Python `rfc8785` every time)."""
    try:
        return jcs_bytes(value)
    except rfc8785.CanonicalizationError as exc:
        raise TypeError(f"value cannot be canonicalised as JSON: {exc}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
