"""What every masking operator shares: Presidio's `Operator` interface, key checks and keyed digests.

Operators are small, stateless classes, so Presidio can build one per entity (it calls the
constructor without arguments) and our engine can reuse one for a whole column. Key material only
ever arrives in ``params["key"]`` as a `MaskingKey`, whose repr hides the secret.

Per value, the same function masks on both paths: `masker(params)` returns it with everything that
depends on the params alone (sub-keys, primed hash states) prepared once; Presidio's per-value
`operate` prepares it for one value, the engine's `mask_distinct` once per column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from hurricane_assets.masking.keys import MaskingKey
from hurricane_assets.masking.strings import string_array, string_buffers
from negotiation_graph.terms import MaskingMethod

try:  # the C loops over a column (OpenSSL's SHA-256, BLAKE2b from RFC 7693); built by `pip install`, see _keyed_many.c
    from hurricane_assets.masking.operators import _keyed_many as native
except ImportError:  # built without a C compiler or OpenSSL headers: the same bytes from Python loops
    native = None

# Presidio's engines add `entity_type` to every operator's params; the key travels the same way.
PRESIDIO_PARAMS = frozenset({"key", "entity_type"})
FIELD_SEPARATOR = b"\x1f"  # cannot occur in an entity name, so "a|b"+"c" never equals "a"+"b|c"


class MaskingOperator(Operator):
    """Base of our operators. Subclasses set `name`, `method`, `params_allowed` and implement `mask`."""

    name: ClassVar[str]
    method: ClassVar[MaskingMethod]
    keyed: ClassVar[bool] = True
    params_allowed: ClassVar[frozenset[str]] = frozenset()
    row_context: ClassVar[str | None] = None  # param naming the other column this operator reads per row
    cost_per_value: ClassVar[float] = 1.0  # µs per distinct value (measured), to balance work across processes
    # each value's output depends on that value alone (not e.g. on the column's other values, which a
    # fake must avoid), so a column's distinct values may be masked in parts, in two processes
    value_local: ClassVar[bool] = False
    # True when a value's output depends on the column's other values (a streamed table masks such a
    # column over the whole table, not batch by batch); a fast `mask_distinct` alone does not make it so
    reads_whole_column: ClassVar[bool] = False

    def operator_name(self) -> str:
        return self.name

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize

    def validate(self, params: dict | None = None) -> None:
        params = params or {}
        if self.keyed and not isinstance(params.get("key"), MaskingKey):
            raise InvalidParamError(f"operator {self.name!r}: params['key'] must be a MaskingKey")
        unknown = set(params) - self.params_allowed - PRESIDIO_PARAMS
        if unknown:
            raise InvalidParamError(f"operator {self.name!r}: unknown params {sorted(unknown)}; "
                                    f"allowed: {sorted(self.params_allowed)}")
        self.check_params(params)

    def check_params(self, params: dict) -> None:
        """Raise `InvalidParamError` for a bad parameter value (override where there are any)."""

    def operate(self, text: Any = None, params: dict | None = None) -> Any:
        """Mask one value. None stays None; a blank string stays as it is (it carries nothing)."""
        if text is None or (isinstance(text, str) and not text.strip()):
            return text
        return self.mask(text, params or {})

    def mask(self, value: Any, params: dict) -> Any:
        """One non-blank value. Operators override either this or `masker`."""
        return self.masker(params)(value)

    def masker(self, params: dict) -> Callable[[Any], Any]:
        """The per-value function for these params, with its per-column work done up front."""
        if type(self).mask is MaskingOperator.mask:
            raise NotImplementedError(f"operator {self.name!r} implements neither mask nor masker")
        return lambda value: self.mask(value, params)

    def mask_distinct(self, values: list, params: dict) -> list:
        """Mask distinct non-null values at once (the engine's path); same order, same Python types."""
        self.validate(params)
        one = self.masker(params)
        return [v if v is None or (v.__class__ is str and not v.strip()) else one(v) for v in values]

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """`mask_distinct` of a column's distinct strings (an Arrow string array without nulls), as an
        Arrow string array, for operators that mask in Arrow and numpy throughout: a million values then
        never become Python strings, in or out. None (the default, or for values this path does not
        take) sends the column to `mask_distinct`."""
        return None

    def masked_as_strings(self, values: list, params: dict) -> list | None:
        """`mask_strings` of `values` as a list, when they are strings (no None) that the Arrow path
        takes; None otherwise (the caller's list path then masks them)."""
        arr = string_array(values)
        masked = self.mask_strings(arr, params) if arr is not None and arr.null_count == 0 else None
        return None if masked is None else masked.to_pylist()

    def mask_array(self, arr, params: dict):
        """The whole Arrow column at once, where a vectorised kernel gives the same result as the
        per-value path (nulls stay null); None to let the engine map distinct values instead."""
        return None

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        """Params of the next coarser generalisation for the k-anonymity gate, None if there is none."""
        return None

    @classmethod
    def coarsens_output_of(cls, base: dict, params: dict) -> bool:
        """Whether masking with `params` gives the same value from the output of masking with `base` as
        from the input, for every input: then the k gate coarsens a column's few distinct masked values
        instead of masking a million prod values again at each step."""
        return False


def require(condition: bool, operator: str, message: str) -> None:
    if not condition:
        raise InvalidParamError(f"operator {operator!r}: {message}")


class KeyedDigest:
    """Keyed BLAKE2b (a PRF in keyed mode, ~2x faster than HMAC-SHA-256 here) under one purpose's
    sub-key over ``entity ␟ value``; `size` beyond 64 bytes is extended with a counter.

    Built once per column: the keyed state is primed with the entity prefix and copied per value,
    which costs a third less than keying BLAKE2b afresh for every value."""

    __slots__ = ("_sub_key", "_prefix", "_primed")

    def __init__(self, key: MaskingKey, purpose: str, entity: str):
        self._sub_key = key.derive(purpose, 64)
        self._prefix = entity.encode() + FIELD_SEPARATOR
        self._primed: dict[int, Any] = {}

    def __call__(self, value: str | bytes, size: int = 32) -> bytes:
        if size <= 64:
            state = self._primed_state(size).copy()
            state.update(value if value.__class__ is bytes else value.encode())
            return state.digest()
        return b"".join(self.block(value, i) for i in range(-(-size // 64)))[:size]

    def joined(self, values, size: int = 32, suffix: bytes = b"") -> bytes:
        """`self(v.encode() + suffix, size)` for each of `values` (str, or an Arrow string array without
        nulls), concatenated: a column's digests at once, in C where the extension is built. With `suffix`
        b"\\0\\0\\0\\0" and size 64 these are `block(v, 0)`."""
        if isinstance(values, pa.Array):
            data, offsets = string_buffers(values)  # refuses nulls and other types, on both paths
            if native is not None and size <= 64:
                return native.blake2b_arrow(self._sub_key, self._prefix, size, data, offsets, suffix)
            values = values.to_pylist()
        if native is not None and size <= 64:
            return native.blake2b_many(self._sub_key, self._prefix, size, values, suffix)
        copy = self._primed_state(size).copy
        out = []
        append = out.append
        for value in values:
            state = copy()
            state.update(value.encode() + suffix if suffix else value.encode())
            append(state.digest())
        return b"".join(out)

    def block(self, value: str | bytes, index: int) -> bytes:
        """The 64-byte block `index` of the extended output (sizes above 64 concatenate these), so a
        caller that usually needs only the first block need not compute the rest."""
        state = self._primed_state(64).copy()
        state.update((value if value.__class__ is bytes else value.encode()) + index.to_bytes(4, "big"))
        return state.digest()

    def _primed_state(self, size: int):
        primed = self._primed.get(size)
        if primed is None:
            primed = self._primed[size] = hashlib.blake2b(self._prefix, key=self._sub_key, digest_size=size)
        return primed


def keyed_digest(key: MaskingKey, purpose: str, entity: str, value: str | bytes, size: int = 32) -> bytes:
    """One value through `KeyedDigest` (use the class directly for many values)."""
    return KeyedDigest(key, purpose, entity)(value, size)


class KeyedHmacSha256:
    """HMAC-SHA-256 under one purpose's sub-key over ``entity ␟ value`` (RFC 2104), with the inner and
    outer pad states hashed once per column and copied per value: 2.3x cheaper than `hmac.digest`."""

    __slots__ = ("_block", "_prefix", "_inner", "_outer")

    def __init__(self, key: MaskingKey, purpose: str, entity: str):
        block = key.derive(purpose).ljust(64, b"\0")  # 32-byte sub-key, below SHA-256's 64-byte block
        self._block, self._prefix = block, entity.encode() + FIELD_SEPARATOR
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self._inner.update(self._prefix)

    def joined(self, values) -> bytes:
        """`self(v)` for each of `values` (str, or an Arrow string array without nulls), concatenated: a
        column's digests at once, in C where the extension is built."""
        if isinstance(values, pa.Array):
            data, offsets = string_buffers(values)  # refuses nulls and other types, on both paths
            if native is not None:
                return native.hmac_sha256_arrow(self._block, self._prefix, data, offsets)
            values = values.to_pylist()
        if native is not None:
            return native.hmac_sha256_many(self._block, self._prefix, values)
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out = []
        append = out.append
        for value in values:
            inner = inner_copy()
            inner.update(value.encode())
            outer = outer_copy()
            outer.update(inner.digest())
            append(outer.digest())
        return b"".join(out)

    def __call__(self, value: str) -> bytes:
        inner = self._inner.copy()
        inner.update(value.encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


# Each byte's two lowercase hex characters as one little-endian uint16: one gather per byte.
_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), np.uint16)


def hex_chars(digests: np.ndarray, width: int) -> np.ndarray:
    """The first `width` lowercase hex characters of each row of `digests` (n × bytes), as n × width bytes."""
    pairs = _HEX_PAIRS[digests[:, : (width + 1) // 2]]
    return pairs.view(np.uint8)[:, :width]


_DIGIT_OF_BYTE = bytes(48 + b % 10 for b in range(256))


def keyed_digits(seed: bytes, count: int) -> str:
    """`count` decimal digits drawn from a keyed digest (byte % 10; bias < 2.4%, fine for masks)."""
    stream = seed
    while len(stream) < count:
        stream += hashlib.sha256(stream).digest()
    return stream[:count].translate(_DIGIT_OF_BYTE).decode()


def non_blank_strings(values: list) -> list[int]:
    """Positions of the values `operate` would mask: strings that are not blank."""
    return [i for i, v in enumerate(values) if v.__class__ is str and v and not v.isspace()]


def all_non_blank_strings(values: list) -> bool:
    """Whether `non_blank_strings(values)` keeps every value (a column's usual case), with C-level scans."""
    if not values:
        return True
    return set(map(type, values)) == {str} and "" not in values and not any(map(str.isspace, values))


def replace_positions(template: str, is_slot, new_chars: str) -> str:
    """Write `new_chars` into the characters of `template` selected by `is_slot`, keeping the rest."""
    if len(new_chars) == len(template):
        return new_chars  # no separators to keep: the common case for stored values
    chars = iter(new_chars)
    return "".join(next(chars) if is_slot(ch) else ch for ch in template)
