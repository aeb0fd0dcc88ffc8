"""Validity is checked with independent validators (Presidio's recognizers, libphonenumber)."""

from __future__ import annotations

import re

import numpy as np
import phonenumbers
import pytest
from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer

from hurricane_assets.masking.checksums import luhn_check_digits
from hurricane_assets.synthetic.identifiers import card_numbers, ibans, mobile_numbers, national_ids

IBAN_LENGTHS = {"GB": 22, "DE": 22, "FR": 27, "NL": 18, "ES": 24, "IT": 27}


def test_profile_ibans_pass_mod97_with_country_lengths(world):
    profiles = world[("customers", "profiles")]
    validator = IbanRecognizer()
    for iban, country in zip(profiles["iban"], profiles["country"]):
        assert iban.startswith(country) and len(iban) == IBAN_LENGTHS[country], iban
        assert int("".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])) % 97 == 1, iban
    assert all(validator.validate_result(iban) for iban in profiles["iban"].head(500))


def test_card_numbers_are_16_digit_luhn_valid(world):
    validator = CreditCardRecognizer()
    cards = world[("payments", "transactions")]["card_number"].dropna().unique()
    assert all(len(c) == 16 and c.isdigit() for c in cards)
    assert all(validator.validate_result(c) for c in cards)


def test_a_wrong_check_digit_is_detected():
    body = np.array([[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]])  # the textbook example: 79927398713
    assert luhn_check_digits(body).tolist() == [3]
    valid = card_numbers(np.random.default_rng(0), 1)[0]
    wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    assert CreditCardRecognizer().validate_result(valid) and not CreditCardRecognizer().validate_result(wrong)


def test_at_least_99_percent_of_phones_parse_as_valid_for_their_country(world):
    profiles = world[("customers", "profiles")]
    valid = [
        phonenumbers.is_valid_number(parsed) and phonenumbers.region_code_for_number(parsed) == country
        for parsed, country in ((phonenumbers.parse(p), c) for p, c in zip(profiles["phone"], profiles["country"]))
    ]
    assert np.mean(valid) >= 0.99
    assert profiles["phone"].str.fullmatch(r"\+\d{10,13}").all()


@pytest.mark.parametrize(
    "country,pattern",
    [("GB", r"[A-Z]{2}\d{6}[A-D]"), ("DE", r"[1-9]\d{10}"), ("FR", r"[12]\d{14}"), ("NL", r"\d{9}"),
     ("ES", r"[XY\d]\d{7}[A-Z]"), ("IT", r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]")],
)
def test_national_ids_have_the_country_format_and_check(country, pattern):
    rng = np.random.default_rng(3)
    ids = national_ids(rng, np.array([country] * 300), np.full(300, 1984), np.full(300, 7))
    assert all(re.fullmatch(pattern, v) for v in ids), ids[:5]
    if country == "NL":  # eleven test
        assert all(sum(int(d) * w for d, w in zip(v, [9, 8, 7, 6, 5, 4, 3, 2, -1])) % 11 == 0 for v in ids)
    if country == "ES":  # DNI letter; a NIE counts X as 0 and Y as 1
        numbers = [int(v[:8].replace("X", "0").replace("Y", "1")) for v in ids]
        assert all("TRWAGMYFPDXBNJZSQVHLCKE"[n % 23] == v[8] for n, v in zip(numbers, ids))
        assert 0.1 < np.mean([v[0] in "XY" for v in ids]) < 0.3
    if country == "DE":  # ISO 7064 MOD 11,10: the check digit makes the running product 1
        for v in ids:
            product = 10
            for ch in v[:10]:
                product = ((int(ch) + product) % 10 or 10) * 2 % 11
            assert (product + int(v[10])) % 10 == 1, v
    if country == "FR":
        assert all(int(v[13:]) == 97 - int(v[:13]) % 97 for v in ids)


def test_identifiers_are_reproducible_per_generator_state():
    first = ibans(np.random.default_rng(5), np.array(["DE", "GB"])), mobile_numbers(np.random.default_rng(5), np.array(["FR"]))
    again = ibans(np.random.default_rng(5), np.array(["DE", "GB"])), mobile_numbers(np.random.default_rng(5), np.array(["FR"]))
    assert first[0].tolist() == again[0].tolist() and first[1].tolist() == again[1].tolist()
