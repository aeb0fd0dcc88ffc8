"""Format-preserving pseudonyms for contact data: emails stay emails, phones stay valid phones.

Both are keyed on the normalised value (lower-case email, E.164 phone), so the same address or
number found in a ticket body masks exactly like the profile's column.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Container
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.distinct import sorted_unique
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
    all_non_blank_strings,
    keyed_digits,
    replace_positions,
    require,
)
from hurricane_assets.masking.strings import (
    fixed_width_bytes,
    fixed_width_strings,
    in_column_order,
    printable_ascii_bytes,
    replaced_at,
    string_array,
    string_buffers,
)
from negotiation_graph.terms import MaskingMethod

# Mailbox providers shared by millions. Keeping them (`keep_domains=PUBLIC_MAIL_DOMAINS`, an option)
# keeps realistic distributions, but the address then names a real mailbox that may belong to someone;
# by default every domain maps to a keyed host under example.com (RFC 2606), which routes nowhere.
PUBLIC_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "icloud.com", "me.com", "aol.com",
    "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "orange.fr",
    "free.fr", "laposte.net", "wanadoo.fr", "btinternet.com", "ziggo.nl", "kpnmail.nl",
    "telefonica.net", "example.com", "example.org", "example.net",
)
MAPPED_DOMAIN_SUFFIX = "example.com"  # RFC 2606: never routes to a real mailbox


_B32_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz234567", dtype=np.uint8)


def _b32_lower(digests: bytes, size: int, prefix: int) -> str:
    """`base64.b32encode(d[:prefix]).decode().lower()` of each `size`-byte digest in `digests`,
    joined, with numpy (`prefix` a multiple of 5: whole groups, no padding)."""
    return _b32_chars(digests, size, prefix).tobytes().decode("ascii")


def _b32_chars(digests: bytes, size: int, prefix: int) -> np.ndarray:
    """`_b32_lower`'s characters as n × (prefix · 8/5) bytes, one row per digest."""
    groups = np.frombuffer(digests, dtype=np.uint8).reshape(-1, size)[:, :prefix].reshape(-1, 5).astype(np.uint64)
    bits = ((groups[:, 0] << 32) | (groups[:, 1] << 24) | (groups[:, 2] << 16) | (groups[:, 3] << 8) | groups[:, 4])
    shifts = np.arange(35, -1, -5, dtype=np.uint64)
    return _B32_ALPHABET[(bits[:, None] >> shifts) & 31].reshape(-1, prefix * 8 // 5)


def _b32(digest: bytes, chars: int) -> str:
    # Base32 maps every 5 bytes to 8 characters on their own, so encoding only the whole 5-byte
    # groups the prefix needs gives the same characters at a fraction of the cost.
    return base64.b32encode(digest[: -(-chars // 8) * 5]).decode().lower().rstrip("=")[:chars]


class EmailPseudonym(MaskingOperator):
    """`u<keyed>@d<keyed>.example.com`: every domain maps to a keyed host of a reserved domain (RFC 2606),
    the same domain always to the same host; domains in `keep_domains` (default none) are kept."""

    name = "email"
    method = MaskingMethod.format_preserving
    cost_per_value = 1.1
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "keep_domains"})

    def check_params(self, params: dict) -> None:
        domains = params.get("keep_domains", ())
        require(isinstance(domains, (list, tuple)) and all(isinstance(d, str) for d in domains),
                self.name, "keep_domains must be a list of domain names")

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """Stored addresses (printable ASCII, no spaces, none empty) in Arrow: lower-cased, the local
        parts' digests from the Arrow buffers, base32-encoded column-wise (each 10-byte prefix is two
        whole 5-byte groups, so the joined encoding is the per-value ones side by side), split at
        their last "@" and reassembled, each domain mapped once. None for any other column."""
        self.validate(params)
        raw = printable_ascii_bytes(strings)
        if raw is None or (raw == 32).any() or (np.diff(string_buffers(strings)[1]) == 0).any():
            return None  # `strip` and `lower` would not be ASCII's no-op and lower: the list path
        local_digest, new_domain, keep = self._parts(params)
        lowered = pc.ascii_lower(strings)
        chars = _b32_chars(local_digest.joined(lowered), 32, 10)
        locals_ = fixed_width_strings(np.concatenate([np.full((len(chars), 1), ord("u"), np.uint8), chars], axis=1))
        # rpartition("@"): the domain is what follows the last "@" (all of it when there is none).
        # Split once from the right: [local, domain], or [address] without "@" (a tenth of the cost
        # of the equivalent extract_regex).
        parts = pc.split_pattern(lowered, "@", max_splits=1, reverse=True)
        starts, ends = parts.offsets[:-1], parts.offsets[1:]
        pieces = parts.values
        has_at = pc.equal(pc.subtract(ends, starts), 2)
        domain = pc.take(pieces, pc.subtract(ends, 1))
        local_nonempty = pc.and_(has_at, pc.not_equal(pc.utf8_length(pc.take(pieces, starts)), 0))
        encoded_domains = pc.dictionary_encode(domain)
        distinct = encoded_domains.dictionary.to_pylist()
        mapped = pc.take(pa.array([new_domain(d) for d in distinct], pa.string()), encoded_domains.indices)
        if keep:
            kept = pc.and_(pc.fill_null(local_nonempty, False), pc.is_in(domain, value_set=pa.array(sorted(keep))))
            mapped = pc.if_else(kept, domain, mapped)
        return pc.binary_join_element_wise(locals_, mapped, "@")

    def mask_distinct(self, values: list, params: dict) -> list:
        """`mask_strings` for stored addresses (a column's usual case); any other column's addresses
        normalised one by one, their local parts' digests still in one loop."""
        self.validate(params)
        if not all_non_blank_strings(values):
            return super().mask_distinct(values, params)
        masked = self.masked_as_strings(values, params)
        if masked is not None:
            return masked
        local_digest, new_domain, keep = self._parts(params)
        addresses = [normalise_email(v) for v in values]
        encoded = _b32_lower(local_digest.joined(addresses), 32, 10)
        out = []
        for i, address in enumerate(addresses):
            local, _, domain = address.rpartition("@")
            new_local = "u" + encoded[16 * i:16 * i + 16]
            out.append(f"{new_local}@{domain}" if domain in keep and local else f"{new_local}@{new_domain(domain)}")
        return out

    @staticmethod
    def _parts(params: dict) -> tuple[KeyedDigest, Callable[[str], str], frozenset]:
        entity = params.get("entity", "email")
        local_digest = KeyedDigest(params["key"], "email-local", entity)
        domain_digest = KeyedDigest(params["key"], "email-domain", entity)
        mapped_domains: dict[str, str] = {}  # few distinct domains behind many addresses

        def new_domain(domain: str) -> str:
            mapped = mapped_domains.get(domain)
            if mapped is None:
                mapped = mapped_domains[domain] = "d" + _b32(domain_digest(domain), 8) + "." + MAPPED_DOMAIN_SUFFIX
            return mapped

        return local_digest, new_domain, frozenset(params.get("keep_domains", ()))

    def masker(self, params: dict) -> Callable[[Any], Any]:
        local_digest, new_domain, keep = self._parts(params)

        def pseudonym(value: Any) -> str:
            address = normalise_email(value)
            local, _, domain = address.rpartition("@")
            new_local = "u" + _b32(local_digest(address), 16)
            if domain in keep and local:
                return f"{new_local}@{domain}"
            return f"{new_local}@{new_domain(domain)}"

        return pseudonym


class PhonePseudonym(MaskingOperator):
    """Same country code, same length, valid per `phonenumbers`; written in the input's own layout."""

    name = "phone"
    method = MaskingMethod.format_preserving
    cost_per_value = 1.7
    reads_whole_column = True  # a fake avoids every prod number of the column
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "region", "avoid"})
    ATTEMPTS_PER_PREFIX = 24
    FICTION_ATTEMPTS = 64

    def check_params(self, params: dict) -> None:
        region = params.get("region", DEFAULT_PHONE_REGION)
        require(region in phonenumbers.SUPPORTED_REGIONS, self.name, f"unknown phone region {region!r}")

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """A column of plain E.164 numbers with known country codes (the stored form) in Arrow and
        numpy: candidates per (country, length) as in `mask_distinct`, the column's own numbers and
        `avoid` as sorted integers; the numbers no column-wise attempt settles go through the
        per-value path. None for any other column."""
        groups, others = _plain_e164_groups(strings)
        if others or not groups:
            return None
        self.validate(params)
        digest = KeyedDigest(params["key"], "phone", params.get("entity", "phone"))
        # every string is plain E.164 with a country code (no group left `others`): avoided as it is
        avoid = _AvoidedNumbers(pa.array(list(params.get("avoid", ())), pa.string()), plain=strings)
        parts, order, unsettled = [], [], []
        for (country_code, code_digits, length), positions in groups.items():
            group = strings.take(positions)
            candidates, ok = _candidate_column(country_code, 1 + code_digits, group, fixed_width_bytes(group, length),
                                               digest, avoid)
            parts.append(fixed_width_strings(candidates))
            order.append(positions)
            unsettled.append(positions[~ok])
        out = in_column_order(parts, order)
        rest = np.concatenate(unsettled)
        if not len(rest):
            return out
        one = self.masker({**params, "avoid": avoid})  # the same numbers, without a set of every string
        return replaced_at(out, rest, pa.array([one(v) for v in strings.take(rest).to_pylist()], pa.string()))

    def mask_distinct(self, values: list, params: dict) -> list:
        """The column's own values are the prod numbers a fake must never be: each is avoided.

        Plain E.164 values (ASCII "+" and digits, the stored form) take their candidate column-wise:
        digests in one loop, digits and validity per (country, length) with numpy and Arrow's RE2
        (libphonenumber's patterns are written for RE2), trying the attempts the first digest block
        holds in the per-value path's order; every other value, and every value none of those
        attempts settles, goes through the per-value path, so the output is the same. A column of
        stored numbers alone goes through `mask_strings`."""
        arr = string_array(values)
        masked = self.mask_strings(arr, params) if arr is not None and arr.null_count == 0 else None
        if masked is not None:
            return masked.to_pylist()
        region = params.get("region", DEFAULT_PHONE_REGION)
        groups, others = _plain_e164_groups(arr) if arr is not None else ({}, list(range(len(values))))
        # Stored numbers are E.164 already ("+" and digits): only other layouts need the full parse.
        # Every value goes in as it is: a value that is not "+" and digits never equals a candidate.
        avoid = set(values)
        avoid.update(v if v[:1] == "+" and v[1:].isdigit() else normalise_phone(v, region)
                     for v in (values[i] for i in others) if isinstance(v, str) and v.strip())
        avoid.update(params.get("avoid", ()))
        params = {**params, "avoid": frozenset(avoid)}
        self.validate(params)
        one = self.masker(params)
        out = np.empty(len(values), dtype=object)
        out[:] = values  # None and blank values stay as they are
        for i in others:
            value = values[i]
            if value is not None and not (value.__class__ is str and not value.strip()):
                out[i] = one(value)
        digest = KeyedDigest(params["key"], "phone", params.get("entity", "phone"))
        avoided = _AvoidedNumbers(pa.array([v for v in params["avoid"] if isinstance(v, str)], pa.string()))
        for (country_code, code_digits, length), positions in groups.items():
            group = arr.take(positions)
            candidates, ok = _candidate_column(country_code, 1 + code_digits, group, fixed_width_bytes(group, length),
                                               digest, avoided)
            kept = np.empty(len(candidates), dtype=object)
            kept[:] = fixed_width_strings(candidates).to_pylist()
            out[positions[ok]] = kept[ok]
            for i in positions[~ok].tolist():
                out[i] = one(values[i])
        return out.tolist()

    def masker(self, params: dict) -> Callable[[Any], Any]:
        region = params.get("region", DEFAULT_PHONE_REGION)
        entity = params.get("entity", "phone")
        digest = KeyedDigest(params["key"], "phone", entity)
        raw_digest = KeyedDigest(params["key"], "phone-raw", entity)
        avoid = params.get("avoid", ())
        avoid = avoid if isinstance(avoid, _AvoidedNumbers) else frozenset(avoid)
        valid_national_number = lambda cc, nsn, e164: self._valid_national_number(cc, nsn, digest, e164, avoid)  # noqa: E731

        def pseudonym(value: Any) -> str:
            split = _split_e164(value) if value.startswith("+") else None
            if split is not None:  # plain E.164: "+" and digits, no layout to keep
                country_code, nsn = split
                return value[: len(value) - len(nsn)] + valid_national_number(country_code, nsn, f"+{country_code}{nsn}")
            digits = digits_only(value)
            split = _split_international(value, digits, region)
            if split is None:
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
            new_nsn = valid_national_number(country_code, nsn, f"+{country_code}{nsn}")
            return replace_positions(value, str.isdigit, digits[: len(digits) - len(nsn)] + new_nsn)

        return pseudonym

    def _valid_national_number(self, country_code: int, nsn: str, digest: KeyedDigest, e164: str,
                               avoid: Container[str] = frozenset()) -> str:
        fiction = FICTION_RANGES.get(country_code)
        prefix = fiction(nsn) if fiction is not None else None
        if prefix is not None:
            # A range the regulator reserves for fiction: nobody's number, whatever digits follow.
            width = len(nsn) - len(prefix)
            fallback = ""
            for attempt in range(self.FICTION_ATTEMPTS):
                candidate = prefix + keyed_digits(digest(f"{e164}#fiction#{attempt}"), width)
                fallback = fallback or candidate
                if candidate != nsn and f"+{country_code}{candidate}" not in avoid:
                    return candidate
            return fallback
        region = phonenumbers.region_code_for_country_code(country_code)
        # Keep the first two digits (area or mobile range: coarse, and it keeps the number type);
        # shorter prefixes only when no valid number exists under it. A candidate that is a prod
        # number of the column (`avoid`) is skipped: a fake must be nobody's real number.
        fallback = ""
        for check in (_is_valid, _is_valid_full):  # the full check only for rare number types
            for keep in (2, 1, 0):
                for candidate in self._candidates(digest, nsn, f"{e164}#{keep}", keep):
                    if candidate == nsn or f"+{country_code}{candidate}" in avoid:
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


def _gb_fiction(nsn: str) -> str | None:
    """Ofcom's drama numbers: mobiles 07700 900000-900999, others London 020 7946 0000-0999."""
    if len(nsn) != 10:
        return None
    return "7700900" if nsn.startswith("7") else "2079460"


def _fr_fiction(nsn: str) -> str | None:
    """ARCEP's numbers for fiction: 06 39 98 xx xx for mobiles, 01 99 00 xx xx otherwise."""
    if len(nsn) != 9:
        return None
    return "63998" if nsn[0] in "67" else "19900"


def _au_fiction(nsn: str) -> str | None:
    """ACMA's fiction range for mobiles, 0491 570 000-999 (every Australian fake becomes a mobile)."""
    return "491570" if len(nsn) == 9 else None


def _nanp_fiction(nsn: str) -> str | None:
    """NANP 555-0100..0199 (reserved for fiction) under the original area code."""
    return nsn[:3] + "55501" if len(nsn) == 10 else None


# Country code → the fiction-range prefix for a national number of that country (None: no range
# for that shape of number, so the fake is checked against the prod values instead).
FICTION_RANGES: dict[int, Callable[[str], str | None]] = {44: _gb_fiction, 33: _fr_fiction, 61: _au_fiction,
                                                          1: _nanp_fiction}


def in_fiction_range(e164: str) -> bool:
    """Whether an E.164 number lies in a range reserved for fiction (libphonenumber calls some of
    them invalid, e.g. 07700 900xxx: no network routes them, which is the point)."""
    split = _split_e164(e164)
    if split is None:
        return False
    fiction = FICTION_RANGES.get(split[0])
    prefix = fiction(split[1]) if fiction is not None else None
    return prefix is not None and split[1].startswith(prefix)


def _split_e164(value: str) -> tuple[int, str] | None:
    """(country code, national significant number) of a plain E.164 string, without a full parse."""
    if not value[1:].isdigit() or not 8 <= len(value) <= 16:
        return None
    for cc_len in (1, 2, 3):
        code = int(value[1:1 + cc_len])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return code, value[1 + cc_len:]
    return None


_INTERNATIONAL_LAYOUT = re.compile(r"(?:\+|00)[1-9][0-9]*(?:[ -][0-9]+)*")


def _split_international(value: str, digits: str, region: str) -> tuple[int, str] | None:
    """(country code, national significant number) of an international number written with spaces or
    dashes ("+49 1512 3557928", "0049-1512-3179923"), as `phonenumbers.parse(value, region)` and
    `is_possible_number` find them, without the parse (most of the time a phone in a text costs).
    None wherever the parse could decide otherwise: another layout ("(0)", dots), an international
    prefix of `region` other than 00, a national prefix the parse would strip, a non-geographic code,
    a number it would not call possible."""
    if not _INTERNATIONAL_LAYOUT.fullmatch(value):
        return None
    if value[0] == "0":
        if _international_prefix(region) != "00":
            return None
        digits = digits[2:]
    split = _split_e164("+" + digits)
    if split is None:
        return None
    country_code, nsn = split
    national_prefix = _national_prefix_for_parsing(country_code)
    if national_prefix is None or national_prefix.match(nsn):
        return None
    return split if phonenumbers.is_possible_number(_phone_number(country_code, nsn)) else None


def _phone_number(country_code: int, nsn: str) -> phonenumbers.PhoneNumber:
    """The number `phonenumbers.parse` makes of this national significant number: its leading zeros
    (Italian numbers) kept as the parse keeps them, at most all but the last digit."""
    zeros = min(len(nsn) - len(nsn.lstrip("0")), len(nsn) - 1)
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn),
                                    italian_leading_zero=True if zeros else None,
                                    number_of_leading_zeros=zeros if zeros > 1 else None)


@lru_cache(maxsize=None)
def _international_prefix(region: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata.international_prefix if metadata is not None else None


_NO_PREFIX = re.compile(r"(?!)")  # matches nothing: the region strips no national prefix


@lru_cache(maxsize=None)
def _national_prefix_for_parsing(country_code: int) -> re.Pattern | None:
    """The pattern the parse strips from the start of a national number of this country code
    (matching nothing where it strips none); None for a code without one region's metadata."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None
    return re.compile(metadata.national_prefix_for_parsing) if metadata.national_prefix_for_parsing else _NO_PREFIX


def _plain_e164_groups(arr: pa.Array) -> tuple[dict[tuple[int, int, int], np.ndarray], list[int]]:
    """Positions of the plain E.164 values of `arr` (ASCII "+" and 7-15 digits, the country code as
    written) by (country code, its digits, length), and the positions of every other value."""
    plain = pc.fill_null(pc.match_substring_regex(arr, r"^\+[0-9]{7,15}$"), False).to_numpy(zero_copy_only=False)
    heads = pc.dictionary_encode(pc.utf8_slice_codeunits(arr, 1, 4))
    head_ids = pc.fill_null(heads.indices, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    lengths = pc.fill_null(pc.utf8_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = [_country_code(h) if h is not None and len(h) == 3 and h.isascii() and h.isdigit() else None
             for h in heads.dictionary.to_pylist()]
    has_code = np.array([c is not None for c in codes] + [False], dtype=bool)[head_ids] & plain
    keys = head_ids * 32 + lengths
    groups: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for key in sorted_unique(keys[has_code]).tolist():  # a few heads ("447", "336" …) per length
        groups.setdefault((*codes[key // 32], key % 32), []).append(np.flatnonzero(has_code & (keys == key)))
    return {group: np.concatenate(parts) for group, parts in groups.items()}, np.flatnonzero(~has_code).tolist()


class _AvoidedNumbers:
    """The plain E.164 numbers among some strings, as sorted integers (the digits after "+"; a country
    code never starts with 0, so each such string is one integer): whether candidates are among them
    is a binary search per candidate, column-wise."""

    PLAIN = r"\+[1-9][0-9]{0,17}"  # fits int64

    def __init__(self, strings: pa.Array, plain: pa.Array | None = None):
        """`plain`: more strings, known to be plain E.164 already (no need to match them)."""
        matched = pc.filter(strings, pc.fill_null(pc.match_substring_regex(strings, f"^{self.PLAIN}$"), False))
        if plain is not None:
            matched = pa.concat_arrays([plain, matched])
        self._sorted = np.sort(pc.cast(pc.utf8_slice_codeunits(matched, 1), pa.int64()).to_numpy(zero_copy_only=False))

    def __contains__(self, e164: object) -> bool:
        """Whether one plain E.164 string is among them (what the per-value path asks of a candidate)."""
        if not (isinstance(e164, str) and re.fullmatch(self.PLAIN, e164, re.ASCII)):
            return False
        value = int(e164[1:])
        at = int(np.searchsorted(self._sorted, value))
        return at < len(self._sorted) and int(self._sorted[at]) == value

    def contain(self, numbers: np.ndarray) -> np.ndarray:
        """For each row of `numbers` ("+" and digits as n × length bytes), whether it is avoided."""
        value = np.zeros(len(numbers), dtype=np.int64)
        for column in numbers[:, 1:].T:
            value = value * 10 + (column - 48)
        at = np.minimum(np.searchsorted(self._sorted, value), max(len(self._sorted) - 1, 0))
        return self._sorted[at] == value if len(self._sorted) else np.zeros(len(numbers), dtype=bool)


def _candidate_column(country_code: int, head: int, group: pa.Array, chars: np.ndarray,
                      digest: KeyedDigest, avoid: _AvoidedNumbers) -> tuple[np.ndarray, np.ndarray]:
    """The candidate the per-value path returns for each plain E.164 number of one country and
    length (`group`, and `chars`: their bytes; `head`: "+" and the country code's length), as bytes,
    and whether it was settled here (False: the caller takes the per-value path for that number)."""
    n, length = chars.shape
    candidate = np.full_like(chars, 48)
    candidate[:, :head] = chars[:, :head]
    ok = np.ones(n, dtype=bool)
    fiction = FICTION_RANGES.get(country_code)
    ranged = np.ones(n, dtype=bool)
    if fiction is not None:
        # A fiction prefix depends on the national number's length and its first three digits.
        starts = chars[:, head:head + 3].astype(np.int64) @ np.array([65536, 256, 1], dtype=np.int64)
        for start in sorted_unique(starts).tolist():
            rows = np.flatnonzero(starts == start)
            prefix = fiction(chars[rows[0], head:].tobytes().decode("ascii"))
            if prefix is None:
                continue
            ranged[rows] = False
            width = length - head - len(prefix)
            seeds = digest.joined(group.take(rows), 32, b"#fiction#0")
            seed = np.frombuffer(seeds, dtype=np.uint8).reshape(len(rows), 32)
            candidate[rows, head:head + len(prefix)] = np.frombuffer(prefix.encode(), dtype=np.uint8)
            if width > 32:  # beyond one digest: the per-value path
                ok[rows] = False
                continue
            candidate[rows, head + len(prefix):] = seed[:, :width] % 10 + 48
    fictional = np.flatnonzero(~ranged)
    ok[fictional] &= (candidate[fictional] != chars[fictional]).any(axis=1)
    rows = np.flatnonzero(ranged)
    if len(rows):
        _settle_kept_prefix(country_code, head, group, chars, digest, avoid, rows, candidate, ok)
    ok[fictional] &= ~avoid.contain(candidate[fictional])
    return candidate, ok


def _settle_kept_prefix(country_code: int, head: int, group: pa.Array, chars: np.ndarray, digest: KeyedDigest,
                        avoid: _AvoidedNumbers, rows: np.ndarray, candidate: np.ndarray, ok: np.ndarray) -> None:
    """`candidate[rows]` and `ok[rows]` for numbers outside a fiction range: the per-value path's
    attempts that keep the first two digits, in its order, as far as the first digest block
    (`block(e164 + "#2", 0)`, 64 digits) holds them. A first attempt is rejected for ~20% of German
    numbers (invalid), so the next ones are tried here rather than per value."""
    length = chars.shape[1]
    width = length - head - 2
    blocks = digest.joined(group.take(rows), 64, b"#2\0\0\0\0")
    digits = np.frombuffer(blocks, dtype=np.uint8).reshape(len(rows), 64) % 10 + 48
    candidate[rows, head:head + 2] = chars[rows, head:head + 2]
    ok[rows] = False
    pending = np.arange(len(rows))  # positions in `rows` not settled yet
    for attempt in range(64 // width):
        tried = candidate[rows[pending]]
        tried[:, head + 2:] = digits[pending, attempt * width:(attempt + 1) * width]
        good = (tried != chars[rows[pending]]).any(axis=1)
        good &= ~avoid.contain(tried)
        good &= _valid_national_numbers(country_code, fixed_width_strings(tried), head)
        settled = rows[pending[good]]
        candidate[settled] = tried[good]
        ok[settled] = True
        pending = pending[~good]
        if not len(pending):
            return
    candidate[rows[pending], head + 2:] = digits[pending, :width]  # unsettled: the per-value path decides


def _country_code(head: str) -> tuple[int, int] | None:
    """(country code, its number of digits) of an E.164 number whose digits start with `head`, as
    `_split_e164` finds it; None when the digits as written are not the code (a leading 0)."""
    for cc_len in (1, 2, 3):
        code = int(head[:cc_len])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return (code, cc_len) if str(code) == head[:cc_len] else None
    return None


def _valid_national_numbers(country_code: int, numbers: pa.Array, head: int) -> np.ndarray:
    """`_is_valid` of each E.164 number's national part (all of one length), with Arrow's RE2 over the
    column; per value where the region has no fast patterns or RE2 does not take one."""
    region = phonenumbers.region_code_for_country_code(country_code)
    patterns = _line_patterns(region) if region != phonenumbers.UNKNOWN_REGION else None
    if patterns is not None and len(numbers):
        width = len(numbers[0].as_py()) - head
        (general, general_lengths), *line_types = patterns
        if width not in general_lengths:
            return np.zeros(len(numbers), dtype=bool)
        try:
            nsn = pc.utf8_slice_codeunits(numbers, head)
            ok = pc.match_substring_regex(nsn, f"^(?:{general.pattern})$").to_numpy(zero_copy_only=False)
            any_type = np.zeros(len(numbers), dtype=bool)
            for pattern, lengths in line_types:
                if not lengths or width in lengths:
                    any_type |= pc.match_substring_regex(nsn, f"^(?:{pattern.pattern})$").to_numpy(zero_copy_only=False)
            return ok & any_type
        except pa.ArrowInvalid:  # a pattern RE2 does not compile: Python's re, per value
            pass
    return np.array([_is_valid(country_code, n[head:], region) for n in numbers.to_pylist()], dtype=bool)


def _is_valid_full(country_code: int, nsn: str, region: str) -> bool:
    number = _phone_number(country_code, nsn)
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
