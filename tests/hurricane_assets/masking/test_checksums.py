from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hurricane_assets.masking.checksums import luhn_check_digit, luhn_check_digits, luhn_valid
from hurricane_assets.masking.freetext.validators import luhn


def _textbook_luhn(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch) * 2 if i % 2 == 0 else int(ch)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789٠١٢٣", min_size=1, max_size=25))
def test_luhn_check_digit_matches_the_textbook_algorithm(payload):
    assert luhn_check_digit(payload) == _textbook_luhn(payload)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32 - 1))
def test_the_column_check_digits_are_the_textbook_ones(width, seed):
    body = np.random.default_rng(seed).integers(0, 10, size=(20, width))
    expected = [int(_textbook_luhn("".join(map(str, row)))) for row in body.tolist()]
    assert luhn_check_digits(body).tolist() == expected
    assert luhn_check_digits(body.astype(np.uint8)).tolist() == expected  # no uint8 overflow when doubled


def test_the_free_text_validator_wants_a_card_length_and_a_valid_check_digit():
    assert luhn("4111111111111111") and luhn("378282246310005")
    assert not luhn("4111111111111112")
    assert not luhn("41111111111")  # 11 digits: too short for a card
    assert not luhn("4" * 19 + "0") and not luhn("4111 1111 1111 1111")
    assert not luhn("٤١١١١١١١١١١١١١١١")  # compact ASCII form only, as before
    assert luhn_valid("4111 1111 1111 1111")
