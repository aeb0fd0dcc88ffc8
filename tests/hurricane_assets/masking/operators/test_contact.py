from __future__ import annotations

import re

import phonenumbers
import pyarrow as pa
import pytest

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
