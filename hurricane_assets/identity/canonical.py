"""Canonical bytes (RFC 8785, JCS): the one form that is hashed and signed."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical_json(value: Any) -> bytes:
    """JCS bytes of a JSON-compatible value; raises `TypeError` naming the offending value."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise TypeError(f"value cannot be canonicalised as JSON: {exc}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
