"""Card numbers and IBANs that still pass their checksums (Luhn, ISO 13616 mod-97), keyed.

Applications and test suites in lower environments validate these fields; a masked value that
fails validation breaks them, and a constant or random one breaks joins.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.checksums import luhn_check_digit, luhn_check_digits
from hurricane_assets.masking.distinct import sorted_unique
from hurricane_assets.masking.normalise import alnum_upper, digits_only
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    MaskingOperator,
    keyed_digits,
    native,
    replace_positions,
)
from hurricane_assets.masking.operators.identifiers import keyed_characters
from hurricane_assets.masking.strings import fixed_width_bytes, fixed_width_strings, in_column_order
from negotiation_graph.terms import MaskingMethod

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


# Issuer numbers the networks and payment processors publish for testing (Visa 4000 00, Mastercard
# 5555 55 / 2223 00, Amex 3782 82, Discover 6011 11): no real card is issued under them. A first
# digit without a known test range gets 9999 99 (ISO/IEC 7812 major industry 9: national use).
TEST_IIN = {"4": "400000", "5": "555555", "2": "222300", "3": "378282", "6": "601111"}
FALLBACK_TEST_IIN = "999999"
MAX_COLUMN_CARD_DIGITS = 33  # the column path draws the keyed body from one 32-byte digest


def test_iin(first_digit: str) -> str:
    return TEST_IIN.get(first_digit, FALLBACK_TEST_IIN)


# `test_iin` of each first digit 0-9 as a 10 x 6 byte matrix, for the column path
_TEST_IIN_BYTES = np.frombuffer("".join(test_iin(str(d)) for d in range(10)).encode(), dtype=np.uint8).reshape(10, -1)


class CardPseudonym(MaskingOperator):
    """Keeps the length, the separators and the card network (first digit); the issuer becomes the
    network's published test range, then a keyed body and a valid Luhn digit."""

    name = "credit_card"
    method = MaskingMethod.format_preserving
    cost_per_value = 2.8
    params_allowed = frozenset({"entity"})

    def mask_distinct(self, values: list, params: dict) -> list:
        """Stored card numbers (ASCII digits only) in numpy, by length: the first attempt's digests in
        one loop, test IIN, keyed body and Luhn digit column-wise. A number whose first attempt gives
        it back, and any other value, takes the per-value path."""
        self.validate(params)
        digest = KeyedDigest(params["key"], "card", params.get("entity", "card"))
        out = list(values)  # None and blanks stay as they are
        by_length: dict[int, list[int]] = {}
        rest = []
        for i, v in enumerate(values):
            if v.__class__ is str and 2 <= len(v) <= MAX_COLUMN_CARD_DIGITS and v.isascii() and v.isdigit():
                by_length.setdefault(len(v), []).append(i)
            elif v is not None and not (v.__class__ is str and not v.strip()):
                rest.append(i)
        for length, positions in by_length.items():
            numbers = [values[i] for i in positions]
            chars = np.frombuffer("".join(numbers).encode(), dtype=np.uint8).reshape(len(numbers), length)
            iin_length = min(len(FALLBACK_TEST_IIN), max(length - 2, 1))  # as `pseudonym` slices it
            body = np.empty((len(numbers), length - 1), dtype=np.uint8)
            body[:, :iin_length] = _TEST_IIN_BYTES[chars[:, 0] - 48, :iin_length]
            seeds = digest.joined([f"{n}#0" for n in numbers], 32)
            keyed = np.frombuffer(seeds, dtype=np.uint8).reshape(len(numbers), 32)[:, :length - 1 - iin_length]
            body[:, iin_length:] = keyed % 10 + 48
            candidate = np.concatenate([body, (luhn_check_digits(body - 48) + 48).astype(np.uint8)[:, None]], axis=1)
            text = candidate.tobytes().decode("ascii")
            same = (candidate == chars).all(axis=1)  # the first attempt gave the number back: try again per value
            for j, i in enumerate(positions):
                if same[j]:
                    rest.append(i)
                else:
                    out[i] = text[j * length:(j + 1) * length]
        if rest:
            one = self.masker(params)
            for i in rest:
                out[i] = one(values[i])
        return out

    def masker(self, params: dict) -> Callable[[Any], Any]:
        digest = KeyedDigest(params["key"], "card", params.get("entity", "card"))

        def pseudonym(value: Any) -> str:
            digits = digits_only(value)
            if len(digits) < 2:
                return value
            iin = test_iin(digits[0])[: max(len(digits) - 2, 1)]
            for attempt in range(16):
                body = iin + keyed_digits(digest(f"{digits}#{attempt}"), len(digits) - 1 - len(iin))
                candidate = body + luhn_check_digit(body)
                if candidate != digits:
                    break
            return replace_positions(value, str.isdigit, candidate)

        return pseudonym


# `mask_distinct`'s column path, as RE2: ASCII letters and digits, two letters first, 5 to 64 long.
STORED_IBAN = "^[A-Za-z]{2}[A-Za-z0-9]{3,62}$"
TEST_BANK_CHARACTERS = 4  # the BBAN's first characters: the bank identifier in the countries we generate


class IbanPseudonym(MaskingOperator):
    """Same country and length, valid mod-97; the bank identifier (the BBAN's first four characters)
    is one no bank holds (digits 0, letters X: e.g. GB..XXXX, DE..0000), the account part keyed."""

    name = "iban"
    method = MaskingMethod.format_preserving
    cost_per_value = 0.7
    params_allowed = frozenset({"entity"})

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """Stored IBANs (compact: country letters, then letters and digits) in Arrow and numpy, by
        length: upper-cased and grouped by Arrow, the digests from the Arrow buffers, the keyed BBAN
        and the mod-97 check digits column-wise. None when any value has another form."""
        self.validate(params)
        if len(strings) == 0 or not pc.all(pc.match_substring_regex(strings, STORED_IBAN)).as_py():
            return None
        digest = KeyedDigest(params["key"], "iban", params.get("entity", "iban"))
        lengths = pc.utf8_length(strings).to_numpy(zero_copy_only=False)
        parts, order = [], []
        for length in sorted_unique(lengths).tolist():
            positions = np.flatnonzero(lengths == length)
            compact = pc.ascii_upper(pc.take(strings, positions))
            chars = fixed_width_bytes(compact, length)
            parts.append(fixed_width_strings(_iban_bytes(chars, digest.joined(compact, max(32, length)))))
            order.append(positions)
        return in_column_order(parts, order)

    def mask_distinct(self, values: list, params: dict) -> list:
        """`mask_strings` when every value is a stored IBAN (a column's usual case); otherwise the
        compact ones column-wise by length and any other value through the per-value path. The output
        is the same."""
        self.validate(params)
        masked = self.masked_as_strings(values, params)
        if masked is not None:
            return masked
        digest = KeyedDigest(params["key"], "iban", params.get("entity", "iban"))
        out = list(values)
        by_length: dict[int, list[int]] = {}
        rest = []
        for i, v in enumerate(values):
            if v.__class__ is str and 4 < len(v) <= 64 and v.isascii() and v.isalnum() and v[:2].isalpha():
                by_length.setdefault(len(v), []).append(i)
            elif v is not None and not (v.__class__ is str and not v.strip()):
                rest.append(i)
        for length, positions in by_length.items():
            compact = [values[i].upper() for i in positions]
            for i, masked in zip(positions, _ibans(compact, digest.joined(compact, max(32, length)), length)):
                out[i] = masked
        if rest:
            one = self.masker(params)
            for i in rest:
                out[i] = one(values[i])
        return out

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


def _ibans(compact: list[str], seeds: bytes, length: int) -> list[str]:
    """`pseudonym` of compact upper-case IBANs of one `length`, column-wise (same characters)."""
    chars = np.frombuffer("".join(compact).encode(), dtype=np.uint8).reshape(len(compact), length)
    text = _iban_bytes(chars, seeds).tobytes().decode("ascii")
    return [text[i * length:(i + 1) * length] for i in range(len(compact))]


# A seed byte as a digit ("0" + byte % 10) and as a letter ("A" + byte % 26), looked up.
_DIGIT_OF_SEED = np.array([48 + b % 10 for b in range(256)], np.uint8)
_LETTER_OF_SEED = np.array([65 + b % 26 for b in range(256)], np.uint8)
# A byte's value in the mod-97 check (digits 0-9, letters A=10 … Z=35) and the factor it shifts the
# remainder by (one digit or two); only digits and upper-case letters occur.
_MOD97_VALUE = np.array([b - 48 if 48 <= b <= 57 else b - 55 if 65 <= b <= 90 else 0 for b in range(256)], np.int64)
_MOD97_PLACE = np.array([100 if 65 <= b <= 90 else 10 for b in range(256)], np.int64)


def _iban_bytes(chars: np.ndarray, seeds: bytes) -> np.ndarray:
    """The pseudonyms of compact upper-case IBANs given as n × length ASCII bytes, as n × length bytes:
    in one C pass where the extension is built (`_iban_bytes_numpy`'s bytes, ~25x faster)."""
    n, length = chars.shape
    if native is None:
        return _iban_bytes_numpy(chars, seeds)
    out = native.iban_bytes(np.ascontiguousarray(chars), seeds, length, min(TEST_BANK_CHARACTERS, length - 4))
    return np.frombuffer(out, dtype=np.uint8).reshape(n, length)


def _iban_bytes_numpy(chars: np.ndarray, seeds: bytes) -> np.ndarray:
    """`_iban_bytes` column by column in numpy: the reference the C pass is tested against."""
    n, length = chars.shape
    seed = np.frombuffer(seeds, dtype=np.uint8).reshape(n, -1)[:, : length - 4]
    bban = chars[:, 4:]
    is_digit = (bban >= 48) & (bban <= 57)
    new = np.where(is_digit, _DIGIT_OF_SEED[seed], _LETTER_OF_SEED[seed])  # digits stay digits
    bank = min(TEST_BANK_CHARACTERS, length - 4)
    new[:, :bank] = np.where(is_digit[:, :bank], 48, 88)  # "0" / "X": a bank identifier no bank holds
    # ISO 7064 mod 97 over BBAN + country + "00", letters as two digits (A=10): Horner, column by column,
    # each character's value and place (10 for a digit, 100 for a letter) looked up by its byte; reduced
    # mod 97 every 8 characters (below 97 · 100^8 + 100^8, well inside int64).
    columns = np.ascontiguousarray(np.concatenate([new, chars[:, :2]], axis=1).T)
    remainder = np.zeros(n, dtype=np.int64)
    for start in range(0, len(columns), 8):
        for column in columns[start:start + 8]:
            remainder = remainder * _MOD97_PLACE[column] + _MOD97_VALUE[column]
        remainder %= 97
    check = 98 - remainder * 100 % 97  # the trailing "00"
    result = np.empty((n, length), dtype=np.uint8)
    result[:, :2] = chars[:, :2]
    result[:, 2] = 48 + check // 10
    result[:, 3] = 48 + check % 10
    result[:, 4:] = new
    return result


def _keyed_bban(bban: str, seed: bytes) -> str:
    """Digits stay digits (byte % 10), anything else becomes a letter (byte % 26)."""
    digits = keyed_digits(seed, len(bban))
    letters = seed[: len(bban)].translate(_LETTER_OF_BYTE).decode()
    bank = "".join("0" if ch.isdigit() else "X" for ch in bban[:TEST_BANK_CHARACTERS])
    rest = digits[TEST_BANK_CHARACTERS:] if bban.isdigit() else "".join(
        d if ch.isdigit() else letter
        for ch, d, letter in zip(bban[TEST_BANK_CHARACTERS:], digits[TEST_BANK_CHARACTERS:], letters[TEST_BANK_CHARACTERS:]))
    return bank + rest
