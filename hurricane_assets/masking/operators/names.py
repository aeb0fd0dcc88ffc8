"""Consistent fake names: the same person (after normalisation) gets the same fake everywhere.

Fakes are built from syllables rather than drawn from real-name lists on purpose: a fake that
happens to be another real customer's name would look like a re-identification (and make the
"no prod value below prod" scan meaningless). Syllables alone still spell a listed name now and then
(0.55 % of words: "Davis", "Bates", "Mason"), so a word that is a word of any listed name is drawn
again from a rehash of its seed: no fake word is a listed first or last name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hurricane_assets.masking.distinct import sorted_unique
from hurricane_assets.masking.freetext.gazetteer import listed_name_words
from hurricane_assets.masking.normalise import normalise_strings, normalise_text
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    MaskingOperator,
    all_non_blank_strings,
)
from hurricane_assets.masking.strings import has_blank, in_column_order, replaced_at
from negotiation_graph.terms import MaskingMethod

_ONSETS = ("b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "r",
           "s", "st", "t", "th", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ia", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "th", "m", "nd")
MAX_NAME_PARTS = 3


# Each seed byte picks its part through a 256-entry table (byte % len precomputed).
_ONSET_OF_BYTE = tuple(_ONSETS[b % len(_ONSETS)] for b in range(256))
_VOWEL_OF_BYTE = tuple(_VOWELS[b % len(_VOWELS)] for b in range(256))
_CODA_OF_BYTE = tuple(_CODAS[b % len(_CODAS)] for b in range(256))
# The same tables as Arrow arrays for a column of seeds (`take` by seed byte); the first onset
# capitalised, as `str.capitalize` leaves a word of lower-case ASCII parts.
_ONSET_ARROW = pa.array(_ONSET_OF_BYTE, pa.string())
_FIRST_ONSET_ARROW = pa.array([o.capitalize() for o in _ONSET_OF_BYTE], pa.string())
_VOWEL_ARROW = pa.array(_VOWEL_OF_BYTE, pa.string())
_CODA_ARROW = pa.array(_CODA_OF_BYTE, pa.string())


@lru_cache(maxsize=1)
def _listed_names() -> tuple[frozenset[str], pa.Array]:
    """Every word of a listed name as a fake would spell it (capitalised ASCII), as a set and for Arrow."""
    words = sorted(w.capitalize() for w in listed_name_words() if w.isascii())
    return frozenset(words), pa.array(words, pa.string())


def _syllable_word(seed: bytes) -> str:
    """`_drawn_word` of `seed`, or of its rehash while that spells a listed name."""
    word = _drawn_word(seed)
    listed = _listed_names()[0]
    while word in listed:
        seed = hashlib.blake2b(seed, digest_size=16).digest()
        word = _drawn_word(seed)
    return word


def _drawn_word(seed: bytes) -> str:
    """Two or three onset+vowel syllables (seed bytes 1-2, 4-5, 7-8), the last one with a coda."""
    onset, vowel, coda = _ONSET_OF_BYTE, _VOWEL_OF_BYTE, _CODA_OF_BYTE
    word = onset[seed[1]] + vowel[seed[2]] + onset[seed[4]] + vowel[seed[5]]
    if seed[0] % 2:
        word += onset[seed[7]] + vowel[seed[8]] + coda[seed[9]]
    else:
        word += coda[seed[6]]
    return word.capitalize()


def _syllable_words(seeds: np.ndarray) -> pa.Array:
    """`_syllable_word` of each row of `seeds` (n x 16 bytes), as an Arrow string array: drawn by
    Arrow, the few that spell a listed name drawn again one by one."""
    words = _drawn_words(seeds)
    again = np.flatnonzero(pc.is_in(words, value_set=_listed_names()[1]).to_numpy(zero_copy_only=False))
    if again.size == 0:
        return words
    return replaced_at(words, again, pa.array([_syllable_word(seeds[i].tobytes()) for i in again], pa.string()))


def _drawn_words(seeds: np.ndarray) -> pa.Array:
    """`_drawn_word` of each row of `seeds` (n x 16 bytes), as an Arrow string array."""
    def part(table: pa.Array, byte: int) -> pa.Array:
        return table.take(seeds[:, byte])

    three = seeds[:, 0] % 2 == 1
    tail = pc.if_else(three, pc.binary_join_element_wise(part(_ONSET_ARROW, 7), part(_VOWEL_ARROW, 8),
                                                         part(_CODA_ARROW, 9), ""), part(_CODA_ARROW, 6))
    return pc.binary_join_element_wise(part(_FIRST_ONSET_ARROW, 1), part(_VOWEL_ARROW, 2), part(_ONSET_ARROW, 4),
                                       part(_VOWEL_ARROW, 5), tail, "")


def fake_name(key, entity: str, name: str) -> str:
    """As many name parts as the original (at most three), each seeded by the keyed digest."""
    return _fake_name(KeyedDigest(key, "fake-name", entity), name)


def _fake_name(digest: KeyedDigest, name: str) -> str:
    normalised = normalise_text(name)
    parts = min(normalised.count(" ") + 1, MAX_NAME_PARTS)
    seed = digest(normalised, size=16 * parts)
    return " ".join([_syllable_word(seed[16 * i: 16 * (i + 1)]) for i in range(parts)])


class FakeName(MaskingOperator):
    name = "fake_name"
    method = MaskingMethod.format_preserving
    cost_per_value = 4.0
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity"})

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """A column at once: names normalised and grouped by their number of parts in Arrow, each
        group's digests from the Arrow buffers in one call, its words joined from the syllable
        tables by Arrow. None when a name is blank."""
        self.validate(params)
        if has_blank(strings):
            return None
        digest = KeyedDigest(params["key"], "fake-name", params.get("entity", "person"))
        normalised = normalise_strings(strings)
        parts_of = np.minimum(pc.count_substring(normalised, " ").to_numpy(zero_copy_only=False) + 1, MAX_NAME_PARTS)
        groups, order = [], []
        for parts in sorted_unique(parts_of).tolist():
            positions = np.flatnonzero(parts_of == parts)
            seeds = digest.joined(normalised.take(positions), 16 * parts)
            words = _syllable_words(np.frombuffer(seeds, dtype=np.uint8).reshape(-1, 16))
            first = np.arange(len(positions)) * parts  # word j of name i is words[i * parts + j]
            groups.append(pc.binary_join_element_wise(*(words.take(first + j) for j in range(parts)), " "))
            order.append(positions)
        return in_column_order(groups, order)

    def mask_distinct(self, values: list, params: dict) -> list:
        """`mask_strings` of the column; blanks per value."""
        self.validate(params)
        if not all_non_blank_strings(values):
            return super().mask_distinct(values, params)
        return self.masked_as_strings(values, params)

    def masker(self, params: dict) -> Callable[[Any], Any]:
        digest = KeyedDigest(params["key"], "fake-name", params.get("entity", "person"))
        return lambda value: _fake_name(digest, str(value))
