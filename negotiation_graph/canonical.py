"""RFC 8785 (JCS) bytes, fast: the one form of a message or an offer that is hashed and signed.

`rfc8785.dumps` is pure Python (a regex and a write per string) and was the largest pure-Python
cost of a negotiation. For a value whose floats are plain decimals (`plain_decimal`), with integers
a double holds exactly and keys whose code-point order is their UTF-16 order, the standard
library's C encoder (sorted keys, no spaces, no ASCII escaping) writes exactly the JCS bytes: both
escape only `"`, `\\` and control characters, in the same short and `\\u00xx` forms. Anything else
(floats JCS writes otherwise, in ECMAScript's number format; huge integers; keys at or above
U+E000) goes to `rfc8785.dumps`. A property test pins the two to the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

EXACT_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles
UTF16_ORDER_SAFE = "\ue000"  # below this, code-point order is UTF-16 code-unit order


def plain_decimal(number: float) -> bool:
    """Whether JCS writes this float as Python's `repr` does (and so as the C encoder does): JCS
    takes the shortest round-trip digits, which `repr` gives too (`rfc8785` starts from `str`), and
    only reformats exponents, integral values ("1.0" is "1", "-0.0" is "0"), NaN and infinities.
    A `repr` without "e" or "n" (nan, inf) of a non-integral value is already in JCS form. (The
    CFP carries the need's float weights; the rest of its message should not go through rfc8785.)"""
    text = repr(number)
    return "e" not in text and "n" not in text and not number.is_integer()


def standard_encoder_is_canonical(value: Any) -> bool:
    """Whether the C encoder writes `value`'s JCS bytes. Iterative, with the common leaves (strings,
    ASCII keys) checked inline: it runs over every message a negotiation signs, hashes and records."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        item = pop()
        kind = type(item)
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str or not (key.isascii() or max(key) < UTF16_ORDER_SAFE):
                    return False
                child_kind = type(child)
                if child_kind is str or child_kind is bool or child is None:
                    continue
                if child_kind is int:
                    if not -EXACT_INT <= child <= EXACT_INT:
                        return False
                    continue
                push(child)
        elif kind is list or kind is tuple:
            for child in item:
                child_kind = type(child)
                if child_kind is str or child_kind is bool or child is None:
                    continue
                push(child)
        elif kind is int:
            if not -EXACT_INT <= item <= EXACT_INT:
                return False
        elif kind is float:
            if not plain_decimal(item):
                return False
        elif not (kind is str or kind is bool or item is None):
            return False
    return True


def canonical_json(value: Any) -> bytes:
    """The JCS bytes of a JSON-compatible value (raises `rfc8785.CanonicalizationError` otherwise)."""
    if standard_encoder_is_canonical(value):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        try:
            return text.encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: let rfc8785 reject it with its own error
    return rfc8785.dumps(value)
