"""Card numbers and IBANs that still pass their checksums (Luhn, ISO 13616 mod-97), keyed.

Applications and test suites in lower environments validate these fields; a masked value that
fails validation breaks them, and a constant or random one breaks joins.
"""

from __future__ import annotations

import string
from typing import Any

from hurricane_assets.masking.normalise import alnum_upper, digits_only
from hurricane_assets.masking.operators.identifiers import keyed_characters
from hurricane_assets.masking.operators.base import (
    MaskingOperator,
    keyed_digest,
    keyed_digits,
    replace_positions,
)
from negotiation_graph.terms import MaskingMethod


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
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
    params_allowed = frozenset({"entity"})

    def mask(self, value: Any, params: dict) -> Any:
        digits = digits_only(value)
        if len(digits) < 2:
            return value
        entity = params.get("entity", "card")
        for attempt in range(16):
            seed = keyed_digest(params["key"], "card", entity, f"{digits}#{attempt}")
            body = digits[0] + keyed_digits(seed, len(digits) - 2)
            candidate = body + luhn_check_digit(body)
            if candidate != digits:
                break
        return replace_positions(value, str.isdigit, candidate)


class IbanPseudonym(MaskingOperator):
    """Same country and length, keyed account part (digits stay digits, letters letters), valid mod-97."""

    name = "iban"
    method = MaskingMethod.format_preserving
    params_allowed = frozenset({"entity"})

    def mask(self, value: Any, params: dict) -> Any:
        compact = alnum_upper(value)
        entity = params.get("entity", "iban")
        seed = keyed_digest(params["key"], "iban", entity, compact, size=max(32, len(compact)))
        country, bban = compact[:2], compact[4:]
        new_bban = "".join(
            str(b % 10) if ch.isdigit() else string.ascii_uppercase[b % 26]
            for ch, b in zip(bban, seed)
        )
        if not (compact.isascii() and country.isalpha() and len(compact) > 4):
            return keyed_characters(value, seed)
        new_iban = country + iban_check_digits(country, new_bban) + new_bban
        return replace_positions(value, str.isalnum, new_iban)
