"""Checksums that tell an identifier from a number that only looks like one.

Each takes the compact form (separators removed, upper case) and answers True or False; none raises.
"""

from __future__ import annotations

from hurricane_assets.masking.checksums import luhn_valid

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
NIE_PREFIX = {"X": "0", "Y": "1", "Z": "2"}
NINO_FIRST_INVALID = frozenset("DFIQUV")
NINO_SECOND_INVALID = frozenset("DFIOQUV")
NINO_PREFIX_INVALID = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
# ISO 13616 lengths of the countries customers bank in (and their neighbours).
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "CH": 21, "CZ": 24, "DE": 22, "DK": 18, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27,
    "HU": 28, "IE": 22, "IT": 27, "LU": 20, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SK": 24,
    "TR": 26,
}


def luhn(digits: str) -> bool:
    """A card number's length (12 to 19 ASCII digits) and Luhn check digit."""
    return 12 <= len(digits) <= 19 and digits.isascii() and digits.isdigit() and luhn_valid(digits)


def iban(compact: str) -> bool:
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit() or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def nino(compact: str) -> bool:
    """UK National Insurance number: two prefix letters HMRC issues, six digits, suffix A-D."""
    return (len(compact) == 9 and compact[0] not in NINO_FIRST_INVALID and compact[1] not in NINO_SECOND_INVALID
            and compact[:2].isalpha() and compact[2:8].isdigit() and compact[8] in "ABCD"
            and compact[:2] not in NINO_PREFIX_INVALID)


def dni_or_nie(compact: str) -> bool:
    """Spanish DNI (8 digits + mod-23 letter) or NIE (X/Y/Z counted as 0/1/2, then the same)."""
    if len(compact) != 9 or not compact[8].isalpha():
        return False
    number = NIE_PREFIX.get(compact[0], compact[0]) + compact[1:8]
    return number.isdigit() and DNI_LETTERS[int(number) % 23] == compact[8]


def bsn(digits: str) -> bool:
    """Dutch BSN: nine digits passing the eleven test (the last weighted -1)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum((9 - i) * (ord(ch) - 48) for i, ch in enumerate(digits[:8])) - (ord(digits[8]) - 48)
    return total % 11 == 0


def nir(compact: str) -> bool:
    """French NIR: 13 characters (Corsica's 2A/2B counted as 19/18) and the 97-complement key."""
    if len(compact) != 15 or compact[0] not in "12" or not compact[13:].isdigit():
        return False
    body = compact[:13].replace("2A", "19").replace("2B", "18")
    return body.isdigit() and 97 - int(body) % 97 == int(compact[13:])


def steuer_id(digits: str) -> bool:
    """German tax id: 11 digits, no leading zero, ISO 7064 MOD 11,10 check digit."""
    if len(digits) != 11 or not digits.isdigit() or digits[0] == "0":
        return False
    product = 10
    for ch in digits[:10]:
        product = ((ord(ch) - 48 + product) % 10 or 10) * 2 % 11
    return (product + ord(digits[10]) - 48) % 10 == 1
