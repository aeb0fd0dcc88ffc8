"""Generalisation of strings and numbers (postcode prefix, amount buckets), plus keep and drop."""

from __future__ import annotations

import bisect
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
    """Floor to a bucket's lower edge; ints stay ints, floats floats.

    Buckets come from the contract (`edges`, the manifest column's `buckets`), from the data
    (`quantiles`: the engine turns them into edges from the column's own quantiles, rounded to two
    significant digits, so an edge is a round number rather than one customer's value read off the
    data; a round price such as 10.00 may still occur in it) or, for old plans, a fixed `width`. Values below
    the first edge fall into it. A column with fewer distinct values than buckets keeps them (support's
    priority 1-4 stays 1-4 rather than collapsing to one bucket of 10). Coarser steps halve the
    quantiles, merge neighbouring edges, or multiply a width by 10."""

    name = "bucket"
    method = MaskingMethod.generalize
    keyed = False
    params_allowed: ClassVar[frozenset[str]] = frozenset({"width", "base_width", "edges", "quantiles"})

    def check_params(self, params: dict) -> None:
        given = [p for p in ("width", "edges", "quantiles") if p in params]
        require(len(given) <= 1, self.name, f"give one of width, edges or quantiles, not {' and '.join(given)}")
        if "edges" in params:
            edges = params["edges"]
            require(isinstance(edges, (list, tuple)) and len(edges) >= 1
                    and all(isinstance(e, (int, float)) and not isinstance(e, bool) and math.isfinite(e) for e in edges)
                    and all(a < b for a, b in zip(edges, edges[1:])), self.name,
                    "edges must be a non-empty, strictly increasing list of finite numbers")
            return
        if "quantiles" in params:
            q = params["quantiles"]
            require(isinstance(q, int) and not isinstance(q, bool) and q >= 1, self.name,
                    f"quantiles must be an int >= 1, got {q!r}")
            return
        width = params.get("width", 10)
        require(isinstance(width, (int, float)) and not isinstance(width, bool) and width > 0, self.name,
                f"width must be a positive number, got {width!r}")

    def mask(self, value: Any, params: dict) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"operator {self.name!r} buckets numbers, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            return value
        if "quantiles" in params:
            raise ValueError(f"operator {self.name!r}: quantile buckets need the whole column; "
                             "mask it with the engine (or give edges)")
        if "edges" in params:
            edges = params["edges"]
            floored = edges[max(bisect.bisect_right(edges, value) - 1, 0)]
        else:
            width = params.get("width", 10)
            floored = math.floor(value / width) * width
        return int(floored) if isinstance(value, int) else float(floored)

    def mask_array(self, arr, params: dict):
        """Edges on a whole numeric column with numpy (nulls stay null, NaN and ±inf stay as they are)."""
        import numpy as np
        import pyarrow as pa

        if "edges" not in params or not (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
            return None
        edges = np.asarray(params["edges"], dtype=np.float64)
        values = arr.fill_null(0).to_numpy(zero_copy_only=False)
        index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 1)
        out = edges[index]
        if pa.types.is_floating(arr.type):
            out = np.where(np.isfinite(values), out, values)
        return pa.array(out.astype(arr.type.to_pandas_dtype()), type=arr.type, mask=arr.is_null().to_numpy(zero_copy_only=False))

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        if "quantiles" in params:
            q = params["quantiles"]
            return {**params, "quantiles": q // 2} if q >= 4 else None
        if "edges" in params:
            edges = list(params["edges"])
            return {**params, "edges": edges[::2]} if len(edges) > 1 else None
        width = params.get("width", 10)
        base = params.get("base_width", width)
        if width >= base * 10 ** MAX_BUCKET_STEPS:
            return None
        return {**params, "width": width * 10, "base_width": base}


def round_down_significant(value: float, digits: int = 2) -> float:
    """`value` rounded towards minus infinity to `digits` significant digits (137.42 → 130)."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(value))))
    return math.floor(value * scale) / scale


def quantile_edges(arr, quantiles: int) -> list:
    """Lower edges of `quantiles` buckets of equal mass over the column's non-null finite values,
    rounded down to two significant digits (an exact quantile would be one customer's value; a
    rounded edge is a round number, which a round price such as 10.00 may still equal);
    ints stay ints. Fewer edges when values repeat (1-4 stays four buckets at most)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pc.drop_null(arr)
    if pa.types.is_floating(arr.type):
        values = pc.filter(values, pc.is_finite(values))
    if len(values) == 0:
        return [0]
    qs = pc.quantile(values, q=[i / quantiles for i in range(quantiles)], interpolation="lower").to_numpy()
    return _rounded_edges(qs, pa.types.is_integer(arr.type))


def edges_of_quantiles(values, counts, quantiles: int, integer: bool) -> list:
    """`quantile_edges` from a histogram (sorted distinct finite values and their counts), for a
    column read in batches: the "lower" quantile q is the value at rank floor(q·(n−1)), as Arrow's."""
    import numpy as np

    n = int(counts.sum())
    if n == 0:
        return [0]
    ranks = np.floor(np.array([i / quantiles for i in range(quantiles)]) * (n - 1))
    qs = values[np.searchsorted(np.cumsum(counts), ranks, side="right")]
    return _rounded_edges(qs, integer)


def _rounded_edges(qs, integer: bool) -> list:
    import numpy as np

    edges = sorted({round_down_significant(float(v)) for v in qs})
    if integer:
        edges = sorted({int(math.floor(e)) for e in edges})
    return [e.item() if isinstance(e, np.generic) else e for e in edges]


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
