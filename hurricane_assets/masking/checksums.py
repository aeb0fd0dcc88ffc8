"""Luhn check digits (ISO/IEC 7812 card numbers), one place for everything that makes or checks them:
the card masking (one value, or a column in numpy), the synthetic generator and the free-text
detector's validator. Import-light on purpose: the generator loads it without the masking engine.
"""

from __future__ import annotations

import numpy as np

from hurricane_assets.masking.normalise import digits_only

_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit sum of 2d


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check."""
    if not payload.isascii():  # digits of other scripts (int() reads them) count like their ASCII twins
        payload = "".join(str(int(ch)) for ch in payload)
    backwards = payload[::-1]
    # Every other digit from the right is doubled; summing the ASCII bytes sums the digits (+48 each).
    total = sum(backwards[::2].translate(_LUHN_DOUBLED).encode()) + sum(backwards[1::2].encode()) - 48 * len(payload)
    return str((10 - total % 10) % 10)


def luhn_check_digits(body: np.ndarray) -> np.ndarray:
    """`luhn_check_digit` for each row of `body` (n x k digits as integers, most significant first)."""
    doubled = body[:, ::-1].astype(np.int64)
    doubled[:, 0::2] *= 2  # the digit next to the check digit is doubled
    doubled[doubled > 9] -= 9
    return (10 - doubled.sum(axis=1) % 10) % 10


def luhn_valid(number: str) -> bool:
    digits = digits_only(number)
    return len(digits) >= 2 and luhn_check_digit(digits[:-1]) == digits[-1]
