import string

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from hurricane_assets.ledger import EntryType
from hurricane_assets.ledger.entry import header_bytes, identity_of

ids = st.text(alphabet=string.ascii_letters + string.digits + "._:-", min_size=1, max_size=40).filter(
    lambda s: s[0].isalnum()
)
hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(
    seq=st.integers(0, 2**53 - 1),
    entry_id=ids,
    ts=st.integers(0, 2**53 - 1),
    entry_type=st.sampled_from([t.value for t in EntryType]),
    actor=st.sampled_from(["system:ledger", "agent:payments/producer", "agent:risk/consumer"]),
    negotiation_id=st.none() | ids,
    contract_id=st.none() | ids,
    payload_hash=hexes,
    prev_hash=hexes,
    key_id=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
)
def test_fast_header_is_exactly_rfc8785(seq, entry_id, ts, entry_type, actor, negotiation_id, contract_id, payload_hash, prev_hash, key_id):
    fields = dict(
        seq=seq, entry_id=entry_id, ts=ts, entry_type=entry_type, actor=actor, negotiation_id=negotiation_id,
        contract_id=contract_id, payload_hash=payload_hash, prev_hash=prev_hash, key_id=key_id,
    )
    fast = header_bytes(seq, entry_id, ts, entry_type, actor, negotiation_id, contract_id, payload_hash, prev_hash, key_id)
    assert fast == rfc8785.dumps(fields)


def test_actor_maps_to_signing_identity():
    assert identity_of("agent:payments/producer") == "payments"
    assert identity_of("system:ledger") == "system"
    with pytest.raises(ValueError, match="actor"):
        identity_of("payments")


def test_unknown_entry_type_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown ledger entry type 'OFFERED'.*OFFER"):
        EntryType.parse("OFFERED")
