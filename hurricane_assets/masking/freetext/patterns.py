"""Regular expressions and validators for personal data with a shape: contacts, ids, cards, dates, places.

Each `Shape` is a pattern and a check of what it matched: a checksum (Luhn, mod 97, the DNI letter,
the BSN eleven test, the NIR key, the German tax id's ISO 7064 digit), a plausible length, a date that
is a birth date. A check returns the (start, end) to keep, possibly trimmed, or None to reject. The
same shapes run in our detector and, wrapped as Presidio recognizers, in the benchmark's Presidio run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hurricane_assets.masking.freetext import validators
from hurricane_assets.masking.freetext.gazetteer import (
    MONTHS,
    STREET_PREFIXES,
    STREET_SUFFIXES_COMPOUND,
    STREET_WORDS_EN,
)
from hurricane_assets.masking.freetext.names import CARD_END_WORD, MONTH, POSTCODE_WORD, STREET_PREFIX, STREET_WORD

# A birth date is a full date before this year (an operator parameter can move it): older dates in a
# ticket are nearly always birth dates, recent ones are payments and appointments.
BIRTH_YEARS_BEFORE = 2012
UPPER = "A-ZÀ-ÖØ-Þ"
LOWER = "a-zß-öø-ÿ"

Check = Callable[[re.Match, str], "tuple[int, int] | None"]


def _alternation(words: Iterable[str]) -> str:
    """A regex for any one of `words`, factored into a trie: "ma(?:r(?:ch|s|zo)?|y|…)" for "march|mars|…".

    It matches what the flat list longest first ("march|mars|mar|…") matches, and where several words
    fit it takes the same one: two words can both fit only if one extends the other, and the longer is
    tried first in both. sre tries a flat list word by word at every position and, under IGNORECASE,
    cannot skip the words whose first letter differs: the month names cost ~5x more as a flat list.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def branches(node: dict[str, dict]) -> str:
        options = [re.escape(ch) + branches(child) for ch, child in sorted(node.items()) if ch]
        if not options:
            return ""
        ends_here = "" in node
        joined = options[0] if len(options) == 1 and not ends_here else f"(?:{'|'.join(options)})"
        return joined + "?" if ends_here else joined

    return branches(trie)


@dataclass(frozen=True)
class Clues:
    """What a text contains, found cheaply once: its digit groups (start, digit count), the hint
    words the name scan saw, its lower-case form."""

    text: str
    lowered: str
    hints: int
    zones: tuple[tuple[int, int], ...]


# A digit group: digits, brackets, and single separators that lead to more digits or masks
# ("+44 (0)7400 123456", "14/03/1987", "4111 11** **** 1111"); " / " or ", " ends it.
ZONE = re.compile(r"[0-9](?:[0-9()]|[ ./*•\-](?=[0-9(*•]))*")
_SEPARATORS = str.maketrans("", "", " ./()*•-")


def clues(text: str, lowered: str, hints: int) -> Clues:
    zones = tuple((m.start(), len(m.group().translate(_SEPARATORS))) for m in ZONE.finditer(text))
    return Clues(text, lowered, hints, zones)


def _at(offset: int = 0) -> Anchor:
    def anchor(text: str, z: int) -> tuple[int, ...]:
        return (z - offset,) if z >= offset else ()
    # The detector tries the shapes that start at the group itself (offset 0) together, in one regex.
    anchor.offset = offset  # type: ignore[attr-defined]
    return anchor


def _letters_before(*counts: int, spaced: bool = False) -> Anchor:
    """Starts `n` letters before the digits, for ids that open with letters; with `spaced`, also `n`
    letters and a space or dash (only for a regex that allows it: the others would be tried in vain)."""
    def anchor(text: str, z: int) -> tuple[int, ...]:
        out = []
        for n in counts:
            if z >= n and text[z - n:z].isalpha():
                out.append(z - n)
            elif spaced and z > n and text[z - 1] in " -" and text[z - n - 1:z - 1].isalpha():
                out.append(z - n - 1)
        return tuple(out)
    return anchor


def _phone_intl_anchor(text: str, z: int) -> tuple[int, ...]:
    if z and text[z - 1] == "+":
        return (z - 1,)
    return (z,) if text.startswith("00", z) else ()


def _phone_national_anchor(text: str, z: int) -> tuple[int, ...]:
    if text[z] != "0":
        return ()
    return (z - 1,) if z and text[z - 1] == "(" else (z,)


def _nie_anchor(text: str, z: int) -> tuple[int, ...]:
    if z and text[z - 1] in "XYZxyz":
        return (z - 1,)
    return (z - 2,) if z > 1 and text[z - 1] in " -" and text[z - 2] in "XYZxyz" else ()


Anchor = Callable[[str, int], "tuple[int, ...]"]


@dataclass(frozen=True)
class Shape:
    """A pattern and its check. Shapes with an `anchor` are tried only where a digit group of
    `digits` (min, max) digits starts (`regex.match` at the positions the anchor gives, e.g. two
    letters before the digits of an IBAN): no scan over the text. The others scan texts their `gate`
    admits."""

    name: str
    entity: str
    regex: re.Pattern
    check: Check
    gate: Callable[[Clues], bool] | None = None
    anchor: Anchor | None = None
    digits: tuple[int, int] = (1, 99)  # a group can hold more than the value: "+44 7911 123456 0044 …"
    group: int = 0  # the capture group that is the value (a cue word before it is not)


def _span(m: re.Match, group: int = 0) -> tuple[int, int]:
    return m.start(group), m.end(group)


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _compact(s: str) -> str:
    return "".join(ch for ch in s if ch.isalnum()).upper()


# --- contacts ------------------------------------------------------------------------------------

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]*\w ?@ ?[\w-]+(?:\.[\w-]+)+")
TLDS = frozenset("com net org de fr nl es it uk co eu io pt pl be at ch ie se dk no fi cz hu ro tr gr lu me info biz".split())
_TLD = _alternation(sorted(TLDS))
# How people write "@" and "." out: in brackets, as words (German "punkt", French "arobase"/"point").
_AT_WORD_PATTERN = r"\[at\]|\(at\)|\{at\}| at | arobase "
_DOT_WORD_PATTERN = r" ?(?:\[dot\]|\(dot\)|\{dot\}|\(punkt\)|\[punkt\]) ?| dot | punkt | point "
EMAIL_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])[\w.+-]*\w ?(?:{_AT_WORD_PATTERN}) ?[\w-]+(?:(?:{_DOT_WORD_PATTERN}|\.)[\w-]+)+", re.IGNORECASE)


_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
# After "@" a dot may be spaced on both sides or mistyped as a comma ("kpn . nl", "gmail,com"), but then only
# before a known TLD; not "web.de. es geht um", where the dot ends a sentence.
EMAIL_DOMAIN = re.compile(rf" ?@ ?[\w-]+(?:(?:\.[\w-]+)*,(?:{_TLD})(?!\w|\.\w)|(?: \. [\w-]+)* \. (?:{_TLD})(?!\w|\.\w)"
                          r"|(?:\.[\w-]+)+)", re.IGNORECASE)
EMAIL_DOMAIN_OBFUSCATED = re.compile(
    rf" ?(?:{_AT_WORD_PATTERN}) ?[\w-]+(?:(?:{_DOT_WORD_PATTERN}|\.)[\w-]+)+", re.IGNORECASE)
AT_WORDS = (" at ", "[at]", "(at)", "{at}", " arobase ", "@")
_DOT_SPLIT = re.compile(rf"{_DOT_WORD_PATTERN}|\.", re.IGNORECASE)
_AT_SPLIT = re.compile(rf" ?(?:{_AT_WORD_PATTERN}) ?", re.IGNORECASE)


def _local_start(text: str, end: int) -> int:
    """Where the local part that ends at `end` (before "@", " @" or an at-word) starts."""
    i = end
    while i > 0 and (text[i - 1] in _LOCAL_CHARS or text[i - 1].isalnum()):
        i -= 1
    return i


def find_emails(text: str, lowered: str) -> list[tuple[int, int]]:
    """Emails, plain or written out ("jane.doe at gmail dot com"), found from their "@" or at-word."""
    out = []
    for word in AT_WORDS:
        at = lowered.find(word)
        while at >= 0:
            end = at - 1 if at and text[at - 1] == " " and word != " at " else at
            start = _local_start(text, end)
            domain = (EMAIL_DOMAIN if word == "@" else EMAIL_DOMAIN_OBFUSCATED).match(text, end)
            if start < end and domain:
                span = (start, domain.end())
                if word == "@" or _written_out_email(text[span[0]:span[1]]):
                    out.append(span)
            at = lowered.find(word, at + 1)
    return out


def _written_out_email(value: str) -> bool:
    value = value.lower()
    tld = _DOT_SPLIT.split(value)[-1].strip()
    local = _AT_SPLIT.split(value)[0]
    # "arrived at home.com"? A real local part has a dot, digit or underscore, or the host a known TLD.
    return tld in TLDS and bool(re.search(r"[._\d]", local) or "[" in value or "(" in value or " dot " in value)


def _obfuscated_email(m: re.Match, text: str) -> tuple[int, int] | None:
    if "@" in m.group():
        return None  # a plain email; the other shape has it
    return _span(m) if _written_out_email(m.group()) else None


_AT_WORD = re.compile(rf" ?(?:{_AT_WORD_PATTERN}| ?@ ?) ?", re.IGNORECASE)
_DOT_WORD = re.compile(rf"{_DOT_WORD_PATTERN}|,", re.IGNORECASE)


def plain_email(found: str) -> str:
    """The address behind an obfuscated form: "jane.doe at gmail dot com" -> "jane.doe@gmail.com",
    "jsmith@gmail,com" -> "jsmith@gmail.com"."""
    return _DOT_WORD.sub(".", _AT_WORD.sub("@", found.lower(), count=1)).replace(" ", "")


PHONE_INTL = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,3}(?:[ .-]?\(0\))?(?:[ .-]?\(?\d+\)?){1,7}")
PHONE_NATIONAL = re.compile(r"(?<![\w+.,/-])(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .\-/]?\d){5,11}(?![\w])")
PHONE_NO_TRUNK = re.compile(r"(?<![\w+.,/-])(?:[679]\d{2}|3\d{2})(?:[ .-]?\d){6,7}(?![\w])")


def _trim_digits(m: re.Match, text: str, low: int, high: int) -> tuple[int, int] | None:
    """The match, shortened group by group from the right until its digit count is in [low, high]."""
    value = m.group()
    while value:
        count = len(_digits(value.replace("(0)", "")))
        if low <= count <= high:
            return m.start(), m.start() + len(value)
        if count < low:
            return None
        cut = max(value.rfind(" "), value.rfind("-"), value.rfind("."))
        if cut <= 0:
            return None
        value = value[:cut].rstrip(" .-(")
    return None


def _intl_phone(m: re.Match, text: str) -> tuple[int, int] | None:
    extra = 2 if m.group().startswith("00") else 0
    return _trim_digits(m, text, 9 + extra, 15 + extra)


def _national_phone(m: re.Match, text: str) -> tuple[int, int] | None:
    return _trim_digits(m, text, 9, 12)


# A national number without its trunk zero ("415-555-2671", "7911 123456") looks like any other number:
# it is a phone only right after a phone word ("call", "ph:", "my number is").
PHONE_CUE_WORDS = ("call", "ph", "phone", "tel", "tél", "mobile", "mob", "cell", "whatsapp", "sms", "text me",
                   "rufen", "anrufen", "handy", "bel", "bellen", "rappeler", "portable", "llámenme", "llamar",
                   "teléfono", "móvil", "my number", "meine nummer", "mijn nummer", "mon numéro", "mi número")
PHONE_CUED = re.compile(r"(?<![\w+.,/-])\(?\d{1,4}\)?(?:[ .-]?\d){6,9}(?![\w]|[.,/-]\d)")
_PHONE_CUE_BEFORE = re.compile(rf"(?<!\w)(?:{_alternation(PHONE_CUE_WORDS)})\b[^\d\n]{{0,25}}$", re.IGNORECASE)


def _cued_phone(m: re.Match, text: str) -> tuple[int, int] | None:
    if not 9 <= len(_digits(m.group())) <= 11:
        return None
    return _span(m) if _PHONE_CUE_BEFORE.search(text, max(0, m.start() - 40), m.start()) else None


def _no_trunk_phone(m: re.Match, text: str) -> tuple[int, int] | None:
    digits = _digits(m.group())
    return _span(m) if (len(digits) == 9 and digits[0] in "679") or (len(digits) == 10 and digits[0] == "3") else None


# --- cards and accounts ---------------------------------------------------------------------------

# Also four dotted groups of four ("4111.1111.1111.1111"); other dotted runs are amounts or versions.
CARD = re.compile(r"(?<![\d.,])(?:(?:\d[ -]?){12,18}\d|\d{4}\.\d{4}\.\d{4}\.\d{4}(?!\.\d))(?![\d])")
CARD_MASKED = re.compile(r"(?<![\w*•])(?:(?:\d{4}[ -]?\d{2}|\d{6})[ -]?)?(?:[*xX•]{2,4}[ -]?){1,4}\d{4}(?!\d)")
CARD_ENDING_WORDS = ("ending", "ends", "endziffer", "endziffern", "endet auf", "endend auf", "terminant par",
                     "finissant par", "eindigend op", "eindigt op", "eindigend", "terminada en", "termina en",
                     "acabada en", "last four", "last four digits", "last 4", "last 4 digits")
CARD_ENDING = re.compile(rf"(?:{_alternation(CARD_ENDING_WORDS)})(?: in| on| with)?[ :#]*(\d{{4}})(?!\d)", re.IGNORECASE)
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{1,4}){3,8}")


def _card(m: re.Match, text: str) -> tuple[int, int] | None:
    return _span(m) if validators.luhn(_digits(m.group())) else None


def _masked_card(m: re.Match, text: str) -> tuple[int, int] | None:
    value = m.group()
    return _span(m) if sum(value.count(c) for c in "*xX•") >= 4 else None


def _iban(m: re.Match, text: str) -> tuple[int, int] | None:
    value = m.group()
    length = validators.IBAN_LENGTHS.get(value[:2].upper())
    if length is None:
        return None
    kept = 0
    for i, ch in enumerate(value):  # the first `length` alphanumerics: the rest is the next word
        kept += ch.isalnum()
        if kept == length:
            end = m.start() + i + 1
            if end < len(text) and text[end].isalnum() and not text[end - 1:end + 1].isdigit() and text[end - 1] != " ":
                return None
            return (m.start(), end) if validators.iban(_compact(value[:i + 1])) else None
    return None


# --- national identity numbers --------------------------------------------------------------------

NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}(?: ?\d{2} ?\d{2} ?\d{2} ?|-\d{2}-\d{2}-\d{2}-)[A-Da-d](?![A-Za-z0-9])")
DNI = re.compile(r"(?<![\w.])(?:\d{8}|\d{2}\.\d{3}\.\d{3})[ -]?[A-Za-z](?!\w)")
NIE = re.compile(r"(?<!\w)[XYZxyz][ -]?\d{7}[ -]?[A-Za-z](?!\w)")
# Nine digits as 4-2-3, or as 3-3-3 / 3-2-4 with one separator ("111 222 333", "111-22-2333"): only nine
# digits that pass the eleven test are taken, so an ordinary 9-digit number rarely is.
BSN = re.compile(r"(?<![\w.,+])(?:\d{4}[ .]?\d{2}[ .]?\d{3}|\d{3}(?P<bsn_separator>[ .-])\d{3}(?P=bsn_separator)\d{3}"
                 r"|\d{3}-\d{2}-\d{4})(?!\w|[.,-]\d)")
# The two-digit key may stand apart behind its name ("… 451 089 clé 93").
NIR_KEY_WORDS = ("clé", "cle", "key", "schlüssel")
NIR = re.compile(rf"(?<![\w+])[12] ?\d{{2}} ?\d{{2}} ?(?:\d{{2}}|2[ABab]) ?\d{{3}} ?\d{{3}}"
                 rf"(?: ?|,? (?:{_alternation(NIR_KEY_WORDS)}) ?:? ?)\d{{2}}(?!\d)", re.IGNORECASE)
# 2-3-3-3 as written on the letter, or one separator between 3-3-3-2 / 2-3-3-3 groups ("86/095/742/719").
STEUER_ID = re.compile(r"(?<![\w+])(?:[1-9]\d ?\d{3} ?\d{3} ?\d{3}|[1-9]\d{1,2}(?P<steuer_separator>[ /])\d{3}"
                       r"(?P=steuer_separator)\d{3}(?P=steuer_separator)\d{2,3})(?![\d/])")
CODICE_FISCALE = re.compile(r"(?<!\w)[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z](?!\w)")


def _checked(validator: Callable[[str], bool], digits_only: bool = False) -> Check:
    def check(m: re.Match, text: str) -> tuple[int, int] | None:
        value = _digits(m.group()) if digits_only else _compact(m.group())
        return _span(m) if validator(value) else None
    return check


_NIR_KEY_WORD = re.compile(_alternation(w.upper() for w in NIR_KEY_WORDS))


def _nir(m: re.Match, text: str) -> tuple[int, int] | None:
    # The key's name is not part of the number: "2 84 … 089 clé 93" is checked as "2…08993".
    return _span(m) if validators.nir(_NIR_KEY_WORD.sub("", _compact(m.group()))) else None


# --- dates of birth ---------------------------------------------------------------------------------

_MONTHS = _alternation(MONTHS)
# The separator is named, not numbered, so the pattern keeps its meaning inside the detector's combined regex.
DATE_NUMERIC = re.compile(
    r"(?<![\d./-])(\d{1,2})(?P<date_separator>[./-])(\d{1,2})(?P=date_separator)(\d{4}|\d{2})(?!\d|[./-]\d)")
# Year first with "-", "." or "/" ("1987.03.14"), the same separator twice.
DATE_ISO = re.compile(r"(?<![\d./-])(\d{4})(?P<iso_separator>[-./])(\d{1,2})(?P=iso_separator)(\d{1,2})(?!\d|[./-]\d)")
_ORDINAL = r"(?:st|nd|rd|th)?"  # "3rd March 1987", "March 3rd, 1987"
DATE_NAMED = re.compile(rf"(?<!\d)(\d{{1,2}}){_ORDINAL}\.?\s(?:de\s|of\s)?(?:{_MONTHS})\.?\s(?:de\s)?(\d{{4}})(?!\d)",
                        re.IGNORECASE)
DATE_NAMED_US = re.compile(rf"(?<!\w)(?:{_MONTHS})\.?\s(\d{{1,2}}){_ORDINAL},?\s(\d{{4}})(?!\d)", re.IGNORECASE)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 30 else 2000
    return year


def _birth_date(m: re.Match, text: str, day: str, month: str | None, year: str) -> tuple[int, int] | None:
    d = int(day)
    if month is not None:
        mo = int(month)
        if mo > 12 and d <= 12:
            d, mo = mo, d  # month first (US)
        if not 1 <= mo <= 12:
            return None
    if not 1 <= d <= 31 or not 1900 <= _year(year) < BIRTH_YEARS_BEFORE:
        return None
    return _span(m)


def _numeric_date(m: re.Match, text: str) -> tuple[int, int] | None:
    return _birth_date(m, text, m.group(1), m.group(3), m.group(4))


def _iso_date(m: re.Match, text: str) -> tuple[int, int] | None:
    return _birth_date(m, text, m.group(4), m.group(3), m.group(1))


def _named_date(m: re.Match, text: str) -> tuple[int, int] | None:
    return _birth_date(m, text, m.group(1), None, m.group(2))


# --- places ----------------------------------------------------------------------------------------

UK_POSTCODE = re.compile(r"(?<![\w-])[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}(?![\w])")
NL_POSTCODE = re.compile(r"(?<![\w-])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w])")
NL_POSTCODE_LOWER = re.compile(r"(?<![\w-])[1-9]\d{3} ?[a-z]{2}(?![\w])")
POSTCODE_CUE_WORDS = ("postcode", "post code", "postleitzahl", "plz", "code postal", "cp", "cp.", "c.p", "c.p.",
                      "código postal", "cap", "zip", "zip code")
POSTCODE_CUE = re.compile(
    rf"(?:{_alternation(POSTCODE_CUE_WORDS)})(?: is| ist| est| es| =)?[ :]*([A-Za-z0-9][A-Za-z0-9 -]{{2,8}}[A-Za-z0-9])",
    re.IGNORECASE)
# Five digits that open "12345 City" (a postcode before its town); a cue or an address also vouches.
POSTCODE_TOWN = re.compile(rf"(?<![\w.,:#-])(?:[A-Z]-)?\d{{5}}(?= [{UPPER}][{LOWER}])")


def _uk_postcode(m: re.Match, text: str) -> tuple[int, int] | None:
    # Lower-case "ab1 2cd" only in a text without capitals; a capitalised one is a postcode anywhere.
    return _span(m) if m.group().isupper() or text.islower() else None


def _lower_text_only(m: re.Match, text: str) -> tuple[int, int] | None:
    return _span(m) if text.islower() and m.group()[-2:] not in ("sa", "sd", "ss") else None


def _postcode_cue(m: re.Match, text: str) -> tuple[int, int] | None:
    value = m.group(1).rstrip()
    value = re.match(r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}|\d{4} ?[A-Za-z]{2}|\d{4,5}|[A-Z]-\d{5}", value)
    return (m.start(1), m.start(1) + value.end()) if value else None


_SUFFIX_WORD = _alternation(STREET_SUFFIXES_COMPOUND)
_PREFIX_WORD = _alternation(STREET_PREFIXES)
STREET_COMPOUND = re.compile(
    rf"(?<![\w-])(?:[^\W\d_][\w'’.]*-){{0,3}}(?:[^\W\d_][\w'’]*?)?(?:{_SUFFIX_WORD}) ?\d{{1,4}}(?: ?[a-zA-Z](?!\w))?(?!\w)",
    re.IGNORECASE)
UNAMBIGUOUS_SUFFIXES = ("straße", "strasse", "str.", "straat", "laan", "gracht", "gasse", "allee", "steeg", "dreef",
                        "singel", "chaussee")


def _street_compound(m: re.Match, text: str) -> tuple[int, int] | None:
    from hurricane_assets.masking.freetext.gazetteer import word_frequency

    word = m.group().rsplit(" ", 1)[0] if " " in m.group() else re.sub(r"\d.*$", "", m.group())
    word = word.lower().rstrip(" ")
    if word.endswith(UNAMBIGUOUS_SUFFIXES) or "-" in word or word.split()[-1] not in word_frequency():
        return _span(m)
    return None


_EN_WORDS = _alternation(STREET_WORDS_EN)
STREET_EN = re.compile(rf"(?<![\w.,])\d{{1,4}}[a-zA-Z]?,? (?:[^\W\d_][\w'’-]* ){{1,3}}(?:{_EN_WORDS})(?!\w)",
                       re.IGNORECASE)
STREET_NUMBER_FIRST = re.compile(
    rf"(?<![\w.,])\d{{1,4}}(?: ?(?:bis|ter|[ab]))?,? (?:{_PREFIX_WORD})(?: (?:de la |de l'|du |des |de |d'|la |le |les )?"
    rf"[^\W\d_][\w'’-]*){{1,4}}", re.IGNORECASE)
STREET_NAME_FIRST = re.compile(
    rf"(?<![\w-])(?:{_PREFIX_WORD})(?: (?:de la |de los |de las |del |de |di |della |dei |d'|des )?[^\W\d_][\w'’.-]*){{1,4}},? "
    rf"\d{{1,4}}(?: ?[a-zA-Z])?(?!\w)", re.IGNORECASE)


def _always(m: re.Match, text: str) -> tuple[int, int] | None:
    return _span(m)


IP_ADDRESS = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")


def _ip(m: re.Match, text: str) -> tuple[int, int] | None:
    return _span(m) if all(int(part) <= 255 for part in m.group().split(".")) else None


MONTH_BEFORE = re.compile(rf"(?:{_MONTHS})\.?\s$", re.IGNORECASE)


def _month_before(text: str, z: int) -> tuple[int, ...]:
    m = MONTH_BEFORE.search(text, max(0, z - 12), z)
    return (m.start(),) if m else ()


_LONGEST_SUFFIX = max(map(len, STREET_SUFFIXES_COMPOUND))


def _street_word_before(text: str, z: int) -> tuple[int, ...]:
    """The word (with hyphenated parts) that ends one space before the number: "Jens-Drubin-Straße 47"."""
    if z < 3 or text[z - 1] != " ":
        return ()
    # STREET_COMPOUND matches only where this word ends in a street type, and most words before a number
    # do not. The test is exact on ASCII, where IGNORECASE is lower(); any other text goes to the regex.
    tail = text[max(0, z - 1 - _LONGEST_SUFFIX):z - 1]
    if tail.isascii() and not tail.lower().endswith(STREET_SUFFIXES_COMPOUND):
        return ()
    i = z - 1
    while i > 0 and (text[i - 1].isalpha() or text[i - 1] in "-'’."):
        i -= 1
    return (i,) if i < z - 2 else ()


def _name_first_street(text: str, z: int) -> tuple[int, ...]:
    """"Calle Mayor 5", "Via Roma, 12": the street type within a few words before the number."""
    m = STREET_NAME_FIRST.search(text, max(0, z - 70), z + 6)
    return (m.start(),) if m and m.end() > z else ()


SHAPES: tuple[Shape, ...] = (
    Shape("phone_intl", "PHONE_NUMBER", PHONE_INTL, _intl_phone, anchor=_phone_intl_anchor, digits=(9, 99)),
    Shape("phone_national", "PHONE_NUMBER", PHONE_NATIONAL, _national_phone, anchor=_phone_national_anchor,
          digits=(9, 99)),
    Shape("phone_no_trunk", "PHONE_NUMBER", PHONE_NO_TRUNK, _no_trunk_phone, anchor=_at(), digits=(9, 99)),
    Shape("phone_cued", "PHONE_NUMBER", PHONE_CUED, _cued_phone, anchor=_at(), digits=(9, 11)),
    Shape("card", "CREDIT_CARD", CARD, _card, anchor=_at(), digits=(13, 99)),
    Shape("card_masked", "CREDIT_CARD", CARD_MASKED, _masked_card,
          gate=lambda c: "**" in c.text or "xx" in c.lowered or "••" in c.text),
    Shape("card_ending", "CREDIT_CARD", CARD_ENDING, lambda m, t: _span(m, 1), gate=lambda c: bool(c.hints & CARD_END_WORD),
          group=1),
    Shape("iban", "IBAN_CODE", IBAN, _iban, anchor=_letters_before(2), digits=(2, 99)),
    Shape("nino", "NATIONAL_ID", NINO, _checked(validators.nino), anchor=_letters_before(2, spaced=True),
          digits=(6, 99)),
    Shape("dni", "NATIONAL_ID", DNI, _checked(validators.dni_or_nie), anchor=_at(), digits=(8, 99)),
    Shape("nie", "NATIONAL_ID", NIE, _checked(validators.dni_or_nie), anchor=_nie_anchor, digits=(7, 99)),
    Shape("bsn", "NATIONAL_ID", BSN, _checked(validators.bsn, digits_only=True), anchor=_at(), digits=(9, 99)),
    # Corsica's "2A"/"2B" ends the digit group after 6 digits ("1 84 05 2A 123 456 82").
    Shape("nir", "NATIONAL_ID", NIR, _nir, anchor=_at(), digits=(6, 99)),
    Shape("steuer_id", "NATIONAL_ID", STEUER_ID, _checked(validators.steuer_id, digits_only=True), anchor=_at(),
          digits=(11, 99)),
    Shape("codice_fiscale", "NATIONAL_ID", CODICE_FISCALE, _always, anchor=_letters_before(6), digits=(2, 99)),
    Shape("date_numeric", "DATE_OF_BIRTH", DATE_NUMERIC, _numeric_date, anchor=_at(), digits=(4, 99)),
    Shape("date_iso", "DATE_OF_BIRTH", DATE_ISO, _iso_date, anchor=_at(), digits=(6, 99)),
    Shape("date_named", "DATE_OF_BIRTH", DATE_NAMED, _named_date, anchor=_at(), digits=(1, 99)),
    Shape("date_named_us", "DATE_OF_BIRTH", DATE_NAMED_US, lambda m, t: _birth_date(m, t, m.group(1), None, m.group(2)),
          anchor=_month_before, digits=(1, 99)),
    # Its digit group ends at the letters of the inward code ("SW1A 1AA": "1"; "M1 1AE": "1 1"): at most 3 digits.
    Shape("uk_postcode", "LOCATION", UK_POSTCODE, _uk_postcode, anchor=_letters_before(2, 1), digits=(1, 3)),
    Shape("nl_postcode", "LOCATION", NL_POSTCODE, _always, anchor=_at(), digits=(4, 99)),
    Shape("nl_postcode_lower", "LOCATION", NL_POSTCODE_LOWER, _lower_text_only, anchor=_at(), digits=(4, 99)),
    Shape("postcode_cue", "LOCATION", POSTCODE_CUE, _postcode_cue, gate=lambda c: bool(c.hints & POSTCODE_WORD), group=1),
    Shape("postcode_town", "LOCATION", POSTCODE_TOWN, _always, anchor=_at(), digits=(5, 99)),
    Shape("street_compound", "STREET_ADDRESS", STREET_COMPOUND, _street_compound, anchor=_street_word_before,
          digits=(1, 99)),
    Shape("street_en", "STREET_ADDRESS", STREET_EN, _always, anchor=_at(), digits=(1, 99)),
    Shape("street_number_first", "STREET_ADDRESS", STREET_NUMBER_FIRST, _always, anchor=_at(), digits=(1, 99)),
    Shape("street_name_first", "STREET_ADDRESS", STREET_NAME_FIRST, _always, anchor=_name_first_street, digits=(1, 99)),
    Shape("ip_address", "IP_ADDRESS", IP_ADDRESS, _ip, anchor=_at(), digits=(4, 99)),
)
# Hints that must be present for an anchored shape to be worth trying at all.
SHAPE_HINTS = {"street_en": STREET_WORD, "street_number_first": STREET_PREFIX, "street_name_first": STREET_PREFIX,
               "date_named": MONTH, "date_named_us": MONTH}
