"""The `redact_text` operator: every finding of the detector replaced as its column would be masked.

An email in a ticket becomes the same masked email as in the profile (an obfuscated "jane.doe at gmail
dot com" is read as the address it stands for), a name the same fake name, a phone the same masked
number in the writer's layout, a full card number or IBAN a valid fake. What has no column operator
that fits a fragment of text (national ids, birth dates, postcodes, streets, partial cards) becomes
`<ENTITY>`. The row's own identifying values (`row_values`, filled by the engine) and a `deny_list`
are removed too.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ClassVar

import phonenumbers

from hurricane_assets.masking.freetext.detector import Finding, detect
from hurricane_assets.masking.freetext.patterns import plain_email
from hurricane_assets.masking.freetext.validators import luhn
from hurricane_assets.masking.normalise import DEFAULT_PHONE_REGION, parse_phone
from hurricane_assets.masking.operators.base import MaskingOperator, require
from negotiation_graph.terms import MaskingMethod

REDACTED = "<REDACTED>"
# Countries whose national phone layouts ("01512 3364629") are recognised, the default region first.
PHONE_REGIONS = ("GB", "DE", "FR", "NL", "ES", "IT", "IE", "BE", "AT", "CH", "PT", "PL")
# Column operators that can take a fragment of text as it is written.
TEXT_OPERATORS = frozenset({"email", "phone", "credit_card", "iban", "fake_name", "hmac_token", "keyed_chars"})
MEMO_SIZE = 200_000  # replacements remembered per masker: the same person writes many tickets


@lru_cache(maxsize=65_536)
def phone_region(text: str, default: str = DEFAULT_PHONE_REGION) -> str | None:
    """The first region (default first) where `text` is a valid number, else where it is possible."""
    possible = None
    for region in (default, *(r for r in PHONE_REGIONS if r != default)):
        number = parse_phone(text, region)
        if number is None:
            continue
        if phonenumbers.is_valid_number(number):
            return region
        if possible is None and phonenumbers.is_possible_number(number):
            possible = region
    return possible


_maskers: dict[tuple, tuple[object, Callable[[str], str]]] = {}
_maskers_by_id: dict[tuple, tuple[object, Callable[[str], str]]] = {}
_maskers_lock = threading.Lock()


def _masker(operator_name: str, params: dict, key, owner: object | None = None) -> Callable[[str], str]:
    """The column operator's per-value function for these params and key, built once and memoised.
    `owner` (the rule table the params come from, the same object for a whole column) makes the
    lookup cheap; without it the params are serialised into the cache key."""
    if owner is not None:
        # Per finding, so without the lock or the key's hash: an entry holds its key and owner, so
        # their ids are not reused while it is cached, and the identity test below rules out the rest.
        entry = _maskers_by_id.get((operator_name, id(owner), params.get("region"), id(key)))
        if entry is not None and entry[0][0] is key and entry[0][1] is owner:
            return entry[1]
    detail = id(owner) if owner is not None else json.dumps(params, sort_keys=True, default=str)
    cache_key = (operator_name, detail, params.get("region"), key.key_id, id(key))
    with _maskers_lock:
        entry = _maskers.get(cache_key)
        if entry is None:
            from hurricane_assets.masking.registry import operator_class

            one = operator_class(operator_name)().masker({**params, "key": key})
            memo: dict[str, str] = {}

            def masked(value: str) -> str:
                out = memo.get(value)
                if out is None:
                    out = one(value)
                    if len(memo) < MEMO_SIZE:
                        memo[value] = out
                return out

            entry = _maskers[cache_key] = ((key, owner), masked)  # held, so their ids are not reused
        if owner is not None:
            _maskers_by_id[(operator_name, id(owner), params.get("region"), id(key))] = entry
        return entry[1]


def forget_replacements() -> None:
    """Drop every memoised masker and its remembered replacements, so the next text is masked from a
    cold start (the benchmark's runs each start so; a process otherwise keeps them for its life)."""
    with _maskers_lock:
        _maskers.clear()
        _maskers_by_id.clear()


class FreeTextRedaction(MaskingOperator):
    """Params: `entity_rules` {ENTITY: {"operator", "params"}} (the column operators to mirror),
    `row_columns` {column: ENTITY} (other columns of the row whose values are removed),
    `row_values` [[ENTITY, value], …] (their values for this row; the engine fills it), `deny_list`,
    `region` (phone numbers written without country code)."""

    name = "redact_text"
    method = MaskingMethod.redact
    cost_per_value = 60.0
    params_allowed: ClassVar[frozenset[str]] = frozenset(
        {"entity_rules", "row_columns", "row_values", "deny_list", "region"})
    row_context = "row_columns"

    def check_params(self, params: dict) -> None:
        from hurricane_assets.masking.registry import operator_class

        for entity, rule in params.get("entity_rules", {}).items():
            require(isinstance(rule, dict) and "operator" in rule, self.name,
                    f"entity_rules[{entity!r}] must be a mapping with an 'operator'")
            operator_class(rule["operator"])
        deny = params.get("deny_list", [])
        require(isinstance(deny, (list, tuple)) and all(isinstance(d, str) for d in deny), self.name,
                "deny_list must be a list of strings")

    def mask(self, value: Any, params: dict) -> Any:
        text = str(value)
        findings = detect(text)
        known = self._known_values(text, params)
        if known:
            findings = _merge_known(findings, known)
        if not findings:
            return text
        out, cursor = [], 0
        for f in findings:
            out.append(text[cursor:f.start])
            out.append(self._replacement(f, text[f.start:f.end], params))
            cursor = f.end
        out.append(text[cursor:])
        return "".join(out)

    @staticmethod
    def _known_values(text: str, params: dict) -> list[Finding]:
        found = []
        known = [(entity, v) for entity, v in params.get("row_values", ()) if isinstance(v, str) and v.strip()]
        known += [("DENY_LIST", term) for term in params.get("deny_list", ()) if term.strip()]
        for entity, needle in known:
            for match in re.finditer(re.escape(needle.strip()), text, flags=re.IGNORECASE):
                found.append(Finding(match.start(), match.end(), entity, "known"))
        return found

    def _replacement(self, finding: Finding, found: str, params: dict) -> str:
        entity = finding.entity
        rule = params.get("entity_rules", {}).get(entity)
        if entity == "DENY_LIST":
            return REDACTED
        if rule is None or rule["operator"] not in TEXT_OPERATORS:
            return f"<{entity}>"
        operator = rule["operator"]
        rule_params = dict(rule.get("params", {}))
        value = found
        if operator == "email":
            value = plain_email(found)
        elif operator == "phone":
            if not found.lstrip().startswith(("+", "00")):
                rule_params["region"] = phone_region(found, params.get("region", DEFAULT_PHONE_REGION)) or \
                    params.get("region", DEFAULT_PHONE_REGION)
        elif operator == "credit_card" and not luhn("".join(ch for ch in found if ch.isdigit())):
            return f"<{entity}>"  # "**** 4242": no number to pseudonymise, only a fragment to remove
        try:
            return str(_masker(operator, rule_params, params["key"], rule)(value))
        except Exception:  # a fragment the column operator cannot parse still must not survive
            return f"<{entity}>"


def _merge_known(findings: list[Finding], known: list[Finding]) -> list[Finding]:
    """Detector findings and the row's known values as one sorted list without overlaps; where they
    overlap the known value's entity wins (it is certain)."""
    out: list[Finding] = []
    for f in sorted(findings + known, key=lambda f: (f.start, f.shape != "known", -(f.end - f.start))):
        if out and f.start < out[-1].end:
            last = out[-1]
            if f.end > last.end:
                keep = last if last.shape == "known" else f if f.shape == "known" or f.end - f.start > last.end - last.start else last
                out[-1] = Finding(last.start, f.end, keep.entity, keep.shape)
            continue
        out.append(f)
    return out
