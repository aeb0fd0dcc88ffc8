from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.normalise import alnum_upper, digits_only, normalise_text

# Whitespace of every kind Python knows (ASCII controls, NBSP, ideographic space, line separators).
SPACES = " \t\n\v\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT = st.text(alphabet=st.one_of(st.sampled_from(SPACES), st.characters()), max_size=40)
# What an Arrow column can hold: no lone surrogates.
UTF8_TEXT = st.text(alphabet=st.one_of(st.sampled_from(SPACES), st.characters(exclude_categories=("Cs",))), max_size=40)


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_normalise_text_fast_path_agrees_with_the_whitespace_regex(value):
    assert normalise_text(value) == re.sub(r"\s+", " ", value).strip().casefold()


@settings(max_examples=500, deadline=None)
@given(st.one_of(TEXT, st.text(alphabet="0123456789٣²", max_size=20)))
def test_digit_and_alnum_fast_paths_agree_with_the_character_filters(value):
    assert digits_only(value) == re.sub(r"\D+", "", value)
    assert alnum_upper(value) == "".join(ch for ch in value if ch.isalnum()).upper()


def test_stored_forms_pass_through():
    assert normalise_text("Cust_0008204") == "cust_0008204"
    assert digits_only("5479250797218486") == "5479250797218486"
    assert alnum_upper("gb50barc23965483113223") == "GB50BARC23965483113223"


def test_normalise_strings_equals_normalise_text_per_value():
    """The column form lower-cases plain ASCII with Arrow; anything else must still casefold and
    collapse spaces exactly like the per-value form (a difference would change tokens)."""
    import pyarrow as pa

    from hurricane_assets.masking.normalise import normalise_strings, normalise_text

    values = ["Cust_0000001", "ABC", "", " Padded ", "Two  Spaces", "Straße", "ÉCOLE", "tab\there", "x\x1fy",
              "İstanbul", "ǅ", "a~Z!"]
    assert normalise_strings(pa.array(values)).to_pylist() == [normalise_text(v) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(UTF8_TEXT, st.text(alphabet="Ab 1_-.~", max_size=12)), max_size=12), st.integers(0, 3))
def test_normalise_strings_is_normalise_text_of_each_arrow_string(values, start):
    """The Arrow path (one pass over the bytes when all are printable ASCII, a regex per string
    otherwise), also on a slice, gives `normalise_text` of each value."""
    import pyarrow as pa

    from hurricane_assets.masking.normalise import normalise_strings

    own = values[min(start, len(values)):]
    expected = [normalise_text(v) for v in own]
    assert normalise_strings(pa.array(values, pa.string()).slice(min(start, len(values)))).to_pylist() == expected


def test_a_remembered_phone_parse_is_handed_out_as_a_copy():
    import phonenumbers

    from hurricane_assets.masking.normalise import parse_phone

    first = parse_phone("01512 3557928", "DE")
    assert first == phonenumbers.parse("01512 3557928", "DE")
    first.national_number = 1  # a caller changing its number changes nobody else's
    again = parse_phone("01512 3557928", "DE")
    assert again == phonenumbers.parse("01512 3557928", "DE") and again is not first
    assert parse_phone("no number", "DE") is None
