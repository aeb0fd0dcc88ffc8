"""Format-preserving pseudonyms for contact data: emails stay emails, phones stay valid phones.

Both are keyed on the normalised value (lower-case email, E.164 phone), so the same address or
number found in a ticket body masks exactly like the profile's column.
"""

from __future__ import annotations

import base64
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
    MaskingOperator,
    keyed_digest,
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
    return base64.b32encode(digest).decode().lower().rstrip("=")[:chars]


class EmailPseudonym(MaskingOperator):
    """`u<keyed>@<domain>`: a public mailbox domain is kept, any other is mapped to a keyed example.com host."""

    name = "email"
    method = MaskingMethod.format_preserving
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "keep_domains"})

    def check_params(self, params: dict) -> None:
        domains = params.get("keep_domains", PUBLIC_MAIL_DOMAINS)
        require(isinstance(domains, (list, tuple)) and all(isinstance(d, str) for d in domains),
                self.name, "keep_domains must be a list of domain names")

    def mask(self, value: Any, params: dict) -> Any:
        address = normalise_email(value)
        local, _, domain = address.rpartition("@")
        entity = params.get("entity", "email")
        new_local = "u" + _b32(keyed_digest(params["key"], "email-local", entity, address), 16)
        keep = params.get("keep_domains", PUBLIC_MAIL_DOMAINS)
        if domain in keep and local:
            new_domain = domain
        else:
            new_domain = "d" + _b32(keyed_digest(params["key"], "email-domain", entity, domain), 8) + "." + MAPPED_DOMAIN_SUFFIX
        return f"{new_local}@{new_domain}"


class PhonePseudonym(MaskingOperator):
    """Same country code, same length, valid per `phonenumbers`; written in the input's own layout."""

    name = "phone"
    method = MaskingMethod.format_preserving
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "region"})
    ATTEMPTS_PER_PREFIX = 24

    def check_params(self, params: dict) -> None:
        region = params.get("region", DEFAULT_PHONE_REGION)
        require(region in phonenumbers.SUPPORTED_REGIONS, self.name, f"unknown phone region {region!r}")

    def mask(self, value: Any, params: dict) -> Any:
        region = params.get("region", DEFAULT_PHONE_REGION)
        entity = params.get("entity", "phone")
        normalised = normalise_phone(value, region)
        number = parse_phone(value, region)
        digits = digits_only(value)
        nsn = phonenumbers.national_significant_number(number) if number is not None else ""
        if not nsn or not digits.endswith(nsn):
            # Not a number we understand: still keyed, still the same length, nothing raw survives.
            fresh = keyed_digits(keyed_digest(params["key"], "phone-raw", entity, normalised), len(digits))
            return replace_positions(value, str.isdigit, [str(d) for d in fresh])
        new_nsn = self._valid_national_number(number, nsn, params["key"], entity, normalised)
        new_digits = digits[: len(digits) - len(nsn)] + new_nsn
        return replace_positions(value, str.isdigit, list(new_digits))

    def _valid_national_number(self, number, nsn: str, key, entity: str, normalised: str) -> str:
        region = phonenumbers.region_code_for_number(number)
        ndc = phonenumbers.length_of_national_destination_code(number)
        # Keep the operator/area prefix when we can (it is coarse and keeps the number type);
        # shorter prefixes are tried only when the number space under it has no valid numbers.
        fallback = ""
        for keep in dict.fromkeys((ndc, min(2, len(nsn) - 1), 1, 0)):
            for attempt in range(self.ATTEMPTS_PER_PREFIX):
                seed = keyed_digest(key, "phone", entity, f"{normalised}#{keep}#{attempt}")
                tail = "".join(str(d) for d in keyed_digits(seed, len(nsn) - keep))
                candidate = nsn[:keep] + tail
                if candidate == nsn:
                    continue
                fallback = fallback or candidate
                parsed = phonenumbers.parse("+" + str(number.country_code) + candidate)
                if phonenumbers.is_valid_number(parsed) and (region is None or phonenumbers.region_code_for_number(parsed) == region):
                    return candidate
        return fallback
