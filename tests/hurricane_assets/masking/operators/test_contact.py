from __future__ import annotations

import re

import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.operators.contact import (
    FICTION_RANGES,
    PUBLIC_MAIL_DOMAINS,
    EmailPseudonym,
    PhonePseudonym,
    in_fiction_range,
)

EMAIL_SYNTAX = re.compile(r"^[a-z0-9]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def test_email_maps_every_domain_to_a_reserved_one_by_default_and_normalises(key):
    op = EmailPseudonym()
    masked = op.operate("Jane.Doe@Gmail.com ", {"key": key})
    assert masked == op.operate("jane.doe@gmail.com", {"key": key})
    assert EMAIL_SYNTAX.match(masked) and masked.endswith(".example.com") and "jane" not in masked
    assert masked.split("@")[1] == op.operate("bob@gmail.com", {"key": key}).split("@")[1]  # one host per domain
    private = op.operate("jane@doe-family.co.uk", {"key": key})
    assert EMAIL_SYNTAX.match(private) and private.endswith(".example.com") and "doe" not in private


def test_email_keeps_a_provider_only_when_asked(key):
    kept = EmailPseudonym().operate("jane.doe@gmail.com", {"key": key, "keep_domains": list(PUBLIC_MAIL_DOMAINS)})
    assert kept.endswith("@gmail.com") and "jane" not in kept


@pytest.mark.parametrize("number", [
    "+447911123456", "+442079460018", "+4915123456789", "+33612345678", "+34612345678",
    "+31612345678", "+393471234567", "+12025550143",
])
def test_phone_keeps_country_and_length_and_stays_valid(key, number):
    masked = PhonePseudonym().operate(number, {"key": key})
    original, parsed = phonenumbers.parse(number), phonenumbers.parse(masked)
    assert masked != number and len(masked) == len(number)
    assert parsed.country_code == original.country_code
    # Countries with a range reserved for fiction get a number from it (libphonenumber calls some of
    # them invalid, as no network routes them); elsewhere a valid number.
    assert in_fiction_range(masked) if original.country_code in FICTION_RANGES else phonenumbers.is_valid_number(parsed)


@pytest.mark.parametrize(("number", "prefix"), [
    ("+447911123456", "+447700900"), ("+442071838750", "+442079460"), ("+33612345678", "+3363998"),
    ("+33145678901", "+3319900"), ("+61412345678", "+61491570"), ("+12125551234", "+121255501"),
])
def test_phones_of_countries_with_fiction_ranges_land_in_them(key, number, prefix):
    assert PhonePseudonym().operate(number, {"key": key}).startswith(prefix)


def test_a_fake_phone_is_never_another_prod_number_of_the_column(key):
    op = PhonePseudonym()
    numbers = ["+4915123456789", "+31612345678"]
    fakes = op.mask_distinct(numbers, {"key": key})
    # Make each fake a prod number of the column: the operator must draw another one.
    retried = op.mask_distinct([*numbers, *fakes], {"key": key})
    assert not set(retried) & {*numbers, *fakes}
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(f)) for f in retried)


def test_phone_layouts_mask_consistently_with_e164(key):
    op = PhonePseudonym()
    e164 = op.operate("+442079460018", {"key": key})
    national = op.operate("(020) 7946 0018", {"key": key, "region": "GB"})
    spaced = op.operate("+44 20 7946 0018", {"key": key})
    digits = lambda s: re.sub(r"\D", "", s)  # noqa: E731
    assert digits(national)[1:] == digits(e164)[2:] and national.startswith("(020) ")
    assert digits(spaced) == digits(e164) and spaced.startswith("+44 ")


def test_unparseable_phone_is_still_keyed_and_same_shape(key):
    masked = PhonePseudonym().operate("ext. 12-34", {"key": key})
    assert re.fullmatch(r"ext\. \d\d-\d\d", masked) and masked != "ext. 12-34"


@pytest.mark.parametrize("layout", [[], ["(020) 7946 0018"]], ids=["arrow-path", "list-path"])
def test_a_fake_is_never_a_number_of_its_column(key, layout):
    """An attacker's column: every fake of a first run is put back as a prod number. The next run
    must give each value a number that is none of the column's (on the Arrow path for stored numbers,
    and on the list path a written-out number sends the column to), as the per-value path does."""
    from hurricane_assets.masking.normalise import normalise_phone
    from hurricane_assets.masking.registry import operator_class

    op = operator_class("phone")()
    params = {"key": key}
    numbers = ["+447400137732", "+4915112345678", "+33612345678", "+12025550143", "+61412345678", "+31612345678"]
    first = op.mask_distinct(numbers, params)
    column = numbers + first + layout
    again = op.mask_distinct(column, params)
    assert not set(again) & set(column)
    assert again[:len(numbers)] != first
    avoid = frozenset(column) | {normalise_phone(v, "GB") for v in layout}  # as the list path normalises them
    assert again == [op.operate(v, {**params, "avoid": avoid}) for v in column]


def test_avoided_numbers_answer_for_one_string_as_the_set_of_strings_would():
    """The per-value path asks the column's numbers (sorted integers, not a set of a million strings)
    about one candidate at a time: the same answers as the strings themselves for every shape."""
    from hurricane_assets.masking.operators.contact import _AvoidedNumbers

    strings = ["+447700900123", "+33612345678", "+0123", "not a number", "+4477009001234567890", "+١٢٣"]
    avoided = _AvoidedNumbers(pa.array(strings))
    for probe in [*strings, "+447700900124", "447700900123", "+44770090012", "+", "", "+4477009001234567"]:
        expected = probe in strings and re.fullmatch(r"\+[1-9][0-9]{0,17}", probe) is not None
        assert (probe in avoided) == expected, probe
    assert 447700900123 not in avoided and None not in avoided


_GROUPED = st.lists(st.integers(1, 5), min_size=1, max_size=6)


def _parsed_split(value: str, region: str) -> tuple[int, str] | None:
    """What the full parse finds: (country code, national significant number), None unless possible."""
    from hurricane_assets.masking.normalise import parse_phone

    number = parse_phone(value, region)
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    return number.country_code, phonenumbers.national_significant_number(number)


def _layout(prefix: str, digits: str, groups: list[int], separator: str) -> str:
    parts, at = [], 0
    for size in groups:
        if at < len(digits):
            parts.append(digits[at:at + size])
            at += size
    if at < len(digits):
        parts.append(digits[at:])
    return prefix + separator.join(parts)


@settings(max_examples=600, deadline=None)
@given(code=st.sampled_from(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)),
       national=st.text("0123456789", min_size=2, max_size=13) | st.sampled_from(["0", "00", "180020", "1"]).flatmap(
           lambda head: st.text("0123456789", min_size=4, max_size=10).map(lambda rest: head + rest)),
       prefix=st.sampled_from(["+", "00", "+0", "000"]), groups=_GROUPED, separator=st.sampled_from([" ", "-", ""]),
       region=st.sampled_from(["GB", "DE", "FR", "IT", "US", "AU", "BR", "ZZ"]))
def test_an_international_number_is_split_as_the_full_parse_splits_it(code, national, prefix, groups, separator,
                                                                      region):
    """The shortcut past `phonenumbers.parse` for "+49 1512 3557928" / "0049-1512-…": where it answers,
    it answers as the parse does (national prefixes such as the 0 of "+44 0…", another region's
    international prefix, non-geographic codes and impossible lengths are left to the parse)."""
    from hurricane_assets.masking.normalise import digits_only
    from hurricane_assets.masking.operators.contact import _split_international

    value = _layout(prefix, f"{code}{national}", groups, separator)
    split = _split_international(value, digits_only(value), region)
    assert split is None or split == _parsed_split(value, region), value


def test_the_shortcut_takes_most_international_numbers_and_masks_them_as_the_parse_would(key, monkeypatch):
    from hurricane_assets.masking.normalise import digits_only
    from hurricane_assets.masking.operators import contact

    written = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                spaced = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
                written += [spaced, spaced.replace(" ", "-"), "00" + spaced[1:]]
    taken = [v for v in written if contact._split_international(v, digits_only(v), "GB") is not None]
    assert len(taken) > 0.8 * len(written)  # the common layouts do not need the parse
    op = PhonePseudonym()
    fast = [op.operate(v, {"key": key}) for v in written]
    monkeypatch.setattr(contact, "_split_international", lambda value, digits, region: None)
    assert fast == [op.operate(v, {"key": key}) for v in written]
