"""The fast canonical encoder writes exactly what rfc8785 writes, for any JSON value."""

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from negotiation_graph.canonical import canonical_json, standard_encoder_is_canonical
from negotiation_graph.checkpointing import strict_serializer
from negotiation_graph.feasibility import offer
from tests.negotiation_graph.sample_world import M, fraud_need, listings

scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text() | st.floats(allow_nan=False, allow_infinity=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(values)
def test_same_bytes_as_rfc8785(value):
    assert canonical_json(value) == rfc8785.dumps(value)


def test_the_fast_path_is_taken_for_offers_and_not_for_floats_or_astral_keys():
    terms = offer(fraud_need(), listings()[0], {"txn_id": M.none, "channel": M.tokenize}, 30, 30, 24)
    assert standard_encoder_is_canonical(terms.model_dump(mode="json"))
    assert standard_encoder_is_canonical({"weight": 0.5, "weights": [0.4, 0.3]})  # the CFP's need weights
    assert not standard_encoder_is_canonical({"weight": 1.0})  # JCS writes "1"
    assert not standard_encoder_is_canonical({"\U0001f600": 1, "\ufb01": 2})  # UTF-16 order differs here
    assert canonical_json({"\U0001f600": 1, "\ufb01": 2}) == rfc8785.dumps({"\U0001f600": 1, "\ufb01": 2})
    assert not standard_encoder_is_canonical(2**53)


EDGE_FLOATS = [0.5, 0.1 + 0.2, 1.0, -0.0, 0.0, 2.5e-4, 1e-4, 1e-5, 1e-7, 123456789012345.6, 1e15 + 0.5, 1e16, 1e21,
               1e22, 5e-324, 1.7976931348623157e308, -3.14, 2.0**53, 2.0**53 + 2]


@settings(max_examples=400, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_the_c_encoder_writes_are_jcs(number):
    assert canonical_json([number, {"x": number}]) == rfc8785.dumps([number, {"x": number}])


def test_edge_floats_are_jcs_and_only_plain_decimals_take_the_fast_path():
    for number in EDGE_FLOATS + [-n for n in EDGE_FLOATS]:
        assert canonical_json({"x": number}) == rfc8785.dumps({"x": number}), number
        if standard_encoder_is_canonical(number):  # the C encoder writes repr: no exponent, never "1.0"
            assert "e" not in repr(number) and not number.is_integer()


def test_invalid_values_are_rejected_like_rfc8785():
    for bad in ({"x": float("nan")}, {"x": float("inf")}, [float("-inf")], {1: "non-string key"}, "\ud800", 2**60):
        try:
            rfc8785.dumps(bad)
        except rfc8785.CanonicalizationError as expected:
            kind = type(expected)
        else:
            raise AssertionError(f"rfc8785 accepted {bad!r}")
        try:
            canonical_json(bad)
        except rfc8785.CanonicalizationError as error:
            assert isinstance(error, kind)
        else:
            raise AssertionError(f"canonical_json accepted {bad!r}")


def test_an_offers_cached_hash_follows_copies_and_survives_checkpoints():
    terms = offer(fraud_need(), listings()[0], {"txn_id": M.none, "channel": M.tokenize}, 30, 30, 24)
    first = terms.sha256()
    changed = terms.model_copy(update={"retention_days": 60})
    assert changed.sha256() != first and changed.sha256() == offer(
        fraud_need(), listings()[0], {"txn_id": M.none, "channel": M.tokenize}, 60, 30, 24).sha256()
    serde = strict_serializer()
    revived = serde.loads_typed(serde.dumps_typed(terms))
    assert revived == terms and revived.sha256() == first
