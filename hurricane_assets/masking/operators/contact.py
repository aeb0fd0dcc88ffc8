"""Format-preserving pseudonyms for contact data: emails stay emails, phones stay valid phones.

Both are keyed on the normalised value (lower-case email, E.164 phone), so the same address or
number found in a ticket body masks exactly like the profile's column.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ClassVar

import phonenumbers

from hurricane_assets.masking.normalise import (
    DEFAULT_PHONE_REGION,
    digits_only,
    normalise_email,
    normalise_phone,
    parse_phone,
)
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    MaskingOperator,
    keyed_digits,
    replace_positions,
    require,
)
from negotiation_graph.terms import MaskingMethod

# Mailbox providers shared by millions: keeping them keeps realistic distributions without
# identifying anyone. Any other domain (an employer, a family domain) is itself identifying.
PUBLIC_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "icloud.com", "me.com", "aol.com",
    "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "orange.fr",
    "free.fr", "laposte.net", "wanadoo.fr", "btinternet.com", "ziggo.nl", "kpnmail.nl",
    "telefonica.net", "example.com", "example.org", "example.net",
)
MAPPED_DOMAIN_SUFFIX = "example.com"  # RFC 2606: never routes to a real mailbox


def _b32(digest: bytes, chars: int) -> str:
    # Base32 maps every 5 bytes to 8 characters on their own, so encoding only the whole 5-byte
    # groups the prefix needs gives the same characters at a fraction of the cost.
    return base64.b32encode(digest[: -(-chars // 8) * 5]).decode().lower().rstrip("=")[:chars]


class EmailPseudonym(MaskingOperator):
    """`u<keyed>@<domain>`: a public mailbox domain is kept, any other is mapped to a keyed example.com host."""

    name = "email"
    method = MaskingMethod.format_preserving
    cost_per_value = 3.5
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "keep_domains"})

    def check_params(self, params: dict) -> None:
        domains = params.get("keep_domains", PUBLIC_MAIL_DOMAINS)
        require(isinstance(domains, (list, tuple)) and all(isinstance(d, str) for d in domains),
                self.name, "keep_domains must be a list of domain names")

    def masker(self, params: dict) -> Callable[[Any], Any]:
        entity = params.get("entity", "email")
        local_digest = KeyedDigest(params["key"], "email-local", entity)
        domain_digest = KeyedDigest(params["key"], "email-domain", entity)
        keep = frozenset(params.get("keep_domains", PUBLIC_MAIL_DOMAINS))
        mapped_domains: dict[str, str] = {}  # few distinct domains behind many addresses

        def pseudonym(value: Any) -> str:
            address = normalise_email(value)
            local, _, domain = address.rpartition("@")
            new_local = "u" + _b32(local_digest(address), 16)
            if domain in keep and local:
                return f"{new_local}@{domain}"
            new_domain = mapped_domains.get(domain)
            if new_domain is None:
                new_domain = mapped_domains[domain] = "d" + _b32(domain_digest(domain), 8) + "." + MAPPED_DOMAIN_SUFFIX
            return f"{new_local}@{new_domain}"

        return pseudonym


class PhonePseudonym(MaskingOperator):
    """Same country code, same length, valid per `phonenumbers`; written in the input's own layout."""

    name = "phone"
    method = MaskingMethod.format_preserving
    cost_per_value = 5.3
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "region"})
    ATTEMPTS_PER_PREFIX = 24

    def check_params(self, params: dict) -> None:
        region = params.get("region", DEFAULT_PHONE_REGION)
        require(region in phonenumbers.SUPPORTED_REGIONS, self.name, f"unknown phone region {region!r}")

    def masker(self, params: dict) -> Callable[[Any], Any]:
        region = params.get("region", DEFAULT_PHONE_REGION)
        entity = params.get("entity", "phone")
        digest = KeyedDigest(params["key"], "phone", entity)
        raw_digest = KeyedDigest(params["key"], "phone-raw", entity)

        def pseudonym(value: Any) -> str:
            split = _split_e164(value) if value.startswith("+") else None
            if split is not None:  # plain E.164: "+" and digits, no layout to keep
                country_code, nsn = split
                return (value[: len(value) - len(nsn)]
                        + self._valid_national_number(country_code, nsn, digest, f"+{country_code}{nsn}"))
            digits = digits_only(value)
            number = parse_phone(value, region)
            if number is not None and phonenumbers.is_possible_number(number):
                nsn = phonenumbers.national_significant_number(number)
                if digits.endswith(nsn):
                    split = (number.country_code, nsn)
            if split is None:
                # Not a number we understand: still keyed, still the same length, nothing raw survives.
                seed = raw_digest(normalise_phone(value, region))
                return replace_positions(value, str.isdigit, keyed_digits(seed, len(digits)))
            country_code, nsn = split
            new_nsn = self._valid_national_number(country_code, nsn, digest, f"+{country_code}{nsn}")
            return replace_positions(value, str.isdigit, digits[: len(digits) - len(nsn)] + new_nsn)

        return pseudonym

    def _valid_national_number(self, country_code: int, nsn: str, digest: KeyedDigest, e164: str) -> str:
        region = phonenumbers.region_code_for_country_code(country_code)
        # Keep the first two digits (area or mobile range: coarse, and it keeps the number type);
        # shorter prefixes only when no valid number exists under it.
        fallback = ""
        for check in (_is_valid, _is_valid_full):  # the full check only for rare number types
            for keep in (2, 1, 0):
                for candidate in self._candidates(digest, nsn, f"{e164}#{keep}", keep):
                    if candidate == nsn:
                        continue
                    fallback = fallback or candidate
                    if check(country_code, candidate, region):
                        return candidate
        return fallback

    def _candidates(self, digest: KeyedDigest, nsn: str, message: str, keep: int):
        """`nsn[:keep]` + keyed digits, ATTEMPTS_PER_PREFIX times; the keyed stream is drawn one block
        at a time, as far as the attempts actually go (the first candidate is nearly always valid)."""
        width = len(nsn) - keep
        stream = ""
        for attempt in range(self.ATTEMPTS_PER_PREFIX):
            end = (attempt + 1) * width
            while len(stream) < end:
                stream += keyed_digits(digest.block(message, len(stream) // 64), 64)
            yield nsn[:keep] + stream[end - width:end]


def _split_e164(value: str) -> tuple[int, str] | None:
    """(country code, national significant number) of a plain E.164 string, without a full parse."""
    if not value[1:].isdigit() or not 8 <= len(value) <= 16:
        return None
    for cc_len in (1, 2, 3):
        code = int(value[1:1 + cc_len])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code, value[1 + cc_len:]
    return None


def _is_valid_full(country_code: int, nsn: str, region: str) -> bool:
    zeros = len(nsn) - len(nsn.lstrip("0"))
    number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn),
                                      italian_leading_zero=zeros > 0 or None, number_of_leading_zeros=zeros or None)
    if region == phonenumbers.UNKNOWN_REGION:
        return phonenumbers.is_valid_number(number)
    return phonenumbers.is_valid_number_for_region(number, region)


def _is_valid(country_code: int, nsn: str, region: str) -> bool:
    """Valid as a fixed-line or mobile number of `region` (a sufficient condition for validity)."""
    patterns = _line_patterns(region) if region != phonenumbers.UNKNOWN_REGION else None
    if patterns is None:
        return _is_valid_full(country_code, nsn, region)
    (general, general_lengths), *line_types = patterns
    if len(nsn) not in general_lengths or not general.fullmatch(nsn):
        return False
    return any((not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) for pattern, lengths in line_types)


@lru_cache(maxsize=None)
def _line_patterns(region: str):
    """The region's general, fixed-line and mobile number patterns (what `is_valid_number` checks for
    these types), compiled once: ~15x cheaper than the full validity check. A number matching them is
    valid; candidates of other types fall back to the full check after the fast ones are exhausted."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return None
    general = metadata.general_desc
    out = [(re.compile(general.national_number_pattern), frozenset(general.possible_length or ()))]
    for desc in (metadata.fixed_line, metadata.mobile):
        if desc is None or not desc.national_number_pattern or tuple(desc.possible_length or ()) == (-1,):
            continue
        out.append((re.compile(desc.national_number_pattern), frozenset(desc.possible_length or ())))
    return tuple(out)
