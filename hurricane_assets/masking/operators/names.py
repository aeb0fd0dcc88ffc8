"""Consistent fake names: the same person (after normalisation) gets the same fake everywhere.

Fakes are built from syllables rather than drawn from real-name lists on purpose: a fake that
happens to be another real customer's name would look like a re-identification (and make the
"no prod value below prod" scan meaningless), while ~10¹⁰ syllable names make that practically
impossible.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hurricane_assets.masking.normalise import normalise_text
from hurricane_assets.masking.operators.base import MaskingOperator, keyed_digest
from negotiation_graph.terms import MaskingMethod

_ONSETS = ("b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "r",
           "s", "st", "t", "th", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ia", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "th", "m", "nd")
MAX_NAME_PARTS = 3


def _syllable_word(seed: bytes) -> str:
    syllables = 2 + seed[0] % 2
    parts = []
    for i in range(syllables):
        onset, vowel, coda = seed[1 + 3 * i], seed[2 + 3 * i], seed[3 + 3 * i]
        parts.append(_ONSETS[onset % len(_ONSETS)] + _VOWELS[vowel % len(_VOWELS)]
                     + (_CODAS[coda % len(_CODAS)] if i == syllables - 1 else ""))
    return "".join(parts).capitalize()


def fake_name(key, entity: str, name: str) -> str:
    """As many name parts as the original (at most three), each seeded by the keyed digest."""
    normalised = normalise_text(name)
    parts = min(max(len(normalised.split(" ")), 1), MAX_NAME_PARTS)
    digest = keyed_digest(key, "fake-name", entity, normalised, size=16 * parts)
    return " ".join(_syllable_word(digest[16 * i: 16 * (i + 1)]) for i in range(parts))


class FakeName(MaskingOperator):
    name = "fake_name"
    method = MaskingMethod.format_preserving
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity"})

    def mask(self, value: Any, params: dict) -> Any:
        return fake_name(params["key"], params.get("entity", "person"), str(value))
