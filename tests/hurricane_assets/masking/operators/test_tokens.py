from __future__ import annotations

import pytest
from presidio_anonymizer.entities import InvalidParamError

from hurricane_assets.masking.keys import MaskingKey
from hurricane_assets.masking.operators.tokens import AesSivReveal, AesSivToken, KeyedToken


def test_token_is_deterministic_normalised_and_entity_scoped(key):
    op = KeyedToken()
    p = {"key": key, "entity": "customer"}
    assert op.operate("C-0001", p) == op.operate(" c-0001 ", p) == KeyedToken().operate("C-0001", p)
    assert op.operate("C-0001", p) != op.operate("C-0001", {"key": key, "entity": "device"})
    assert op.operate("C-0001", p) != op.operate("C-0002", p)
    assert len(op.operate("C-0001", p)) == 24 and "0001" not in op.operate("C-0001", p)


def test_another_key_gives_other_tokens(key):
    other = MaskingKey(b"\x01" * 32)
    assert KeyedToken().operate("C-1", {"key": key}) != KeyedToken().operate("C-1", {"key": other})


def test_blake2b_variant_and_int_tokens_stay_ints(key):
    op = KeyedToken()
    b = op.operate("x", {"key": key, "algorithm": "blake2b", "length": 32})
    assert len(b) == 32 and b != op.operate("x", {"key": key, "length": 32})
    token = op.operate(123, {"key": key})
    assert isinstance(token, int) and 0 <= token < 2**62 and token != 123
    assert op.operate(123, {"key": key}) != op.operate("123", {"key": key})  # typed, as documented


def test_validation_names_the_operator_and_parameter(key):
    with pytest.raises(InvalidParamError, match="'hmac_token'.*MaskingKey"):
        KeyedToken().validate({"key": "raw-secret"})
    with pytest.raises(InvalidParamError, match="length must be"):
        KeyedToken().validate({"key": key, "length": 8})
    with pytest.raises(InvalidParamError, match="unknown params \\['salt'\\]"):
        KeyedToken().validate({"key": key, "salt": "x"})
    with pytest.raises(TypeError, match="str or int"):
        KeyedToken().operate(1.5, {"key": key})


def test_aes_siv_is_deterministic_and_reversible_by_the_key_holder(key):
    p = {"key": key, "entity": "customer"}
    sealed = AesSivToken().operate("Zoë Ångström", p)
    assert sealed == AesSivToken().operate("Zoë Ångström", p) and sealed.startswith("siv:")
    assert AesSivReveal().operate(sealed, p) == "Zoë Ångström"
    with pytest.raises(Exception):
        AesSivReveal().operate(sealed, {"key": MaskingKey(b"\x02" * 32), "entity": "customer"})
