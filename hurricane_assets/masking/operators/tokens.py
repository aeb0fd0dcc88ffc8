"""Keyed tokens: one-way HMAC-SHA-256 / BLAKE2b (the default) and reversible AES-SIV (RFC 5297).

The entity context ("customer", "device", …) goes into the MAC, so a customer id tokenizes the same
in every table but differently from an equal-looking device id.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from presidio_anonymizer.operators import OperatorType

from hurricane_assets.masking.normalise import normalise_strings, normalise_text
from hurricane_assets.masking.operators.base import (
    KeyedDigest,
    KeyedHmacSha256,
    MaskingOperator,
    all_non_blank_strings,
    hex_chars,
    require,
)
from hurricane_assets.masking.strings import fixed_width_strings, has_blank
from negotiation_graph.terms import MaskingMethod

INT_TOKEN_BITS = 62  # fits int64 and stays positive


class KeyedToken(MaskingOperator):
    """Deterministic one-way token. str → lowercase hex of `length`; int → a non-negative int64."""

    name = "hmac_token"
    method = MaskingMethod.tokenize
    cost_per_value = 0.45
    value_local = True
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity", "algorithm", "length"})

    def check_params(self, params: dict) -> None:
        require(params.get("algorithm", "sha256") in ("sha256", "blake2b"), self.name,
                f"algorithm must be 'sha256' or 'blake2b', got {params.get('algorithm')!r}")
        length = params.get("length", 24)
        require(isinstance(length, int) and 16 <= length <= 64, self.name,
                f"length must be an int in 16..64 (hex characters), got {length!r}")

    @staticmethod
    def _digest(params: dict) -> KeyedDigest | KeyedHmacSha256:
        entity = params.get("entity", "value")
        if params.get("algorithm", "sha256") == "blake2b":
            return KeyedDigest(params["key"], "token-blake2b", entity)
        return KeyedHmacSha256(params["key"], "token-hmac", entity)

    def mask_distinct(self, values: list, params: dict) -> list:
        """The column's string values through `mask_strings`; the rest per value."""
        self.validate(params)
        if not all_non_blank_strings(values):
            return super().mask_distinct(values, params)
        return self.masked_as_strings(values, params)

    def mask_strings(self, strings: pa.Array, params: dict) -> pa.Array | None:
        """The column path in Arrow: normalised, digested from the Arrow buffers, hex-encoded in numpy."""
        self.validate(params)
        if has_blank(strings):
            return None
        digests = np.frombuffer(self._digest(params).joined(normalise_strings(strings)), np.uint8).reshape(-1, 32)
        return fixed_width_strings(hex_chars(digests, params.get("length", 24)))

    def masker(self, params: dict) -> Callable[[Any], Any]:
        length = params.get("length", 24)
        digest = self._digest(params)

        def token(value: Any) -> Any:
            if isinstance(value, str):
                return digest(normalise_text(value)).hex()[:length]
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"operator {self.name!r} tokenizes str or int values, got {type(value).__name__}")
            return int.from_bytes(digest(f"int:{value}")[:8], "big") >> (64 - INT_TOKEN_BITS)

        return token


def _siv(params: dict) -> AESSIV:
    return AESSIV(params["key"].derive("aes-siv", 64))


class AesSivToken(MaskingOperator):
    """Deterministic, reversible by the key holder (see `AesSivReveal`). No normalisation: exact round trip."""

    name = "aes_siv"
    method = MaskingMethod.tokenize
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity"})

    def mask(self, value: Any, params: dict) -> Any:
        if not isinstance(value, str):
            raise TypeError(f"operator {self.name!r} encrypts str values, got {type(value).__name__}")
        sealed = _siv(params).encrypt(value.encode(), [params.get("entity", "value").encode()])
        return "siv:" + base64.urlsafe_b64encode(sealed).decode().rstrip("=")


class AesSivReveal(MaskingOperator):
    """The inverse of `AesSivToken`, for key holders only (a Presidio deanonymizer)."""

    name = "aes_siv_reveal"
    method = MaskingMethod.none
    params_allowed: ClassVar[frozenset[str]] = frozenset({"entity"})

    def operator_type(self) -> OperatorType:
        return OperatorType.Deanonymize

    def mask(self, value: Any, params: dict) -> Any:
        if not isinstance(value, str) or not value.startswith("siv:"):
            raise ValueError(f"operator {self.name!r}: not an AES-SIV token: {value[:12]!r}…")
        body = value[4:]
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return _siv(params).decrypt(sealed, [params.get("entity", "value").encode()]).decode()
