"""Identifiers that carry their own validity: Luhn card numbers, mod-97 IBANs, national ids, phones.

Everything is drawn in bulk from a numpy generator; the few per-row Python steps (big-integer
mod 97, string assembly) stay linear and cheap.
"""

from __future__ import annotations

import string

import numpy as np

from hurricane_assets.masking.checksums import luhn_check_digits

DIGITS = np.array(list(string.digits))
LETTERS = np.array(list(string.ascii_uppercase))


def _digit_strings(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    digits = rng.integers(0, 10, size=(n, width))
    return np.array(["".join(row) for row in DIGITS[digits]], dtype=object) if n else np.array([], dtype=object)


# --- payment cards ----------------------------------------------------------------------------

CARD_PREFIXES = ("4", "51", "52", "53", "54", "55")  # Visa, Mastercard


def card_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` distinct-looking 16-digit Luhn-valid Visa/Mastercard PANs."""
    prefix_choice = rng.integers(0, len(CARD_PREFIXES), size=n)
    body = rng.integers(0, 10, size=(n, 15))
    for i, prefix in enumerate(CARD_PREFIXES):
        rows = prefix_choice == i
        for position, digit in enumerate(prefix):
            body[rows, position] = int(digit)
    check = luhn_check_digits(body)
    full = np.concatenate([body, check[:, None]], axis=1)
    return np.array(["".join(row) for row in DIGITS[full]], dtype=object)


# --- IBAN ------------------------------------------------------------------------------------

BANK_CODES = {"GB": ("NWBK", "BARC", "LOYD", "HBUK", "MIDL"), "NL": ("ABNA", "INGB", "RABO", "SNSB", "TRIO")}
# Digits of the BBAN after any bank letters (ISO 13616 registry lengths).
BBAN_DIGITS = {"GB": 14, "DE": 18, "FR": 23, "NL": 10, "ES": 20, "IT": 22}


def iban_check_digits(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def ibans(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    out = np.empty(len(countries), dtype=object)
    for country in np.unique(countries):
        rows = np.flatnonzero(countries == country)
        digits = _digit_strings(rng, len(rows), BBAN_DIGITS[country])
        if country in BANK_CODES:
            banks = np.array(BANK_CODES[country])[rng.integers(0, len(BANK_CODES[country]), size=len(rows))]
            bbans = [b + d for b, d in zip(banks, digits)]
        elif country == "IT":  # a CIN letter leads the Italian BBAN
            cins = LETTERS[rng.integers(0, 26, size=len(rows))]
            bbans = [c + d for c, d in zip(cins, digits)]
        else:
            bbans = list(digits)
        out[rows] = [f"{country}{iban_check_digits(country, b)}{b}" for b in bbans]
    return out


# --- national identity numbers -----------------------------------------------------------------

NINO_FIRST = np.array(list("ABCEGHJKLMNOPRSTWXYZ"))
NINO_SECOND = np.array(list("ABCEGHJKLMNPRSTWXYZ"))
NINO_PREFIX_NOT_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})  # HMRC never issues these
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
BSN_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2])


def _bsn(rng: np.random.Generator, n: int) -> list[str]:
    """Dutch BSN: 9 digits passing the eleven test."""
    body = rng.integers(0, 10, size=(n, 8))
    body[:, 0] = rng.integers(1, 10, size=n)
    check = (body * BSN_WEIGHTS).sum(axis=1) % 11
    while (bad := check == 10).any():  # no valid last digit: redraw those rows
        body[bad, 7] = rng.integers(0, 10, size=int(bad.sum()))
        check = (body * BSN_WEIGHTS).sum(axis=1) % 11
    full = np.concatenate([body, check[:, None]], axis=1)
    return ["".join(row) for row in DIGITS[full]]


def _nir(rng: np.random.Generator, n: int, birth_years: np.ndarray, birth_months: np.ndarray) -> list[str]:
    """French NIR: sex, year, month, department, commune, order, then the 97-complement key."""
    sex = rng.integers(1, 3, size=n)
    department = rng.integers(1, 96, size=n)
    commune = rng.integers(1, 990, size=n)
    order = rng.integers(1, 999, size=n)
    out = []
    for s, y, m, d, c, o in zip(sex, birth_years % 100, birth_months, department, commune, order):
        body = f"{s}{y:02d}{m:02d}{d:02d}{c:03d}{o:03d}"
        out.append(f"{body}{97 - int(body) % 97:02d}")
    return out


def steuer_id_check_digit(body: str) -> str:
    """ISO 7064 MOD 11,10 over the first ten digits of a German tax id."""
    product = 10
    for ch in body:
        total = (int(ch) + product) % 10 or 10
        product = total * 2 % 11
    return str((11 - product) % 10)


def national_ids(
    rng: np.random.Generator, countries: np.ndarray, birth_years: np.ndarray, birth_months: np.ndarray
) -> np.ndarray:
    out = np.empty(len(countries), dtype=object)
    for country in np.unique(countries):
        rows = np.flatnonzero(countries == country)
        n = len(rows)
        if country == "GB":  # National Insurance number
            first = NINO_FIRST[rng.integers(0, len(NINO_FIRST), size=n)]
            second = NINO_SECOND[rng.integers(0, len(NINO_SECOND), size=n)]
            suffix = np.array(list("ABCD"))[rng.integers(0, 4, size=n)]
            values = [f"{a}{b if a + b not in NINO_PREFIX_NOT_ISSUED else 'A'}{d}{s}"
                      for a, b, d, s in zip(first, second, _digit_strings(rng, n, 6), suffix)]
        elif country == "DE":  # Steuer-IdNr: 10 digits, no leading zero, and the ISO 7064 check digit
            values = [body + steuer_id_check_digit(body)
                      for body in (str(rng.integers(1, 10)) + d[:9] for d in _digit_strings(rng, n, 10))]
        elif country == "FR":
            values = _nir(rng, n, birth_years[rows], birth_months[rows])
        elif country == "NL":
            values = _bsn(rng, n)
        elif country == "ES":  # DNI: 8 digits and the mod-23 letter; residents' NIE: X/Y for the leading 0/1
            values = [("XY"[int(d[0])] + d[1:] if d[0] in "01" else d) + DNI_LETTERS[int(d) % 23]
                      for d in _digit_strings(rng, n, 8)]
        else:  # IT codice fiscale shape: 6 letters, 2 digits, letter, 2 digits, letter, 3 digits, letter
            letters = LETTERS[rng.integers(0, 26, size=(n, 9))]
            digits = DIGITS[rng.integers(0, 10, size=(n, 7))]
            values = [
                "".join(l[:6]) + "".join(d[:2]) + l[6] + "".join(d[2:4]) + l[7] + "".join(d[4:]) + l[8]
                for l, d in zip(letters, digits)
            ]
        out[rows] = values
    return out


# --- phones ----------------------------------------------------------------------------------

# Mobile ranges in live use (libphonenumber's example mobile numbers), the last six digits drawn.
MOBILE_PREFIXES = {"GB": "+447400", "DE": "+4915123", "FR": "+33612", "NL": "+31612", "ES": "+34612", "IT": "+393123"}


def mobile_numbers(rng: np.random.Generator, countries: np.ndarray) -> np.ndarray:
    """E.164 mobile numbers valid for each row's country."""
    prefixes = np.array([MOBILE_PREFIXES[c] for c in countries], dtype=object)
    return prefixes + _digit_strings(rng, len(countries), 6)


def london_landlines(rng: np.random.Generator, n: int) -> np.ndarray:
    """Ofcom's fictional-use London range, written the way people write it: (020) 7946 0xxx."""
    return np.array([f"(020) 7946 0{d}" for d in _digit_strings(rng, n, 3)], dtype=object)
