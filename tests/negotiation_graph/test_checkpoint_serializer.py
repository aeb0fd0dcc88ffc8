"""The checkpoint serializer reuses a frozen model's encoding only for that very object: its bytes
are LangGraph's own, and a changed copy is encoded afresh."""

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from negotiation_graph.checkpointing import strict_serializer
from tests.negotiation_graph.sample_world import fraud_need, listings


def test_encodes_exactly_as_langgraph_and_reuses_per_object():
    serde = strict_serializer()
    need, listing = fraud_need(), listings()[0]
    state = {"need": need, "answers": [listing, listing], "nested": {"again": [need]}}
    first = serde.dumps_typed(state)
    assert first == JsonPlusSerializer().dumps_typed(state)
    assert serde.dumps_typed(state) == first  # from the per-object encodings
    assert serde.loads_typed(first)["answers"][1] == listing


def test_a_changed_copy_is_encoded_afresh():
    serde = strict_serializer()
    need = fraud_need()
    serde.dumps_typed({"need": need})
    changed = need.model_copy(update={"purpose": "marketing"})
    revived = serde.loads_typed(serde.dumps_typed({"need": changed}))["need"]
    assert revived.purpose == "marketing" and revived == changed


def test_a_full_cache_starts_over_and_stays_exact():
    serde = strict_serializer()
    serde.max_cached = 2
    needs = [fraud_need(need_id=f"n-{i}") for i in range(5)]
    for need in needs:
        assert serde.loads_typed(serde.dumps_typed(need)) == need
    assert len(serde._encoded) <= 2
