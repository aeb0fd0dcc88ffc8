from __future__ import annotations

import re

import phonenumbers
import pytest

from hurricane_assets.masking.operators.contact import EmailPseudonym, PhonePseudonym

EMAIL_SYNTAX = re.compile(r"^[a-z0-9]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def test_email_keeps_public_domain_maps_private_one_and_normalises(key):
    op = EmailPseudonym()
    masked = op.operate("Jane.Doe@Gmail.com ", {"key": key})
    assert masked == op.operate("jane.doe@gmail.com", {"key": key})
    assert EMAIL_SYNTAX.match(masked) and masked.endswith("@gmail.com") and "jane" not in masked
    private = op.operate("jane@doe-family.co.uk", {"key": key})
    assert EMAIL_SYNTAX.match(private) and private.endswith(".example.com") and "doe" not in private


@pytest.mark.parametrize("number", [
    "+447911123456", "+442079460018", "+4915123456789", "+33612345678", "+34612345678",
    "+31612345678", "+393471234567", "+12025550143",
])
def test_phone_keeps_country_and_length_and_stays_valid(key, number):
    masked = PhonePseudonym().operate(number, {"key": key})
    original, parsed = phonenumbers.parse(number), phonenumbers.parse(masked)
    assert masked != number and len(masked) == len(number)
    assert parsed.country_code == original.country_code
    assert phonenumbers.is_valid_number(parsed)


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
