"""RFC 8785 (JCS) bytes, fast: the one form of a message or an offer that is hashed and signed.

`rfc8785.dumps` is pure Python (a regex and a write per string) and was the largest pure-Python
cost of a negotiation. For a value without floats, with integers a double holds exactly and keys
whose code-point order is their UTF-16 order, the standard library's C encoder (sorted keys, no
spaces, no ASCII escaping) writes exactly the JCS bytes: both escape only `"`, `\\` and control
characters, in the same short and `\\u00xx` forms. Anything else (floats, whose JCS form is
ECMAScript's number format; huge integers; keys at or above U+E000) goes to `rfc8785.dumps`. A
property test pins the two to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

EXACT_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles
UTF16_ORDER_SAFE = "\ue000"  # below this, code-point order is UTF-16 code-unit order


def standard_encoder_is_canonical(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -EXACT_INT <= value <= EXACT_INT
    if kind is dict:
        return all(
            type(key) is str and (not key or max(key) < UTF16_ORDER_SAFE) and standard_encoder_is_canonical(item)
            for key, item in value.items()
        )
    if kind is list or kind is tuple:
        return all(standard_encoder_is_canonical(item) for item in value)
    return False


def canonical_json(value: Any) -> bytes:
    """The JCS bytes of a JSON-compatible value (raises `rfc8785.CanonicalizationError` otherwise)."""
    if standard_encoder_is_canonical(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        try:
            return text.encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 reject it with its own error
    return rfc8785.dumps(value)
