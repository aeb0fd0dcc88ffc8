"""Every span of personal data in a text: names (names.py) and shaped values (patterns.py), merged.

Shaped values are looked for only where they can start: each digit group of the text is an anchor,
and only the shapes whose digit count fits it are tried there (`regex.match`, no scan); those that
start at the group itself are tried together in one combined regex, and only the ones it says can
match run on their own. The few shapes without digits of their own scan only texts that hold their
hint word. Overlapping findings merge into one span (the longer finding's entity wins), so a name
inside an email address or a street named after a person is removed once, whole. Four or five digits right after an address or
a birth date ("…, 13114 Werdau", "Details: Jane Doe, 14/03/1987, 15978") are a postcode.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import NamedTuple

from hurricane_assets.masking.freetext.gazetteer import lower_same_length
from hurricane_assets.masking.freetext.names import scan
from hurricane_assets.masking.freetext.patterns import SHAPE_HINTS, SHAPES, Shape, clues, find_emails

_LISTED_NUMBER = re.compile(r"[,;] ?(?:[A-Z]-)?(\d{4,5})(?![\w.,]\d|\w)|,? (?:[A-Z]-)?(\d{5})(?= [A-ZÀ-Ö])")
MAX_DIGITS = 99
_SCANNING = [s for s in SHAPES if s.anchor is None]
_HINT_BITS = functools.reduce(operator.or_, SHAPE_HINTS.values(), 0)
_NUMBERED_BACKREFERENCE = re.compile(r"(?<!\\)(?:\\\\)*\\[1-9]")


@functools.lru_cache(maxsize=None)
def _shapes_at(digits: int, hints: int) -> tuple[re.Pattern | None, tuple[tuple[Shape, int], ...]]:
    """The anchored shapes worth trying at a digit group of `digits` digits in a text with these hint
    words, in SHAPES order, and one regex (`_combined`) for those of them that start at the group itself.
    Each step is (shape, index of its group in the combined regex, or 0: use the shape's anchor)."""
    shapes = [s for s in SHAPES if s.anchor and s.digits[0] <= digits <= s.digits[1]
              and not (SHAPE_HINTS.get(s.name) and not hints & SHAPE_HINTS[s.name])]
    at_group = tuple(s for s in shapes if getattr(s.anchor, "offset", None) == 0)
    if not at_group:
        return None, tuple((s, 0) for s in shapes)
    combined = _combined(at_group)
    index = {s.name: combined.groupindex[f"s{i}"] for i, s in enumerate(at_group)}
    return combined, tuple((s, index.get(s.name, 0)) for s in shapes)


@functools.lru_cache(maxsize=None)
def _combined(shapes: tuple[Shape, ...]) -> re.Pattern:
    """Every pattern of `shapes` at one position in one regex: shape i inside a lookahead that captures
    `(?P<s{i}>…)` when it matches there, else nothing. One `match` at a digit group tells which shapes
    can match (most cannot) instead of one `match` per shape; the shape's own regex then runs only
    where its group was captured, so its check sees the same match object as before."""
    parts = []
    for i, s in enumerate(shapes):
        if _NUMBERED_BACKREFERENCE.search(s.regex.pattern):  # its number would change in here
            raise ValueError(f"shape {s.name!r}: use a named group, not a numbered backreference")
        pattern = f"(?i:{s.regex.pattern})" if s.regex.flags & re.IGNORECASE else s.regex.pattern
        parts.append(f"(?:(?=(?P<s{i}>{pattern}))|)")
    return re.compile("".join(parts))


def anchored_findings(text: str, zones: tuple[tuple[int, int], ...], hints: int) -> list[Finding]:
    """Findings of the anchored shapes at each digit group (start, digit count) of `text`."""
    findings = []
    for z, digits in zones:
        combined, steps = _shapes_at(min(digits, MAX_DIGITS), hints & _HINT_BITS)
        tried = combined.match(text, z) if combined is not None else None
        for shape, group in steps:
            if group:
                if tried.start(group) < 0:
                    continue
                starts: tuple[int, ...] = (z,)
            else:
                starts = shape.anchor(text, z)
            for start in starts:
                m = shape.regex.match(text, start)
                if m is not None:
                    span = shape.check(m, text)
                    if span is not None and span[1] > span[0]:
                        findings.append(Finding(span[0], span[1], shape.entity, shape.name))
    return findings


class Finding(NamedTuple):
    start: int
    end: int
    entity: str
    shape: str  # which recognizer found it ("name", "phone_intl", …)


def detect(text: str, *, names: bool = True) -> list[Finding]:
    """Findings in `text`, sorted and without overlaps."""
    spans, hints = scan(text)
    findings = [Finding(s, e, "PERSON", "name") for s, e in spans] if names else []
    lowered = lower_same_length(text)
    if "@" in text or " at " in lowered or "(at)" in lowered or "[at]" in lowered or "{at}" in lowered or \
            " arobase " in lowered:
        findings += [Finding(s, e, "EMAIL_ADDRESS", "email") for s, e in find_emails(text, lowered)]
    found = clues(text, lowered, hints)
    findings += anchored_findings(text, found.zones, hints)
    for shape in _SCANNING:
        if shape.gate(found):
            for m in shape.regex.finditer(text):
                span = shape.check(m, text)
                if span is not None and span[1] > span[0]:
                    findings.append(Finding(span[0], span[1], shape.entity, shape.name))
    merged = merge(findings)
    if found.zones:
        listed = _listed_postcodes(text, merged)
        if listed:
            merged = merge(merged + listed)
    return merged


def _listed_postcodes(text: str, findings: list[Finding]) -> list[Finding]:
    out = []
    for f in findings:
        if f.entity in ("STREET_ADDRESS", "DATE_OF_BIRTH", "PERSON"):
            m = _LISTED_NUMBER.match(text, f.end)
            if m:
                group = 1 if m.group(1) else 2
                out.append(Finding(m.start(group), m.end(group), "LOCATION", "postcode_listed"))
    return out


def merge(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings become one span. Its entity is the longest shaped finding's (a checksum or
    a shape is surer than a name: "1636 HO" is a postcode even if "Ho" is a name), else the name's."""
    out: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if out and f.start < out[-1].end:
            last = out[-1]
            if f.end > last.end:
                keep = max((last, f), key=lambda x: (x.shape != "name", x.end - x.start))
                out[-1] = Finding(last.start, f.end, keep.entity, keep.shape)
            elif last.shape == "name" and f.shape != "name":
                out[-1] = Finding(last.start, last.end, f.entity, f.shape)
            continue
        out.append(f)
    return out
