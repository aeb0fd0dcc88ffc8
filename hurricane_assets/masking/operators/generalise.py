"""Generalisation of strings and numbers (postcode prefix, amount buckets), plus keep and drop."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from hurricane_assets.masking.operators.base import MaskingOperator, require
from negotiation_graph.terms import MaskingMethod

MAX_BUCKET_STEPS = 3


class Prefix(MaskingOperator):
    """The first `length` characters (postcode → district); coarser steps drop one more character."""

    name = "prefix"
    method = MaskingMethod.generalize
    keyed = False
    params_allowed: ClassVar[frozenset[str]] = frozenset({"length"})

    def check_params(self, params: dict) -> None:
        length = params.get("length", 3)
        require(isinstance(length, int) and length >= 1, self.name, f"length must be an int >= 1, got {length!r}")

    def mask(self, value: Any, params: dict) -> Any:
        compact = str(value).strip()
        length = params.get("length", 3)
        # A value no longer than the prefix would pass through whole; cut it shorter instead.
        return compact[: min(length, max(len(compact) - 1, 1))]

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        length = params.get("length", 3)
        return {**params, "length": length - 1} if length > 1 else None


class Bucket(MaskingOperator):
    """Floor to a multiple of `width`; ints stay ints, floats floats. Coarser steps multiply by 10."""

    name = "bucket"
    method = MaskingMethod.generalize
    keyed = False
    params_allowed: ClassVar[frozenset[str]] = frozenset({"width", "base_width"})

    def check_params(self, params: dict) -> None:
        width = params.get("width", 10)
        require(isinstance(width, (int, float)) and not isinstance(width, bool) and width > 0, self.name,
                f"width must be a positive number, got {width!r}")

    def mask(self, value: Any, params: dict) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"operator {self.name!r} buckets numbers, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            return value
        width = params.get("width", 10)
        floored = math.floor(value / width) * width
        return int(floored) if isinstance(value, int) else float(floored)

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        width = params.get("width", 10)
        base = params.get("base_width", width)
        if width >= base * 10 ** MAX_BUCKET_STEPS:
            return None
        return {**params, "width": width * 10, "base_width": base}


class Keep(MaskingOperator):
    """Passes the value through (public/internal non-PII columns, and everything in prod)."""

    name = "keep"
    method = MaskingMethod.none
    keyed = False

    def mask(self, value: Any, params: dict) -> Any:
        return value


class Drop(MaskingOperator):
    """The column is not copied at all. Through Presidio it removes the entity's text."""

    name = "drop"
    method = MaskingMethod.drop
    keyed = False

    def mask(self, value: Any, params: dict) -> Any:
        return ""
