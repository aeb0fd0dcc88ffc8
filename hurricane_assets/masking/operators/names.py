"""Consistent fake names: the same person (after normalisation) gets the same fake everywhere.

Fakes are built from syllables rather than drawn from real-name lists on purpose: a fake that
happens to be another real customer's name would look like a re-identification (and make the
"no prod value below prod" scan meaningless), while ~10¹⁰ syllable names make that practically
impossible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from hurricane_assets.masking.normalise import normalise_text, normalise_texts
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    MaskingOperator,
    all_non_blank_strings,
)
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
# The same tables as numpy object arrays for a column of seeds; the first onset capitalised, as
# `str.capitalize` leaves a word of lower-case ASCII parts.
_ONSET_ARRAY = np.array(_ONSET_OF_BYTE, dtype=object)
_FIRST_ONSET_ARRAY = np.array([o.capitalize() for o in _ONSET_OF_BYTE], dtype=object)
_VOWEL_ARRAY = np.array(_VOWEL_OF_BYTE, dtype=object)
_CODA_ARRAY = np.array(_CODA_OF_BYTE, dtype=object)


def _syllable_word(seed: bytes) -> str:
    """Two or three onset+vowel syllables (seed bytes 1-2, 4-5, 7-8), the last one with a coda."""
    onset, vowel, coda = _ONSET_OF_BYTE, _VOWEL_OF_BYTE, _CODA_OF_BYTE
    word = onset[seed[1]] + vowel[seed[2]] + onset[seed[4]] + vowel[seed[5]]
    if seed[0] % 2:
        word += onset[seed[7]] + vowel[seed[8]] + coda[seed[9]]
    else:
        word += coda[seed[6]]
    return word.capitalize()


def _syllable_words(seeds: np.ndarray) -> np.ndarray:
    """`_syllable_word` of each row of `seeds` (n x 16 bytes), as an object array of str."""
    short = _FIRST_ONSET_ARRAY[seeds[:, 1]] + _VOWEL_ARRAY[seeds[:, 2]] + _ONSET_ARRAY[seeds[:, 4]] + \
        _VOWEL_ARRAY[seeds[:, 5]]
    three = seeds[:, 0] % 2 == 1
    tail = np.where(three, _ONSET_ARRAY[seeds[:, 7]] + _VOWEL_ARRAY[seeds[:, 8]] + _CODA_ARRAY[seeds[:, 9]],
                    _CODA_ARRAY[seeds[:, 6]])
    return short + tail


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
    cost_per_value = 5.1
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity"})

    def mask_distinct(self, values: list, params: dict) -> list:
        """A column at once: names grouped by their number of parts, each group's digests in one call and
        its words from the syllable tables column-wise."""
        self.validate(params)
        if not all_non_blank_strings(values):
            return super().mask_distinct(values, params)
        digest = KeyedDigest(params["key"], "fake-name", params.get("entity", "person"))
        normalised = normalise_texts(values)
        by_parts: dict[int, list[int]] = {}
        for i, name in enumerate(normalised):
            by_parts.setdefault(min(name.count(" ") + 1, MAX_NAME_PARTS), []).append(i)
        out = np.empty(len(values), dtype=object)
        for parts, positions in by_parts.items():
            seeds = digest.joined([normalised[i] for i in positions], 16 * parts)
            words = _syllable_words(np.frombuffer(seeds, dtype=np.uint8).reshape(-1, 16)).reshape(-1, parts)
            names = words[:, 0]
            for j in range(1, parts):
                names = names + " " + words[:, j]
            out[positions] = names
        return out.tolist()

    def masker(self, params: dict) -> Callable[[Any], Any]:
        digest = KeyedDigest(params["key"], "fake-name", params.get("entity", "person"))
        return lambda value: _fake_name(digest, str(value))
