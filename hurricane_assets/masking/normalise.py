"""One normaliser per semantic type, shared by every operator, so joins survive formatting noise.

A keyed token of "Alice@Example.com " and of "alice@example.com" must be the same, and a phone
written "+44 20 7946 0018" in a ticket must map like "+442079460018" in the profile.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_SPACES = re.compile(r"\s+")
DEFAULT_PHONE_REGION = "GB"


def normalise_text(value: str) -> str:
    """Case- and whitespace-insensitive form of identifiers and names."""
    if " " not in value and value.isprintable():
        # Every whitespace character but the space is unprintable: nothing to collapse, only case.
        return value.casefold()
    return _SPACES.sub(" ", value).strip().casefold()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def parse_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> phonenumbers.PhoneNumber | None:
    """The parsed number, or None when `value` is not a phone number in `region` or internationally.
    A phone in a text is parsed to find its region, then again to mask it: the parse is remembered,
    and each caller gets its own copy (a number is mutable, the remembered one must stay as parsed)."""
    parsed = _parsed_phone(value, region)
    if parsed is None:
        return None
    number = phonenumbers.PhoneNumber()
    number.merge_from(parsed)
    return number


@lru_cache(maxsize=4_096)
def _parsed_phone(value: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None


def normalise_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 when the number parses, else its digits (so a malformed number still maps consistently)."""
    number = parse_phone(value, region)
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "".join(ch for ch in value if ch.isdigit())


def normalise_strings(arr):
    """`normalise_text` of each string of an Arrow string array, as an Arrow string array: the
    printable ASCII ones (stored identifiers, most names) by Arrow at once, where the only whitespace
    is the space and casefold is lower; the others one by one."""
    import pyarrow as pa

    from hurricane_assets.masking.strings import replaced_at

    lowered, others = _lowered_plain(arr)
    if not others:
        return lowered
    return replaced_at(lowered, others, pa.array([normalise_text(v) for v in arr.take(others).to_pylist()], pa.string()))


def _lowered_plain(arr):
    """`arr` with the printable ASCII strings normalised (runs of spaces as one, trimmed, lower case),
    and the positions of the other strings, which need `normalise_text`."""
    import pyarrow.compute as pc

    from hurricane_assets.masking.strings import printable_ascii_bytes

    raw = printable_ascii_bytes(arr) if arr.null_count == 0 else None
    if raw is not None:  # all printable ASCII (one pass over the bytes): no string needs the per-value path
        others = []
        spaced = pc.match_substring(arr, " ") if (raw == 32).any() else None
    else:
        plain = pc.match_substring_regex(arr, "^[ -~]*$")
        others = [] if pc.all(plain).as_py() else pc.indices_nonzero(pc.invert(plain)).to_pylist()
        spaced = pc.match_substring(arr, " ")
    if spaced is not None and pc.any(spaced).as_py():
        arr = pc.if_else(spaced, pc.utf8_trim(pc.replace_substring_regex(arr, " +", " "), " "), arr)
    return pc.ascii_lower(arr), others


_NON_DIGITS = re.compile(r"\D+")


def digits_only(value: str) -> str:
    if value.isascii() and value.isdigit():  # the stored form: nothing to strip
        return value
    return _NON_DIGITS.sub("", value)


def alnum_upper(value: str) -> str:
    if value.isalnum():  # the stored form: nothing to strip
        return value.upper()
    return "".join(ch for ch in value if ch.isalnum()).upper()
