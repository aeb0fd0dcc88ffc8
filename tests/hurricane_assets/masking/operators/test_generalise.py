from __future__ import annotations

import pytest

from hurricane_assets.masking.operators.generalise import Bucket, Drop, Keep, Prefix
from hurricane_assets.masking.operators.identifiers import KeyedCharacters


def test_prefix_never_passes_a_short_value_whole():
    assert Prefix().operate("SW1A 1AA", {"length": 3}) == "SW1"
    assert Prefix().operate("75", {"length": 3}) == "7"
    assert Prefix.coarser({"length": 2}) == {"length": 1} and Prefix.coarser({"length": 1}) is None


def test_bucket_keeps_int_and_float_types():
    assert Bucket().operate(127, {"width": 10}) == 120 and isinstance(Bucket().operate(127, {"width": 10}), int)
    assert Bucket().operate(127.5, {"width": 50}) == 100.0
    assert Bucket().operate(-3.0, {"width": 10}) == -10.0
    assert Bucket.coarser({"width": 10}) == {"width": 100, "base_width": 10}
    assert Bucket.coarser({"width": 10000, "base_width": 10}) is None
    with pytest.raises(TypeError, match="buckets numbers"):
        Bucket().operate("12", {})


def test_keep_drop_and_blank_values():
    assert Keep().operate("x", {}) == "x"
    assert Drop().operate("x", {}) == ""
    assert Prefix().operate("", {}) == "" and Prefix().operate(None, {}) is None


def test_keyed_characters_keep_layout_and_class(key):
    masked = KeyedCharacters().operate("AB 12 34 56 c", {"key": key, "entity": "national_id"})
    assert len(masked) == 13 and masked[2] == " " and masked[:2].isupper() and masked[3:5].isdigit()
    assert masked[-1].islower() and masked != "AB 12 34 56 c"
    assert KeyedCharacters().operate("12345678Z", {"key": key, "keep_prefix": 2}).startswith("12")
