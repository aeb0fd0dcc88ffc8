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

from hurricane_assets.masking.freetext.gazetteer import WORD_SPLIT, lower_same_length, name_words
from hurricane_assets.masking.freetext.names import scan
from hurricane_assets.masking.freetext.patterns import SHAPE_HINTS, SHAPES, Shape, clues, find_emails

# A town after its postcode: a first word (capitalised where the text has both cases), then more
# words only where they clearly belong to it: after a prefix ("Port Janetchester", "Las Palmas"), or
# an article ("de Wijk", "LA CORUÑA"), through a connector ("Neustadt am Rübenberge", "Torre Del Moro"),
# or a capitalised word that is no common word ("Griesbach Rottal", not "Dinkelsbühl Viele Grüße").
_TOWN_WORD = re.compile(r"(?:'[stST]-)?[^\W_][\w'’.]*(?:-[\w'’.]+)*")
_TOWN_PREFIXES = frozenset({"new", "north", "south", "east", "west", "lake", "port", "mount", "fort", "saint", "sainte",
                            "st.", "san", "santa", "bad", "den", "nieuw", "oud", "groot", "klein", "nij", "villa"})
# "Dos Santos", "Da Costa", "Mac Giolla": a town named after a surname with a particle
_TOWN_ARTICLES = frozenset({"de", "'s", "'t", "la", "le", "les", "el", "las", "los", "il", "lo", "da", "das", "do",
                            "dos", "du", "des", "del", "della", "di", "mac", "ó"})
_TOWN_CONNECTORS = frozenset({"am", "an", "ob", "der", "den", "vorm", "sur", "en", "op", "aan", "de", "la", "le", "les",
                              "'t", "in", "im", "sul", "del", "di", "y", "upon", "on", "bei", "a"})
_COMMON_WORD_ZIPF = 4.0  # a capitalised word this common after a town starts the next sentence ("Viele", "May")
MAX_TOWN_WORDS = 5
# British style, between the street and the postcode: the words there are the town, whatever their case
_TOWN_BEFORE = re.compile(r", ([^\W\d_][\w'’.-]*(?: [\w'’.-]+){0,4}) ")


def _town_after(text: str, start: int) -> tuple[int, int] | None:
    """The town's span when one starts at `start`, else None."""
    from hurricane_assets.masking.freetext.gazetteer import word_frequency

    cased = not (text.islower() or text.isupper())
    words = []
    pos = start
    while len(words) < MAX_TOWN_WORDS:
        m = _TOWN_WORD.match(text, pos)
        if m is None:
            break
        words.append(m)
        if text[m.end():m.end() + 1] != " ":
            break
        pos = m.end() + 1
    first = words[0].group()[3:] if words and words[0].group()[:1] == "'" else (words[0].group() if words else "")
    if not first or (cased and not (first[0].isupper() or first[0].isdigit())):
        return None
    taken, i = 1, 0
    while i + 1 < len(words):
        here, after = words[i].group().lower(), words[i + 1].group()
        # a prefix, an article opening the town, or one ending a hyphenated word ("Payet-sur-Da Silva")
        if here in _TOWN_PREFIXES or (i == 0 and here in _TOWN_ARTICLES) or (
                "-" in here and here.rsplit("-", 1)[1] in _TOWN_ARTICLES):
            taken, i = i + 2, i + 1
        elif after.lower() in _TOWN_CONNECTORS:
            j = i + 1  # connectors may come in a row ("ob der", "aan den") before the town's next word
            while j < len(words) and words[j].group().lower() in _TOWN_CONNECTORS:
                j += 1
            if j == len(words) or (cased and not words[j].group()[0].isupper()):
                break
            taken, i = j + 1, j
        elif cased and after[0].isupper() and word_frequency().get(after.lower(), 0.0) < _COMMON_WORD_ZIPF:
            taken, i = i + 2, i + 1
        else:
            break
    end = words[taken - 1].end()
    while end > start and text[end - 1] in ".'’":
        end -= 1
    return (start, end) if end > start else None


# The name opening a detail list: an initial and one or two words, then ", " (see _name_before_details)
_DETAILS_NAME = re.compile(r"((?:[^\W\d_]\. ?)?[^\W\d_][\w'’-]*(?: [^\W\d_][\w'’-]*)?), ")
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
        towns = _towns(text, merged)
        if towns:
            merged = merge(merged + towns)
        if names and merged and merged[0].entity == "LOCATION":
            named = _name_before_details(text, merged[0].start)
            if named:
                merged = merge([named] + merged)
    return merged


def _name_before_details(text: str, start: int) -> Finding | None:
    """A detail list opening the text, "Amy, PL45 8NZ, asked for …", "t. brown, po07 5zu, …": the listed
    name words before the postcode at `start` are a name, whatever their case (alone, neither a cue nor a
    capital vouches for them)."""
    m = _DETAILS_NAME.fullmatch(text, 0, start)
    if m is None:
        return None
    words = [w for w in WORD_SPLIT.split(m.group(1).lower()) if len(w) > 1]
    if words and all(w in name_words() for w in words):
        return Finding(0, m.end(1), "PERSON", "name")
    return None


def _listed_postcodes(text: str, findings: list[Finding]) -> list[Finding]:
    out = []
    for f in findings:
        if f.entity in ("STREET_ADDRESS", "DATE_OF_BIRTH", "PERSON"):
            m = _LISTED_NUMBER.match(text, f.end)
            if m:
                group = 1 if m.group(1) else 2
                out.append(Finding(m.start(group), m.end(group), "LOCATION", "postcode_listed"))
    return out


def _towns(text: str, findings: list[Finding]) -> list[Finding]:
    """The town of an address: the words right after its postcode ("…, 13114 Werdau"), or, British
    style, between the street and the postcode ("…, Port Janetchester L5F 4TJ"). Only in an address
    (a street finding just before, or a postcode that only stands before a capitalised word), so a
    case number followed by a word keeps the word."""
    out = []
    for i, f in enumerate(findings):
        if f.entity != "LOCATION":
            continue
        street = i > 0 and findings[i - 1].entity == "STREET_ADDRESS" and f.start - findings[i - 1].end <= 2
        if (street or f.shape == "postcode_town") and text[f.end:f.end + 1] == " ":
            span = _town_after(text, f.end + 1)
            if span is not None:
                out.append(Finding(span[0], span[1], "LOCATION", "town"))
        # the street may be one or two findings back: a town named like a person ("East Lauren") is one too
        before = next((g for g in reversed(findings[max(0, i - 2):i]) if g.entity == "STREET_ADDRESS"), None)
        if before is not None:
            m = _TOWN_BEFORE.fullmatch(text, before.end, f.start)
            if m:
                out.append(Finding(m.start(1), m.end(1), "LOCATION", "town"))
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
