"""Card numbers and IBANs that still pass their checksums (Luhn, ISO 13616 mod-97), keyed.

Applications and test suites in lower environments validate these fields; a masked value that
fails validation breaks them, and a constant or random one breaks joins.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from hurricane_assets.masking.normalise import alnum_upper, digits_only
from hurricane_assets.masking.operators.identifiers import keyed_characters
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    MaskingOperator,
    keyed_digits,
    replace_positions,
)
from negotiation_graph.terms import MaskingMethod


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # digit sum of 2d


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check."""
    if not payload.isascii():  # digits of other scripts (int() reads them) count like their ASCII twins
        payload = "".join(str(int(ch)) for ch in payload)
    backwards = payload[::-1]
    # Every other digit from the right is doubled; summing the ASCII bytes sums the digits (+48 each).
    total = sum(backwards[::2].translate(_LUHN_DOUBLED).encode()) + sum(backwards[1::2].encode()) - 48 * len(payload)
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = digits_only(number)
    return len(digits) >= 2 and luhn_check_digit(digits[:-1]) == digits[-1]


_BASE36 = str.maketrans({ch: str(int(ch, 36)) for ch in string.ascii_uppercase})


def iban_check_digits(country: str, bban: str) -> str:
    numeric = (bban + country + "00").translate(_BASE36)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(iban: str) -> bool:
    compact = alnum_upper(iban)
    if len(compact) < 5 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    numeric = (compact[4:] + compact[:4]).translate(_BASE36)
    return numeric.isdigit() and int(numeric) % 97 == 1


class CardPseudonym(MaskingOperator):
    """Keeps the length, the separators and the first digit (the card network); keyed body, valid Luhn."""

    name = "credit_card"
    method = MaskingMethod.format_preserving
    cost_per_value = 2.8
    params_allowed = frozenset({"entity"})

    def masker(self, params: dict) -> Callable[[Any], Any]:
        digest = KeyedDigest(params["key"], "card", params.get("entity", "card"))

        def pseudonym(value: Any) -> str:
            digits = digits_only(value)
            if len(digits) < 2:
                return value
            for attempt in range(16):
                body = digits[0] + keyed_digits(digest(f"{digits}#{attempt}"), len(digits) - 2)
                candidate = body + luhn_check_digit(body)
                if candidate != digits:
                    break
            return replace_positions(value, str.isdigit, candidate)

        return pseudonym


class IbanPseudonym(MaskingOperator):
    """Same country and length, keyed account part (digits stay digits, letters letters), valid mod-97."""

    name = "iban"
    method = MaskingMethod.format_preserving
    cost_per_value = 4.8
    params_allowed = frozenset({"entity"})

    def masker(self, params: dict) -> Callable[[Any], Any]:
        digest = KeyedDigest(params["key"], "iban", params.get("entity", "iban"))

        def pseudonym(value: Any) -> str:
            compact = alnum_upper(value)
            seed = digest(compact, size=max(32, len(compact)))
            if not (compact.isascii() and compact[:2].isalpha() and len(compact) > 4):
                return keyed_characters(value, seed)
            country, bban = compact[:2], compact[4:]
            new_bban = _keyed_bban(bban, seed)
            new_iban = country + iban_check_digits(country, new_bban) + new_bban
            return replace_positions(value, str.isalnum, new_iban)

        return pseudonym


_LETTER_OF_BYTE = bytes(ord(string.ascii_uppercase[b % 26]) for b in range(256))


def _keyed_bban(bban: str, seed: bytes) -> str:
    """Digits stay digits (byte % 10), anything else becomes a letter (byte % 26)."""
    digits = keyed_digits(seed, len(bban))
    if bban.isdigit():
        return digits
    letters = seed[: len(bban)].translate(_LETTER_OF_BYTE).decode()
    return "".join(d if ch.isdigit() else letter for ch, d, letter in zip(bban, digits, letters))
