"""The detector tries the shapes that start at a digit group in one combined regex: it must find
exactly what each shape's own regex finds there, one `match` per shape (the plain loop it replaces)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from hurricane_assets.masking.freetext import detector
from hurricane_assets.masking.freetext.detector import Finding, anchored_findings
from hurricane_assets.masking.freetext.gazetteer import lower_same_length
from hurricane_assets.masking.freetext.names import scan
from hurricane_assets.masking.freetext.patterns import SHAPE_HINTS, SHAPES, Shape, clues
from hurricane_assets.synthetic import SyntheticConfig
from hurricane_assets.synthetic.ticket_text import labelled_messages

CORPUS = SyntheticConfig(transactions=20_000, seed=11, as_of=datetime(2026, 6, 1, tzinfo=timezone.utc))


def one_match_per_shape(text: str, zones, hints: int) -> list[Finding]:
    """Every anchored shape at every anchor position it gives, with its own regex."""
    out = []
    for z, digits in zones:
        for shape in SHAPES:
            needed = SHAPE_HINTS.get(shape.name)
            if not shape.anchor or not shape.digits[0] <= min(digits, 99) <= shape.digits[1] or (
                    needed and not hints & needed):
                continue
            for start in shape.anchor(text, z):
                m = shape.regex.match(text, start)
                span = shape.check(m, text) if m else None
                if span is not None and span[1] > span[0]:
                    out.append(Finding(span[0], span[1], shape.entity, shape.name))
    return out


@pytest.mark.parametrize("text", [
    "call +44 7911 123456 or 020 7946 0018, card 4111 1111 1111 1111, born 14/03/1987 and 1987-03-14",
    "DNI 12345678Z, BSN 111222333, NIR 1 84 12 76 451 089 46, Steuer-ID 65929970489, 10.0.0.1",
    "221 Baker Street, London NW1 6XE; 8, rue de la Paix, 75001 Paris; Hauptstraße 5, 13114 Werdau",
    "14 march 1987, 1234 AB Amsterdam, 14-3-87, 14.03.1987 and 14/03.1987 (mixed: no date)",
])
def test_combined_regex_finds_what_each_shape_finds_alone(text):
    spans, hints = scan(text)
    zones = clues(text, lower_same_length(text), hints).zones
    expected = one_match_per_shape(text, zones, hints)
    assert expected  # the sample holds shaped values, so an empty result cannot pass by accident
    assert anchored_findings(text, zones, hints) == expected


def test_combined_regex_agrees_on_generated_messages():
    for message in labelled_messages(CORPUS, 400):
        text = message.text
        spans, hints = scan(text)
        zones = clues(text, lower_same_length(text), hints).zones
        assert anchored_findings(text, zones, hints) == one_match_per_shape(text, zones, hints), text


def test_a_shape_with_a_numbered_backreference_is_refused():
    """Inside the combined regex its group number would point at another shape's group."""
    broken = Shape("broken_date", "DATE_OF_BIRTH", re.compile(r"(\d{2})([./])\d{2}\2\d{4}"), lambda m, t: m.span(),
                   anchor=SHAPES[0].anchor)
    with pytest.raises(ValueError, match="broken_date"):
        detector._combined((broken,))


def test_a_word_list_as_a_trie_matches_like_the_flat_list_longest_first():
    """`_alternation` factors a word list into a trie: same matches, and the same word where several fit."""
    from hurricane_assets.masking.freetext.gazetteer import MONTHS, STREET_SUFFIXES_COMPOUND
    from hurricane_assets.masking.freetext.patterns import CARD_ENDING_WORDS, _alternation

    texts = ["Marchmars 5 mar. 1990, ſtraße 5 Hauptſtrasse 7, Ring3 Str.5 Sept Septembre; ıan 1990",
             "card ending 4242, Last 4 digits 1234, ENDZIFFERN 5555, eindigend op 1234, last four digits: 9999",
             *(m.text for m in labelled_messages(CORPUS, 100))]
    for words in (MONTHS, STREET_SUFFIXES_COMPOUND, CARD_ENDING_WORDS):
        flat = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        for continuation in ("", r"\.? ?\d"):  # alone, and followed by more pattern (backtracking into it)
            expected = re.compile(f"(?:{flat}){continuation}", re.IGNORECASE)
            trie = re.compile(f"(?:{_alternation(words)}){continuation}", re.IGNORECASE)
            for text in texts:
                for i in range(len(text)):
                    a, b = expected.match(text, i), trie.match(text, i)
                    assert (a and a.span()) == (b and b.span()), (words[0], text[i:i + 20])


def test_the_word_before_a_name_is_found_as_a_plain_search_finds_it():
    """`_word_ending_before` narrows the search window; the match must be the one of the whole window."""
    from hurricane_assets.masking.freetext.names import _LAST_BEFORE, _WORD_BEFORE, _word_ending_before

    texts = ["Ntim, Amanda wrote; Oluwaseun Adeyemi here, O'Neil-Smith, \nJane x, y Doe and 3rd, Bo,\nAl",
             *(m.text for m in labelled_messages(CORPUS, 100))]
    for regex, tail in ((_LAST_BEFORE, ", "), (_WORD_BEFORE, " ")):
        for text in texts:
            for end in range(len(text) + 1):
                a, b = regex.search(text, max(0, end - 30), end), _word_ending_before(regex, tail, text, end)
                assert (a and a.span()) == (b and b.span()), (tail, text[max(0, end - 30):end])
