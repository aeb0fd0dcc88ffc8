"""What every masking operator shares: Presidio's `Operator` interface, key checks and keyed digests.

Operators are small, stateless classes, so Presidio can build one per entity (it calls the
constructor without arguments) and our engine can reuse one for a whole column. Key material only
ever arrives in ``params["key"]`` as a `MaskingKey`, whose repr hides the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar

from presidio_anonymizer.entities import InvalidParamError
from presidio_anonymizer.operators import Operator, OperatorType

from hurricane_assets.masking.keys import MaskingKey
from negotiation_graph.terms import MaskingMethod

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
        raise NotImplementedError

    def mask_distinct(self, values: list, params: dict) -> list:
        """Mask distinct non-null values at once (the engine's path); same order, same Python types."""
        self.validate(params)
        return [self.operate(v, params) for v in values]

    @classmethod
    def coarser(cls, params: dict) -> dict | None:
        """Params of the next coarser generalisation for the k-anonymity gate, None if there is none."""
        return None


def require(condition: bool, operator: str, message: str) -> None:
    if not condition:
        raise InvalidParamError(f"operator {operator!r}: {message}")


def keyed_digest(key: MaskingKey, purpose: str, entity: str, value: str | bytes, size: int = 32) -> bytes:
    """Keyed BLAKE2b (a PRF in keyed mode, ~2x faster than HMAC-SHA-256 here) under the purpose's
    sub-key over ``entity ␟ value``; `size` beyond 64 bytes is extended with a counter."""
    message = entity.encode() + FIELD_SEPARATOR + (value if isinstance(value, bytes) else value.encode())
    sub_key = key.derive(purpose, 64)
    if size <= 64:
        return hashlib.blake2b(message, key=sub_key, digest_size=size).digest()
    blocks = (hashlib.blake2b(message + i.to_bytes(4, "big"), key=sub_key).digest() for i in range(-(-size // 64)))
    return b"".join(blocks)[:size]


def keyed_hmac_sha256(key: MaskingKey, purpose: str, entity: str, value: str) -> bytes:
    message = entity.encode() + FIELD_SEPARATOR + value.encode()
    return hmac.digest(key.derive(purpose), message, "sha256")


_DIGIT_OF_BYTE = bytes(48 + b % 10 for b in range(256))


def keyed_digits(seed: bytes, count: int) -> str:
    """`count` decimal digits drawn from a keyed digest (byte % 10; bias < 2.4%, fine for masks)."""
    stream = seed
    while len(stream) < count:
        stream += hashlib.sha256(stream).digest()
    return stream[:count].translate(_DIGIT_OF_BYTE).decode()


def replace_positions(template: str, is_slot, new_chars: str) -> str:
    """Write `new_chars` into the characters of `template` selected by `is_slot`, keeping the rest."""
    if len(new_chars) == len(template):
        return new_chars  # no separators to keep: the common case for stored values
    chars = iter(new_chars)
    return "".join(next(chars) if is_slot(ch) else ch for ch in template)
