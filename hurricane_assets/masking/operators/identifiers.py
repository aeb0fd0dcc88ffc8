"""Keyed character mapping for national and generic ids: same shape, digits stay digits.

Used where an id must keep its layout ("AB 12 34 56 C", "12345678Z") for validation or display.
It is a keyed PRF per value, not a permutation, so it is one-way; uniqueness is checked by the engine
for key columns (see `engine.py`).
"""

from __future__ import annotations

import string
from typing import Any, ClassVar

from hurricane_assets.masking.normalise import alnum_upper
from hurricane_assets.masking.operators.base import MaskingOperator, keyed_digest, require
from negotiation_graph.terms import MaskingMethod


def keyed_characters(value: str, seed: bytes, keep_prefix: int = 0) -> str:
    """Replace every letter/digit after the first `keep_prefix` alphanumerics, case and separators kept."""
    out, seen, stream = [], 0, iter(seed)
    for ch in value:
        if not ch.isalnum() or not ch.isascii():
            out.append(ch)
            continue
        seen += 1
        if seen <= keep_prefix:
            out.append(ch)
            continue
        b = next(stream)
        if ch.isdigit():
            out.append(str(b % 10))
        else:
            letter = string.ascii_uppercase[b % 26]
            out.append(letter if ch.isupper() else letter.lower())
    return "".join(out)


class KeyedCharacters(MaskingOperator):
    name = "keyed_chars"
    method = MaskingMethod.format_preserving
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "keep_prefix"})

    def check_params(self, params: dict) -> None:
        keep = params.get("keep_prefix", 0)
        require(isinstance(keep, int) and keep >= 0, self.name, f"keep_prefix must be an int >= 0, got {keep!r}")

    def mask(self, value: Any, params: dict) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"operator {self.name!r} maps str values, got {type(value).__name__}")
        normalised = alnum_upper(value)
        seed = keyed_digest(params["key"], "keyed-chars", params.get("entity", "id"), normalised,
                            size=max(32, len(value)))
        return keyed_characters(value, seed, params.get("keep_prefix", 0))
