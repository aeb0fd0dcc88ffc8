"""PERSON spans: gazetteer words found in one Aho–Corasick pass, joined into runs, judged by context.

The text is lower-cased and every non-letter becomes a space, so one automaton over " word " keys
finds whole words in any case ("JANE DOE", "jane doe") without a word loop in Python. Consecutive
name words (with particles such as "van der", hyphens, initials, or "Last, First") form a run. A run
is a name when:
- a cue precedes it ("this is", "Thanks,", "Mr", "my husband", …), or
- it has two or more name words and one of them is not a very common word, or all are capitalised, or
- it is one capitalised word that is not a very common word (Mark, King, May need a cue or a
  second name word), or one lower-case word that is no common word at all.
After a strong cue, capitalised words in no list are taken too, and so are two or more capitalised
words that are all rare (names from nowhere in the gazetteer: "Thando Phakathi").
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import ahocorasick

from hurricane_assets.masking.freetext.gazetteer import (
    MONTHS,
    PARTICLES,
    STREET_PREFIXES,
    STREET_WORDS_EN,
    STRONG_CUES,
    TITLES,
    WEAK_CUES,
    listed_name_words,
    lower_same_length,
    name_words,
    word_frequency,
)

NAME, PARTICLE, STRONG, WEAK = 1, 2, 4, 8
# Words that only tell the detector which shaped values to look for (see detector.py).
MONTH, STREET_WORD, STREET_PREFIX, POSTCODE_WORD, CARD_END_WORD = 16, 32, 64, 128, 256
HINT_WORDS = {
    MONTH: MONTHS,
    STREET_WORD: STREET_WORDS_EN,
    STREET_PREFIX: STREET_PREFIXES,
    POSTCODE_WORD: ("postcode", "post code", "postleitzahl", "plz", "code postal", "cp", "c p", "código postal",
                    "cap", "zip"),
    CARD_END_WORD: ("ending", "ends", "endziffern", "endziffer", "endet", "endend", "terminant", "finissant",
                    "eindigend", "eindigt", "terminada", "termina", "acabada", "last"),
}
COMMON_ZIPF = 5.0  # at least 100 per million words: "mark", "king", "may"
SINGLE_ZIPF = 4.0
INITIALS_JOIN_ZIPF = 5.5  # "jan", "john" (5.2-5.4) join over an initial; "mann", "ben" (5.7-6.3) do not
WEAK_CUE_ZIPF = 6.0  # a lone capitalised word rarer than this is taken for a name without a cue
# What follows a name: "Jane here", "Luca (luca@…)"; "Amy, PL45 8NZ" is a detail list, not evidence here
# (detector._name_before_details takes one that opens a text).
_AFTER_NAME = re.compile(r",? (?:here|hier|ici|aquí|writing|schreibt)\b| \([\w.+-]+ ?(?:@|\(at\)|\[at\]| at )",
                         re.IGNORECASE)
_SUFFIX = re.compile(r" (?:II|III|IV|Jr\.?|Sr\.?|Jnr|Snr)(?!\w)", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"([^\W\d_][\w'’]+) $")
_LAST_BEFORE = re.compile(r"([^\W\d_][\w'’]+), $")
_UNKNOWN_NEXT = re.compile(r"(,? |-)([^\W\d_](?:[^\W\d_]|['’])*\.?)(?!\w)")
_TO_SPACE = {ord(c): " " for c in string.punctuation + string.digits + string.whitespace + "’‘“”«»–—…•€£¿¡°"}
_TO_SPACE_LATIN1 = bytes(32 if i in _TO_SPACE else i for i in range(256))  # the same, as a table of bytes
_JOIN = frozenset({" ", "-", "'", "’", "  ", " - "})
# Initials between two name words join them: "HANS-H. BAUER", "Anna M. Smith" (the run would end at the initial)
_INITIALS_BETWEEN = re.compile(r"(?:[ -][^\W\d_]\.){1,2} ")
_INITIALS = re.compile(r"(?:(?<![^\W\d_])[^\W\d_]\.[ -]?){1,2}$")
_ELIDED = re.compile(r"(?<![^\W\d_])[OoDdLl]['’]$")  # O'Neill, D'Angelo, L'Hôte
_CUE_GAP = re.compile(r"[\s,:;.\-]{0,4}")
_CAPITALISED_RUN = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+(?:[ -][A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+)+")
_INITIAL_AND_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ]\. ?[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’]+")
_WORD_TAIL = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'’-_")
_NEXT_WORDS = re.compile(r"[\s,:;.\-]{0,4}([^\W\d_][\w'’]*(?:[ -][^\W\d_][\w'’]*){0,2})")
_HYPHEN_OR_SPACE = re.compile(r"[ -]")
_RUN_WORD_SPLIT = re.compile(r"[ .-]")
# Particles that open a surname after a first name ("von der Heyde", "da Vinci", "ó Súilleabháin"); not
# "e"/"y" ("Anna y Pedro" joins two people) nor the "s"/"t" of an elided "'s"/"'t".
_SURNAME_PARTICLES = "|".join(sorted(PARTICLES - {"e", "y", "s", "t"}, key=len, reverse=True))
_GIVEN_AFTER = re.compile(r", ([A-ZÀ-ÖØ-Þ][^\W\d_]+)(?![\w'’-])")
_UNKNOWN_PAIR = re.compile(r"(?<![\w@.'’-])([^\W\d_]{3,}) ([^\W\d_]{3,})(?![\w@'’-])")
# Without capitals: two words in no lexicon around particles ("nokulunga zu nkamzwayo").
_UNKNOWN_PARTICLE_UNKNOWN = re.compile(
    rf"(?<![\w'’-])([^\W\d_]+) (?:(?:{_SURNAME_PARTICLES}) ){{1,3}}([^\W\d_]+)(?![\w'’-])")
_PARTICLE_SURNAME = re.compile(rf" (?:(?:{_SURNAME_PARTICLES}) ){{1,3}}([^\W\d_][\w'’]*(?:-[^\W\d_][\w'’]*)?)(?!\w)",
                               re.IGNORECASE)


def normalised(text: str) -> str:
    """Lower case, non-letters as spaces, same length as `text` (so offsets carry over)."""
    lowered = lower_same_length(text)
    try:  # most texts are Latin-1: a bytes table is ~3x faster than str.translate's per-character lookups
        return lowered.encode("latin-1").translate(_TO_SPACE_LATIN1).decode("latin-1")
    except UnicodeEncodeError:
        return lowered.translate(_TO_SPACE)


@lru_cache(maxsize=1)
def automaton() -> ahocorasick.Automaton:
    flags: dict[str, int] = {}
    for word in name_words():
        flags[word] = flags.get(word, 0) | NAME
    for word in PARTICLES:
        flags[word] = flags.get(word, 0) | PARTICLE
    for cue in STRONG_CUES:
        key = normalised(cue).strip()
        flags[key] = flags.get(key, 0) | STRONG
    for cue in WEAK_CUES:
        key = normalised(cue).strip()
        flags[key] = flags.get(key, 0) | WEAK
    for hint, words in HINT_WORDS.items():
        for word in words:
            key = " ".join(normalised(word).split())
            if key:
                flags[key] = flags.get(key, 0) | hint
    frequency = word_frequency()
    machine = ahocorasick.Automaton()
    for word, flag in flags.items():
        machine.add_word(f" {word} ", (flag, len(word), frequency.get(word, 0.0)))
    machine.make_automaton()
    return machine


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def find_names(text: str) -> list[tuple[int, int]]:
    """(start, end) of every name in `text`."""
    return scan(text)[0]


def scan(text: str) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of every name in `text`, and the hint flags of the words it contains."""
    padded = " " + normalised(text) + " "
    hits = [(end - length - 1, end - 1, flag, zipf) for end, (flag, length, zipf) in automaton().iter(padded)]
    hits.sort()
    hints = 0
    for hit in hits:
        hints |= hit[2]
    if not hints & (NAME | STRONG):
        return [], hints
    caseless = text.islower() or text.isupper()
    frequency = word_frequency()
    spans: list[tuple[int, int]] = []
    cue_ends: dict[int, bool] = {}  # end of each cue -> strong
    run: list[tuple[int, int, float]] = []  # name words of the current run: start, end, zipf
    run_start = -1
    pending = -1  # start of particles waiting for a name word
    pending_end = -1

    def close() -> None:
        nonlocal run, run_start
        if not run:
            return
        initial = None
        if text.find(".", max(0, run_start - 3), run_start) >= 0:
            initial = _initials_before(text, run_start)
        elif run_start > 1 and text[run_start - 1] in "'’":
            initial = _ELIDED.search(text, run_start - 2, run_start)
            if initial:  # "L. O'Neill"
                initial = _initials_before(text, initial.start()) or initial
        first = initial.start() if initial else run_start
        cue = None
        for back in range(5):  # a cue ending at most 4 characters (spaces, punctuation) before the run
            at = first - back
            if at in cue_ends and (back == 0 or _CUE_GAP.fullmatch(text, at, first)):
                cue = cue_ends[at]
                break
        if cue is None:
            # A listed first name too common to be a name word stands between a strong cue and the run:
            # "me llamo Che Hernández", "saludos, che quiroga", "this is Will Smith".
            given = _word_ending_before(_WORD_BEFORE, " ", text, first)
            if given and given.group(1).lower() in listed_name_words() and (
                    caseless or given.group(1)[:1].isupper() == text[first].isupper()) and (
                    _strong_cue_before(text, cue_ends, given.start())):
                cue, first = True, given.start()
        capitalised = not caseless and all(text[s].isupper() and not text[s:e].isupper() or e - s == 1
                                           for s, e, _ in run)
        least_zipf = min(z for _, _, z in run)
        extended = _extend(text, run[-1][1], capitalised)
        end = _particle_surname(text, extended, caseless, capitalised)  # "Mann Kinaya Ó Fuli"
        # "Hans von der Heyde": a capitalised surname behind particles vouches for the name as a word in
        # no lexicon does; without capitals ("… dot de geburtsdatum") it only lengthens a name found anyway.
        after = extended > run[-1][1] or _AFTER_NAME.match(text, run[-1][1]) is not None or (
            end > extended and not caseless)
        if cue is True or after:
            accept = True
        elif cue is False and ((capitalised and (least_zipf < WEAK_CUE_ZIPF or len(run) >= 2)) or
                               least_zipf < SINGLE_ZIPF):
            accept = True  # "to George": capitalised after a preposition, unless a very common word
        elif len(run) >= 2:
            accept = least_zipf < COMMON_ZIPF or capitalised
        elif caseless:
            accept = False
        else:
            accept = capitalised and (run[0][2] < SINGLE_ZIPF or initial)
        if accept:
            start = first
            last_first = _word_ending_before(_LAST_BEFORE, ", ", text, start)
            if last_first and frequency.get(last_first.group(1).lower(), 0.0) < SINGLE_ZIPF and (
                    caseless or last_first.group(1)[:1].isupper() == text[start].isupper()):
                start = last_first.start()  # "Ntim, Amanda": a surname in no list before the first name
            else:
                before = _word_ending_before(_WORD_BEFORE, " ", text, start)
                if before and frequency.get(before.group(1).lower(), 0.0) == 0.0 and (
                        caseless or before.group(1)[:1].isupper() == text[start].isupper()):
                    start = before.start()  # "Oluwaseun Adeyemi": a first name in no list
            spans.append((start, _given_name_after(text, end, caseless, unlisted=False)))
        run, run_start = [], -1

    for start, end, flag, zipf in hits:
        if not flag & 15:
            continue
        if flag & NAME and end - start <= 2 and (text[end:end + 1].isdigit() or text[max(0, start - 2):start - 1].isdigit()
                                                 or text[end:end + 1] == "-" and text[end + 1:end + 2].isdigit()):
            flag &= ~NAME  # "AB" in "NINO AB123456C" or "AB-12-34-56-C" is a code, not a name
        # A name word that ends a strong cue ("ik ben", "u spreekt met") is the cue when a name follows it.
        if flag & NAME and not ((flag & STRONG and not run or cue_ends.get(end))
                                and _is_cue_here(text, start, end, flag)
                                and not _named_after_cue(text, start, cue_ends)):
            if run:
                gap = text[run[-1][1]:start]
                if gap in _JOIN or (pending >= 0 and _only_particles(text, run[-1][1], start)) or (
                        len(gap) <= 7 and _initials_between(text, run[-1], start, gap, caseless)):
                    run.append((start, end, zipf))
                elif len(run) <= 3 and gap == ", " and "," not in text[run_start:run[-1][1]] and (
                        _last_first(text, run[-1], (start, end, zipf))
                        or caseless and _strong_cue_before(text, cue_ends, run_start)):
                    run.append((start, end, zipf))  # "Doe, Jane"
                else:
                    close()
            if not run:
                run_start = pending if pending >= 0 and _only_particles(text, pending, start) else start
                run.append((start, end, zipf))
            pending = -1
        elif flag & PARTICLE:
            if pending < 0 or text[pending_end:start].strip():
                pending = start  # a new chain of particles ("T. de Wit": "de", not "T")
            pending_end = end
        if flag & (STRONG | WEAK):  # "owed to" is strong even though "to" alone is weak
            cue_ends[end] = cue_ends.get(end, False) or bool(flag & STRONG)
    close()
    spans += _unlisted_names(text, cue_ends, spans)
    return spans, hints


def _word_ending_before(regex: re.Pattern, tail: str, text: str, end: int) -> re.Match | None:
    """`regex.search(text, max(0, end - 30), end)` for a `regex` that is one word and `tail` at its end
    (`$`: at `end`, or before a newline there). Most names have no such tail before them, and a word
    holds no space: the search runs only with the tail, from the last space before the word on."""
    if text.endswith(tail, 0, end):
        word_end = end - len(tail)
    elif text.endswith(tail + "\n", 0, end):
        word_end = end - len(tail) - 1
    else:
        return None
    window = max(0, end - 30)
    return regex.search(text, max(window, text.rfind(" ", window, word_end) + 1), end)


def _extend(text: str, end: int, capitalised: bool) -> int:
    """A name goes on over words in no lexicon ("Lucy Yeboah", "Ahmed, Hatima") and a hyphenated
    initial ("Hans-H.")."""
    frequency = word_frequency()
    suffix = _SUFFIX.match(text, end)
    if suffix:
        return suffix.end()
    for _ in range(2):
        m = _UNKNOWN_NEXT.match(text, end)
        if not m:
            break
        word = m.group(2)
        if m.group(1) == "-" and len(word) == 2 and word.endswith("."):
            end = m.end()
            continue
        bare = word.rstrip(".")
        if frequency.get(bare.lower(), 0.0) > 0.0 or (capitalised and not bare[:1].isupper()) or (
                capitalised and bare.isupper() and len(bare) > 1):
            break
        if m.group(1).startswith(",") and not bare[:1].isupper() and capitalised:
            break
        end = m.start(2) + len(bare)
    return end


def _particle_surname(text: str, end: int, caseless: bool, capitalised: bool) -> int:
    """The end of particles and the surname they open right after a name that ends at `end`, else `end`.
    The run of name words stops at a particle, and a surname after it is often in no list ("Heyde",
    "Guttenberg") or a word ("Vinci"). In cased text the name before must be capitalised, the particles
    lower case (Irish "Ó" aside: "Torre Del Moro" is a town) and the surname capitalised and not a very
    common word ("Marie de votre aide" stays out); without capitals, the surname must be no common word."""
    if not (caseless or capitalised):
        return end
    m = _PARTICLE_SURNAME.match(text, end)
    if m is None:
        return end
    surname = m.group(1)
    zipf = word_frequency().get(surname.lower(), 0.0)
    if caseless:
        return m.end() if zipf < SINGLE_ZIPF else end
    if any(p[:1].isupper() and p != "Ó" for p in text[end:m.start(1)].split()):
        return end
    return m.end() if surname[:1].isupper() and not surname.isupper() and zipf < COMMON_ZIPF else end


def _initials_between(text: str, last: tuple, start: int, gap: str, caseless: bool) -> bool:
    """Initials join the name words around them ("HANS-H. BAUER") when the word before is no very common
    word and, in cased text, both words share their case: not "ik ben R. Moravec", "mein Mann M. Jockel"."""
    return (last[2] < INITIALS_JOIN_ZIPF and (caseless or text[last[0]].isupper() == text[start].isupper())
            and _INITIALS_BETWEEN.fullmatch(gap) is not None)


def _given_name_after(text: str, end: int, caseless: bool, unlisted: bool) -> int:
    """The end of ", Given" after a surname that ends at `end` in cased text, else `end`: a listed first
    name however common ("Peral, Che", "Best, Williams, Simon"), or with `unlisted` (after a surname in
    no list) a word in no lexicon too ("Sijadu, Thando")."""
    given = None if caseless else _GIVEN_AFTER.match(text, end)
    if given is None:
        return end
    word = given.group(1).lower()
    if word in listed_name_words() or (unlisted and word_frequency().get(word, 0.0) == 0.0):
        return given.end()
    return end


def _named_after_cue(text: str, start: int, cue_ends: dict[int, bool]) -> bool:
    """A word that is both a cue and a name is the name right after a strong cue, initials between
    allowed ("me llamo J. Mari Atienza": "mari" is the French cue "husband" too)."""
    initial = _initials_before(text, start)
    return _strong_cue_before(text, cue_ends, initial.start() if initial else start)


def _initials_before(text: str, end: int) -> re.Match | None:
    """One or two initials ending at `end` ("J. ", "H.-"); the regex runs only where a dot is near."""
    if text.find(".", max(0, end - 3), end) < 0:
        return None
    return _INITIALS.search(text, max(0, end - 6), end)


def _is_cue_here(text: str, start: int, end: int, flag: int) -> bool:
    """A word that is both a cue and a name ("Best", "Don") counts as the cue when a name follows it."""
    return bool(re.match(r"[\s,:;.]{1,4}[^\W\d_]", text[end:end + 6]))


def _last_first(text: str, last: tuple, first: tuple) -> bool:
    """"Doe, Jane" (or "doe, jane" in a text without capitals): the first name must be rare enough."""
    surname, given = text[last[0]:last[1]], text[first[0]:first[1]]
    if text.islower() or text.isupper():
        return min(last[2], first[2]) < SINGLE_ZIPF
    return surname[:1].isupper() and given[:1].isupper() and not (given.isupper() and len(given) > 1)


def _strong_cue_before(text: str, cue_ends: dict[int, bool], start: int) -> bool:
    """A strong cue ("i am", "this is") ends at most 4 characters (spaces, punctuation) before `start`:
    in a text without capitals it vouches for "clarke, simon" as one name, common words or not."""
    for back in range(5):
        at = start - back
        if at in cue_ends and (back == 0 or _CUE_GAP.fullmatch(text, at, start)):
            return cue_ends[at]
    return False


def _only_particles(text: str, start: int, end: int) -> bool:
    words = text[start:end].replace("-", " ").replace("'", " ").replace("’", " ").split()
    return all(w.lower() in PARTICLES for w in words)


def _unlisted_names(text: str, cue_ends: dict[int, bool], found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Names in no list: after a cue, after an initial, and runs of two or more rare capitalised words."""
    frequency = word_frequency()
    starts = {s for s, _ in found}

    def covered(i: int) -> bool:
        for s, e in found:  # a plain loop: `any` over a generator costs twice as much on these few spans
            if s <= i < e:
                return True
        return False

    out = []
    upper = text.isupper()
    caseless = upper or text.islower()
    for c_end, strong in cue_ends.items():
        if not starts.isdisjoint(range(c_end, c_end + 5)):
            continue
        m = _NEXT_WORDS.match(text, c_end)
        if not m or covered(m.start(1)):
            continue
        taken = []
        for w in _HYPHEN_OR_SPACE.split(m.group(1)):
            lower = w.lower()
            zipf = frequency.get(lower, 0.0)
            if lower in TITLES or (taken and w[:1].isupper() != taken[0][:1].isupper()):
                break  # a title is a cue of its own; a name's words share their case
            # after a strong cue a capitalised word that is not very common, or a listed name after the first
            # word, in the first word's case ("my husband Ruhiu John", "mon mari hanja mohamed")
            if zipf == 0.0 or (strong and taken and lower in name_words()) or (
                    strong and w[:1].isupper() and not upper and zipf < COMMON_ZIPF):
                taken.append(w)
            else:
                break
        # In cased text a name is capitalised, or two words in no lexicon ("naar ekow ansa").
        if taken and (len(taken) >= 2 or (taken[0][:1].isupper() and not upper) or
                      (caseless and strong)):
            end = m.start(1) + len(" ".join(taken))
            end = _given_name_after(text, end, caseless, unlisted=True)
            out.append((m.start(1), _particle_surname(text, end, caseless, taken[-1][:1].isupper())))
    if caseless and " " in text:
        # Two words in no lexicon, neither a cue nor a hint word ("kujoe twumasi referred them", seed 7 kept
        # it below prod; not "rastatt gruß"): a name in no list, as two rare capitalised words are.
        listed = automaton()
        for m in _UNKNOWN_PAIR.finditer(lower_same_length(text)):
            if frequency.get(m.group(1), 0.0) == 0.0 == frequency.get(m.group(2), 0.0) and not covered(m.start()) \
                    and not listed.exists(f" {m.group(1)} ") and not listed.exists(f" {m.group(2)} "):
                out.append(m.span())
        for m in _UNKNOWN_PARTICLE_UNKNOWN.finditer(text.lower()):
            if frequency.get(m.group(1), 0.0) == 0.0 == frequency.get(m.group(2), 0.0) and not covered(m.start()):
                out.append(m.span())
    for regex, least in ((_CAPITALISED_RUN, 2), (_INITIAL_AND_NAME, 1)):
        for m in regex.finditer(text):
            if (m.start() and text[m.start() - 1] in _WORD_TAIL) or covered(m.start()) or covered(m.end() - 1):
                continue
            words = [w for w in _RUN_WORD_SPLIT.split(m.group()) if len(w) > 1]
            zipfs = [frequency.get(w.lower(), 0.0) for w in words]
            if len(words) >= least and max(zipfs) < COMMON_ZIPF and min(zipfs) == 0.0:
                out.append(m.span())
    return out
