from __future__ import annotations

import hashlib
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.keys import MaskingKey
from hurricane_assets.masking.operators.base import FIELD_SEPARATOR, KeyedDigest, KeyedHmacSha256

KEY = MaskingKey(bytes(range(32)), source="test")


@settings(max_examples=200, deadline=None)
@given(entity=st.text(max_size=12), value=st.text(max_size=200))
def test_primed_hmac_is_rfc2104_hmac_sha256(entity, value):
    expected = hmac.digest(KEY.derive("token-hmac"), entity.encode() + FIELD_SEPARATOR + value.encode(), "sha256")
    assert KeyedHmacSha256(KEY, "token-hmac", entity)(value) == expected


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=100), size=st.integers(min_value=1, max_value=300))
def test_keyed_digest_is_keyed_blake2b_extended_by_a_block_counter(value, size):
    digest = KeyedDigest(KEY, "phone", "phone")
    message = b"phone" + FIELD_SEPARATOR + value.encode()
    sub_key = KEY.derive("phone", 64)
    if size <= 64:
        expected = hashlib.blake2b(message, key=sub_key, digest_size=size).digest()
    else:
        expected = b"".join(hashlib.blake2b(message + i.to_bytes(4, "big"), key=sub_key).digest()
                            for i in range(-(-size // 64)))[:size]
    assert digest(value, size) == expected
    assert digest(value.encode(), size) == expected
    assert digest(value, 200) == b"".join(digest.block(value, i) for i in range(4))[:200]


def test_primed_states_are_not_shared_between_values():
    digest = KeyedDigest(KEY, "email-local", "email")
    first = digest("a@example.com")
    digest("b@example.com")
    assert digest("a@example.com") == first != digest("b@example.com")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=8), st.integers(1, 64))
def test_hex_chars_are_the_digests_hex(digests, width):
    import numpy as np

    from hurricane_assets.masking.operators.base import hex_chars

    rows = np.frombuffer(b"".join(digests), np.uint8).reshape(len(digests), 32)
    assert [bytes(r).decode() for r in hex_chars(rows, width)] == [d.hex()[:width] for d in digests]
