"""The C loops of `_keyed_many.c` give the bytes of the per-value Python digests (RFC 2104 HMAC-SHA-256,
keyed BLAKE2b), over a list of str or an Arrow string array's buffers, and `make install` builds them.
Buffers that would make C read outside the data are refused, whoever passes them."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.keys import MaskingKey
from hurricane_assets.masking.operators import base
from hurricane_assets.masking.operators.base import FIELD_SEPARATOR, KeyedDigest, KeyedHmacSha256

KEY = MaskingKey(bytes(range(32)), source="test")
# ASCII ids, accents, non-BMP, empty, NUL, and values past one and two SHA-256 / BLAKE2b blocks
ODD_VALUES = ["cust_0000001", "", "Ærøskøbing", "名前", "😀 emoji", "a\x00b", "x" * 55, "y" * 56, "z" * 64,
              "é" * 100, "w" * 300]


def test_the_extension_is_built():
    assert base.native is not None, (
        "hurricane_assets/masking/operators/_keyed_many.c was not built: `make install` needs a C compiler "
        "and OpenSSL's headers (Debian: gcc, libssl-dev); without it masking runs the slower Python loops")


@pytest.fixture(params=["native", "python"])
def path(request, monkeypatch):
    if request.param == "python":
        monkeypatch.setattr(base, "native", None)
    elif base.native is None:
        pytest.fail("the extension is not built (see test_the_extension_is_built)")
    return request.param


@settings(max_examples=100, deadline=None)
@given(entity=st.text(max_size=12), values=st.lists(st.text(max_size=150), max_size=20))
def test_native_hmac_column_equals_the_per_value_hmac(entity, values):
    digest = KeyedHmacSha256(KEY, "token-hmac", entity)
    assert base.native is not None
    assert digest.joined(values) == b"".join(digest(v) for v in values)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(max_size=150), max_size=20), size=st.integers(min_value=1, max_value=64),
       suffix=st.sampled_from([b"", b"\0\0\0\0", b"#fiction#0", b"#2\0\0\0\0"]))
def test_native_blake2b_column_equals_the_per_value_digest(values, size, suffix):
    digest = KeyedDigest(KEY, "phone", "phone")
    assert base.native is not None
    assert digest.joined(values, size, suffix) == b"".join(
        digest(v.encode() + suffix, size) for v in values)


@settings(max_examples=300, deadline=None)
@given(key=st.binary(min_size=1, max_size=64), size=st.integers(1, 64),
       prefix=st.binary(max_size=300), suffix=st.binary(max_size=140),
       values=st.lists(st.text(max_size=300), max_size=24))
def test_native_blake2b_is_the_standard_keyed_blake2b(key, size, prefix, suffix, values):
    """The C BLAKE2b is written out from RFC 7693 (not OpenSSL's): hashlib's is the reference, for every
    key length and output size, empty input (the key block alone is the last block), one-block values
    four lanes at a time (any count, long values between them) and values of several blocks."""
    assert base.native is not None
    expected = b"".join(hashlib.blake2b(prefix + v.encode() + suffix, key=key, digest_size=size).digest()
                        for v in values)
    assert base.native.blake2b_many(key, prefix, size, values, suffix) == expected
    arrow = pa.array(values, pa.string())
    data, offsets = arrow.buffers()[2] or b"", arrow.buffers()[1]
    assert base.native.blake2b_arrow(key, prefix, size, data, offsets, suffix) == expected


@pytest.mark.parametrize("length", [0, 1, 127, 128, 129, 255, 256, 257])
def test_native_blake2b_at_block_boundaries(length):
    """Inputs of exactly 0, 1 and 2 blocks and one byte either side, split between prefix and value
    in three ways."""
    assert base.native is not None
    prefix_bytes = bytes(range(256)) * 2
    key = bytes([length % 251 + 1]) * (1 + length % 64)
    for cut in sorted({0, length // 2, length}):
        prefix, value = prefix_bytes[:cut], "x" * (length - cut)
        assert base.native.blake2b_many(key, prefix, 64, [value], b"") == hashlib.blake2b(
            prefix + value.encode(), key=key, digest_size=64).digest()


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(max_size=150), max_size=20), start=st.integers(0, 5), size=st.integers(1, 64))
def test_an_arrow_column_gives_the_bytes_of_its_python_strings(values, start, size):
    """Also for a slice (its offsets start inside the buffer): the digests of exactly its own values."""
    arrow = pa.array(values, pa.string()).slice(min(start, len(values)))
    own = values[min(start, len(values)):]
    hmac_digest, blake = KeyedHmacSha256(KEY, "token-hmac", "c"), KeyedDigest(KEY, "iban", "iban")
    assert hmac_digest.joined(arrow) == hmac_digest.joined(own) == b"".join(hmac_digest(v) for v in own)
    assert blake.joined(arrow, size, b"#1") == b"".join(blake(v.encode() + b"#1", size) for v in own)


def test_an_arrow_column_with_nulls_or_of_another_type_is_refused(path):
    with pytest.raises(TypeError, match="without nulls"):
        KeyedHmacSha256(KEY, "token-hmac", "c").joined(pa.array(["a", None]))
    with pytest.raises(TypeError, match="large_string"):
        KeyedDigest(KEY, "iban", "iban").joined(pa.array(["a"], pa.large_string()))


@pytest.mark.parametrize(("data", "offsets", "message"), [
    (b"abc", [0, 2, 9], "outside"),        # past the end of the data: would read other memory
    (b"abc", [-1, 2], "outside"),          # before it
    (b"abc", [0, 3, 1], "decrease"),       # a negative length
    (b"abc", [], "n \\+ 1"),              # not even one offset
])
def test_the_arrow_loops_refuse_offsets_outside_the_data(data, offsets, message):
    if base.native is None:
        pytest.fail("the extension is not built (see test_the_extension_is_built)")
    offsets = np.array(offsets, np.int32)
    with pytest.raises(ValueError, match=message):
        base.native.hmac_sha256_arrow(bytes(64), b"p", data, offsets)
    with pytest.raises(ValueError, match=message):
        base.native.blake2b_arrow(bytes(64), b"p", 32, data, offsets, b"")
    with pytest.raises(ValueError, match="n \\+ 1"):  # a length that is no whole number of int32 offsets
        base.native.hmac_sha256_arrow(bytes(64), b"p", data, np.array([0, 1], np.int32).tobytes()[:7])


def test_both_paths_give_the_per_value_bytes(path):
    hmac_digest = KeyedHmacSha256(KEY, "token-hmac", "customer")
    assert hmac_digest.joined(ODD_VALUES) == b"".join(hmac_digest(v) for v in ODD_VALUES)
    blake = KeyedDigest(KEY, "email-local", "email")
    for size in (1, 16, 20, 32, 34, 64):
        assert blake.joined(ODD_VALUES, size) == b"".join(blake(v, size) for v in ODD_VALUES)
    assert blake.joined(ODD_VALUES, 64, b"\0\0\0\0") == b"".join(blake.block(v, 0) for v in ODD_VALUES)
    # against the standard library's own constructions, so a change made to both paths fails too
    sub_key = KEY.derive("token-hmac")
    assert hmac_digest.joined(ODD_VALUES) == b"".join(
        hmac.digest(sub_key, b"customer" + FIELD_SEPARATOR + v.encode(), "sha256") for v in ODD_VALUES)
    assert blake.joined(ODD_VALUES, 20, b"#2") == b"".join(
        hashlib.blake2b(b"email" + FIELD_SEPARATOR + v.encode() + b"#2", key=KEY.derive("email-local", 64),
                        digest_size=20).digest() for v in ODD_VALUES)


def test_an_unencodable_or_non_text_value_raises_on_both_paths(path):
    with pytest.raises(UnicodeEncodeError):
        KeyedHmacSha256(KEY, "token-hmac", "customer").joined(["ok", "\ud800"])
    with pytest.raises(UnicodeEncodeError):
        KeyedDigest(KEY, "phone", "phone").joined(["ok", "\udfff"])
    with pytest.raises((TypeError, AttributeError)):
        KeyedHmacSha256(KEY, "token-hmac", "customer").joined(["ok", 7])


def test_the_native_loops_refuse_bad_sizes_and_keys():
    if base.native is None:
        pytest.fail("the extension is not built (see test_the_extension_is_built)")
    with pytest.raises(ValueError, match="64 bytes"):
        base.native.hmac_sha256_many(b"short", b"p", ["v"])
    for size in (0, 65):
        with pytest.raises(ValueError, match="1..64"):
            base.native.blake2b_many(bytes(64), b"p", size, ["v"], b"")
    with pytest.raises(TypeError, match="sequence"):
        base.native.hmac_sha256_many(bytes(64), b"p", 5)


@settings(max_examples=100, deadline=None)
@given(length=st.integers(5, 40), rows=st.integers(1, 40), seed_extra=st.integers(0, 40), data=st.data())
def test_native_iban_pass_gives_the_numpy_reference_bytes(length, rows, seed_extra, data):
    """Country letters, BBANs of digits and letters mixed, bank identifiers shorter than the usual four
    (a five-character IBAN), seeds longer than the BBAN: the C pass and the column-wise numpy agree."""
    from hurricane_assets.masking.operators import financial

    assert base.native is not None
    alphabet = st.sampled_from(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    body = data.draw(st.lists(alphabet, min_size=rows * (length - 2), max_size=rows * (length - 2)))
    country = data.draw(st.lists(st.sampled_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2 * rows, max_size=2 * rows))
    chars = np.concatenate([np.array(country, np.uint8).reshape(rows, 2),
                            np.array(body, np.uint8).reshape(rows, length - 2)], axis=1)
    seeds = data.draw(st.binary(min_size=rows * (length - 4 + seed_extra), max_size=rows * (length - 4 + seed_extra)))
    assert financial._iban_bytes(chars, seeds).tobytes() == financial._iban_bytes_numpy(chars, seeds).tobytes()


def test_native_iban_pass_refuses_buffers_that_do_not_fit():
    assert base.native is not None
    with pytest.raises(ValueError, match="iban_bytes"):
        base.native.iban_bytes(b"GB00" * 3, bytes(12), 4, 0)        # length 4: no BBAN
    with pytest.raises(ValueError, match="iban_bytes"):
        base.native.iban_bytes(b"GB00XXXX1" * 2, bytes(9), 9, 4)    # seeds shorter than the BBAN
    with pytest.raises(ValueError, match="iban_bytes"):
        base.native.iban_bytes(b"GB00XXXX1" * 2, bytes(20), 9, 6)   # bank past the BBAN
